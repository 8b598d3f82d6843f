"""The alternative a user would pick: the SHD-shaped model in float on this machine's CPU.

:func:`measure` times the float reference simulator (:func:`spikevec.sw.compiler.simulate`,
numpy, float32 and float64) on the same network and input as the SHD benchmark, one
sample at a time and as a batch, in the same process as the spikevec measurement. It also
times snnTorch when it is installed together with the torch version the project pins
(``TORCH_VERSION``); otherwise it says why it was skipped. Nothing is installed here.
"""
from __future__ import annotations

import os
import platform
import time

import numpy as np

from ..compiler import simulate

__all__ = ["measure", "machine_info", "TORCH_VERSION"]

TORCH_VERSION = "2.13.0"


def machine_info() -> dict:
    """CPU model, logical core count, Python and numpy versions of this machine."""
    model = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"cpu": model, "logical_cores": os.cpu_count(), "python": platform.python_version(),
            "numpy": np.__version__, "system": platform.system()}


def _best_of(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def measure(net, x: np.ndarray, repeats: int = 3, batch: int = 16) -> dict:
    """Seconds per sample of the float reference on ``x`` [T, C] (best of ``repeats``),
    alone and in a batch of ``batch`` copies, plus snnTorch when available."""
    T = len(x)
    out = {"steps": T, "machine": machine_info(), "numpy": {}}
    for name, dtype in (("float64", np.float64), ("float32", np.float32)):
        one = _best_of(lambda: simulate(net, x, dtype=dtype), repeats)
        xb = np.repeat(x[None], batch, axis=0)
        many = _best_of(lambda: simulate(net, xb, dtype=dtype), 1) / batch
        out["numpy"][name] = {"seconds_per_sample": one, "seconds_per_step": one / T,
                              "batch": batch, "batched_seconds_per_sample": many}
    out["snntorch"] = _snntorch(net, x, repeats)
    return out


def _snntorch(net, x, repeats) -> dict:
    try:
        import torch
    except ImportError:
        return {"available": False, "reason": "torch is not installed (pip install "
                f"torch=={TORCH_VERSION} snntorch to include it)"}
    if torch.__version__.split("+")[0] != TORCH_VERSION:
        return {"available": False, "reason": f"torch {torch.__version__} is installed, "
                f"not the pinned {TORCH_VERSION}"}
    try:
        import snntorch as snn
    except ImportError:
        return {"available": False, "reason": "snntorch is not installed"}
    hid, outp = net.populations["hid"], net.populations["out"]
    w = {(p.pre.name, p.post.name): torch.tensor(p.weight, dtype=torch.float32)
         for p in net.projections}
    beta_h = float(np.mean(hid.consts["alpha"]))
    beta_o = float(np.mean(outp.consts["alpha"]))
    lif_h = snn.Leaky(beta=beta_h, threshold=1.0, reset_mechanism="zero")
    lif_o = snn.Leaky(beta=beta_o, threshold=1e9, reset_mechanism="none")
    xs = torch.tensor(x, dtype=torch.float32)

    def run():
        with torch.no_grad():
            mh, mo = lif_h.init_leaky(), lif_o.init_leaky()
            s = torch.zeros(hid.size)
            for t in range(len(xs)):
                s, mh = lif_h(xs[t] @ w[("in", "hid")] + s @ w[("hid", "hid")], mh)
                _, mo = lif_o(s @ w[("hid", "out")], mo)

    threads = torch.get_num_threads()
    torch.set_num_threads(1)       # the machine is shared; more threads only contend
    try:
        sec = _best_of(run, repeats + 1)
    finally:
        torch.set_num_threads(threads)
    return {"available": True, "version": snn.__version__, "torch": torch.__version__,
            "threads": 1, "seconds_per_sample": sec, "seconds_per_step": sec / len(x),
            "note": "snn.Leaky per step on the CPU, batch 1, one thread, best of "
                    f"{repeats + 1} (same sizes and weights; reset to zero like the LIF)"}
