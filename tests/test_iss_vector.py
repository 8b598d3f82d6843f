"""Golden model: every vector instruction against tests/reference.py, lane by lane, on
edge values and random values, for 8, 16 and 32 lanes."""
from __future__ import annotations

import random

import numpy as np
import pytest

import reference as ref
from iss_helpers import LANE_PRESETS, ROUND, machine, program, rerun

EDGE = ref.EDGE_VALUES


def vector_pairs(lanes, seed):
    """Chunks of ``lanes`` operand pairs: all edge pairs, then random pairs."""
    rnd = random.Random(seed)
    pairs = [(a, b) for a in EDGE for b in EDGE]
    pairs += [(rnd.randint(-32768, 32767), rnd.randint(-32768, 32767))
              for _ in range(4 * lanes)]
    for i in range(0, len(pairs), lanes):
        chunk = pairs[i:i + lanes]
        chunk += [(0, 0)] * (lanes - len(chunk))
        yield [a for a, _ in chunk], [b for _, b in chunk]


def run_binary(m, a, b, dest=3):
    m.v[1], m.v[2], m.v[3] = a, b, 0
    res = rerun(m)
    assert res.exit_reason == "ecall", res.message
    return m.v[dest].tolist()


BINARY = [("vadd", {"sat": s}, {}, lambda a, b, s=s: ref.vadd(a, b, bool(s))) for s in (0, 1)]
BINARY += [("vsub", {"sat": s}, {}, lambda a, b, s=s: ref.vsub(a, b, bool(s))) for s in (0, 1)]
BINARY += [("vsll", {"sat": s}, {}, lambda a, b, s=s: ref.vsll(a, b & 15, bool(s)))
           for s in (0, 1)]
BINARY += [("vand", None, {}, lambda a, b: a & b), ("vor", None, {}, lambda a, b: a | b),
           ("vxor", None, {}, lambda a, b: a ^ b), ("vmin", None, {}, ref.vmin),
           ("vmax", None, {}, ref.vmax), ("vsrl", None, {}, lambda a, b: ref.vsrl(a, b & 15))]
BINARY += [("vmul", {"round": ROUND[mode], "sat": s}, {"shift": sh},
            lambda a, b, sh=sh, mode=mode, s=s: ref.vmul(a, b, sh, mode, bool(s)))
           for sh in (0, 1, 7, 8, 14, 15) for mode in ("floor", "half_up") for s in (0, 1)]
BINARY += [("vsra", {"round": ROUND[mode]}, {},
            lambda a, b, mode=mode: ref.rshift(a, b & 15, mode))
           for mode in ("floor", "half_up")]


@pytest.mark.parametrize("preset_name", LANE_PRESETS)
def test_binary_ops_match_reference(preset_name):
    m = machine(preset_name)
    for name, mods, extra, fn in BINARY:
        m = machine(preset_name, program(m.config, (name, mods, dict(vd=3, vs1=1, vs2=2,
                                                                       **extra))))
        for a, b in vector_pairs(m.config.lanes, seed=sum(map(ord, name))):
            got = run_binary(m, a, b)
            want = [fn(x, y) for x, y in zip(a, b)]
            assert got == want, (name, mods, extra, a, b)


@pytest.mark.parametrize("preset_name", LANE_PRESETS)
def test_immediate_ops_match_reference(preset_name):
    m = machine(preset_name)
    cases = []
    for sh in range(16):
        for s in (0, 1):
            cases.append(("vslli", {"sat": s}, {"shamt": sh},
                          lambda a, sh=sh, s=s: ref.vsll(a, sh, bool(s))))
        for mode in ("floor", "half_up"):
            cases.append(("vsrai", {"round": ROUND[mode]}, {"shamt": sh},
                          lambda a, sh=sh, mode=mode: ref.rshift(a, sh, mode)))
        cases.append(("vsrli", None, {"shamt": sh}, lambda a, sh=sh: ref.vsrl(a, sh)))
    for imm in (-2048, -1, 0, 1, 2047, 1234):
        cases.append(("vaddi", None, {"imm": imm}, lambda a, imm=imm: ref.vadd(a, imm)))
        cases.append(("vaddi.sat", None, {"imm": imm},
                      lambda a, imm=imm: ref.vadd(a, imm, True)))
    for name, mods, extra, fn in cases:
        m = machine(preset_name, program(m.config, (name, mods, dict(vd=3, vs1=1, **extra))))
        for a, b in vector_pairs(m.config.lanes, seed=7):
            assert run_binary(m, a, b) == [fn(x) for x in a], (name, mods, extra, a)


