"""Simulated clock cycles per second of the RTL SoC: the C++ harness against cocotb.

Usage::

    python benchmarks/rtl_sim_speed.py [--configs lanes8 default] [--iterations 300000]
        [--cocotb-iterations 5000] [--no-cocotb] [--lfsr]

For each configuration one program, a vector loop (``vadd``, ``vmul``, ``vaddi``,
``vstore``, ``addi``, ``bnez`` per iteration), runs to its ``ecall`` on the SoC through
the host protocol, in the same run:

* ``harness``: :func:`spikevec.sim.rtl.soc_sim.run_program_harness` (the clock runs in the
  C++ harness process; Python sends frames and polls ``STATUS``);
* ``cocotb``: ``run_program(backend="cocotb")`` (GPI clock, Python per host byte).

Each figure is the simulated clock cycles from ``START`` until the host saw the core
stopped, over the wall time of that stretch (load and read-back excluded); for the
harness also over the simulator process's own CPU time, which a loaded machine does not
distort. The final
registers and cycle count are checked against the golden model. The build line says
whether each simulator came from the cache and how long its original build took.

``--lfsr`` also runs the older microbenchmark of cocotb itself: the demo
:class:`spikevec.sim.rtl.demo.LfsrCounter` with this file as the cocotb test module
(GPI clock + await done, Python per edge, ``ClockCycles``, a Python clock).
Not a test: figures vary by machine and load.
"""
import argparse
import json
import sys
import time
from pathlib import Path

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, RisingEdge

if cocotb.is_simulation:
    from spikevec.sim.rtl.cocotb_support import params, record, reset, start_clock

    async def _prepare(dut, limit, clock=None):
        clock = clock or start_clock(dut.clk, period_ns=10)
        dut.en.value = 0
        dut.limit.value = limit
        await reset(dut, clock)
        return clock

    def _save(name, cycles, seconds):
        record(**{name: {"cycles": cycles, "seconds": seconds}})

    @cocotb.test()
    async def gpi_clock_await_done(dut):
        n = int(params()["cycles"])
        await _prepare(dut, n)
        start = time.perf_counter()
        dut.en.value = 1
        await RisingEdge(dut.done)
        _save("gpi_clock_await_done", n, time.perf_counter() - start)
        assert int(dut.count.value) == n

    @cocotb.test()
    async def gpi_clock_python_each_edge(dut):
        n = int(params()["py_cycles"])
        await _prepare(dut, 1 << 31)
        dut.en.value = 1
        start = time.perf_counter()
        edge = RisingEdge(dut.clk)
        for _ in range(n):
            await edge
        _save("gpi_clock_python_each_edge", n, time.perf_counter() - start)

    @cocotb.test()
    async def gpi_clock_clockcycles(dut):
        n = int(params()["py_cycles"])
        await _prepare(dut, 1 << 31)
        dut.en.value = 1
        start = time.perf_counter()
        await ClockCycles(dut.clk, n)
        _save("gpi_clock_clockcycles", n, time.perf_counter() - start)

    @cocotb.test()
    async def python_clock_await_done(dut):
        n = int(params()["py_cycles"])
        clock = Clock(dut.clk, 10, unit="ns", impl="py")
        clock.start(start_high=False)
        await _prepare(dut, n, clock)
        start = time.perf_counter()
        dut.en.value = 1
        await RisingEdge(dut.done)
        _save("python_clock_await_done", n, time.perf_counter() - start)


VECTOR_LOOP = """
        li   a0, {iterations}
        li   a1, 0
        vload v1, 0(a1)
        vload v2, {vb}(a1)
loop:   vadd v3, v1, v2
        vmul.rn.sat v4, v3, v1, 3
        vaddi v1, v4, -7
        vstore v3, {vb2}(a1)
        addi a0, a0, -1
        bnez a0, loop
        ecall
"""


def vector_loop(config, iterations: int):
    from spikevec.sw.asm import assemble
    vb = config.vector_bytes
    program = assemble(VECTOR_LOOP.format(iterations=iterations, vb=vb, vb2=2 * vb),
                       config, "vector_loop.s")
    program.vdata = bytes(range(2 * vb))
    return program


