"""Operand kinds and modifiers of the instruction table.

An :class:`Operand` says how one assembly operand is written and where its value lives in
the instruction word; a :class:`Modifier` is a mnemonic suffix (``.sat``, ``.rn``,
``.rs``) stored in a field. Both are pure data: the assembler, disassembler, golden-model
pre-decoder and RTL decoder interpret them.

This module imports nothing else of spikevec.
"""
from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Kind", "Operand", "Modifier", "X", "V", "SImm", "UImm", "Lane", "Csr",
           "PcRel", "SAT", "ROUND", "ROUND_NAMES"]


class Kind:
    XREG = "xreg"     # scalar register x0..x31 (ABI names accepted)
    VREG = "vreg"     # vector register v0..v31
    SIMM = "simm"     # signed immediate
    UIMM = "uimm"     # unsigned immediate
    LANE = "lane"     # lane index, < config.lanes
    CSR = "csr"       # CSR number or name
    PCREL = "pcrel"   # pc-relative byte offset (label or number), multiple of 2


@dataclass(frozen=True)
class Operand:
    """One assembly operand.

    ``field`` is a layout field of the instruction's format, or ``"imm"`` for the
    format's scattered immediate. ``scale`` multiplies the stored value to give the
    written value (``"vector"``: the vector size in bytes; ``"half"``: the lane count,
    the size of a packed 8-bit vector); the written value must be a multiple of it.
    ``lo``/``hi`` bound the written value before scaling is applied to the stored one;
    when omitted the field width decides. ``accept_unsigned`` lets a signed field also
    be written as its unsigned bit pattern (``vlui v1, 0xffff``).
    """
    kind: str
    field: str
    scale: object = 1
    lo: int | None = None
    hi: int | None = None
    accept_unsigned: bool = False

    def scale_for(self, config) -> int:
        if self.scale == "vector":
            return config.vector_bytes
        if self.scale == "half":
            return config.lanes
        return self.scale

    def stored_range(self, width: int) -> tuple[int, int]:
        """Inclusive range of the value stored in a ``width``-bit field."""
        if self.kind in (Kind.SIMM, Kind.PCREL):
            lo, hi = -(1 << (width - 1)), (1 << (width - 1)) - 1
        else:
            lo, hi = 0, (1 << width) - 1
        if self.lo is not None:
            lo = max(lo, self.lo)
        if self.hi is not None:
            hi = min(hi, self.hi)
        return lo, hi


def X(field_name: str) -> Operand:
    return Operand(Kind.XREG, field_name)


def V(field_name: str) -> Operand:
    return Operand(Kind.VREG, field_name)


def SImm(field_name: str = "imm", scale=1, accept_unsigned=False) -> Operand:
    return Operand(Kind.SIMM, field_name, scale=scale, accept_unsigned=accept_unsigned)


def UImm(field_name: str, hi: int | None = None) -> Operand:
    return Operand(Kind.UIMM, field_name, hi=hi)


def Lane(field_name: str) -> Operand:
    return Operand(Kind.LANE, field_name)


def Csr(field_name: str) -> Operand:
    return Operand(Kind.CSR, field_name)


def PcRel() -> Operand:
    return Operand(Kind.PCREL, "imm")


@dataclass(frozen=True)
class Modifier:
    """A mnemonic suffix stored in ``field``: ``suffixes`` maps suffix text to value.

    The empty suffix is the default. Values of the field not listed are reserved: the
    decoder treats them as illegal instructions.
    """
    name: str
    field: str
    suffixes: dict = field(default_factory=dict)

    def values(self):
        return sorted(self.suffixes.values())


SAT = Modifier("sat", "sat", {"": 0, ".sat": 1})
ROUND = Modifier("round", "round", {"": 0, ".rn": 1, ".rs": 2})
ROUND_NAMES = {0: "floor", 1: "round-half-up", 2: "stochastic"}