@pytest.mark.parametrize("preset_name", LANE_PRESETS)
def test_compare_masks_and_select(preset_name):
    m = machine(preset_name)
    L = m.config.lanes
    rnd = random.Random(3)
    for cond in ("eq", "ne", "lt", "ge"):
        m = machine(preset_name, program(m.config, ("vt" + cond, dict(rd=5, vs1=1, vs2=2))))
        for a, b in vector_pairs(L, seed=4):
            b = [y if rnd.random() < 0.7 else x for x, y in zip(a, b)]   # some equal lanes
            run_binary(m, a, b)
            assert int(m.x[5]) == ref.compare_mask(a, b, cond), (cond, a, b)
    m = machine(preset_name, program(m.config, ("vsel", dict(vd=3, rs1=6, vs2=2))))
    for a, b in vector_pairs(L, seed=5):
        mask = rnd.getrandbits(32)
        m.x[6] = mask
        m.v[2], m.v[3] = b, a
        rerun(m)
        assert m.v[3].tolist() == [b[i] if mask >> i & 1 else a[i] for i in range(L)]


@pytest.mark.parametrize("preset_name", LANE_PRESETS)
def test_scalar_vector_moves(preset_name):
    m = machine(preset_name)
    L = m.config.lanes
    rnd = random.Random(6)
    m = machine(preset_name, program(m.config, ("vfill", dict(vd=3, rs1=1))))
    for value in [0, 1, 0x7FFF, 0x8000, 0xFFFF, 0x12345678, 0xFFFFFFFF, 0x80000000]:
        m.x[1] = value
        rerun(m)
        assert m.v[3].tolist() == [ref.wrap16(value)] * L
    for lane in range(L):
        m = machine(preset_name, program(m.config, ("vextract", dict(rd=7, vs1=2, lane=lane))))
        a = [rnd.choice(EDGE) for _ in range(L)]
        m.v[2] = a
        rerun(m)
        assert int(m.x[7]) == a[lane] & 0xFFFFFFFF
    for n in range(16):
        m = machine(preset_name, program(m.config, ("vandadd", dict(vd=3, vs1=1, rs2=4, n=n))))
        for a, _ in vector_pairs(L, seed=n):
            xv = rnd.getrandbits(32)
            m.x[4] = xv
            m.v[1] = a
            rerun(m)
            assert m.v[3].tolist() == [ref.vandadd(e, n, xv) for e in a]
    for imm in (-32768, -1, 0, 1, 32767, 0xFFFF, 0x8000):
        m = machine(preset_name, program(m.config, ("vlui", dict(vd=9, imm=imm))))
        rerun(m)
        assert m.v[9].tolist() == [ref.wrap16(imm)] * L


@pytest.mark.parametrize("preset_name", LANE_PRESETS)
def test_rng_sequence_seed_and_readback(preset_name):
    m = machine(preset_name)
    L = m.config.lanes
    rnd = random.Random(11)
    s0 = [rnd.getrandbits(16) for _ in range(L)]
    s1 = [rnd.getrandbits(16) for _ in range(L)]
    s1[0] = s0[0] = 0                                 # an all-zero lane stays zero
    steps = 6
    words = program(m.config, ("vseed", dict(vs1=1, vs2=2)),
                    *[("vrng", dict(vd=10 + i)) for i in range(steps)],
                    ("vrds0", dict(vd=20)), ("vrds1", dict(vd=21)))
    m = machine(preset_name, words)
    m.v[1] = [ref.wrap16(s) for s in s0]
    m.v[2] = [ref.wrap16(s) for s in s1]
    rerun(m)
    gens = [ref.Xoroshiro32pp(a, b) for a, b in zip(s0, s1)]
    for i in range(steps):
        assert m.v[10 + i].tolist() == [ref.wrap16(g.step()) for g in gens]
    assert m.v[20].tolist() == [ref.wrap16(g.s0) for g in gens]
    assert m.v[21].tolist() == [ref.wrap16(g.s1) for g in gens]
    assert m.rng[0].tolist() == [g.s0 for g in gens]
    assert m.v[10][0] == 0 and m.v[15][0] == 0