def soc_speed(name: str, iterations: int, cocotb_iterations: int) -> dict:
    """Run the vector loop on both backends for preset ``name``; print and return rates."""
    from spikevec.hw.config import preset
    from spikevec.sim.iss import Machine
    from spikevec.sim.rtl.harness import harness_build
    from spikevec.sim.rtl.soc_sim import final_machine, run_program, soc_build
    config = preset(name)
    rates = {}
    runs = [("harness", iterations)]
    if cocotb_iterations:
        runs.append(("cocotb", cocotb_iterations))
    for backend, count in runs:
        b = harness_build(config) if backend == "harness" else soc_build(config)
        print(f"{name:8s} {backend:8s} build: {'cached' if b.cached else 'built'} "
              f"(original build {b.build_seconds:.0f} s)", flush=True)
        program = vector_loop(config, count)
        run = run_program(program, max_cycles=10**9, backend=backend)
        golden = Machine(config)
        golden.load_program(program)
        golden.run()
        machine = final_machine(run)
        if machine.exit_reason != "ecall" or machine.cycles != golden.cycles \
                or (machine.x != golden.x).any() or (machine.v != golden.v).any():
            raise SystemExit(f"{name} {backend}: the RTL's final state differs from the "
                             f"golden model's ({machine.exit_reason}, {machine.cycles} vs "
                             f"{golden.cycles} cycles); the figures would be meaningless.")
        rate = run.cycles_per_second
        rates[backend] = rate
        cpu = run.data.get("run_cpu_seconds")
        if cpu:
            rates[f"{backend}_per_cpu_second"] = run.clock_cycles / cpu
        print(f"{name:8s} {backend:8s} {run.clock_cycles:>11,d} cycles in "
              f"{run.data['run_wall_seconds']:7.2f} s = {rate:>12,.0f} cycles/s"
              + (f" ({run.clock_cycles / cpu:,.0f} per CPU second of the simulator)"
                 if cpu else "")
              + f"; core: {golden.cycles:,d} cycles, {golden.instret:,d} instructions",
              flush=True)
    if "cocotb" in rates:
        print(f"{name:8s} harness is {rates['harness'] / rates['cocotb']:.0f}x cocotb")
    return rates


def lfsr_speed(cycles: int, py_cycles: int) -> dict:
    """The cocotb microbenchmark on the LFSR demo design (see the module docstring)."""
    from spikevec.sim.rtl.build import build
    from spikevec.sim.rtl.demo import LfsrCounter
    from spikevec.sim.rtl.run import run_cocotb

    b = build(LfsrCounter, "lfsr_counter")
    print(f"lfsr build: {'cached' if b.cached else 'built'} in {b.seconds:.1f} s "
          f"(original Verilator+C++ build {b.build_seconds:.1f} s), Verilator "
          f"{b.verilator_version}")
    res = run_cocotb(b, Path(__file__), params={"cycles": cycles, "py_cycles": py_cycles},
                     timeout=3600)
    rates = {}
    for name, figures in res.data.items():
        rates[name] = figures["cycles"] / figures["seconds"]
        print(f"lfsr {name:28s} {figures['cycles']:>10,d} cycles in "
              f"{figures['seconds']:7.2f} s = {rates[name]:>12,.0f} cycles/s")
    return rates


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--configs", nargs="*", default=["lanes8", "default"],
                        help="configuration presets (default: lanes8 default; none with "
                             "--lfsr runs only that)")
    parser.add_argument("--iterations", type=int, default=300_000,
                        help="vector loop iterations on the harness (default 300,000)")
    parser.add_argument("--cocotb-iterations", type=int, default=5_000,
                        help="vector loop iterations under cocotb (default 5,000)")
    parser.add_argument("--no-cocotb", action="store_true", help="skip the cocotb runs")
    parser.add_argument("--lfsr", action="store_true",
                        help="also run the cocotb microbenchmark on the LFSR demo")
    parser.add_argument("--cycles", type=int, default=2_000_000,
                        help="--lfsr: cycles of the GPI-clock, await-done run")
    parser.add_argument("--py-cycles", type=int, default=200_000,
                        help="--lfsr: cycles of the variants that run Python per cycle")
    args = parser.parse_args(argv)
    results = {}
    for name in args.configs:
        results[name] = soc_speed(name, args.iterations,
                                  0 if args.no_cocotb else args.cocotb_iterations)
    if args.lfsr:
        results["lfsr"] = lfsr_speed(args.cycles, args.py_cycles)
    print(json.dumps({k: {b: round(r) for b, r in v.items()} for k, v in results.items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
