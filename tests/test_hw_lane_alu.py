"""LaneAlu against the plain-Python lane reference (tests/reference.py).

Each test function builds one list of (control, a, b, r, expected) vectors and streams
them through a single Amaranth simulation, one new vector per clock cycle, reading each
result ``latency`` edges later (so full throughput is checked too); thousands of
vectors take about a second.
"""
import random

import pytest
from amaranth.sim import Simulator

import reference as ref
from spikevec.hw.vector_unit.lane_alu import AluOp, LaneAlu

EDGES = sorted(set(ref.EDGE_VALUES) | {-32768, -32767, -1, 0, 1, 32766, 32767})
R_EDGES = (0x0000, 0x0001, 0x7FFF, 0x8000, 0xFFFF, 0xA5C3)
RANDOM_CASES = 300


def rand16(rng):
    """An int16, biased towards edge values a quarter of the time."""
    return rng.choice(EDGES) if rng.random() < 0.25 else rng.randint(-32768, 32767)


def ctl(op, saturate=0, shift=0):
    return {"op": op, "saturate": saturate, "shift": shift}


def run(vectors, stages=2):
    """Simulate ``vectors`` = [(ctl, a, b, r, expected)]; return the mismatches as
    (vector, got, got_flags) and check the comparison flags of every vector."""
    dut = LaneAlu(stages=stages)
    assert dut.latency == stages
    bad = []
    idle = (ctl(AluOp.PASS_B), 0, 0, 0, 0)

    async def testbench(ctx):
        stream = list(vectors) + [idle] * dut.latency
        for i, (c, a, b, r, _) in enumerate(stream):
            ctx.set(dut.ctl, c)
            ctx.set(dut.a, a)
            ctx.set(dut.b, b)
            ctx.set(dut.r, r)
            await ctx.tick()
            k = i + 1 - dut.latency        # the vector whose result is visible now
            if k < 0:
                continue
            vec = stream[k]
            c, a, b = vec[:3]
            got = ctx.get(dut.result)
            flags = ctx.get(dut.flags)
            less_ok = flags.less == (a < b) or c["op"] is AluOp.ADD
            if got != vec[4] or flags.equal != (a == b) or not less_ok:
                bad.append((vec, got, (flags.equal, flags.less)))

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(testbench)
    sim.run()
    return bad


def check(vectors, stages=2):
    bad = run(vectors, stages)
    assert not bad, f"{len(bad)} of {len(vectors)} vectors wrong, first: {bad[:5]}"


# Expected values, straight from the reference ---------------------------------------
def expect(op, c, a, b, r):
    sat, shift = c["saturate"], c["shift"]
    if op is AluOp.ADD:
        return ref.vadd(a, b, sat=bool(sat))
    if op is AluOp.SUBTRACT:
        return ref.vsub(a, b, sat=bool(sat))
    if op is AluOp.AND:
        return ref.wrap16(a & b)
    if op is AluOp.OR:
        return ref.wrap16(a | b)
    if op is AluOp.XOR:
        return ref.wrap16(a ^ b)
    if op is AluOp.MIN:
        return ref.vmin(a, b)
    if op is AluOp.MAX:
        return ref.vmax(a, b)
    if op is AluOp.AND_ADD:
        return ref.vandadd(a, shift, b)
    if op is AluOp.PASS_B:
        return b
    if op is AluOp.RANDOM:
        return ref.wrap16(r)
    raise AssertionError(op)


def vec(op, a, b, r=0, **kw):
    c = ctl(op, **kw)
    return (c, a, b, r, expect(op, c, a, b, r))


# Tests --------------------------------------------------------------------------------
def test_add_sub_logic_minmax_edges_and_random():
    rng = random.Random(1)
    ops = (AluOp.ADD, AluOp.SUBTRACT, AluOp.AND, AluOp.OR, AluOp.XOR, AluOp.MIN,
           AluOp.MAX, AluOp.PASS_B)
    vectors = []
    for op in ops:
        for sat in (0, 1):
            vectors += [vec(op, a, b, saturate=sat) for a in EDGES for b in EDGES]
            vectors += [vec(op, rand16(rng), rand16(rng), saturate=sat)
                        for _ in range(RANDOM_CASES // 2)]
    check(vectors)


def test_and_add():
    rng = random.Random(4)
    vectors = [vec(AluOp.AND_ADD, a, x, shift=n)
               for a in EDGES for x in EDGES for n in range(16)]
    vectors += [vec(AluOp.AND_ADD, rand16(rng), rand16(rng), shift=rng.randrange(16))
                for _ in range(RANDOM_CASES)]
    check(vectors)


def test_random_passes_generator_output():
    rng = random.Random(6)
    vectors = [vec(AluOp.RANDOM, rand16(rng), rand16(rng), r) for r in R_EDGES]
    vectors += [vec(AluOp.RANDOM, rand16(rng), rand16(rng), rng.randrange(1 << 16))
                for _ in range(50)]
    check(vectors)


def test_single_stage_variant_matches():
    rng = random.Random(7)
    ops = list(AluOp)
    vectors = []
    for _ in range(400):
        op = rng.choice(ops)
        vectors.append(vec(op, rand16(rng), rand16(rng), rng.randrange(1 << 16),
                           saturate=rng.randrange(2), shift=rng.randrange(16)))
    check(vectors, stages=1)


@pytest.mark.parametrize("op", list(AluOp))
def test_every_op_has_an_expectation(op):
    # guards against an AluOp member added without a reference comparison
    expect(op, ctl(op), 1, 2, 3)