@pytest.mark.parametrize("preset_name", LANE_PRESETS)
@pytest.mark.parametrize("name", ["vmul", "vsra", "vsrai"])
def test_stochastic_instructions_use_high_bits_and_step_once(preset_name, name):
    m = machine(preset_name)
    L = m.config.lanes
    rnd = random.Random(name)
    for sh in (0, 1, 5, 15):
        if name == "vmul":
            ops = dict(vd=3, vs1=1, vs2=2, shift=sh)
        elif name == "vsra":
            ops = dict(vd=3, vs1=1, vs2=2)
        else:
            ops = dict(vd=3, vs1=1, shamt=sh)
        for sat in ((0, 1) if name == "vmul" else (None,)):
            mods = {"round": 2} if sat is None else {"round": 2, "sat": sat}
            m = machine(preset_name, program(m.config, (name, mods, ops)))
            for a, b in vector_pairs(L, seed=sh):
                if name == "vsra":
                    b = [(y & ~15) | sh for y in b]
                s0 = [rnd.getrandbits(16) for _ in range(L)]
                s1 = [rnd.getrandbits(16) | 1 for _ in range(L)]
                m.rng[0], m.rng[1] = s0, s1
                got = run_binary(m, a, b)
                gens = [ref.Xoroshiro32pp(p, q) for p, q in zip(s0, s1)]
                rs = [g.step() for g in gens]
                if name == "vmul":
                    want = [ref.vmul(x, y, sh, "stochastic", bool(sat), r)
                            for x, y, r in zip(a, b, rs)]
                else:
                    want = [ref.rshift(x, sh, "stochastic", r) for x, r in zip(a, rs)]
                assert got == want, (name, sh, sat, a, b)
                assert m.rng[0].tolist() == [g.s0 for g in gens]
                assert m.rng[1].tolist() == [g.s1 for g in gens]


@pytest.mark.parametrize("preset_name", LANE_PRESETS)
def test_vector_memory_loads_stores_and_accumulate(preset_name):
    m = machine(preset_name)
    cfg = m.config
    L, VB = cfg.lanes, cfg.vector_bytes
    rnd = np.random.default_rng(1)
    words = program(cfg, ("vload", dict(vd=1, rs1=5, imm=VB)),
                    ("vstore", dict(vs2=1, rs1=5, imm=-VB)),
                    ("vlacc", dict(vd=2, off=2 * VB, rs1=5, shift=3)),
                    ("vlacc8", dict(vd=3, off=-L, rs1=6, shift=7)),
                    ("vload8", dict(vd=4, off=L, rs1=6, shift=15)))
    m = machine(preset_name, words)
    for trial in range(20):
        m.vmem[:] = rnd.integers(0, 256, cfg.vmem_bytes, dtype=np.uint8)
        if trial == 0:
            m.vmem[:8 * VB] = np.resize(np.array([0x80, 0x7F, 0xFF, 0, 1], np.uint8), 8 * VB)
        base = VB * int(rnd.integers(1, 6))
        base8 = L * int(rnd.integers(1, 10))
        acc = rnd.choice(np.array(EDGE), L)
        m.x[5], m.x[6] = base, base8
        m.v[2], m.v[3] = acc, acc
        before = m.vmem.view(np.int16).copy()
        rerun(m, check=True)
        v16 = before.tolist()
        v8 = m.vmem.view(np.int8).tolist()
        loaded = v16[(base + VB) // 2:(base + VB) // 2 + L]
        assert m.v[1].tolist() == loaded
        assert m.vmem.view(np.int16)[(base - VB) // 2:(base - VB) // 2 + L].tolist() == loaded
        w = v16[(base + 2 * VB) // 2:(base + 2 * VB) // 2 + L]
        assert m.v[2].tolist() == [ref.acc_weight(a, x, 3) for a, x in zip(acc, w)]
        w8 = v8[base8 - L:base8]
        assert m.v[3].tolist() == [ref.acc_weight(a, x, 7) for a, x in zip(acc, w8)]
        w8 = v8[base8 + L:base8 + 2 * L]
        assert m.v[4].tolist() == [ref.sat16(x << 15) for x in w8]


@pytest.mark.parametrize("preset_name", LANE_PRESETS)
def test_lane_local_memory_gather_scatter(preset_name):
    m = machine(preset_name)
    cfg = m.config
    L, E = cfg.lanes, cfg.lane_mem_elements
    rnd = random.Random(2)
    words = program(cfg, ("vloadl", dict(vd=3, vs1=1, imm=2)),
                    ("vstorel", dict(vs2=2, vs1=1, imm=-1)))
    m = machine(preset_name, words)
    for trial in range(10):
        m.lmem[:] = np.array([[rnd.randint(-32768, 32767) for _ in range(E)] for _ in range(L)])
        before = m.lmem.copy()
        addr = [rnd.choice([-32768, -3, -2, -1, 0, 1, E - 3, rnd.randrange(E - 2)])
                for _ in range(L)]
        data = [rnd.choice(EDGE) for _ in range(L)]
        m.v[1], m.v[2] = addr, data
        rerun(m, check=True)
        want = [int(before[i, e + 2]) if e + 2 >= 0 else 0 for i, e in enumerate(addr)]
        assert m.v[3].tolist() == want
        expect = before.copy()
        for i, e in enumerate(addr):
            if e - 1 >= 0:
                expect[i, e - 1] = data[i]
        assert (m.lmem == expect).all()
