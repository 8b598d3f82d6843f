"""Assembler tests: pseudo-instructions, directives, sections, expressions, labels,
the program builder and the example program. Error messages: test_asm_errors.py."""
from __future__ import annotations

import os

import pytest

from spikevec.hw.config import PRESETS, preset
from spikevec.hw.isa import BY_NAME
from spikevec.hw.isa.pseudo import PSEUDOS
from spikevec.sw.asm import ProgramBuilder, assemble
from spikevec.sw.examples import __file__ as examples_init

C = preset("default")
DEMO = os.path.join(os.path.dirname(examples_init), "vector_demo.s")


def words(src, config=C):
    return assemble(src, config).text


def same(pseudo_src, real_src):
    assert words(pseudo_src) == words(real_src), (pseudo_src, real_src)


# Pseudo-instructions --------------------------------------------------------------------
@pytest.mark.parametrize("pseudo, real", [
    ("nop", "addi zero, zero, 0"),
    ("mv a0, a1", "addi a0, a1, 0"),
    ("not a0, a1", "xori a0, a1, -1"),
    ("neg a0, a1", "sub a0, zero, a1"),
    ("seqz a0, a1", "sltiu a0, a1, 1"),
    ("snez a0, a1", "sltu a0, zero, a1"),
    ("sltz a0, a1", "slt a0, a1, zero"),
    ("sgtz a0, a1", "slt a0, zero, a1"),
    ("x: j x", "x: jal zero, x"),
    ("x: jal x", "x: jal ra, x"),
    ("x: call x", "x: jal ra, x"),
    ("jr t0", "jalr zero, 0(t0)"),
    ("jalr t0", "jalr ra, 0(t0)"),
    ("jalr a0, t0, -4", "jalr a0, -4(t0)"),
    ("ret", "jalr zero, 0(ra)"),
    ("x: beqz a0, x", "x: beq a0, zero, x"),
    ("x: bnez a0, x", "x: bne a0, zero, x"),
    ("x: blez a0, x", "x: bge zero, a0, x"),
    ("x: bgez a0, x", "x: bge a0, zero, x"),
    ("x: bltz a0, x", "x: blt a0, zero, x"),
    ("x: bgtz a0, x", "x: blt zero, a0, x"),
    ("x: bgt a0, a1, x", "x: blt a1, a0, x"),
    ("x: ble a0, a1, x", "x: bge a1, a0, x"),
    ("x: bgtu a0, a1, x", "x: bltu a1, a0, x"),
    ("x: bleu a0, a1, x", "x: bgeu a1, a0, x"),
    ("csrr a0, instret", "csrrs a0, instret, zero"),
    ("rdcycle a0", "csrrs a0, cycle, zero"),
    ("rdcycleh a0", "csrrs a0, cycleh, zero"),
    ("rdinstret a0", "csrrs a0, instret, zero"),
    ("rdinstreth a0", "csrrs a0, instreth, zero"),
    ("vmv v1, v2", "vor v1, v2, v2"),
    ("vzero v7", "vxor v7, v7, v7"),
])
def test_pseudo_expansion(pseudo, real):
    same(pseudo, real)


def test_every_pseudo_is_tested_and_described():
    names = {p.name for p in PSEUDOS}
    assert {"li", "la", "nop", "call", "vmv", "vzero", "rdinstreth"} <= names
    assert all(p.description.strip() for p in PSEUDOS)


@pytest.mark.parametrize("value, expect", [
    (0, ["addi a0, zero, 0"]), (-2048, ["addi a0, zero, -2048"]),
    (2047, ["addi a0, zero, 2047"]), (0x12345000, ["lui a0, 0x12345"]),
    (0x12345678, ["lui a0, 0x12345", "addi a0, a0, 0x678"]),
    (0x12345FFF, ["lui a0, 0x12346", "addi a0, a0, -1"]),          # the +0x800 carry
    (0xFFFFFFFF, ["addi a0, zero, -1"]), (-1, ["addi a0, zero, -1"]),
    (0x80000000, ["lui a0, 0x80000"]), (2048, ["lui a0, 0x1", "addi a0, a0, -2048"]),
])
def test_li_forms(value, expect):
    assert words(f"li a0, {value}") == words("\n".join(expect))


@pytest.mark.parametrize("value", [0, 1, -1, 0x7FF, 0x800, 0xFFF, 0x1000, 0x7FFFF800,
                                   0x7FFFFFFF, -0x80000000, 0xDEADBEEF, 0xFFFFF800])
