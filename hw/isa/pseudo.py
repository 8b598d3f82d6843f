"""Pseudo-instructions of the assembly language, declared as data.

A :class:`Pseudo` has a name, a syntax template in the style of :attr:`Instr.syntax`
(``"{rd}, {rs}"``), operand kinds, a one-line description (listed in the generated ISA
reference) and one or more :class:`Form` s. A form is a sequence of :class:`Step` s, each
one real table instruction whose operands are constants or references to the pseudo's
operands (optionally the ``%hi``/``%lo`` part of one, see :func:`hi_part`/:func:`lo_part`).

Form selection contract: the assembler picks the first form whose ``when`` condition
holds for the value of operand ``imm``; if that value is not known yet (a symbol
defined later) it picks the *last* form, which therefore has ``when=None`` and is valid
for every value. The size of a pseudo-instruction is thus fixed in the first pass.

Several pseudos may share a name (``jal label`` vs ``jal rd, label``), and a pseudo may
share the name of a real instruction (``jalr rs``); the assembler picks the candidate
whose operand count matches.

This module imports nothing of spikevec outside ``spikevec.hw.isa``.
"""
from __future__ import annotations

from dataclasses import dataclass

from .formats import sign_extend
from .operands import Kind
from .table import BY_NAME, CSRS

__all__ = ["Pseudo", "Form", "Step", "Ref", "PSEUDOS", "BY_NAME_PSEUDO", "IMM32",
           "CONDITIONS", "hi_part", "lo_part"]

IMM32 = "imm32"   # operand kind: any 32-bit value (signed or unsigned), or a symbol


def hi_part(value: int) -> int:
    """``%hi``: the upper 20 bits, rounded so that ``(hi << 12) + lo == value``."""
    return ((value + 0x800) >> 12) & 0xFFFFF


def lo_part(value: int) -> int:
    """``%lo``: the low 12 bits as a signed number (the addi/load/store immediate)."""
    return sign_extend(value, 12)


CONDITIONS = {
    "simm12": lambda v: -2048 <= sign_extend(v, 32) <= 2047,
    "lui_only": lambda v: v & 0xFFF == 0,
}


@dataclass(frozen=True)
class Ref:
    """A step operand taken from pseudo operand ``name``; ``part`` is ``""`` (the value
    itself), ``"hi"`` or ``"lo"`` (see :func:`hi_part`, :func:`lo_part`)."""
    name: str
    part: str = ""


@dataclass(frozen=True)
class Step:
    """One real instruction; ``operands`` maps its operand names to ints or Refs."""
    instr: str
    operands: dict
    modifiers: dict | None = None


@dataclass(frozen=True)
class Form:
    steps: tuple
    when: str | None = None      # a key of CONDITIONS, or None (always applicable)


@dataclass(frozen=True)
class Pseudo:
    name: str
    syntax: str
    operands: dict               # operand name -> Kind constant (or IMM32)
    description: str
    forms: tuple

    def __post_init__(self):
        assert self.forms[-1].when is None, f"{self.name}: the last form must be general"
        for form in self.forms:
            for step in form.steps:
                ins = BY_NAME[step.instr]
                assert set(step.operands) == set(ins.operands), (self.name, step.instr)
                for value in step.operands.values():
                    assert isinstance(value, int) or value.name in self.operands, self.name

    @property
    def max_size(self) -> int:
        """Bytes of the longest expansion."""
        return 4 * max(len(f.steps) for f in self.forms)


def _one(name, syntax, operands, description, instr, **step_operands):
    step = Step(instr, {k: Ref(v) if isinstance(v, str) else v
                        for k, v in step_operands.items()})
    return Pseudo(name, syntax, operands, description, (Form((step,)),))


X, V, PC, CSR = Kind.XREG, Kind.VREG, Kind.PCREL, Kind.CSR
_RA = 1   # the ABI return-address register
_LUI_ADDI = (Step("lui", {"rd": Ref("rd"), "imm": Ref("imm", "hi")}),
             Step("addi", {"rd": Ref("rd"), "rs1": Ref("rd"), "imm": Ref("imm", "lo")}))


