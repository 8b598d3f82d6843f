"""The disassembler: instruction words back to assembly text.

:func:`disassemble_word` decodes one word with the instruction table (``find``,
``Instr.legal``, ``Instr.decode``, ``Instr.mnemonic`` and the syntax template). Branch
and jump targets are printed as absolute hexadecimal addresses (GNU semantics), CSRs by
name, registers by ABI name. A word that no table entry decodes, that uses a reserved
field value, or that is a non-canonical encoding (e.g. ``fence`` with other
don't-care bits) is printed as ``.word 0x........``.

Contract: assembling the text of :func:`disassemble_word` at the same pc gives the same
word, and assembling the whole listing of :func:`disassemble` gives the same text, data,
vector data and labels (addresses and hex words are in comments).
"""
from __future__ import annotations

import re

from ...hw.isa import EncodingError, Kind, find
from ...hw.isa.registers import vreg_name, xreg_name
from ...hw.isa.table import CSRS

__all__ = ["disassemble_word", "disassemble", "format_operand"]

_CSR_NAMES = {number: name for name, number in CSRS.items()}
_FIELD = re.compile(r"\{(\w+)\}")


def format_operand(ins, name: str, value: int, pc: int) -> str:
    """How the disassembler writes operand ``name`` of ``ins`` with decoded ``value``."""
    op = ins.operands[name]
    if op.kind == Kind.XREG:
        return xreg_name(value)
    if op.kind == Kind.VREG:
        return vreg_name(value)
    if op.kind == Kind.PCREL:
        return f"{pc + value:#x}"
    if op.kind == Kind.CSR:
        return _CSR_NAMES.get(value, f"{value:#x}")
    if op.kind == Kind.UIMM and ins.field_width(op.field) >= 12:
        return f"{value:#x}"
    return str(value)


def _decode(word: int, config):
    """``(ins, operands, modifiers)`` of a canonical legal word, else ``None``."""
    ins = find(word)
    if ins is None or not ins.legal(word, config):
        return None
    ops, mods = ins.decode(word, config)
    try:
        if ins.encode(config, mods, **ops) != word:
            return None
    except EncodingError:
        return None
    return ins, ops, mods


def disassemble_word(word: int, pc: int, config) -> str:
    """One instruction as assembly text; see the module docstring."""
    word &= 0xFFFFFFFF
    decoded = _decode(word, config)
    if decoded is None:
        return f".word {word:#010x}"
    ins, ops, mods = decoded
    text = _FIELD.sub(lambda m: format_operand(ins, m.group(1), ops[m.group(1)], pc),
                      ins.syntax)
    return f"{ins.mnemonic(mods)} {text}".rstrip()


def _branch_target(word: int, pc: int, config):
    decoded = _decode(word, config)
    if decoded is None:
        return None
    ins, ops, _ = decoded
    for name, op in ins.operands.items():
        if op.kind == Kind.PCREL:
            return pc + ops[name]
    return None


def _labels_by_address(program, section: str) -> dict:
    labels: dict = {}
    for name, (sec, address) in program.symbols.items():
        if sec == section:
            labels.setdefault(address, []).append(name)
    return labels


def _data_lines(data: bytes, labels: dict, row: int = 16, zero_run: int = 16):
    """Directive lines for a data section: labels, ``.byte`` rows, ``.zero`` runs."""
    lines, pos, stops = [], 0, sorted(a for a in labels if a <= len(data))
    while pos <= len(data):
        for name in labels.get(pos, ()):
            lines.append(f"{name}:")
        if pos == len(data):
            break
        limit = min([s for s in stops if s > pos] + [len(data)])
        zeros = len(data[pos:limit]) - len(data[pos:limit].lstrip(b"\0"))
        if zeros >= zero_run or zeros == limit - pos:
            lines.append(f"    {'.zero ' + str(zeros):<44} # {pos:#06x}")
            pos += zeros
            continue
        end = min(pos + row, limit)
        values = ", ".join(f"{b:#04x}" for b in data[pos:end])
        lines.append(f"    {'.byte ' + values:<44} # {pos:#06x}")
        pos = end
    return lines


def disassemble(program) -> str:
    """A listing of ``program`` that re-assembles to the same program."""
    config = program.config
    out = [f"# spikevec program for core configuration '{config.name}' "
           f"({config.lanes} lanes, {len(program.text)} instructions)", "    .text"]
    text_labels = _labels_by_address(program, "text")
    names = {a: n[0] for a, n in text_labels.items()}
    for index, word in enumerate(program.text + [None]):
        pc = 4 * index
        for name in text_labels.get(pc, ()):
            out.append(f"{name}:")
        if word is None:
            break
        comment = f"# {pc:#06x}: {word:08x}"
        target = _branch_target(word, pc, config)
        if target in names:
            comment += f" <{names[target]}>"
        out.append(f"    {disassemble_word(word, pc, config):<44} {comment}")
    for section in ("data", "vdata"):
        data = bytes(getattr(program, section))
        labels = _labels_by_address(program, section)
        if data or labels:
            out.append(f"    .{section}")
            out.extend(_data_lines(data, labels))
    return "\n".join(out) + "\n"
