"""Operand parsing driven by the syntax templates of the instruction table.

A template such as ``"{vd}, {off}({rs1}), {shift}"`` (from :attr:`Instr.syntax` or
:attr:`Pseudo.syntax`) is split at its commas into pieces; each piece is a sequence of
placeholders and the literal parentheses of a memory operand. :func:`parse_operands`
matches a statement's tokens against it, operand by operand, using the operand kinds to
read registers (number or ABI name) or expressions. GNU's shorthand ``(reg)`` for
``0(reg)`` is accepted.

Contract: the result maps every placeholder to an ``int`` (register numbers) or an
:class:`Expr` (everything else, including CSR names turned into numbers). Any mismatch
raises :class:`AsmError` at the offending token with a sentence saying what was
expected, including the operand count and the template.
"""
from __future__ import annotations

import difflib
import re
from functools import lru_cache

from ...hw.isa.operands import Kind
from ...hw.isa.registers import VREG_NUMBERS, XREG_NUMBERS
from ...hw.isa.pseudo import BY_NAME_PSEUDO
from ...hw.isa.table import BY_NAME, CSRS
from .expr import Const, parse_expr
from .lexer import Cursor, describe

__all__ = ["template_pieces", "operand_count", "count_given", "parse_operands",
           "render_template", "register_number", "resolve_mnemonic", "pick_candidate",
           "MnemonicError", "all_mnemonics"]

_PART = re.compile(r"\{(\w+)\}|([()])|(,)|\s+")
_REGS = {Kind.XREG: (XREG_NUMBERS, "a scalar register (x0..x31 or an ABI name such as "
                                   "a0 or t1)"),
         Kind.VREG: (VREG_NUMBERS, "a vector register (v0..v31)")}


@lru_cache(maxsize=None)
def template_pieces(syntax: str) -> tuple:
    """The template's comma-separated pieces, each a tuple of ``("field", name)`` and
    ``("lit", "(" or ")")`` elements."""
    pieces, current = [], []
    for m in _PART.finditer(syntax):
        if m.group(1):
            current.append(("field", m.group(1)))
        elif m.group(2):
            current.append(("lit", m.group(2)))
        elif m.group(3):
            pieces.append(tuple(current))
            current = []
    if current:
        pieces.append(tuple(current))
    return tuple(pieces)


def operand_count(syntax: str) -> int:
    return len(template_pieces(syntax))


def render_template(syntax: str) -> str:
    """The template as shown to users: ``vd, off(rs1), shift``."""
    return syntax.replace("{", "").replace("}", "")


def count_given(cur: Cursor) -> int:
    """Operands in the rest of the statement: top-level commas + 1 (0 if empty)."""
    if cur.at_end():
        return 0
    depth, count = 0, 1
    for tok in cur.tokens[cur.pos:]:
        if tok.kind == "op":
            depth += {"(": 1, ")": -1}.get(tok.text, 0)
            count += tok.text == "," and depth == 0
    return count


def register_number(text: str, kind: str):
    """The number of register ``text`` of ``kind`` (XREG or VREG), or ``None``."""
    return _REGS[kind][0].get(text.lower())


def _parse_register(cur: Cursor, kind: str, name: str) -> int:
    tok = cur.next()
    number = register_number(tok.text, kind) if tok.kind == "ident" else None
    if number is None:
        raise cur.error(f"Expected {_REGS[kind][1]} for operand '{name}' but found "
                        f"{describe(tok)}.", tok)
    return number


def _parse_value(cur: Cursor, kind: str, name: str):
    if kind in _REGS:
        return _parse_register(cur, kind, name)
    tok = cur.peek()
    if kind == Kind.CSR and tok.kind == "ident" and tok.text.lower() in CSRS:
        cur.next()
        return Const(CSRS[tok.text.lower()], cur.loc.at(tok.col))
    if tok.kind == "eol" or (tok.kind == "op" and tok.text == ","):
        raise cur.error(f"Operand '{name}' is missing; expected a value.", tok)
    return parse_expr(cur)