def _pseudos():
    p = []
    add = p.append
    add(_one("nop", "", {}, "no operation (addi zero, zero, 0)", "addi", rd=0, rs1=0, imm=0))
    add(Pseudo("li", "{rd}, {imm}", {"rd": X, "imm": IMM32},
               "load any 32-bit constant: addi, lui, or lui + addi (%hi/%lo with the "
               "+0x800 carry fix); a symbol not yet defined always takes lui + addi",
               (Form((Step("addi", {"rd": Ref("rd"), "rs1": 0, "imm": Ref("imm")}),),
                     "simm12"),
                Form((_LUI_ADDI[0],), "lui_only"),
                Form(_LUI_ADDI))))
    add(Pseudo("la", "{rd}, {imm}", {"rd": X, "imm": IMM32},
               "load the absolute address of a symbol (every memory starts at 0): "
               "always lui + addi", (Form(_LUI_ADDI),)))
    add(_one("mv", "{rd}, {rs}", {"rd": X, "rs": X}, "copy a register (addi rd, rs, 0)",
             "addi", rd="rd", rs1="rs", imm=0))
    add(_one("not", "{rd}, {rs}", {"rd": X, "rs": X}, "bitwise complement (xori rd, rs, -1)",
             "xori", rd="rd", rs1="rs", imm=-1))
    add(_one("neg", "{rd}, {rs}", {"rd": X, "rs": X}, "negate (sub rd, zero, rs)",
             "sub", rd="rd", rs1=0, rs2="rs"))
    add(_one("seqz", "{rd}, {rs}", {"rd": X, "rs": X}, "rd = (rs == 0) (sltiu rd, rs, 1)",
             "sltiu", rd="rd", rs1="rs", imm=1))
    add(_one("snez", "{rd}, {rs}", {"rd": X, "rs": X}, "rd = (rs != 0) (sltu rd, zero, rs)",
             "sltu", rd="rd", rs1=0, rs2="rs"))
    add(_one("sltz", "{rd}, {rs}", {"rd": X, "rs": X}, "rd = (rs < 0) (slt rd, rs, zero)",
             "slt", rd="rd", rs1="rs", rs2=0))
    add(_one("sgtz", "{rd}, {rs}", {"rd": X, "rs": X}, "rd = (rs > 0) (slt rd, zero, rs)",
             "slt", rd="rd", rs1=0, rs2="rs"))
    add(_one("j", "{off}", {"off": PC}, "jump (jal zero, off)", "jal", rd=0, off="off"))
    add(_one("jal", "{off}", {"off": PC}, "call a label (jal ra, off)", "jal",
             rd=_RA, off="off"))
    add(_one("call", "{off}", {"off": PC}, "call a subroutine (jal ra, off; instruction "
             "memory is small enough for jal to reach everywhere)", "jal", rd=_RA, off="off"))
    add(_one("jr", "{rs}", {"rs": X}, "jump to a register (jalr zero, 0(rs))", "jalr",
             rd=0, rs1="rs", imm=0))
    add(_one("jalr", "{rs}", {"rs": X}, "call through a register (jalr ra, 0(rs))", "jalr",
             rd=_RA, rs1="rs", imm=0))
    add(_one("jalr", "{rd}, {rs}, {imm}", {"rd": X, "rs": X, "imm": Kind.SIMM},
             "jalr in three-operand form (jalr rd, imm(rs))", "jalr",
             rd="rd", rs1="rs", imm="imm"))
    add(_one("ret", "", {}, "return from a subroutine (jalr zero, 0(ra))", "jalr",
             rd=0, rs1=_RA, imm=0))
    for name, instr, first, desc in (("beqz", "beq", True, "rs == 0"),
                                     ("bnez", "bne", True, "rs != 0"),
                                     ("blez", "bge", False, "rs <= 0"),
                                     ("bgez", "bge", True, "rs >= 0"),
                                     ("bltz", "blt", True, "rs < 0"),
                                     ("bgtz", "blt", False, "rs > 0")):
        regs = dict(rs1="rs", rs2=0) if first else dict(rs1=0, rs2="rs")
        add(_one(name, "{rs}, {off}", {"rs": X, "off": PC}, f"branch if {desc} ({instr})",
                 instr, off="off", **regs))
    for name, instr, desc in (("bgt", "blt", "rs > rt"), ("ble", "bge", "rs <= rt"),
                              ("bgtu", "bltu", "rs > rt unsigned"),
                              ("bleu", "bgeu", "rs <= rt unsigned")):
        add(_one(name, "{rs}, {rt}, {off}", {"rs": X, "rt": X, "off": PC},
                 f"branch if {desc} ({instr} with the operands swapped)", instr,
                 rs1="rt", rs2="rs", off="off"))
    add(_one("csrr", "{rd}, {csr}", {"rd": X, "csr": CSR},
             "read a CSR (csrrs rd, csr, zero)", "csrrs", rd="rd", csr="csr", rs1=0))
    for counter in ("cycle", "cycleh", "instret", "instreth"):
        add(_one(f"rd{counter}", "{rd}", {"rd": X}, f"read the {counter} counter "
                 f"(csrrs rd, {counter}, zero)", "csrrs", rd="rd", csr=CSRS[counter], rs1=0))
    add(_one("vmv", "{vd}, {vs}", {"vd": V, "vs": V},
             "copy a vector register (vor vd, vs, vs)", "vor", vd="vd", vs1="vs", vs2="vs"))
    add(_one("vzero", "{vd}", {"vd": V}, "clear a vector register (vxor vd, vd, vd)",
             "vxor", vd="vd", vs1="vd", vs2="vd"))
    return tuple(p)


PSEUDOS: tuple = _pseudos()
BY_NAME_PSEUDO: dict = {}
for _p in PSEUDOS:
    BY_NAME_PSEUDO.setdefault(_p.name, []).append(_p)
