"""The instruction table: unambiguous decoding, encode/decode round trips, legality of
reserved field values, and agreement with the RISC-V specification for scalar opcodes.

The RISC-V constants below (major opcodes and a few complete encodings from the RISC-V
unprivileged specification) are test expectations, deliberately written out by hand.
"""
from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import given, settings, strategies as st

from spikevec.hw.config import PRESETS
from spikevec.hw.isa import BY_NAME, INSTRUCTIONS, OPCODES, EncodingError, find
from spikevec.hw.isa.operands import Kind

CONFIGS = [PRESETS["lanes8"], PRESETS["lanes16"], PRESETS["default"]]
IMM_KINDS = (Kind.SIMM, Kind.UIMM, Kind.PCREL, Kind.LANE, Kind.CSR)


# Helpers -------------------------------------------------------------------------------
def written_range(ins, op, config):
    """Inclusive (lo, hi, step) of the value written in assembly for operand ``op``."""
    if op.kind in (Kind.XREG, Kind.VREG):
        return 0, 31, 1
    scale = op.scale_for(config)
    lo, hi = op.stored_range(ins.field_width(op.field))
    if op.kind == Kind.LANE:
        hi = min(hi, config.lanes - 1)
    step = 2 * scale if op.kind == Kind.PCREL else scale
    if op.kind == Kind.PCREL:
        hi -= 1
    return lo * scale, hi * scale, step


def operand_strategy(ins, op, config):
    lo, hi, step = written_range(ins, op, config)
    return st.integers(lo // step, hi // step).map(lambda k: k * step)


@st.composite
def encodings(draw, config):
    ins = draw(st.sampled_from(INSTRUCTIONS))
    values = {name: draw(operand_strategy(ins, op, config))
              for name, op in ins.operands.items()}
    mods = {m.name: draw(st.sampled_from(m.values())) for m in ins.modifiers}
    return ins, values, mods


def brute_force_legal(ins, word, config):
    """Reserved values, re-derived from the table without :meth:`Instr.legal`."""
    for m in ins.modifiers:
        if ins.get(word, m.field) not in set(m.suffixes.values()):
            return False
    for op in ins.operands.values():
        raw = ins.get(word, op.field)
        if op.kind == Kind.LANE and raw >= config.lanes:
            return False
        if op.kind == Kind.UIMM and op.hi is not None and raw > op.hi:
            return False
    return True


# Unambiguity and find() ----------------------------------------------------------------
def test_no_two_entries_can_match_the_same_word():
    for a, b in itertools.combinations(INSTRUCTIONS, 2):
        common = a.mask & b.mask
        assert (a.match ^ b.match) & common, (
            f"{a.name} (mask {a.mask:#010x}, match {a.match:#010x}) and {b.name} "
            f"(mask {b.mask:#010x}, match {b.match:#010x}) both match "
            f"{a.match | b.match:#010x}")


def test_match_bits_lie_inside_mask():
    for ins in INSTRUCTIONS:
        assert ins.match & ~ins.mask == 0, ins.name
        assert ins.mask & 0x7F == 0x7F, f"{ins.name}: the major opcode must be decoded"


def test_find_returns_each_entry():
    for ins in INSTRUCTIONS:
        assert find(ins.match) is ins
        assert find(ins.match | (0xFFFFFFFF & ~ins.mask)) is ins


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"lanes{c.lanes}")
def test_find_and_legal_agree_with_brute_force(config):
    rng = random.Random(1234 + config.lanes)
    opcodes = sorted(OPCODES.values())
    for n in range(20000):
        kind = n % 3
        word = rng.getrandbits(32)
        if kind == 1:        # a known major opcode, random rest
            word = (word & ~0x7F) | rng.choice(opcodes)
        elif kind == 2:      # a table entry's fixed bits, random rest
            ins = rng.choice(INSTRUCTIONS)
            word = ins.match | (word & ~ins.mask)
        hits = [ins for ins in INSTRUCTIONS if word & ins.mask == ins.match]
        assert len(hits) <= 1, (hex(word), hits)
        found = find(word)
        assert found is (hits[0] if hits else None), hex(word)
        if found is not None:
            assert found.legal(word, config) == brute_force_legal(found, word, config), \
                (found.name, hex(word))


