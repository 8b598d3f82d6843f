"""The lanes run ``TIMING.lane_delay`` cycles behind the core (hw/vector_unit/relay.py):
the register tree delays every value by exactly that, one relay per group of lanes,
synthesised as instances of one module; and the cycle model's wait for the lanes'
answer (``lane_wait``), which the golden model applies to exactly the table's
``lane_answer`` instructions. The RTL's agreement with it is checked cycle for cycle by
the lockstep tests (test_hw_core_vector.py, test_lockstep.py)."""
from __future__ import annotations

import re

import pytest
from amaranth.back import rtlil
from amaranth.hdl import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out
from amaranth.sim import Simulator

from spikevec.hw.config import preset
from spikevec.hw.isa import INSTRUCTIONS, TIMING
from spikevec.hw.rtl.shared_module import SharedModules
from spikevec.hw.vector_unit.relay import GROUP, FanOut
from spikevec.hw.vector_unit.vector_unit import VectorUnit

from iss_helpers import machine, program, rerun
from test_shared_module import PlainPlatform


class Tree(wiring.Component):
    """A FanOut of one 8-bit value to ``lanes`` outputs."""

    def __init__(self, lanes):
        self.lanes = lanes
        super().__init__({"value": In(8), "outs": Out(8).array(lanes)})

    def elaborate(self, platform):
        m = Module()
        fan = FanOut(self.lanes)
        for out, lane in zip(self.outs, fan.add(self.value, 8, "value")):
            m.d.comb += out.eq(lane)
        fan.build(m, None)
        return m


@pytest.mark.parametrize("lanes", [8, 32, 6])
def test_every_lane_sees_the_value_lane_delay_cycles_later(lanes):
    dut = Tree(lanes)
    seen = []

    async def testbench(ctx):
        for k in range(12):
            ctx.set(dut.value, 17 * k + 3)
            await ctx.tick()
            seen.append([ctx.get(out) for out in dut.outs])

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(testbench)
    sim.run()
    # After the tick of cycle k, the outputs show the value set in cycle k + 1 - delay.
    for k in range(TIMING.lane_delay - 1, 12):
        want = 17 * (k + 1 - TIMING.lane_delay) + 3
        assert seen[k] == [want] * lanes, k


def test_relays_are_instances_of_one_module_one_per_group():
    platform = PlainPlatform()
    registry = SharedModules().attach(platform)
    config = preset("default")
    top = rtlil.convert(VectorUnit(config), name="top", platform=platform)
    assert "spikevec_relay" in registry.components
    relays = re.findall(r"^\s*cell \\spikevec_relay \\relay(\d+)", top, re.M)
    assert sorted(map(int, relays)) == list(range(config.lanes // GROUP))


def cycles(*instrs):
    m = machine("lanes8")
    m = machine("lanes8", program(m.config, *instrs))
    res = rerun(m, check=True)
    return res.cycles


def test_address_checks_wait_and_lane_values_come_late():
    """vloadl/vstorel wait for the lanes' address check at issue; vt*/vextract issue at
    once and their scalar result is ready latency(VTOX) = lane_delay + 3 cycles later (the
    lanes' answer, the groups' register, the unit's result register)."""
    plain = cycles(("vadd", dict(vd=1, vs1=2, vs2=3)))
    value, address = TIMING.lane_wait("value"), TIMING.lane_wait("address")
    assert (value, address) == (0, TIMING.lane_delay + 2)
    assert TIMING.latency_of("vtox") == TIMING.lane_delay + 3
    assert cycles(("vteq", dict(rd=5, vs1=2, vs2=3))) == plain
    assert cycles(("vextract", dict(rd=5, vs1=2, lane=1))) == plain
    assert cycles(("vloadl", dict(vd=1, vs1=2, imm=0))) == plain + address
    assert cycles(("vstorel", dict(vs2=1, vs1=2, imm=0))) == plain + address


@pytest.mark.parametrize("between", range(TIMING.latency_of("vtox") + 1))
def test_a_reader_of_a_lane_value_waits_for_it(between):
    """A reader ``between`` independent instructions behind a vteq waits
    max(0, latency - 1 - between) cycles; a younger write of the same register in between
    shadows the vteq (the reader takes and waits for that one only)."""
    test = ("vteq", dict(rd=5, vs1=2, vs2=3))
    filler = [("addi", dict(rd=7, rs1=0, imm=k)) for k in range(between)]
    use = ("add", dict(rd=6, rs1=5, rs2=0))
    base = cycles(test, *filler, ("add", dict(rd=6, rs1=0, rs2=0)))
    wait = max(0, TIMING.latency_of("vtox") - 1 - between)
    assert cycles(test, *filler, use) == base + wait
    if between:
        shadow = [("addi", dict(rd=5, rs1=0, imm=1))] + filler[1:]
        assert cycles(test, *shadow, use) == base


def test_the_address_wait_starts_when_the_operands_are_ready():
    """vadd (latency 2) then a vloadl reading it: the vloadl is ready one cycle late and
    then waits lane_wait; a second vloadl right behind it waits lane_wait again; vt*
    reading it waits for the operand only."""
    vadd = ("vadd", dict(vd=1, vs1=2, vs2=3))
    load = ("vloadl", dict(vd=4, vs1=1, imm=0))
    test = ("vtlt", dict(rd=5, vs1=1, vs2=3))
    late = TIMING.latency_of("valu") - 1
    base = cycles(vadd, ("vadd", dict(vd=4, vs1=2, vs2=3)))
    wait = TIMING.lane_wait("address")
    assert cycles(vadd, load) == base + late + wait
    assert cycles(vadd, load, load) == base + 1 + late + 2 * wait
    assert cycles(vadd, test, test) == base + 1 + late


def test_only_lane_answers_wait():
    asking = {ins.name: ins.lane_answer for ins in INSTRUCTIONS if ins.lane_answer}
    assert asking == {"vteq": "value", "vtne": "value", "vtlt": "value", "vtge": "value",
                      "vextract": "value", "vloadl": "address", "vstorel": "address"}
