"""spikevec.hw.isa: the instruction set, declared once.

* :mod:`.formats` - bit layouts of instruction words (``amaranth.lib.data``);
* :mod:`.operands` - operand kinds and mnemonic modifiers;
* :mod:`.instruction` - the :class:`Instr` record and its encoding logic;
* :mod:`.table` - the instruction table, opcodes, CSRs and the cycle model;
* :mod:`.pseudo` - pseudo-instructions of the assembly language;
* :mod:`.registers` - register names.

Nothing here imports any other part of spikevec except :mod:`spikevec.hw.config`.
"""
from .formats import FORMATS, Format, sign_extend
from .instruction import EncodingError, Instr, Timing
from .operands import Kind, ROUND_NAMES
from .table import BY_NAME, CSRS, INSTRUCTIONS, OPCODES, TIMING, CycleModel


def find(word: int):
    """The table entry whose ``(mask, match)`` fits ``word``, or ``None``.

    The table is checked to be unambiguous (tests), so at most one entry fits. Use
    :meth:`Instr.legal` afterwards to reject reserved field values.
    """
    for ins in _BY_OPCODE.get(word & 0x7F, ()):
        if (word & ins.mask) == ins.match:
            return ins
    return None


_BY_OPCODE: dict = {}
for _ins in INSTRUCTIONS:
    _BY_OPCODE.setdefault(_ins.opcode, []).append(_ins)

__all__ = ["FORMATS", "Format", "sign_extend", "EncodingError", "Instr", "Timing", "Kind",
           "ROUND_NAMES", "BY_NAME", "CSRS", "INSTRUCTIONS", "OPCODES", "TIMING",
           "CycleModel", "find"]