def test_li_value_by_simulation(value):
    """Execute the expansion with a tiny lui/addi interpreter of the decoded words."""
    reg = 0
    for w in words(f"li a0, {value}"):
        ins = next(i for i in (BY_NAME["lui"], BY_NAME["addi"]) if i.matches(w))
        ops, _ = ins.decode(w, C)
        reg = (ops["imm"] << 12) if ins.name == "lui" else reg * (ops["rs1"] != 0) + ops["imm"]
        reg &= 0xFFFFFFFF
    assert reg == value & 0xFFFFFFFF


def test_li_and_la_with_later_symbol_take_two_words():
    p = assemble("li a0, big\nla a1, buf\nend:\n.data\n.zero 8\nbuf: .word 0\n"
                 ".equ big, 5\n", C)
    assert len(p.text) == 4 and p.symbols["end"] == ("text", 16)
    assert p.text == words("lui a0, 0\naddi a0, a0, 5\nlui a1, 0\naddi a1, a1, 8")


def test_li_with_known_equ_is_short():
    assert len(words(".equ K, 3\nli a0, K * 100")) == 1


# Labels, branches, expressions ----------------------------------------------------------
def test_labels_forward_backward_and_several_per_line():
    p = assemble("a: b: nop\n beq a0, a1, c\n j a\nc: ret\n", C)
    assert p.symbols == {"a": ("text", 0), "b": ("text", 0), "c": ("text", 12)}
    assert p.text[1] == BY_NAME["beq"].encode(C, rs1=10, rs2=11, off=8)
    assert p.text[2] == BY_NAME["jal"].encode(C, rd=0, off=-8)


def test_branch_operands_absolute_and_dot_relative():
    p = words("nop\nbeq a0, a1, 0x20\nbne a0, a1, .+8\nj .-4\n")
    assert p[1] == BY_NAME["beq"].encode(C, rs1=10, rs2=11, off=0x1C)
    assert p[2] == BY_NAME["bne"].encode(C, rs1=10, rs2=11, off=8)
    assert p[3] == BY_NAME["jal"].encode(C, rd=0, off=-4)


@pytest.mark.parametrize("expr, value", [
    ("1 + 2 * 3", 7), ("(1 + 2) * 3", 9), ("0x10 | 0b11", 19), ("'a'", 97),
    ("'\\n'", 10), ("~0 & 0xff", 255), ("1 << 4 >> 2", 4), ("-5 + 3", -2),
    ("100 / 7", 14), ("010", 10), ("0XfF", 255), ("-7 / 2", -3), ("17 % 5", 2), ("6 ^ 3", 5), ("1_000", 1000),
    ("%hi(0x12345FFF)", 0x12346), ("%lo(0x12345FFF)", -1), ("K * 2 + K", 9),
])
def test_expressions(expr, value):
    p = assemble(f".equ K, 3\n.data\n.word {expr}\n", C)
    assert int.from_bytes(p.data, "little", signed=True) == value


def test_hi_lo_memory_operand_and_omitted_offset():
    src = ".data\n.zero 0x900\nx: .word 0\n.text\nlui a0, %hi(x)\nlw a1, %lo(x)(a0)\nlw a2, (a0)"
    p = assemble(src, C)
    assert p.text == words("lui a0, 1\nlw a1, -1792(a0)\nlw a2, 0(a0)")


def test_case_and_register_spellings():
    assert words("ADD X5, T0, fp") == words("add t0, x5, s0")
    assert words("vadd v31, v0, v15") == [BY_NAME["vadd"].encode(C, vd=31, vs1=0, vs2=15)]


def test_modifier_suffixes():
    vmul = BY_NAME["vmul"]
    assert words("vmul.rs.sat v1, v2, v3, 15") == [
        vmul.encode(C, {"round": 2, "sat": 1}, vd=1, vs1=2, vs2=3, shift=15)]
    assert words("vmul.sat.rn v1, v2, v3, 1") == [
        vmul.encode(C, {"round": 1, "sat": 1}, vd=1, vs1=2, vs2=3, shift=1)]
    assert words("vaddi.sat v1, v2, -3") == [
        BY_NAME["vaddi.sat"].encode(C, vd=1, vs1=2, imm=-3)]
    assert words("vsrai.rs v1, v2, 4") == [
        BY_NAME["vsrai"].encode(C, {"round": 2}, vd=1, vs1=2, shamt=4)]


def test_comments():
    src = "# full line\nnop # trailing\nnop // c++\n/* block\n still */ nop /* x */\n"
    assert len(words(src)) == 3


