"""Amaranth enumerations generated from the instruction table, plus the core's trap causes.

Nothing here types an opcode or funct number: every member of :data:`Op`, :data:`Fmt` and
:data:`TimingClass` is built by enumerating :data:`spikevec.hw.isa.INSTRUCTIONS`,
:data:`spikevec.hw.isa.FORMATS` and :class:`spikevec.hw.isa.Timing` in table order, so
adding a row to the table adds a member here.

* :data:`Op` - one member per instruction (mnemonic upper-cased, ``.`` -> ``_``, so
  ``sext.b`` is ``Op.SEXT_B``) plus a final ``NONE`` for words that match no row;
* :data:`Fmt` - one member per instruction format (``Fmt.R`` ... ``Fmt.VA``);
* :data:`TimingClass` - the cycle-model classes (``TimingClass.LOAD`` ...);
* :class:`TrapCause` - why the core halted.

Use :func:`op_of` to go from a table entry (or its name) to its :data:`Op` member.
"""
from __future__ import annotations

from amaranth.hdl import unsigned
from amaranth.lib import enum

from ..isa import FORMATS, INSTRUCTIONS, Instr, Timing

__all__ = ["Op", "Fmt", "TimingClass", "TrapCause", "op_of", "member_name",
           "timing_member"]


def member_name(mnemonic: str) -> str:
    """The enum member name of a mnemonic: ``"vaddi.sat"`` -> ``"VADDI_SAT"``."""
    return mnemonic.upper().replace(".", "_")


def _make_enum(name: str, members: list[str], doc: str):
    """An ``amaranth.lib.enum.Enum`` with ``members`` numbered in list order, with the
    narrowest unsigned shape that holds them all."""
    namespace = enum.EnumType.__prepare__(name, (enum.Enum,))
    namespace["__module__"] = __name__
    namespace["__qualname__"] = name
    namespace["__doc__"] = doc
    for index, member in enumerate(members):
        namespace[member] = index
    width = max(1, (len(members) - 1).bit_length())
    return enum.EnumType(name, (enum.Enum,), namespace, shape=unsigned(width))


Op = _make_enum("Op", [member_name(ins.name) for ins in INSTRUCTIONS] + ["NONE"],
                "The decoded instruction: one member per table row, NONE for no match.")

Fmt = _make_enum("Fmt", list(FORMATS), "The instruction format of the decoded word.")

_TIMING_NAMES = [value for key, value in vars(Timing).items()
                 if not key.startswith("_") and isinstance(value, str)]
TimingClass = _make_enum("TimingClass", [t.upper() for t in _TIMING_NAMES],
                         "Cycle-model timing class of the decoded instruction.")

TrapCause = _make_enum(
    "TrapCause",
    ["NONE", "ECALL", "EBREAK", "ILLEGAL", "FETCH_FAULT", "LOAD_FAULT", "STORE_FAULT",
     "VECTOR_FAULT"],
    "Why the core halted. NONE: still running or never started; ECALL/EBREAK: the program "
    "stopped itself; ILLEGAL: an illegal instruction (trap address = pc); "
    "FETCH_FAULT: the pc left instruction memory or is not word aligned (trap address = "
    "pc); LOAD_FAULT/STORE_FAULT: a scalar access was misaligned or outside data memory "
    "(trap address = the byte address); VECTOR_FAULT: the vector unit refused an access "
    "(trap address from the vector unit).")


def op_of(ins: Instr | str):
    """The :data:`Op` member of a table entry or mnemonic."""
    return Op[member_name(ins if isinstance(ins, str) else ins.name)]


def timing_member(timing: str):
    """The :data:`TimingClass` member of a :class:`Timing` string such as ``"load"``."""
    return TimingClass[timing.upper()]
