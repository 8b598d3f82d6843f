"""Microbenchmarks of the vector unit: cycle counts of two SNN kernels (not timed tests).

Usage::

    python benchmarks/vector_kernels.py            # golden model, 32 lanes
    python benchmarks/vector_kernels.py --rtl      # + cross-check one case on the RTL

The golden model's cycle count is the RTL's (the lockstep tests check it exactly), so the
kernels are measured on :class:`spikevec.sim.iss.Machine`; ``--rtl`` runs the dense kernel
on the simulated ``Core`` (8 lanes) as well and checks the counts agree.

* Dense accumulation: for every set bit of a spike bitmask (found with ``ctz``), one
  ``vlacc8`` per postsynaptic vector into a vector register accumulator. Reported: cycles
  per 32-synapse vector in steady state (slope over the accumulator count; target <=
  1.25) and fixed cycles per incoming spike (target <= 8).
* LIF update of 256 neurons: ``V = sat(V * alpha + I)``, spike test, reset, spike
  mask stored; software-pipelined straight-line code. Target <= 0.5 cycles per neuron per
  timestep with 32 lanes.
"""
from __future__ import annotations

import argparse

import numpy as np

from spikevec.hw.config import preset
from spikevec.sim.iss import Machine
from spikevec.sw.asm import assemble


def dense_program(config, spikes_mask: int, accumulators: int) -> str:
    """Accumulate the int8 weight rows of the presynaptic neurons set in ``spikes_mask``
    (one 32-bit word) into v0 .. v<accumulators-1>."""
    n = config.lanes
    row_shift = (accumulators * n - 1).bit_length()        # bytes per weight row, log2
    lines = [f"li a0, {spikes_mask}", "li a1, 0"]
    lines += ["spike:", "ctz t0, a0", "addi t2, a0, -1", "and a0, a0, t2",
              f"slli t1, t0, {row_shift}", "add t1, t1, a1"]
    lines += [f"vlacc8 v{k}, {k * n}(t1), 0" for k in range(accumulators)]
    lines += ["bne a0, zero, spike", "ecall"]
    return "\n".join(lines)


def lif_program(config, neurons: int) -> str:
    """One LIF timestep for ``neurons`` neurons: V in vector memory from 0, input current
    in v0.., spike masks to data memory. Vectors are processed in an interleaved order so
    every result is used two or more instructions after it is made."""
    n, vb = config.lanes, config.vector_bytes
    count = neurons // n
    lines = ["li t0, 29491", "vfill v28, t0",        # alpha = 0.9 in s0.15
             "li t0, 4096", "vfill v29, t0",         # threshold
             "vlui v30, 0"]                          # reset value
    steps = []
    for j in range(count):
        V, T = f"v{8 + j}", f"v{16 + j}"
        steps.append([f"vload {V}, {j * vb}(zero)",
                      f"vmul.rn {T}, {V}, v28, 15",
                      f"vadd.sat {V}, {T}, v{j}",
                      f"vtge t{1 + j % 3}, {V}, v29",
                      f"vsel {V}, t{1 + j % 3}, v30",
                      f"vstore {V}, {j * vb}(zero)",
                      f"sw t{1 + j % 3}, {4 * j}(zero)"])
    # Interleave: issue stage s of vector j in slot j + 2 s (latencies are 1-2 cycles).
    slots = {}
    for j, stage in enumerate(steps):
        for s, ins in enumerate(stage):
            slots.setdefault(2 * s + j, []).append(ins)
    for k in sorted(slots):
        lines += slots[k]
    lines.append("ecall")
    return "\n".join(lines)


def run(config, text, vmem: bytes = b""):
    m = Machine(config)
    program = assemble(text, config)
    m.set_imem(program.text)
    m.vmem[:len(vmem)] = np.frombuffer(vmem, dtype=np.uint8)
    result = m.run(check=True)
    return result.cycles, result.instret, program.text


def dense_numbers(config):
    weights = np.random.default_rng(1).integers(-128, 128, 16 * 32 * config.lanes,
                                                dtype=np.int8).tobytes()
    out = {}
    for acc in (8, 16):
        for k in (4, 16):
            mask = ((1 << k) - 1) << 12        # li is one lui for both counts
            out[acc, k] = run(config, dense_program(config, mask, acc), weights)[0]
    per_spike = {acc: (out[acc, 16] - out[acc, 4]) / 12 for acc in (8, 16)}
    per_vector = (per_spike[16] - per_spike[8]) / 8
    fixed = per_spike[8] - 8 * per_vector
    return per_vector, fixed, per_spike


def rtl_cycles(config, text, vmem: bytes):
    """Cycles of ``text`` on the simulated Core (and the golden model's)."""
    from amaranth.sim import Simulator
    from spikevec.hw.rtl.core import Core
    words = assemble(text, config).text
    core = Core(config, program=words)
    row_bytes = config.vector_bytes
    rows = [int.from_bytes(vmem[i:i + row_bytes], "little")
            for i in range(0, len(vmem), row_bytes)]
    seen = {}

    async def testbench(ctx):
        for r, value in enumerate(rows):
            core.vector.vmem.sim_set(ctx, r, value)
        ctx.set(core.start, 1)
        await ctx.tick()
        ctx.set(core.start, 0)
        while not ctx.get(core.status.halted):
            await ctx.tick()
        seen["cycles"] = ctx.get(core.status.cycles)

    sim = Simulator(core)
    sim.add_clock(1e-8)
    sim.add_testbench(testbench)
    sim.run()
    return seen["cycles"], run(config, text, vmem)[0]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rtl", action="store_true",
                        help="cross-check the dense kernel's cycles on the RTL (8 lanes)")
    args = parser.parse_args(argv)
    config = preset("default")
    per_vector, fixed, per_spike = dense_numbers(config)
    print(f"dense vlacc8 accumulation, {config.lanes} lanes: {per_vector:.3f} cycles per "
          f"{config.lanes}-synapse vector (target <= 1.25), {fixed:.2f} fixed cycles per "
          f"spike (target <= 8); {per_spike[8]:.2f} cycles per spike with 8 accumulators "
          f"(256 postsynaptic neurons)")
    cycles, instret, _ = run(config, lif_program(config, 256))
    print(f"LIF update, 256 neurons, {config.lanes} lanes: {cycles} cycles, {instret} "
          f"instructions = {cycles / 256:.3f} cycles per neuron per timestep "
          f"(target <= 0.5)")
    if args.rtl:
        small = preset("lanes8")
        weights = np.random.default_rng(2).integers(-128, 128, 8 * 32 * small.lanes,
                                                    dtype=np.int8).tobytes()
        rtl, model = rtl_cycles(small, dense_program(small, 0b1011_0110_0001, 8), weights)
        verdict = "agree" if rtl == model else "DISAGREE"
        print(f"RTL cross-check (dense kernel, 8 lanes, 6 spikes): RTL {rtl} cycles, "
              f"golden model {model} cycles: {verdict}")


if __name__ == "__main__":
    main()
