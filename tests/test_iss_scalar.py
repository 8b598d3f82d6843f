"""Golden model: scalar RV32I, MUL, Zbb and counter-CSR semantics against Python
arithmetic on edge and random values."""
from __future__ import annotations

import random

from hypothesis import given, settings, strategies as st

from spikevec.hw.isa import CSRS, TIMING

from iss_helpers import enc, machine, program, rerun

M32 = 0xFFFFFFFF
EDGE32 = (0, 1, 2, 31, 32, 0x7FF, 0x800, 0x7FFFFFFF, 0x80000000, 0x80000001, 0xFFFFFFFE,
          0xFFFFFFFF)


def s32(v):
    v &= M32
    return v - (1 << 32) if v >> 31 else v


R_OPS = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b,
    "sll": lambda a, b: a << (b & 31), "slt": lambda a, b: int(s32(a) < s32(b)),
    "sltu": lambda a, b: int(a < b), "xor": lambda a, b: a ^ b,
    "srl": lambda a, b: a >> (b & 31), "sra": lambda a, b: s32(a) >> (b & 31),
    "or": lambda a, b: a | b, "and": lambda a, b: a & b, "mul": lambda a, b: a * b,
    "min": lambda a, b: min(s32(a), s32(b)), "max": lambda a, b: max(s32(a), s32(b)),
    "minu": min, "maxu": max,
}
I_OPS = {
    "addi": lambda a, i: a + i, "slti": lambda a, i: int(s32(a) < i),
    "sltiu": lambda a, i: int(a < (i & M32)), "xori": lambda a, i: a ^ (i & M32),
    "ori": lambda a, i: a | (i & M32), "andi": lambda a, i: a & (i & M32),
}
SHIFT_OPS = {"slli": lambda a, s: a << s, "srli": lambda a, s: a >> s,
             "srai": lambda a, s: s32(a) >> s}


def _clz(a):
    return 32 - a.bit_length()


def _ctz(a):
    return 32 if a == 0 else (a & -a).bit_length() - 1


UNARY_OPS = {"clz": _clz, "ctz": _ctz, "cpop": lambda a: bin(a).count("1"),
             "sext.b": lambda a: s32((a & 0xFF) - ((a & 0x80) << 1)),
             "sext.h": lambda a: s32((a & 0xFFFF) - ((a & 0x8000) << 1))}


def values(seed, n=40):
    rnd = random.Random(seed)
    return list(EDGE32) + [rnd.getrandbits(32) for _ in range(n)]


def test_register_register_ops():
    m = machine()
    for name, fn in R_OPS.items():
        m = machine("default", program(m.config, (name, dict(rd=3, rs1=1, rs2=2))))
        vals = values(name)
        for a in vals:
            for b in vals[::3]:
                m.x[1], m.x[2] = a, b
                rerun(m, check=True)
                assert int(m.x[3]) == fn(a, b) & M32, (name, hex(a), hex(b))


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(R_OPS)), st.integers(0, M32), st.integers(0, M32))
def test_register_register_ops_hypothesis(name, a, b):
    m = machine()
    m = machine("default", program(m.config, (name, dict(rd=7, rs1=8, rs2=9))))
    m.x[8], m.x[9] = a, b
    rerun(m, check=True)
    assert int(m.x[7]) == R_OPS[name](a, b) & M32


def test_same_register_operands_and_x0():
    m = machine()
    m = machine("default", program(m.config, ("add", dict(rd=1, rs1=1, rs2=1)),
                                   ("addi", dict(rd=0, rs1=1, imm=5)),
                                   ("add", dict(rd=2, rs1=0, rs2=1))))
    m.x[1] = 21
    rerun(m, check=True)
    assert int(m.x[0]) == 0 and int(m.x[1]) == 42 and int(m.x[2]) == 42


def test_immediate_ops():
    m = machine()
    rnd = random.Random(5)
    imms = [-2048, -1, 0, 1, 2047] + [rnd.randint(-2048, 2047) for _ in range(10)]
    for name, fn in I_OPS.items():
        for imm in imms:
            m = machine("default", program(m.config, (name, dict(rd=3, rs1=1, imm=imm))))
            for a in values(name, 10):
                m.x[1] = a
                rerun(m, check=True)
                assert int(m.x[3]) == fn(a, imm) & M32, (name, hex(a), imm)
    for name, fn in SHIFT_OPS.items():
        for sh in range(32):
            m = machine("default", program(m.config, (name, dict(rd=3, rs1=1, shamt=sh))))
            for a in values(name, 5):
                m.x[1] = a
                rerun(m, check=True)
                assert int(m.x[3]) == fn(a, sh) & M32, (name, hex(a), sh)


def test_zbb_unary_ops():
    m = machine()
    for name, fn in UNARY_OPS.items():
        m = machine("default", program(m.config, (name, dict(rd=3, rs1=1))))
        for a in values(name, 60) + [1 << k for k in range(32)]:
            m.x[1] = a
            rerun(m, check=True)
            assert int(m.x[3]) == fn(a) & M32, (name, hex(a))