# Round trips ---------------------------------------------------------------------------
def _round_trip(ins, values, mods, config):
    word = ins.encode(config, mods, **values)
    assert 0 <= word < 1 << 32
    assert find(word) is ins, (ins.name, hex(word))
    assert ins.legal(word, config), (ins.name, hex(word))
    ops, mvals = ins.decode(word, config)
    assert ops == values and mvals == {m.name: mods.get(m.name, 0) for m in ins.modifiers}
    assert ins.encode(config, mvals, **ops) == word


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"lanes{c.lanes}")
def test_round_trip_at_operand_extremes(config):
    for ins in INSTRUCTIONS:
        ranges = {n: written_range(ins, op, config) for n, op in ins.operands.items()}
        for pick in (0, 1):
            values = {n: (r[0] if pick == 0 else r[1]) for n, r in ranges.items()}
            for m in itertools.product(*[m.values() for m in ins.modifiers]):
                _round_trip(ins, values, dict(zip([x.name for x in ins.modifiers], m)),
                            config)


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"lanes{c.lanes}")
def test_round_trip_random(config):
    @settings(max_examples=400, deadline=None)
    @given(encodings(config))
    def check(case):
        _round_trip(*case, config)

    check()


def test_unsigned_pattern_of_signed_field():
    config = CONFIGS[0]
    vlui = BY_NAME["vlui"]
    assert vlui.encode(config, vd=1, imm=0xFFFF) == vlui.encode(config, vd=1, imm=-1)
    assert vlui.decode(vlui.encode(config, vd=1, imm=0x8000), config)[0]["imm"] == -32768


# Errors and reserved values ------------------------------------------------------------
@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"lanes{c.lanes}")
def test_out_of_range_operands_raise_a_sentence(config):
    for ins in INSTRUCTIONS:
        base = {n: written_range(ins, op, config)[0] for n, op in ins.operands.items()}
        for name, op in ins.operands.items():
            lo, hi, step = written_range(ins, op, config)
            too_big = hi + step
            if op.accept_unsigned:
                too_big = (1 << ins.field_width(op.field)) * op.scale_for(config)
            for bad in (lo - step, too_big):
                with pytest.raises(EncodingError) as err:
                    ins.encode(config, **dict(base, **{name: bad}))
                msg = str(err.value)
                assert str(bad) in msg and msg.endswith("."), msg
                if op.kind in (Kind.XREG, Kind.VREG):
                    assert "0 to 31" in msg, msg
                else:   # the range as stored (a branch offset's odd top included)
                    top = hi + 1 if op.kind == Kind.PCREL else hi
                    assert f"[{lo}, {top}]" in msg, msg


def test_misaligned_scaled_and_pcrel_operands_are_rejected():
    config = CONFIGS[2]
    with pytest.raises(EncodingError, match="multiple of 64"):
        BY_NAME["vlacc"].encode(config, vd=1, off=32, rs1=2, shift=0)
    with pytest.raises(EncodingError, match="odd"):
        BY_NAME["beq"].encode(config, rs1=1, rs2=2, off=3)


def test_modifier_the_instruction_lacks_is_rejected():
    # Silently dropping .sat from vand would assemble a different instruction.
    with pytest.raises(EncodingError, match="no modifier"):
        BY_NAME["vand"].encode(CONFIGS[0], {"sat": 1}, vd=1, vs1=2, vs2=3)


@pytest.mark.parametrize("name", [i.name for i in INSTRUCTIONS
                                  if any(m.name == "round" for m in i.modifiers)])
