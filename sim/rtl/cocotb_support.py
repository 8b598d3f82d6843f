"""Helpers imported by cocotb test modules *inside* the simulator process.

Conventions (the other side is :func:`spikevec.sim.rtl.run.run_cocotb`):

* Parameters: ``run_cocotb(..., params={...})`` writes them to a JSON file whose path is in
  ``$SPIKEVEC_PARAMS``; :func:`params` reads it (``{}`` if none were given). Put bulky
  inputs (program images, memory contents) in files and pass their paths as params.
* Results: :func:`record` merges keyword values into the JSON file named by
  ``$SPIKEVEC_RESULTS``; ``run_cocotb`` returns its contents as ``CocotbResults.data``.
  Values must be JSON-serialisable. Record before asserting, so a failing test still
  reports what it saw.
* Clock: :func:`start_clock` starts ``cocotb.clock.Clock(signal, period).start()`` with the
  GPI implementation (``impl="gpi"``): the toggling is scheduled by cocotb's C++ GPI layer,
  and Python is not entered on clock edges. It raises if cocotb would fall back to the
  Python clock. (cocotb 2.x picks ``"gpi"`` by itself when ``COCOTB_TRUST_INERTIAL_WRITES``
  is set, which cocotb's Verilator runner does.)
* Waiting: in cocotb 2.1 ``ClockCycles(clk, n)`` is a Python loop that wakes on each of the
  ``n`` edges. For long waits use :func:`cycles` (three wake-ups for any ``n``) or
  :func:`until_high` (one wake-up, on the event). Python then only runs on events.
"""
from __future__ import annotations

import json
import os
from decimal import Decimal
from pathlib import Path

from cocotb.clock import Clock
from cocotb.triggers import RisingEdge, SimTimeoutError, Timer, with_timeout
from cocotb.utils import get_sim_time

__all__ = ["params", "record", "start_clock", "reset", "cycles", "until_high", "now_cycles"]

PARAMS_ENV = "SPIKEVEC_PARAMS"
RESULTS_ENV = "SPIKEVEC_RESULTS"


def params() -> dict:
    """The ``params`` given to ``run_cocotb`` (``{}`` if none)."""
    path = os.environ.get(PARAMS_ENV)
    return json.loads(Path(path).read_text()) if path else {}


def record(**values) -> None:
    """Merge ``values`` into the results JSON that ``run_cocotb`` returns as ``data``."""
    path = os.environ.get(RESULTS_ENV)
    if not path:
        raise RuntimeError(f"${RESULTS_ENV} is not set: record() only works in a cocotb module "
                           f"started by spikevec.sim.rtl.run_cocotb().")
    target = Path(path)
    data = json.loads(target.read_text()) if target.is_file() else {}
    data.update(values)
    tmp = target.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1, default=_jsonable))
    os.replace(tmp, target)


def _jsonable(value):
    if hasattr(value, "tolist"):        # numpy arrays and scalars
        return value.tolist()
    if isinstance(value, (bytes, bytearray)):
        return value.hex()
    raise TypeError(f"record(): {type(value).__name__} {value!r} is not JSON-serialisable; "
                    f"convert it to int/float/str/list/dict first.")


def start_clock(signal, period_ns: float = 10) -> Clock:
    """Start a 50 % clock on ``signal`` in the GPI (C++); returns the :class:`Clock`.

    The period must be an even number of time-precision steps (default 1 ps).
    """
    clock = Clock(signal, period_ns, unit="ns", impl="gpi")
    if clock.impl != "gpi":     # pragma: no cover - impl="gpi" is explicit
        raise RuntimeError(f"cocotb chose the {clock.impl!r} clock; the GPI clock is needed "
                           f"so that Python does not run on every edge.")
    clock.start(start_high=False)
    return clock


async def reset(dut, clock: Clock, n: int = 2, signal_name: str = "rst") -> None:
    """Hold ``dut.<signal_name>`` high for ``n`` rising edges of ``clock``, then release it
    just after an edge (so the first cycle out of reset is a full one)."""
    rst = getattr(dut, signal_name)
    rst.value = 1
    await cycles(clock, n)
    rst.value = 0


_STEPS_PER = {"fs": 1e-3, "ps": 1, "ns": 1e3, "us": 1e6, "ms": 1e9, "sec": 1e12, "step": 1}


def _period(clock: Clock) -> Decimal:
    return Decimal(str(clock.period))


async def cycles(clock: Clock, n: int) -> None:
    """Wait for ``n`` rising edges of ``clock`` (same as ``ClockCycles(clk, n)``) with at
    most three Python wake-ups: edge, ``Timer`` to mid-cycle before the last edge, edge."""
    if n < 0:
        raise ValueError(f"cycles(): n must be >= 0, got {n}.")
    if n == 0:
        return
    edge = RisingEdge(clock.signal)
    await edge
    if n >= 2:
        await Timer((n - 1) * _period(clock) - _period(clock) / 2, unit=clock.unit)
        await edge


def now_cycles(clock: Clock) -> float:
    """Simulation time in clock periods (fractional)."""
    return get_sim_time(clock.unit) / float(clock.period)


async def until_high(signal, clock: Clock, max_cycles: int) -> int:
    """Return once ``signal`` is 1; the number of whole clock periods waited.

    Python wakes once (on ``RisingEdge(signal)``), not per cycle. Raises ``TimeoutError``
    naming the signal if it is still low after ``max_cycles`` periods.
    """
    if signal.value.is_resolvable and int(signal.value) == 1:
        return 0
    if max_cycles * float(clock.period) * _STEPS_PER[clock.unit] >= 2**62:
        raise ValueError(f"until_high(max_cycles={max_cycles}) is beyond the simulator's "
                         f"64-bit time range at a {clock.period} {clock.unit} period; use "
                         f"a smaller limit (1e11 cycles is over 15 minutes of 100 MHz).")
    start = now_cycles(clock)
    try:
        await with_timeout(RisingEdge(signal), max_cycles * _period(clock), clock.unit)
    except SimTimeoutError:
        raise TimeoutError(f"{signal._path} did not go high within {max_cycles} clock "
                           f"cycles (simulation time now {get_sim_time('ns')} ns).") from None
    return round(now_cycles(clock) - start)