def test_lui_auipc_jal_jalr():
    m = machine()
    cfg = m.config
    words = program(cfg, ("lui", dict(rd=1, imm=0xFFFFF)),
                    ("auipc", dict(rd=2, imm=0x12345)),
                    ("jal", dict(rd=3, off=8)),
                    ("addi", dict(rd=9, rs1=0, imm=1)),           # skipped
                    ("jalr", dict(rd=5, rs1=5, imm=1)),           # to (x5 + 1) & ~1
                    ("addi", dict(rd=9, rs1=0, imm=2)))           # skipped
    words.insert(-1, enc(cfg, "addi", rd=10, rs1=0, imm=3))
    m = machine("default", words)
    m.x[5] = 24
    rerun(m, check=True)
    assert int(m.x[1]) == 0xFFFFF000
    assert int(m.x[2]) == (4 + (0x12345 << 12)) & M32
    assert int(m.x[3]) == 12 and int(m.x[5]) == 20
    assert int(m.x[9]) == 0 and int(m.x[10]) == 3


def test_branches():
    conds = {"beq": lambda a, b: a == b, "bne": lambda a, b: a != b,
             "blt": lambda a, b: s32(a) < s32(b), "bge": lambda a, b: s32(a) >= s32(b),
             "bltu": lambda a, b: a < b, "bgeu": lambda a, b: a >= b}
    m = machine()
    for name, fn in conds.items():
        m = machine("default", program(m.config, (name, dict(rs1=1, rs2=2, off=8)),
                                       ("addi", dict(rd=3, rs1=0, imm=1))))
        vals = values(name, 6)
        for a in vals:
            for b in vals + [a]:
                m.x[1], m.x[2], m.x[3] = a, b, 0
                rerun(m, check=True)
                assert int(m.x[3]) == (0 if fn(a, b) else 1), (name, hex(a), hex(b))
    # A backward branch: count down from 5.
    m = machine("default", program(m.config, ("addi", dict(rd=1, rs1=0, imm=5)),
                                   ("addi", dict(rd=1, rs1=1, imm=-1)),
                                   ("bne", dict(rs1=1, rs2=0, off=-4))))
    assert rerun(m).instret == 1 + 2 * 5 + 1


def test_loads_and_stores():
    m = machine()
    cfg = m.config
    rnd = random.Random(9)
    loads = {"lb": (1, True), "lh": (2, True), "lw": (4, True), "lbu": (1, False),
             "lhu": (2, False)}
    for name, (size, signed) in loads.items():
        m = machine("default", program(cfg, (name, dict(rd=3, rs1=1, imm=-8))))
        m.dmem[:] = [rnd.getrandbits(8) for _ in range(cfg.dmem_bytes)]
        for _ in range(50):
            addr = rnd.randrange(0, cfg.dmem_bytes, size)
            m.x[1] = addr + 8
            rerun(m, check=True)
            want = int.from_bytes(bytes(m.dmem[addr:addr + size]), "little", signed=signed)
            assert int(m.x[3]) == want & M32, (name, addr)
    for name, size in (("sb", 1), ("sh", 2), ("sw", 4)):
        m = machine("default", program(cfg, (name, dict(rs2=2, rs1=1, imm=12))))
        for _ in range(50):
            addr = rnd.randrange(0, cfg.dmem_bytes - 16, size)
            value = rnd.getrandbits(32)
            before = m.dmem.copy()
            m.x[1], m.x[2] = addr, value
            rerun(m, check=True)
            expect = before.copy()
            expect[addr + 12:addr + 12 + size] = list((value & ((1 << 8 * size) - 1))
                                                      .to_bytes(size, "little"))
            assert (m.dmem == expect).all(), (name, addr)


def test_counter_csrs():
    m = machine()
    cfg = m.config
    words = program(cfg, ("addi", dict(rd=1, rs1=0, imm=1)),
                      ("beq", dict(rs1=0, rs2=0, off=4)),   # forward taken: +M cycles
                      ("csrrs", dict(rd=5, csr=CSRS["cycle"], rs1=0)),
                      ("csrrs", dict(rd=6, csr=CSRS["instret"], rs1=0)),
                      ("csrrc", dict(rd=7, csr=CSRS["cycleh"], rs1=0)),
                      ("csrrsi", dict(rd=8, csr=CSRS["instreth"], uimm=0)),
                      ("csrrci", dict(rd=9, csr=CSRS["instret"], uimm=0)))
    m = machine("default", words)
    res = rerun(m, check=True)
    extra = TIMING.mispredict_penalty
    assert int(m.x[5]) == 2 + extra          # addi 1 + beq 1 + M cycles before the read
    assert int(m.x[6]) == 3
    assert int(m.x[7]) == 0 and int(m.x[8]) == 0
    assert int(m.x[9]) == 6
    assert res.instret == 8 and res.cycles == 8 + extra     # ecall retires


def test_counter_high_halves():
    m = machine()
    m = machine("default", program(m.config,
                                   ("csrrs", dict(rd=5, csr=CSRS["cycle"], rs1=0)),
                                   ("csrrs", dict(rd=6, csr=CSRS["cycleh"], rs1=0)),
                                   ("csrrs", dict(rd=7, csr=CSRS["instret"], rs1=0)),
                                   ("csrrs", dict(rd=8, csr=CSRS["instreth"], rs1=0))))
    m.restart(0)
    m.set_counters((5 << 32) + 0xFFFFFFFF, (7 << 32) + 3)
    res = m.run(check=True)
    assert [int(m.x[i]) for i in (5, 6, 7, 8)] == [0xFFFFFFFF, 6, (3 + 2), 7]
    assert res.cycles == (5 << 32) + 0xFFFFFFFF + 5
