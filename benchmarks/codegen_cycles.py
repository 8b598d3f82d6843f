"""Cycles per timestep of the SHD-shaped network (issue 7) on the golden model.

700 spike inputs -> 256 recurrent LIF (dense recurrent projection) -> 20 leaky
integrators, dense 8-bit weights, default 32-lane configuration. The input is synthetic
and bursty like the Spiking Heidelberg Digits: a few bands of neighbouring channels
sweep across the 700 channels and fire in bursts, about 8 input spikes per step. The
input weight scale is chosen (bisection on the float reference) so that the hidden layer
fires about 7.5 spikes per step. Prints the measured input and hidden spike rates,
cycles per step, the fixed part (a run without input spikes) and the split of the
cycles over the phases of a step, attributed by pc range from the ``__phase_*`` labels
of the image (see :mod:`spikevec.sw.compiler.codegen`).

Run: ``python benchmarks/codegen_cycles.py [T]``.
"""
import sys

import numpy as np

from spikevec.sim.iss import Machine
from spikevec.sw.compiler import Network, compile_network, li, lif, run_iss, simulate
from spikevec.sw.compiler.run_iss import encode_records

N_IN, N_HID, N_OUT = 700, 256, 20


def shd_like_input(T, rate=6.4, seed=1):
    """Bursty band-limited spikes [T, 700] with about ``rate`` spikes per step."""
    rng = np.random.default_rng(seed)
    x = np.zeros((T, N_IN), np.uint8)
    centres = rng.uniform(0, N_IN, 3)
    speed = rng.uniform(-4, 4, 3)
    for t in range(T):
        burst = 0.5 + 1.5 * (np.sin(2 * np.pi * t / 37.0) > 0)      # on/off bursts
        for c, s in zip(centres, speed):
            mid = (c + s * t) % N_IN
            ch = np.arange(N_IN)
            p = np.exp(-0.5 * ((ch - mid) / 12.0) ** 2)
            x[t] |= rng.random(N_IN) < p * rate * burst / (3 * p.sum())
    return x


def build(w_in_scale, seed=0):
    rng = np.random.default_rng(seed)
    net = Network(dt=1.0, name="shd-like")
    inp = net.spike_input("in", N_IN)
    hid = net.population("hid", N_HID, lif(), tau_mem=20.0)
    out = net.population("out", N_OUT, li(), tau_mem=20.0)
    net.project(inp, hid, rng.normal(0.3, 1.0, (N_IN, N_HID)) * w_in_scale)
    net.project(hid, hid, rng.normal(-0.05, 0.3, (N_HID, N_HID)))
    net.project(hid, out, rng.normal(0.0, 0.5, (N_HID, N_OUT)))
    net.record(hid, "spikes")
    net.readout("scores", out, "v", mode="max")
    return net


def tune(x, target=7.5):
    """Input weight scale giving ``target`` hidden spikes per step (float reference)."""
    lo, hi = 0.1, 10.0
    for _ in range(14):
        mid = (lo * hi) ** 0.5
        rate = simulate(build(mid), x).spikes("hid").sum() / len(x)
        lo, hi = (mid, hi) if rate < target else (lo, mid)
    return (lo * hi) ** 0.5


def phase_split(image, x):
    """Cycles per step in each ``__phase_*`` pc range (and the rest), by single-stepping
    the golden model through the whole run."""
    labels = sorted((a, k) for k, (sec, a) in image.program.symbols.items()
                    if sec == "text" and k.startswith("__phase_"))
    m = Machine(image.config)
    m.load_program(image.program)
    spec = image.io["inputs"][0]
    data, n = encode_records(x, spec["ring_bytes"])
    assert n == len(x), "the benchmark input must fit the input ring"
    m.set_dmem(data, spec["ring"])
    m.set_dmem(np.array([len(x), spec["ring"]], np.uint32).tobytes(), spec["written"])
    m.set_dmem(np.array([len(x)], np.uint32).tobytes(), image.io["header"]["n_steps"])
    starts = np.array([a for a, _ in labels])
    names = [k for _, k in labels]
    total = {}
    while True:
        pc, c0 = m.pc, m.cycles
        res = m.step()
        i = np.searchsorted(starts, pc, side="right") - 1
        key = names[i] if i >= 0 and pc < image.symbol("__done") else "__start/__step/wait"
        total[key] = total.get(key, 0) + m.cycles - c0
        if res.exit_reason != "running":
            break
    return {k: v / len(x) for k, v in total.items()}


def main(T=300):
    x = shd_like_input(T)
    scale = tune(x)
    net = build(scale)
    img = compile_network(net, calibrate=x)
    r = run_iss(img, x)
    r0 = run_iss(img, np.zeros_like(x))
    n_in = x.sum() / T
    n_hid = r.spikes("hid").sum() / T
    print(f"network 700-256-20 (recurrent LIF + LI readout), "
          f"{N_IN * N_HID + N_HID * N_HID + N_HID * N_OUT} synapses, 8-bit weights, "
          f"{img.config.lanes} lanes")
    print(f"input weight scale {scale:.3f}; measured: input spikes per step {n_in:.2f}, "
          f"hidden spikes per step {n_hid:.2f}")
    print(f"instructions {len(img.program.text)}, static estimate "
          f"{img.stats['estimated_cycles']:.0f} cycles per step")
    print(f"cycles per timestep {r.cycles_per_step:.1f} "
          f"({r.cycles_per_step / img.config.clock_hz * 1e6:.2f} us at "
          f"{img.config.clock_hz / 1e6:.0f} MHz; target 300, FeNN: 1443 cycles)")
    print(f"fixed part (no input spikes) {r0.cycles_per_step:.1f} cycles per step")
    split = phase_split(img, x[:min(T, 100)])
    print(f"per-phase cycles per step (first {min(T, 100)} steps, pc ranges of the "
          f"__phase_* labels):")
    for k, v in sorted(split.items(), key=lambda kv: -kv[1]):
        print(f"  {k:<28} {v:7.1f}")
    print(f"  {'total':<28} {sum(split.values()):7.1f}")
    print(f"register plan {img.stats['register_plan']}")
    return r.cycles_per_step


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)
