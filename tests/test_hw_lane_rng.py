"""LaneRng against reference.Xoroshiro32pp: output and state every cycle, seeding,
hold, write priority, both output styles."""
import random

import pytest
from amaranth.sim import Simulator

import reference as ref
from spikevec.hw.vector_unit.lane_rng import LaneRng

SEEDS = ((1, 0), (0x1234, 0xABCD), (0xFFFF, 0xFFFF))


def simulate(dut, body):
    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(body)
    sim.run()


def state(ctx, dut):
    return ctx.get(dut.s0), ctx.get(dut.s1), ctx.get(dut.r)


def model_state(g):
    return g.s0, g.s1, g.peek()


async def seed(ctx, dut, s0, s1):
    ctx.set(dut.seed_s0, s0)
    ctx.set(dut.seed_s1, s1)
    ctx.set(dut.write_s0, 1)
    ctx.set(dut.write_s1, 1)
    await ctx.tick()
    ctx.set(dut.write_s0, 0)
    ctx.set(dut.write_s1, 0)


@pytest.mark.parametrize("registered_output", [True, False])
def test_1000_steps_match_reference(registered_output):
    dut = LaneRng(registered_output=registered_output)
    bad = []

    async def testbench(ctx):
        for s0, s1 in SEEDS:
            await seed(ctx, dut, s0, s1)
            g = ref.Xoroshiro32pp(s0, s1)
            ctx.set(dut.step, 1)
            for i in range(1000):
                got = state(ctx, dut)      # r of the state before this step
                want = model_state(g)
                if got != want:
                    bad.append(((s0, s1), i, got, want))
                g.step()
                await ctx.tick()
            ctx.set(dut.step, 0)

    simulate(dut, testbench)
    assert not bad, f"{len(bad)} mismatches, first: {bad[:3]}"


def test_reset_state_and_zero_state_stays_zero():
    dut = LaneRng()

    async def testbench(ctx):
        assert state(ctx, dut) == (0, 0, 0)
        ctx.set(dut.step, 1)
        for _ in range(5):
            await ctx.tick()
            assert state(ctx, dut) == (0, 0, 0)

    simulate(dut, testbench)


def test_reset_seed_gives_valid_output_from_cycle_zero():
    dut = LaneRng(reset_s0=0xBEEF, reset_s1=0x0042)

    async def testbench(ctx):
        g = ref.Xoroshiro32pp(0xBEEF, 0x0042)
        assert state(ctx, dut) == model_state(g)
        ctx.set(dut.step, 1)
        for _ in range(20):
            g.step()
            await ctx.tick()
            assert state(ctx, dut) == model_state(g)

    simulate(dut, testbench)


@pytest.mark.filterwarnings("ignore::amaranth.hdl.UnusedElaboratable")
def test_bad_reset_value_is_rejected():
    with pytest.raises(ValueError, match="reset_s1"):
        LaneRng(reset_s1=1 << 16)


@pytest.mark.parametrize("registered_output", [True, False])
def test_random_mix_of_hold_step_and_half_writes(registered_output):
    """Writes win over step; an unwritten half keeps its value; no step means hold."""
    rng = random.Random(11)
    dut = LaneRng(registered_output=registered_output)
    bad = []

    async def testbench(ctx):
        g = ref.Xoroshiro32pp(0, 0)
        for i in range(1500):
            step = rng.random() < 0.6
            w0 = rng.random() < 0.1
            w1 = rng.random() < 0.1
            d0, d1 = rng.randrange(1 << 16), rng.randrange(1 << 16)
            ctx.set(dut.step, step)
            ctx.set(dut.write_s0, w0)
            ctx.set(dut.write_s1, w1)
            ctx.set(dut.seed_s0, d0)
            ctx.set(dut.seed_s1, d1)
            got = state(ctx, dut)
            if got != model_state(g):
                bad.append((i, got, model_state(g)))
            if w0 or w1:
                g.s0 = d0 if w0 else g.s0
                g.s1 = d1 if w1 else g.s1
            elif step:
                g.step()
            await ctx.tick()

    simulate(dut, testbench)
    assert not bad, f"{len(bad)} mismatches, first: {bad[:3]}"


@pytest.mark.parametrize("registered_output", [True, False])
def test_undo_puts_back_the_state_before_the_last_step_or_seed(registered_output):
    """``undo`` restores the state from before the previous cycle's step or write, and
    drops a step or write of its own cycle (a younger, also squashed, instruction's)."""
    dut = LaneRng(registered_output=registered_output)
    seen = {}

    async def testbench(ctx):
        await seed(ctx, dut, 0x1234, 0xABCD)
        g = ref.Xoroshiro32pp(0x1234, 0xABCD)
        g.step()
        ctx.set(dut.step, 1)
        await ctx.tick()                        # one real step
        seen["stepped"] = state(ctx, dut)
        await ctx.tick()                        # a step that gets undone ...
        ctx.set(dut.undo, 1)                    # ... while another step is asked for
        await ctx.tick()
        ctx.set(dut.undo, 0)
        ctx.set(dut.step, 0)
        seen["after step undo"] = state(ctx, dut)
        await seed(ctx, dut, 7, 9)              # a seed that gets undone
        ctx.set(dut.undo, 1)
        await ctx.tick()
        ctx.set(dut.undo, 0)
        seen["after seed undo"] = state(ctx, dut)
        seen["want"] = model_state(g)

    simulate(dut, testbench)
    assert seen["stepped"] == seen["want"]
    assert seen["after step undo"] == seen["want"]
    assert seen["after seed undo"] == seen["want"]
