"""Cycles per timestep of a 700-256-20 SHD-shaped network on the golden model.

700 spike inputs -> 256 recurrent adaptive LIF -> 20 leaky integrators, dense 8-bit
weights, about 8 input spikes per step (FeNN's SHD workload: 1443 cycles per step).
Prints cycles per step, the fixed part (a run without input spikes), the measured cost
per propagated spike, and the neuron-update cost per neuron.

Run: ``python benchmarks/codegen_cycles.py [T]``.
"""
import sys

import numpy as np

from spikevec.sw.compiler import Network, alif, compile_network, li, run_iss


def build(seed=0):
    rng = np.random.default_rng(seed)
    net = Network(dt=1.0, name="shd-like")
    inp = net.spike_input("in", 700)
    hid = net.population("hid", 256, alif(), tau_mem=20.0, tau_adapt=200.0, beta=0.1)
    out = net.population("out", 20, li(), tau_mem=20.0)
    net.project(inp, hid, rng.normal(0.5, 1.0, (700, 256)))
    net.project(hid, hid, rng.normal(0.0, 0.5, (256, 256)))
    net.project(hid, out, rng.normal(0.0, 0.5, (256, 20)))
    net.record(hid, "spikes")
    net.readout("scores", out, "v", mode="max")
    return net


def main(T=300):
    net = build()
    rng = np.random.default_rng(1)
    x = (rng.random((T, 700)) < 8 / 700).astype(np.uint8)
    img = compile_network(net, calibrate=x)
    r = run_iss(img, x)
    r0 = run_iss(img, np.zeros_like(x))
    n_in = x.sum() / T
    n_hid = r.spikes("hid").sum() / T
    # every hidden spike is propagated twice (hid->hid and hid->out), input spikes once
    per_spike = (r.cycles_per_step - r0.cycles_per_step) / max(n_in + n_hid, 1e-9)
    synapses = 700 * 256 + 256 * 256 + 256 * 20
    print(f"network 700-256-20 (recurrent ALIF + LI), {synapses} synapses, 8-bit weights")
    print(f"instructions {len(img.program.text)}, static estimate "
          f"{img.stats['estimated_cycles']:.0f} cycles per step")
    print(f"input spikes per step {n_in:.2f}, hidden spikes per step {n_hid:.2f}")
    print(f"cycles per timestep {r.cycles_per_step:.1f} "
          f"({r.cycles_per_step / img.config.clock_hz * 1e6:.2f} us at "
          f"{img.config.clock_hz / 1e6:.0f} MHz; FeNN: 1443 cycles)")
    print(f"fixed part (no spikes) {r0.cycles_per_step:.1f} cycles per step")
    print(f"measured cost per propagated spike {per_spike:.1f} cycles "
          f"(vlacc8 per 32 synapses + scalar overhead)")
    print(f"register plan {img.stats['register_plan']}")
    return r.cycles_per_step


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)
