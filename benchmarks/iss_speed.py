"""Speed of the golden model (not a test): instructions per second on a vector-heavy loop
and on a scalar loop, excluding JIT compilation, which is reported separately.

Run: ``python benchmarks/iss_speed.py [--preset default] [--iterations 1000000]``.
For the cold compile time, point numba at an empty cache:
``NUMBA_CACHE_DIR=$(mktemp -d) python benchmarks/iss_speed.py``.
"""
from __future__ import annotations

import argparse
import time


def enc(config, name, mods=None, **ops):
    from spikevec.hw.isa import BY_NAME
    return BY_NAME[name].encode(config, mods, **ops)


def load_counter(config, rd, n):
    """lui + addi loading ``n`` (< 2^31) into ``rd``."""
    hi, lo = (n + 0x800) >> 12, n & 0xFFF
    lo = lo - 0x1000 if lo >= 0x800 else lo
    return [enc(config, "lui", rd=rd, imm=hi & 0xFFFFF), enc(config, "addi", rd=rd, rs1=rd, imm=lo)]


def vector_loop(config, n):
    """Dense synaptic input + neuron-like update: 8 instructions per iteration."""
    L = config.lanes
    body = [enc(config, "vlacc8", vd=1, off=0, rs1=2, shift=2),
            enc(config, "vmul", {"round": 2, "sat": 1}, vd=2, vs1=1, vs2=3, shift=14),
            enc(config, "vadd", {"sat": 1}, vd=4, vs1=4, vs2=2),
            enc(config, "vtge", rd=5, vs1=4, vs2=6),
            enc(config, "vsel", vd=4, rs1=5, vs2=7),
            enc(config, "addi", rd=2, rs1=2, imm=L),
            enc(config, "andi", rd=2, rs1=2, imm=1023 & ~(L - 1)),
            enc(config, "addi", rd=1, rs1=1, imm=-1)]
    words = load_counter(config, 1, n) + [enc(config, "vlui", vd=3, imm=12000),
                                          enc(config, "vlui", vd=6, imm=20000),
                                          enc(config, "vseed", vs1=3, vs2=6)]
    words += body + [enc(config, "bne", rs1=1, rs2=0, off=-4 * len(body))]
    return words + [enc(config, "ecall")], 9


def scalar_loop(config, n):
    """Scalar bookkeeping: loads, stores, ALU, a branch: 8 instructions per iteration."""
    body = [enc(config, "lw", rd=3, rs1=2, imm=0),
            enc(config, "add", rd=4, rs1=4, rs2=3),
            enc(config, "xor", rd=5, rs1=4, rs2=1),
            enc(config, "slli", rd=6, rs1=5, shamt=3),
            enc(config, "sw", rs2=6, rs1=2, imm=4),
            enc(config, "andi", rd=2, rs1=6, imm=0x3F8),
            enc(config, "addi", rd=1, rs1=1, imm=-1)]
    words = load_counter(config, 1, n) + body
    words += [enc(config, "bne", rs1=1, rs2=0, off=-4 * len(body))]
    return words + [enc(config, "ecall")], 8


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--preset", default="default")
    ap.add_argument("--iterations", type=int, default=1_000_000)
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    from spikevec.hw.config import preset
    from spikevec.sim.iss import Machine
    t1 = time.perf_counter()
    config = preset(args.preset)
    machine = Machine(config)            # compiles (or loads from cache) and checks kernels
    t2 = time.perf_counter()
    print(f"import {t1 - t0:.2f} s; JIT compile or cache load {t2 - t1:.2f} s")
    for label, build in (("vector", vector_loop), ("scalar", scalar_loop)):
        words, per_iter = build(config, args.iterations)
        machine.set_imem(words)
        machine.reset()
        machine.run(max_instructions=1000)           # warm up
        machine.reset()
        start = time.perf_counter()
        result = machine.run(check=True)
        elapsed = time.perf_counter() - start
        rate = result.instret / elapsed
        print(f"{label:6} loop: {result.instret:>10,} instructions, {result.cycles:>10,} "
              f"cycles in {elapsed:.3f} s = {rate / 1e6:.1f} M instructions/s "
              f"({config.lanes} lanes)")
        assert result.instret >= per_iter * args.iterations
    start = time.perf_counter()
    machine.reset()
    result = machine.run(max_instructions=200_000, trace=True)
    elapsed = time.perf_counter() - start
    print(f"traced scalar loop: {result.instret:,} instructions, {len(result.trace):,} "
          f"records in {elapsed:.3f} s = {result.instret / elapsed / 1e6:.2f} M "
          f"instructions/s")


if __name__ == "__main__":
    main()
