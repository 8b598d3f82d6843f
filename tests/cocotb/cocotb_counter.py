"""cocotb tests for :class:`spikevec.sim.rtl.demo.LfsrCounter` (run by tests/test_rtl_infra.py).

Params (``$SPIKEVEC_PARAMS``): ``limit`` (default 1000). Records ``cycles_to_done``,
``count`` and ``lfsr`` into the results JSON.
"""
import cocotb
from cocotb.triggers import ReadOnly, RisingEdge

from spikevec.sim.rtl.cocotb_support import (cycles, params, record, reset, start_clock,
                                             until_high)
from spikevec.sim.rtl.demo import lfsr_model


async def _setup(dut, limit):
    clock = start_clock(dut.clk, period_ns=10)
    dut.en.value = 0
    dut.limit.value = limit
    await reset(dut, clock)
    return clock


@cocotb.test()
async def test_counts_to_limit(dut):
    """Enable, wait for ``done`` with one Python wake-up, compare with the Python model."""
    limit = int(params().get("limit", 1000))
    clock = await _setup(dut, limit)
    assert clock.impl == "gpi", f"expected the GPI clock, got {clock.impl!r}"
    dut.en.value = 1
    waited = await until_high(dut.done, clock, max_cycles=limit + 10)
    await ReadOnly()
    record(cycles_to_done=waited, count=int(dut.count.value), lfsr=int(dut.lfsr.value),
           clock_impl=clock.impl)
    assert int(dut.count.value) == limit
    assert int(dut.lfsr.value) == lfsr_model(limit), "LFSR differs from the Python model"
    # done is registered: it rises one edge after count reaches limit
    assert waited == limit + 1, f"done after {waited} cycles, expected {limit + 1}"


@cocotb.test()
async def test_cycles_helper_matches_edges(dut):
    """``cycles(clock, n)`` waits exactly n rising edges (counter advances by n)."""
    clock = await _setup(dut, 1 << 30)
    await RisingEdge(dut.clk)
    dut.en.value = 1
    await RisingEdge(dut.clk)           # first enabled edge: count becomes 1
    await ReadOnly()
    before = int(dut.count.value)
    for n in (1, 2, 7, 1000):
        await cycles(clock, n)
        await ReadOnly()
        after = int(dut.count.value)
        assert after - before == n, f"cycles({n}) advanced the counter by {after - before}"
        before = after
    record(cycles_helper="ok")
