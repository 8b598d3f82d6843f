"""The RTL decoder agrees with the instruction table (``find`` + ``Instr.legal``).

Checked on every instruction's encodings (including every reserved modifier value and
out-of-range lane / bounded immediates), on words that match an entry in its fixed bits
with random don't-care bits, on near misses (one fixed bit flipped) and on uniformly random
words: 20,000+ words in all, through Amaranth's simulator. Also checks that no opcode or
funct number appears anywhere in ``hw/rtl``.
"""
from __future__ import annotations

import pathlib
import random
import re

import pytest
from amaranth.sim import Simulator

from spikevec.hw.config import preset
from spikevec.hw.isa import CSRS, FORMATS, INSTRUCTIONS, OPCODES, Kind, find
from spikevec.hw.rtl.decoder import Decoder, csr_operand
from spikevec.hw.rtl.enums import Fmt, Op, op_of, timing_member

CONFIGS = [preset("default"), preset("lanes8")]
RTL_DIR = pathlib.Path(__file__).resolve().parents[1] / "hw" / "rtl"


def expected(word: int, config) -> dict:
    """What the decoder must output for ``word``, from the table alone."""
    ins = find(word)
    if ins is None or not ins.legal(word, config):
        return {"illegal": 1}
    out = {"illegal": 0, "op": op_of(ins), "fmt": Fmt[ins.fmt.name],
           "timing": timing_member(ins.timing), "is_vector": int(ins.is_vector),
           "writes_x": int(ins.writes == "x")}
    for field in ("rd", "rs1", "rs2"):
        if ins.fmt.has_field(field):
            out[field] = ins.get(word, field)
    reads = {op.field for name, op in ins.operands.items()
             if op.kind == Kind.XREG and name != "rd"}
    out["reads_rs1"] = int("rs1" in reads)
    out["reads_rs2"] = int("rs2" in reads)
    if ins.fmt.imm:
        out["imm"] = ins.fmt.extract_imm(word)
    elif ins.fmt.name == "U":
        value = ins.get(word, "imm_31_12") << FORMATS["U"].offset("imm_31_12")
        out["imm"] = value - (1 << 32) if value >> 31 else value
    csr = csr_operand(ins)
    if csr is not None:
        number = ins.get(word, csr.field)
        source = ins.get(word, "rs1")
        always_writes = ins.name in ("csrrw", "csrrwi")
        out["csr_illegal"] = int(number not in CSRS.values() or always_writes or source != 0)
    else:
        out["csr_illegal"] = 0
    return out


def run_decoder(words, config):
    """Drive ``words`` through the RTL decoder; return a list of output dicts."""
    dut = Decoder(config)
    names = ["illegal", "op", "fmt", "timing", "is_vector", "writes_x", "rd", "rs1", "rs2",
             "reads_rs1", "reads_rs2", "imm", "csr_illegal"]
    results = []

    async def testbench(ctx):
        for word in words:
            ctx.set(dut.word, word)
            results.append({name: ctx.get(getattr(dut, name)) for name in names})

    sim = Simulator(dut)
    sim.add_testbench(testbench)
    sim.run()
    return results


def check(words, config):
    failures = []
    for word, got in zip(words, run_decoder(words, config)):
        want = expected(word, config)
        bad = {k: (got[k], v) for k, v in want.items() if got[k] != v}
        if bad:
            failures.append(f"{word:#010x} ({find(word)}): got/want {bad}")
    assert not failures, f"{len(failures)} mismatches, first: " + "\n".join(failures[:10])


def table_words(config, rng) -> list[int]:
    """Encodings of every instruction: fixed bits with random (and extreme) free bits,
    plus every value of every modifier and bounded field, legal or reserved."""
    words = []
    for ins in INSTRUCTIONS:
        free = ~ins.mask & 0xFFFFFFFF
        words += [ins.match, ins.match | free]
        words += [ins.match | (rng.getrandbits(32) & free) for _ in range(40)]
        fields = [m.field for m in ins.modifiers]
        fields += [op.field for op in ins.operands.values()
                   if op.kind in (Kind.LANE, Kind.UIMM, Kind.CSR) and op.field != "imm"]
        for field in fields:
            offset, width = ins.fmt.offset(field), ins.fmt.width(field)
            values = range(1 << width) if width <= 6 else \
                list(range(70)) + list(CSRS.values()) + [(1 << width) - 1]
            for value in values:
                base = ins.match | (rng.getrandbits(32) & free)
                base &= ~(((1 << width) - 1) << offset)
                words.append(base | (value << offset))
    return words


def near_miss_words(rng, count) -> list[int]:
    words = []
    for _ in range(count):
        ins = rng.choice(INSTRUCTIONS)
        word = ins.match | (rng.getrandbits(32) & ~ins.mask & 0xFFFFFFFF)
        fixed_bits = [b for b in range(32) if (ins.mask >> b) & 1]
        words.append(word ^ (1 << rng.choice(fixed_bits)))
    return words


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: c.name)
def test_every_encoding(config):
    rng = random.Random(1)
    check(table_words(config, rng), config)


def test_random_words():
    """20,000 words: a third uniformly random, a third matching an entry's fixed bits with
    random free bits, a third one bit away from an entry."""
    rng = random.Random(2)
    config = CONFIGS[0]
    words = [rng.getrandbits(32) for _ in range(7000)]
    for _ in range(7000):
        ins = rng.choice(INSTRUCTIONS)
        words.append(ins.match | (rng.getrandbits(32) & ~ins.mask & 0xFFFFFFFF))
    words += near_miss_words(rng, 6000)
    assert len(words) >= 20000
    check(words, config)


def test_op_enum_covers_table():
    assert [m.name for m in Op][:-1] == [op_of(ins).name for ins in INSTRUCTIONS]
    assert Op.NONE.value == len(INSTRUCTIONS)


def forbidden_numbers() -> set[int]:
    """Opcodes, match words and fixed field values (funct3/funct7/...) of the table that are
    distinctive enough to grep for (above 8: smaller numbers are widths and indices)."""
    values = {v for v in OPCODES.values() if v > 8}
    for ins in INSTRUCTIONS:
        if ins.match > 8:
            values.add(ins.match)
        values.update(v for v in ins._fixed_all.values() if v > 8)
    return values - {16, 32, 64, 255}   # widths and byte masks: too common to be encodings


def test_no_opcode_numbers_in_rtl():
    """Opcode and funct numbers live only in the table: no integer literal in hw/rtl
    equals an opcode, a match word or a fixed field value of an instruction."""
    forbidden = forbidden_numbers()
    offenders = []
    for path in sorted(RTL_DIR.glob("*.py")):
        for lineno, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("#", 1)[0]
            for literal in re.findall(r"(?<![\w.])(0[bB][01_]+|0[xX][0-9a-fA-F_]+|\d+)(?![\w.])",
                                      code):
                if int(literal, 0) in forbidden:
                    offenders.append(f"{path.name}:{lineno}: {line.strip()}")
    assert not offenders, "Numbers that belong in hw/isa/table.py:\n" + "\n".join(offenders)
