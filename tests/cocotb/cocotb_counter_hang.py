"""A cocotb test that never finishes in reasonable wall-clock time (timeout handling)."""
import cocotb

from spikevec.sim.rtl.cocotb_support import reset, start_clock, until_high


@cocotb.test()
async def test_hangs(dut):
    clock = start_clock(dut.clk)
    dut.en.value = 0                    # the counter never runs, so done never rises
    dut.limit.value = 10
    await reset(dut, clock)
    await until_high(dut.done, clock, max_cycles=10**11)
