"""LaneMultiplier against reference.vmul and the shift references, with a new operation
every clock cycle.

The vectors stream through the pipeline back to back (one per cycle) and each result is
read ``latency`` edges after its inputs, so these tests also check full throughput.
"""
import itertools
import random

import pytest
from amaranth.sim import Simulator

import reference as ref
from spikevec.hw.vector_unit.arith import RoundMode
from spikevec.hw.vector_unit.lane_multiplier import LaneMultiplier, MulOp
from spikevec.hw.isa import TIMING, Timing

EDGES = sorted(set(ref.EDGE_VALUES) | {-32768, -32767, -1, 0, 1, 32766, 32767})
R_EDGES = (0x0000, 0x0001, 0x7FFF, 0x8000, 0xFFFF, 0xA5C3)
MODES = {"floor": RoundMode.FLOOR, "half_up": RoundMode.HALF_UP,
         "stochastic": RoundMode.STOCHASTIC}


def rand16(rng):
    return rng.choice(EDGES) if rng.random() < 0.25 else rng.randint(-32768, 32767)


def vec(a, b, shift, mode, sat, r):
    c = {"saturate": sat, "round": MODES[mode], "shift": shift, "op": MulOp.MUL}
    return (c, a, b, r, ref.vmul(a, b, shift, mode, bool(sat), r), 0)


def shift_vec(op, a, amount, mode="floor", sat=0, r=0, shift=0, b=0):
    """A shift by ``amount``; ``shift`` (vmul's field) and ``b`` must be ignored."""
    c = {"saturate": sat, "round": MODES[mode], "shift": shift, "op": op}
    expect = {MulOp.SHIFT_LEFT: lambda: ref.vsll(a, amount, sat=bool(sat)),
              MulOp.SHIFT_RIGHT_ARITHMETIC: lambda: ref.rshift(a, amount, mode, r),
              MulOp.SHIFT_RIGHT_LOGICAL: lambda: ref.vsrl(a, amount)}[op]()
    return (c, a, b, r, expect, amount)


def run(vectors):
    """Stream ``vectors`` one per cycle; return the mismatches (vector, got)."""
    dut = LaneMultiplier()
    lat = dut.latency
    assert lat == TIMING.latency_of(Timing.VMUL)     # the cycle model's latency
    bad = []
    idle = ({"saturate": 0, "round": RoundMode.FLOOR, "shift": 0, "op": MulOp.MUL},
            0, 0, 0, 0, 0)

    async def testbench(ctx):
        stream = list(vectors) + [idle] * lat
        for i, (c, a, b, r, _, amount) in enumerate(stream):
            ctx.set(dut.ctl, c)
            ctx.set(dut.a, a)
            ctx.set(dut.b, b)
            ctx.set(dut.r, r)
            ctx.set(dut.amount, amount)
            await ctx.tick()
            k = i + 1 - lat          # the vector whose result is visible now
            if k >= 0:
                got = ctx.get(dut.result)
                if got != stream[k][4]:
                    bad.append((stream[k], got))

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(testbench)
    sim.run()
    return bad


def check(vectors):
    bad = run(vectors)
    assert not bad, f"{len(bad)} of {len(vectors)} vectors wrong, first: {bad[:5]}"


@pytest.mark.parametrize("sat", [0, 1])
def test_edges_all_shifts_all_modes(sat):
    r_cycle = itertools.cycle(R_EDGES)
    vectors = [vec(a, b, s, mode, sat, next(r_cycle) if mode == "stochastic" else 0xFFFF)
               for mode in MODES for s in range(16) for a in EDGES for b in EDGES]
    check(vectors)


def test_random_operands_modes_and_generator_values():
    rng = random.Random(21)
    vectors = []
    for mode in MODES:
        for sat in (0, 1):
            vectors += [vec(rand16(rng), rand16(rng), rng.randrange(16), mode, sat,
                            rng.randrange(1 << 16)) for _ in range(300)]
    rng.shuffle(vectors)     # back-to-back changes of every modifier
    check(vectors)


def test_stochastic_uses_top_bits_of_r():
    """With shift s only r's top s bits matter: junk in the low 16 - s bits must not
    change the result. For a product of 1 the result rounds up exactly when those top
    bits are all ones."""
    vectors = []
    for s in range(1, 16):
        low = (1 << (16 - s)) - 1
        top = 0xFFFF & ~low
        for r in (top, top | low, (top - (low + 1)) & 0xFFFF, low, 0):
            for a in (1, -1, 1 << (s - 1), 3):
                vectors.append(vec(a, 1, s, "stochastic", 1, r))
                vectors.append(vec(a, -1, s, "stochastic", 0, r))
    check(vectors)
    assert ref.vmul(1, 1, 3, "stochastic", True, 0xE000) == 1
    assert ref.vmul(1, 1, 3, "stochastic", True, 0xDFFF) == 0


def test_shift_left_wrap_and_saturate():
    """vsll/vslli as a * 2^amount; vmul's shift field and b do not matter."""
    rng = random.Random(2)
    vectors = []
    for sat in (0, 1):
        vectors += [shift_vec(MulOp.SHIFT_LEFT, a, s, sat=sat, shift=15 - s, b=rand16(rng))
                    for a in EDGES for s in range(16)]
        vectors += [shift_vec(MulOp.SHIFT_LEFT, rand16(rng), rng.randrange(16), sat=sat,
                              mode=rng.choice(list(MODES)), r=rng.randrange(1 << 16))
                    for _ in range(300)]
    check(vectors)


def test_shift_right_arithmetic_all_modes_and_logical():
    """vsra/vsrai as rshift(a * 1, amount, round), never saturated; vsrl/vsrli on the
    zero-extended a, always floor (its round and saturate controls are ignored)."""
    rng = random.Random(3)
    vectors = []
    for mode in MODES:
        rs = R_EDGES if mode == "stochastic" else (0xFFFF,)
        vectors += [shift_vec(MulOp.SHIFT_RIGHT_ARITHMETIC, a, s, mode, sat=1, r=r,
                              b=rand16(rng)) for a in EDGES for s in range(16) for r in rs]
        vectors += [shift_vec(MulOp.SHIFT_RIGHT_ARITHMETIC, rand16(rng), rng.randrange(16),
                              mode, r=rng.randrange(1 << 16)) for _ in range(300)]
    vectors += [shift_vec(MulOp.SHIFT_RIGHT_LOGICAL, a, s, "half_up", sat=1, r=0xFFFF)
                for a in EDGES for s in range(16)]
    vectors += [shift_vec(MulOp.SHIFT_RIGHT_LOGICAL, rand16(rng), rng.randrange(16),
                          rng.choice(list(MODES)), r=rng.randrange(1 << 16))
                for _ in range(300)]
    rng.shuffle(vectors)     # back-to-back changes of operation and modifiers
    check(vectors)
