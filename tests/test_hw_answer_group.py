"""AnswerGroup against a plain-Python reference: every cycle's ``value`` is the chosen
lane's ``a`` when that lane is in the group (else 0) and ``flags_q`` the group's flags,
the lane number entering the lanes' EX in cycle ``c`` (``lane_select``), the lanes'
answers in ``c + 2`` and the group's registers in ``c + 3``."""
import random

import pytest
from amaranth.sim import Simulator

from spikevec.hw.vector_unit.answer_group import AnswerGroup
from spikevec.hw.vector_unit.relay import GROUP


def _reference(index, select, answers, flags):
    """What group ``index`` shows for lane number ``select`` and its lanes' answers."""
    group, lane = divmod(select, GROUP)
    return (answers[lane] if group == index else 0), flags


@pytest.mark.parametrize("lanes,index", [(8, 0), (8, 1), (32, 5)])
def test_answer_group_matches_reference(lanes, index):
    dut = AnswerGroup(lanes, index)
    rnd = random.Random(lanes * 100 + index)
    # Lane numbers biased towards this group so both outcomes occur often.
    stimuli = [(rnd.choice([rnd.randrange(lanes), GROUP * index + rnd.randrange(GROUP)]),
                [rnd.randrange(1 << 16) for _ in range(GROUP)], rnd.randrange(1 << GROUP))
               for _ in range(300)]
    seen = []

    async def testbench(ctx):
        for cycle in range(len(stimuli) + 2):
            ctx.set(dut.lane_select, stimuli[cycle][0] if cycle < len(stimuli) else 0)
            if cycle >= 2:      # the answers of the lane number given two cycles ago
                _, answers, flags = stimuli[cycle - 2]
                ctx.set(dut.a, sum(a << (16 * k) for k, a in enumerate(answers)))
                ctx.set(dut.flags, flags)
            await ctx.tick()
            if cycle >= 2:
                seen.append((ctx.get(dut.value), ctx.get(dut.flags_q)))

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(testbench)
    sim.run()
    want = [_reference(index, s, a, f) for s, a, f in stimuli]
    assert seen == want
    assert any(v for v, _ in want) and any(v == 0 for v, _ in want)


def test_answer_group_refuses_a_group_that_does_not_exist():
    with pytest.raises(ValueError, match="Answer group 2 does not exist in a unit of 8"):
        AnswerGroup(8, 2)