def test_reserved_round_value_is_illegal(name):
    ins = BY_NAME[name]
    config = CONFIGS[2]
    word = ins.encode(config, **{n: 0 for n in ins.operands})
    bad = word | (3 << ins.fmt.offset("round"))
    assert find(bad) is ins and not ins.legal(bad, config)
    with pytest.raises(EncodingError, match="reserved"):
        ins.encode(config, {"round": 3}, **{n: 0 for n in ins.operands})


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"lanes{c.lanes}")
def test_lane_operand_beyond_lanes_is_illegal(config):
    lane_instrs = [i for i in INSTRUCTIONS
                   if any(op.kind == Kind.LANE for op in i.operands.values())]
    assert lane_instrs, "expected at least vextract to take a lane operand"
    for ins in lane_instrs:
        name, op = next((n, o) for n, o in ins.operands.items() if o.kind == Kind.LANE)
        values = {n: 0 for n in ins.operands}
        ok = ins.encode(config, **dict(values, **{name: config.lanes - 1}))
        assert ins.legal(ok, config)
        bad = ok + (1 << ins.fmt.offset(op.field))      # lane = lanes
        assert find(bad) is ins and not ins.legal(bad, config)
        with pytest.raises(EncodingError, match=str(config.lanes)):
            ins.encode(config, **dict(values, **{name: config.lanes}))


# Quadrants and the RISC-V specification ------------------------------------------------
RISCV_OPCODES = {"LOAD": 0x03, "MISC_MEM": 0x0F, "OP_IMM": 0x13, "AUIPC": 0x17,
                 "STORE": 0x23, "OP": 0x33, "LUI": 0x37, "BRANCH": 0x63, "JALR": 0x67,
                 "JAL": 0x6F, "SYSTEM": 0x73}

# (mnemonic, operands, word) from the RISC-V unprivileged specification.
KNOWN_GOOD = [
    ("add", dict(rd=1, rs1=2, rs2=3), 0x003100B3),
    ("sub", dict(rd=1, rs1=2, rs2=3), 0x403100B3),
    ("addi", dict(rd=1, rs1=2, imm=-1), 0xFFF10093),
    ("srai", dict(rd=1, rs1=2, shamt=3), 0x40315093),
    ("lw", dict(rd=5, rs1=10, imm=8), 0x00852283),
    ("sw", dict(rs2=5, rs1=10, imm=8), 0x00552423),
    ("lui", dict(rd=1, imm=0x12345), 0x123450B7),
    ("jal", dict(rd=1, off=8), 0x008000EF),
    ("beq", dict(rs1=1, rs2=2, off=16), 0x00208863),
    ("ecall", {}, 0x00000073),
    ("ebreak", {}, 0x00100073),
    ("mul", dict(rd=1, rs1=2, rs2=3), 0x023100B3),
    ("csrrs", dict(rd=5, csr=0xC00, rs1=0), 0xC00022F3),
    ("clz", dict(rd=1, rs1=2), 0x60011093),
    ("min", dict(rd=1, rs1=2, rs2=3), 0x0A3140B3),
]


def test_scalar_major_opcodes_match_the_riscv_spec():
    for name, value in RISCV_OPCODES.items():
        assert OPCODES[name] == value, name
    scalar = {k for k, v in OPCODES.items() if v & 0b11 == 0b11}
    assert scalar == set(RISCV_OPCODES)


@pytest.mark.parametrize("name,ops,word", KNOWN_GOOD, ids=[k[0] for k in KNOWN_GOOD])
def test_known_good_encodings(name, ops, word):
    config = CONFIGS[2]
    assert BY_NAME[name].encode(config, **ops) == word
    assert find(word) is BY_NAME[name]
    assert BY_NAME[name].decode(word, config)[0] == ops


def test_quadrants():
    for ins in INSTRUCTIONS:
        if ins.group == "vector":
            assert ins.is_vector and ins.opcode & 0b11 == 0b10, ins.name
        else:
            assert ins.group in ("RV32I", "M", "Zicsr", "Zbb"), ins.name
            assert ins.opcode & 0b11 == 0b11 and ins.opcode in RISCV_OPCODES.values(), \
                ins.name