def _omitted_offset(cur: Cursor, piece, index) -> bool:
    """True for GNU's ``(reg)``: the immediate before a ``(`` literal is left out."""
    nxt = piece[index + 1] if index + 1 < len(piece) else None
    return (nxt == ("lit", "(") and cur.at_op("(") and cur.peek(1).kind == "ident"
            and cur.at_op(")", 2) and (register_number(cur.peek(1).text, Kind.XREG)
                                       is not None or register_number(cur.peek(1).text,
                                                                      Kind.VREG) is not None))


def parse_operands(cur: Cursor, mnemonic: str, syntax: str, kinds: dict) -> dict:
    """Parse the operands of ``mnemonic`` per ``syntax``; ``kinds`` maps names to Kinds."""
    pieces = template_pieces(syntax)
    given = count_given(cur)
    if given != len(pieces):
        shown = f" ({render_template(syntax)})" if pieces else ""
        raise cur.error(f"'{mnemonic}' takes {len(pieces)} operand"
                        f"{'' if len(pieces) == 1 else 's'}{shown} but {given} "
                        f"{'was' if given == 1 else 'were'} given.")
    values = {}
    for i, piece in enumerate(pieces):
        if i:
            cur.expect_op(",", f"between the operands of '{mnemonic}'")
        for j, (what, text) in enumerate(piece):
            if what == "lit":
                cur.expect_op(text, f"in operand {i + 1} of '{mnemonic}' (written "
                                    f"{render_template(syntax)})")
            elif _omitted_offset(cur, piece, j):
                values[text] = Const(0, cur.loc.at(cur.peek().col))
            else:
                values[text] = _parse_value(cur, kinds[text], text)
    cur.expect_end(f"after the operands of '{mnemonic}'")
    return values


class MnemonicError(ValueError):
    """A mnemonic is unknown or carries a suffix its instruction does not have; the
    message is a full sentence without a location."""


def all_mnemonics() -> list:
    """Every mnemonic the assembler accepts, without modifier suffixes."""
    return sorted(set(BY_NAME) | set(BY_NAME_PSEUDO))


def resolve_mnemonic(text: str):
    """Return ``(candidates, modifiers)`` for a mnemonic such as ``vmul.rs.sat``.

    ``candidates`` lists the table instruction and/or pseudo-instructions of that name
    (the caller picks one by operand count); ``modifiers`` maps modifier names to the
    values selected by the suffixes. Raises :class:`MnemonicError` with suggestions.
    """
    name = text.lower()
    candidates = ([BY_NAME[name]] if name in BY_NAME else []) + BY_NAME_PSEUDO.get(name, [])
    if candidates:
        return candidates, {}
    parts = name.split(".")
    for k in range(len(parts) - 1, 0, -1):
        ins = BY_NAME.get(".".join(parts[:k]))
        if ins is None or not ins.modifiers:
            continue
        mods = {}
        for suffix in parts[k:]:
            owner = [m for m in ins.modifiers if "." + suffix in m.suffixes]
            if not owner or owner[0].name in mods:
                valid = sorted(s for m in ins.modifiers for s in m.suffixes if s)
                raise MnemonicError(
                    f"'{text}' has the suffix '.{suffix}', which "
                    f"{'is repeated or conflicts' if owner else 'is not a modifier of'}"
                    f"{'' if owner else ' ' + ins.name}; {ins.name} takes at most one of "
                    f"each of {', '.join(valid)}.")
            mods[owner[0].name] = owner[0].suffixes["." + suffix]
        return [ins], mods
    close = difflib.get_close_matches(name, all_mnemonics(), n=3, cutoff=0.6)
    hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    raise MnemonicError(f"Unknown mnemonic '{text}'; expected an instruction or "
                        f"pseudo-instruction of the spikevec ISA.{hint}")


def pick_candidate(candidates, given: int):
    """The candidate taking ``given`` operands, or ``None``."""
    for c in candidates:
        if operand_count(c.syntax) == given:
            return c
    return None