# Directives and sections ----------------------------------------------------------------
def test_data_directives_little_endian():
    p = assemble('.data\n.word 0x11223344\n.half -2\n.byte 1, 2\n.ascii "ab"\n'
                 '.asciz "c"\n.string "d"\n.zero 3\n.space 2, 7\n', C)
    assert p.data == bytes.fromhex("44332211feff0102616263006400000000" "0707")


def test_align_balign_and_text_padding():
    p = assemble(".data\n.byte 1\n.align 2\na: .byte 2\n.balign 8\nb: .byte 3\n"
                 ".p2align 1, 0xff\n.text\nnop\n.align 4\nt: nop\n", C)
    assert p.symbols["a"] == ("data", 4) and p.symbols["b"] == ("data", 8)
    assert p.data == bytes([1, 0, 0, 0, 2, 0, 0, 0, 3, 0xFF])
    assert p.symbols["t"] == ("text", 16) and p.text[:4] == words("nop\n" * 4)


def test_sections_and_symbols():
    src = (".text\nmain: nop\n.section .data\nd: .word 1\n.vdata\nv: .half 1, 2\n"
           ".data\ne: .word d, v, main\n.globl main\n.text\nnop\n")
    p = assemble(src, C)
    assert p.symbols == {"main": ("text", 0), "d": ("data", 0), "v": ("vdata", 0),
                         "e": ("data", 4)}
    assert p.data[4:] == bytes(12) and p.vdata == bytes([1, 0, 2, 0]) and len(p.text) == 2
    assert p.lines == {0: ("<input>", 2), 4: ("<input>", 11)}


def test_word_in_text_and_predefined_symbols():
    p = assemble(".word 0xdeadbeef\nli a0, __lanes\nli a1, __vector_bytes\n", PRESETS["lanes8"])
    assert p.text[0] == 0xDEADBEEF
    assert p.text[1:] == words("addi a0, zero, 8\naddi a1, zero, 16")


def test_set_and_assignment():
    assert words(".set A, 4\nB = A + 1\naddi a0, a0, B") == words("addi a0, a0, 5")


# The builder ----------------------------------------------------------------------------
def test_builder_matches_text():
    b = ProgramBuilder(C)
    buf = b.data_words([1, 2, 3], label="buf")
    vec = b.vdata_halves([7] * 32, label="vec")
    b.label("loop")
    b.emit("vmul", vd=1, vs1=2, vs2=3, shift=15, round=2, sat=1)
    b.vaddi_sat(vd=1, vs1=1, imm=-1)
    b.and_(rd="a0", rs1="a0", rs2="t0")
    b.li("a1", 0x12345678)
    b.la("a2", "buf")
    b.vload(vd="v4", rs1="a2", imm=vec)
    b.emit("bnez", rs="a0", off="loop")
    b.emit("vmul.rs", vd=1, vs1=2, vs2=3, shift=15)
    b.ecall()
    p = b.build()
    text = assemble(".data\nbuf: .word 1, 2, 3\n.vdata\nvec: .half " + ", ".join(["7"] * 32) +
                    "\n.text\nloop: vmul.rs.sat v1, v2, v3, 15\nvaddi.sat v1, v1, -1\n"
                    "and a0, a0, t0\nli a1, 0x12345678\nla a2, buf\nvload v4, vec(a2)\n"
                    "bnez a0, loop\nvmul.rs v1, v2, v3, 15\necall\n", C)
    assert (buf, vec) == (0, 0)
    assert p.text == text.text and p.data == text.data and p.vdata == text.vdata
    assert p.symbols == text.symbols
    assert p.lines[0][0] == __file__


def test_example_program_assembles_for_every_preset():
    with open(DEMO) as f:
        src = f.read()
    for name, config in PRESETS.items():
        p = assemble(src, config, DEMO)
        assert p.text and p.symbols["main"] == ("text", 0), name
        assert p.text[-1] == BY_NAME["ecall"].encode(config)
        assert {"masks", "total", "counts", "v_mem"} <= set(p.symbols)


def test_cli_asm(tmp_path, capsys):
    from spikevec.sw.asm import Program
    from spikevec.sw.cli import main
    src = tmp_path / "p.s"
    src.write_text("li a0, 1\necall\n")
    assert main(["asm", str(src), "--config", "tiny"]) == 0
    assert "2 instructions" in capsys.readouterr().out
    p = Program.load(tmp_path / "p.svp")
    assert p.config.name == "tiny" and len(p.text) == 2
    src.write_text("bogus a0\n")
    assert main(["asm", str(src), "-o", str(tmp_path / "q.svp")]) == 1
    assert f"{src}:1:1: error: Unknown mnemonic 'bogus'" in capsys.readouterr().err
