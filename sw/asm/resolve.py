"""Pass 2 of the assembler: evaluate every operand and encode every word.

:func:`resolve` turns a laid-out :class:`ProgramBuilder` into a :class:`Program`.
Instruction words are produced only by ``Instr.encode`` of the instruction table; this
module merely turns operand expressions into numbers (branch and jump targets into
pc-relative offsets) and wraps :class:`EncodingError` with the source location and the
statement. Contract: every problem is collected; if there is any, :class:`AsmError`
lists them all, in source order per section.
"""
from __future__ import annotations

import re

from ...hw.isa import EncodingError, Kind
from .expr import Expr, Sym, Undefined
from .lexer import AsmError
from .program import Program

__all__ = ["resolve"]


def _fits(value: int, size: int) -> bool:
    return -(1 << (8 * size - 1)) <= value < (1 << (8 * size))


def _culprit_loc(ins, values, message, default):
    """The location of the operand an EncodingError message names, if any."""
    for name in ins.operands:
        if re.search(rf"\b{re.escape(name)}\b", message.split(":", 1)[-1]):
            value = values.get(name)
            if isinstance(value, Expr) and value.loc:
                return value.loc
    return default


def _target_offset(b, item, name, expr, env) -> int:
    target = expr.eval(env)
    if isinstance(expr, Sym) and expr.name in b.symbols:
        section = b.symbols[expr.name][0]
        if section != "text":
            raise AsmError.at(expr.loc or item.loc,
                              f"The target '{expr.name}' of operand '{name}' is a label in "
                              f".{section}; branches and jumps need a label in .text.")
    return target - item.pc


def _encode(b, item, env) -> int:
    if item.ins is None:
        value = item.values["word"].eval(env)
        if not _fits(value, 4):
            raise AsmError.at(item.loc, f"The value {value} of '{item.source}' does not "
                                        "fit in 32 bits.")
        return value & 0xFFFFFFFF
    ins, numbers = item.ins, {}
    for name, op in ins.operands.items():
        value = item.values[name]
        if not isinstance(value, Expr):
            numbers[name] = value
        elif op.kind == Kind.PCREL:
            numbers[name] = _target_offset(b, item, name, value, env)
        else:
            numbers[name] = value.eval(env)
    try:
        return ins.encode(b.config, item.mods, **numbers)
    except EncodingError as e:
        where = ""
        if any(op.kind == Kind.PCREL for op in ins.operands.values()):
            where = f" (at address {item.pc:#x})"
        raise AsmError.at(_culprit_loc(ins, item.values, str(e), item.loc),
                          f"Cannot encode '{item.source}'{where}: {e}") from None


def _attempt(b, loc, action, fallback=0):
    try:
        return action()
    except Undefined as e:
        b.errors.append(f"{e.loc or loc or '<api>'}: error: {b.undefined(e, loc)}")
    except AsmError as e:
        b.errors.extend(e.errors)
    return fallback


def resolve(b) -> Program:
    """Evaluate and encode everything in builder ``b``; see the module docstring."""
    env = b._env(0)
    text, lines = [], {}
    for item in b.items:
        env.dot = item.dot
        text.append(_attempt(b, item.loc, lambda: _encode(b, item, env)))
        if item.loc is not None:
            lines[item.pc] = (item.loc.file, item.loc.line)
    memory = {name: bytearray(mem) for name, mem in b.memory.items()}
    for fix in b.fixups:
        env.dot = fix.offset
        value = _attempt(b, fix.loc, lambda: fix.expr.eval(env))
        if not _fits(value, fix.size):
            b.errors.append(f"{fix.loc or '<api>'}: error: The value {value} does not fit "
                            f"in {fix.size} byte{'s' if fix.size > 1 else ''}.")
            continue
        memory[fix.section][fix.offset:fix.offset + fix.size] = \
            (value & ((1 << (8 * fix.size)) - 1)).to_bytes(fix.size, "little")
    if b.errors:
        raise AsmError(b.errors)
    return Program(config=b.config, text=text, data=bytes(memory["data"]),
                   vdata=bytes(memory["vdata"]), symbols=dict(b.symbols), lines=lines)
