"""Simulated clock cycles per second of Verilator + cocotb 2.x, by how much Python runs.

Usage::

    python benchmarks/rtl_sim_speed.py [--cycles 2000000] [--py-cycles 200000]

Builds :class:`spikevec.sim.rtl.demo.LfsrCounter` (cached) and runs this same file as the
cocotb test module. Each variant times only its own loop inside the simulator
(``time.perf_counter``), so process and Python start-up are excluded:

* ``gpi_clock_await_done``: ``Clock(...).start()`` in the GPI (C++), Python awaits
  ``RisingEdge(dut.done)`` once - the way long SoC runs are meant to be simulated.
* ``gpi_clock_python_each_edge``: same clock, Python awaits ``RisingEdge(dut.clk)`` every
  cycle (a per-cycle Python monitor/driver).
* ``gpi_clock_clockcycles``: ``await ClockCycles(dut.clk, n)``, which in cocotb 2.1 is a
  Python loop over edges, so it costs the same as the previous variant.
* ``python_clock_await_done``: ``Clock(..., impl="py")``: a Python coroutine toggles the
  clock, Python runs twice per cycle even though the test only awaits ``done``.

Prints one line per variant with simulated cycles/s. Not a test: figures vary by machine.
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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cycles", type=int, default=2_000_000,
                        help="cycles for the GPI-clock, await-done run (default 2,000,000)")
    parser.add_argument("--py-cycles", type=int, default=200_000,
                        help="cycles for the variants that run Python per cycle "
                             "(default 200,000)")
    args = parser.parse_args(argv)

    from spikevec.sim.rtl.build import build
    from spikevec.sim.rtl.demo import LfsrCounter
    from spikevec.sim.rtl.run import run_cocotb

    b = build(LfsrCounter, "lfsr_counter")
    print(f"build: {'cached' if b.cached else 'built'} in {b.seconds:.1f} s "
          f"(original Verilator+C++ build {b.build_seconds:.1f} s), Verilator "
          f"{b.verilator_version}, {b.directory}")
    start = time.perf_counter()
    res = run_cocotb(b, Path(__file__), params={"cycles": args.cycles,
                                                "py_cycles": args.py_cycles},
                     timeout=3600)
    print(f"simulator process: {time.perf_counter() - start:.1f} s wall for all variants")
    rates = {}
    for name, figures in res.data.items():
        rates[name] = figures["cycles"] / figures["seconds"]
        print(f"{name:28s} {figures['cycles']:>10,d} cycles in {figures['seconds']:7.2f} s"
              f" = {rates[name]:>12,.0f} cycles/s")
    base = rates.get("gpi_clock_python_each_edge")
    if base and "gpi_clock_await_done" in rates:
        print(f"GPI clock + await done is {rates['gpi_clock_await_done'] / base:.0f}x "
              f"faster than a Python await per cycle")
    print(json.dumps({k: round(v) for k, v in rates.items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
