"""A cocotb module with one deliberately failing test, to check failure reporting."""
import cocotb

from spikevec.sim.rtl.cocotb_support import cycles, record, reset, start_clock


@cocotb.test()
async def test_passes(dut):
    clock = start_clock(dut.clk)
    await reset(dut, clock)
    await cycles(clock, 3)


@cocotb.test()
async def test_deliberately_fails(dut):
    clock = start_clock(dut.clk)
    dut.limit.value = 5
    dut.en.value = 0
    await reset(dut, clock)
    await cycles(clock, 10)
    record(seen_count=int(dut.count.value))
    assert int(dut.count.value) == 12345, "deliberate failure: count is not 12345"
