"""Assembler error messages: ``file:line:col: error: <sentence>`` for every kind of bad
input, all errors of a file reported together, and nothing lost on good input."""
from __future__ import annotations

import re

import pytest

from spikevec.hw.config import preset
from spikevec.sw.asm import AsmError, ProgramBuilder, assemble

C = preset("default")
MESSAGE = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+):(?P<col>\d+): error: [A-Z'%.].*[.?]$")


def error_of(src):
    with pytest.raises(AsmError) as info:
        assemble(src, C, "prog.s")
    assert isinstance(info.value, ValueError)
    return info.value


@pytest.mark.parametrize("src, line, col, words", [
    ("vmull v1, v2, v3, 1", 1, 1, ["Unknown mnemonic 'vmull'", "Did you mean 'vmul'"]),
    ("nop\nj nowhere", 2, 3, ["symbol 'nowhere' is not defined"]),
    ("addi a0, a0, 5000", 1, 14, ["5000", "[-2048, 2047]"]),
    ("add a0, a1", 1, 5, ["'add' takes 3 operands (rd, rs1, rs2) but 2 were given"]),
    ("vlacc v1, 10(a0), 0", 1, 11, ["off = 10", "multiple of 64"]),
    ("add a0, v1, a2", 1, 9, ["scalar register", "'rs1'", "'v1'"]),
    ("vadd v1, a0, v2", 1, 10, ["vector register", "'a0'"]),
    (".wrd 5", 1, 1, ["Unknown directive '.wrd'", ".word"]),
    ("x: nop\n  x: nop", 2, 3, ["'x' is already defined"]),
    (".data\nd: .word 0\n.text\nbeq a0, a1, d", 4, 13, ["'d'", "label in .data"]),
    ("vmul.rx v1, v2, v3, 1", 1, 1, ["suffix '.rx'", ".rn, .rs, .sat"]),
    ("addi a0, a0,", 1, 13, ["'imm' is missing"]),
    ("li a0, 0x100000000", 1, 1, ["does not fit in 32 bits"]),
    ("vextract a0, v1, 32", 1, 18, ["lane = 32", "[0, 31]"]),
    ("lw a0, 4(a1", 1, 12, ["Expected ')'", "the end of the line"]),
    (".data\nnop", 2, 1, ["belong in .text"]),
    ("addi a0, a0, 1 +", 1, 17, ["Expected a number, symbol or expression"]),
    ("nop\n   @", 2, 4, ["'@' cannot start a token"]),
    ("jal a0", 1, 5, ["'a0' is a register"]),
    (".align 40", 1, 1, ["exponent from 0 to 16"]),
    ("beq a0, a1, 0x10000", 1, 13, ["off = 65536", "[-4096, 4095]"]),
    (".data\n.half 70000", 2, 1, ["70000 does not fit in 2 bytes"]),
    ("vmul.sat.sat v1, v2, v3, 1", 1, 1, ["repeated"]),
    (".word 1 2", 1, 9, ["Unexpected '2'"]),
    ("li a0, 1/0", 1, 9, ["Division by zero"]),
    (".section .bss", 1, 10, ["Unknown section '.bss'"]),
    (".zero later\nlater:", 1, 7, ["known at this point"]),
    ("jalr a0, a1, a2, a3", 1, 6, ["'jalr' is written", "do not match"]),
])
def test_error_message(src, line, col, words):
    err = error_of(src)
    assert len(err.errors) == 1, err.errors
    message = err.errors[0]
    m = MESSAGE.match(message)
    assert m, message
    assert (m["file"], int(m["line"]), int(m["col"])) == ("prog.s", line, col), message
    for w in words:
        assert w in message, (w, message)


def test_all_errors_of_a_file_are_reported():
    src = "bogus\nnop\naddi a0, a0, 9999\nj missing\n.data\n.byte 1000\n"
    err = error_of(src)
    lines = [int(MESSAGE.match(m)["line"]) for m in err.errors]
    assert lines == [1, 3, 4, 6]
    assert str(err) == "\n".join(err.errors)


def test_memory_overflow_is_reported():
    err = error_of(".data\n.zero 40000\n")
    assert "exceed the 32768 bytes" in str(err) and str(err).startswith("prog.s:2:1:")


def test_builder_errors_point_at_the_caller():
    b = ProgramBuilder(C)
    b.emit("addi", rd=1, rs1=2, imm=9999)
    b.emit("foo")
    b.emit("add", rd=1)
    b.emit("beq", rs1="a0", rs2="q9", off="nowhere")
    with pytest.raises(AsmError) as info:
        b.build()
    errors = info.value.errors
    assert len(errors) == 4 and all(e.startswith(__file__ + ":") for e in errors)
    assert "Unknown mnemonic 'foo'" in errors[0]
    assert "takes operands ['rd', 'rs1', 'rs2']" in errors[1]
    assert "must be a register, not 'q9'" in errors[2]
    assert "9999" in errors[3]


def test_good_program_loses_nothing():
    src = """
        .equ N, 3
    start:
        li   t0, N                    # counter
    loop: addi t0, t0, -1
        vmul.rn v1, v2, v3, 4
        bnez t0, loop
        ecall
        .data
    table: .word 1, -1, start, loop
    msg: .asciz "ok"
        .vdata
    vec: .half 1, 2, 3, 4
    """
    p = assemble(src, C, "good.s")
    assert len(p.text) == 5
    assert p.symbols == {"start": ("text", 0), "loop": ("text", 4), "table": ("data", 0),
                         "msg": ("data", 16), "vec": ("vdata", 0)}
    assert p.data == bytes.fromhex("01000000ffffffff0000000004000000") + b"ok\0"
    assert p.vdata == bytes([1, 0, 2, 0, 3, 0, 4, 0])
    assert p.lines == {0: ("good.s", 4), 4: ("good.s", 5), 8: ("good.s", 6),
                       12: ("good.s", 7), 16: ("good.s", 8)}


@pytest.mark.parametrize("src, words", [
    (".data\n.zero 1000000000000", ["would exceed the 32768 bytes"]),
    (".data\n.balign 4, 300\n.byte 1", ["fill value 300"]),
    (".data\n.zero 4, -1", ["fill value -1"]),
])
def test_data_size_and_fill_errors(src, words):
    err = error_of(src)
    assert err.errors[0].startswith("prog.s:2:1: error:")
    assert all(w in str(err) for w in words)
