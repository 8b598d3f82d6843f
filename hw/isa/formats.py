"""Instruction formats: the bit layout of every 32-bit instruction word, declared once.

Each :class:`Format` wraps an ``amaranth.lib.data.StructLayout`` (first field at bit 0)
and, where the format scatters an immediate over several fields (S, B, J), the list of
pieces that reassemble it. Everything that reads or writes instruction bits (the RTL
decoder, the assembler, the disassembler, the golden model's pre-decoder and the
generated ISA reference) takes field positions from here.

This module imports nothing else of spikevec.
"""
from __future__ import annotations

from dataclasses import dataclass

from amaranth.lib import data

__all__ = ["Format", "FORMATS", "R", "I", "S", "B", "U", "J", "VR", "VU", "VA",
           "field_value", "sign_extend"]


def sign_extend(value: int, width: int) -> int:
    """Interpret the low ``width`` bits of ``value`` as a two's-complement number."""
    value &= (1 << width) - 1
    return value - (1 << width) if value >> (width - 1) else value


def field_value(word: int, offset: int, width: int) -> int:
    return (word >> offset) & ((1 << width) - 1)


@dataclass(frozen=True)
class ImmPiece:
    """Bits ``[imm_lo + width - 1 : imm_lo]`` of the immediate live in layout ``field``."""
    field: str
    imm_lo: int


class Format:
    """One instruction format.

    ``imm`` (optional) lists the pieces of the format's scattered immediate; its value is
    ``imm_width`` bits wide, signed, with any bits not covered by a piece equal to zero
    (e.g. bit 0 of a branch offset). Operands that name the pseudo-field ``"imm"`` use it.
    """

    def __init__(self, name: str, fields: dict, doc: str, imm=(), imm_width: int = 0):
        self.name = name
        self.layout = data.StructLayout(fields)
        assert self.layout.size == 32, f"format {name} is {self.layout.size} bits, not 32"
        self.doc = doc
        self.imm = tuple(ImmPiece(f, lo) for f, lo in imm)
        self.imm_width = imm_width

    # Field geometry ------------------------------------------------------------------
    def fields(self):
        """``(name, offset, width)`` for every layout field, least significant first."""
        return [(name, f.offset, f.width) for name, f in self.layout]

    def offset(self, field: str) -> int:
        return self.layout[field].offset

    def width(self, field: str) -> int:
        return self.layout[field].width

    def has_field(self, field: str) -> bool:
        return any(name == field for name, _ in self.layout)

    def mask(self, field: str) -> int:
        """The word-level bit mask of ``field`` (or of every piece of ``"imm"``)."""
        if field == "imm":
            return sum(self.mask(p.field) for p in self.imm)
        return ((1 << self.width(field)) - 1) << self.offset(field)

    # Immediates ----------------------------------------------------------------------
    def imm_lsb(self) -> int:
        """How many low bits of the immediate are implicitly zero."""
        return min(p.imm_lo for p in self.imm)

    def extract_imm(self, word: int) -> int:
        value = 0
        for p in self.imm:
            value |= field_value(word, self.offset(p.field), self.width(p.field)) << p.imm_lo
        return sign_extend(value, self.imm_width)

    def insert_imm(self, value: int) -> int:
        """Word bits for immediate ``value`` (the caller checks range and alignment)."""
        word = 0
        for p in self.imm:
            w = self.width(p.field)
            word |= ((value >> p.imm_lo) & ((1 << w) - 1)) << self.offset(p.field)
        return word

    def __repr__(self):
        return f"<Format {self.name}>"


R = Format("R", {"opcode": 7, "rd": 5, "funct3": 3, "rs1": 5, "rs2": 5, "funct7": 7},
           "register-register")
I = Format("I", {"opcode": 7, "rd": 5, "funct3": 3, "rs1": 5, "imm_11_0": 12},
           "register-immediate, loads, jalr, system",
           imm=[("imm_11_0", 0)], imm_width=12)
S = Format("S", {"opcode": 7, "imm_4_0": 5, "funct3": 3, "rs1": 5, "rs2": 5, "imm_11_5": 7},
           "stores", imm=[("imm_4_0", 0), ("imm_11_5", 5)], imm_width=12)
B = Format("B", {"opcode": 7, "imm_11": 1, "imm_4_1": 4, "funct3": 3, "rs1": 5, "rs2": 5,
                 "imm_10_5": 6, "imm_12": 1},
           "conditional branches (offset in multiples of 2)",
           imm=[("imm_4_1", 1), ("imm_10_5", 5), ("imm_11", 11), ("imm_12", 12)],
           imm_width=13)
U = Format("U", {"opcode": 7, "rd": 5, "imm_31_12": 20}, "upper immediate")
J = Format("J", {"opcode": 7, "rd": 5, "imm_19_12": 8, "imm_11": 1, "imm_10_1": 10,
                 "imm_20": 1},
           "jump and link (offset in multiples of 2)",
           imm=[("imm_10_1", 1), ("imm_11", 11), ("imm_19_12", 12), ("imm_20", 20)],
           imm_width=21)
VR = Format("VR", {"opcode": 7, "rd": 5, "funct3": 3, "rs1": 5, "rs2": 5,
                   "shift": 4, "round": 2, "sat": 1},
            "vector register-register; R with funct7 split into sat, round and shift "
            "(FeNN's funct7 = {saturate, round[1:0], shift[3:0]})")
VU = Format("VU", {"opcode": 7, "rd": 5, "imm16": 16, "zero4": 4},
            "vector load-immediate: a 16-bit immediate in bits [27:12], bits [31:28] zero")
VA = Format("VA", {"opcode": 7, "rd": 5, "funct3": 3, "rs1": 5, "imm8": 8, "shift": 4},
            "vector fused load-accumulate: signed 8-bit offset in units of the access "
            "size (bits [27:20]) and a 4-bit left shift of the loaded weights ([31:28])")

FORMATS = {f.name: f for f in (R, I, S, B, U, J, VR, VU, VA)}
