"""The text assembler: GNU-style assembly source to a :class:`Program`.

Pass 1 reads the source line by line and drives a :class:`ProgramBuilder` (which lays
the program out); pass 2 is :meth:`ProgramBuilder.build`. One statement per line:
``label: label2: mnemonic[.suffix...] operands`` or a directive, with ``#``, ``//`` and
``/* */`` comments and ``name = expr`` as a shorthand for ``.equ``.

Directives: ``.text .data .vdata .section``; ``.word .half .byte`` (also ``.long
.4byte .short .2byte``); ``.zero/.space n[, fill]``; ``.align/.p2align n`` (``2^n``
bytes, GNU RISC-V), ``.balign n``; ``.ascii``, ``.asciz/.string``; ``.equ/.set``;
``.globl/.global .local .type .size .file .ident .option`` (accepted, no effect).
The symbols ``__lanes`` and ``__vector_bytes`` are predefined from the configuration.

Contract: :func:`assemble` returns the Program or raises :class:`AsmError` listing
every error found (up to :data:`MAX_ERRORS`), each ``file:line:col: error: sentence``.
"""
from __future__ import annotations

import difflib

from .builder import ProgramBuilder
from .expr import parse_expr
from .lexer import AsmError, Cursor, Loc, describe, tokenize_line
from .syntax import (MnemonicError, count_given, parse_operands, pick_candidate,
                     render_template, resolve_mnemonic)

__all__ = ["assemble", "MAX_ERRORS"]

MAX_ERRORS = 50
_DATA_SIZES = {".word": 4, ".long": 4, ".4byte": 4, ".half": 2, ".short": 2,
               ".2byte": 2, ".byte": 1}
_IGNORED = (".globl", ".global", ".local", ".type", ".size", ".file", ".ident", ".option")


def assemble(text: str, config, filename: str = "<input>"):
    """Assemble ``text`` for core ``config``; see the module docstring."""
    asm = _Assembler(ProgramBuilder(config, filename), filename)
    asm.run(text)
    return asm.b.build()


class _Assembler:
    def __init__(self, builder: ProgramBuilder, filename: str):
        self.b, self.filename = builder, filename
        self.directives = {".text": self._section, ".data": self._section,
                           ".vdata": self._section, ".section": self._section,
                           ".zero": self._zero, ".space": self._zero,
                           ".align": self._align, ".p2align": self._align,
                           ".balign": self._align, ".ascii": self._ascii,
                           ".asciz": self._ascii, ".string": self._ascii,
                           ".equ": self._equ, ".set": self._equ}
        self.directives.update({d: self._data for d in _DATA_SIZES})
        self.directives.update({d: self._ignore for d in _IGNORED})

    def run(self, text: str) -> None:
        in_comment = False
        for lineno, line in enumerate(text.splitlines(), 1):
            loc = Loc(self.filename, lineno)
            try:
                tokens, in_comment = tokenize_line(line, loc, in_comment)
                self._statement(Cursor(tokens, loc), line)
            except AsmError as e:
                self.b.errors.extend(e.errors)
            if len(self.b.errors) >= MAX_ERRORS:
                self.b.errors.append(f"{loc}: error: Too many errors; stopping here.")
                raise AsmError(self.b.errors)

    # Statements ------------------------------------------------------------------------
    def _statement(self, cur: Cursor, line: str) -> None:
        while cur.peek().kind == "ident" and cur.at_op(":", 1):
            tok = cur.next()
            cur.next()
            self.b.label(tok.text, loc=cur.loc.at(tok.col))
        if cur.at_end():
            return
        tok = cur.next()
        if tok.kind != "ident":
            raise cur.error(f"Expected a mnemonic, directive or label at the start of the "
                            f"statement but found {describe(tok)}.", tok)
        loc = cur.loc.at(tok.col)
        if cur.at_op("="):
            cur.next()
            self._define(cur, tok)
        elif tok.text.startswith(".") and tok.text != ".":
            handler = self.directives.get(tok.text.lower())
            if handler is None:
                close = difflib.get_close_matches(tok.text.lower(), self.directives, n=3)
                hint = f" Did you mean {' or '.join(close)}?" if close else ""
                raise cur.error(f"Unknown directive '{tok.text}'.{hint}", tok)
            handler(cur, tok.text.lower(), loc)
        else:
            self._instruction(cur, tok, loc, self._source(line, tok, cur))

    @staticmethod
    def _source(line: str, first, cur: Cursor) -> str:
        last = cur.tokens[-2] if len(cur.tokens) > 1 else first
        return line[first.col - 1:last.col - 1 + len(last.text)].strip()

    def _instruction(self, cur: Cursor, tok, loc: Loc, source: str) -> None:
        try:
            candidates, mods = resolve_mnemonic(tok.text)
        except MnemonicError as e:
            raise cur.error(str(e), tok) from None
        target = pick_candidate(candidates, count_given(cur))
        if target is None and len(candidates) > 1:
            forms = " or ".join(repr(f"{tok.text} {render_template(c.syntax)}".strip())
                                for c in candidates)
            raise cur.error(f"'{tok.text}' is written {forms}; {count_given(cur)} operands "
                            "do not match any of these forms.")
        target = target or candidates[0]
        kinds = {n: (k if isinstance(k, str) else k.kind) for n, k in target.operands.items()}
        values = parse_operands(cur, tok.text, target.syntax, kinds)
        self.b.emit_parsed(target, mods, values, loc, source)

    # Directives ------------------------------------------------------------------------
    @staticmethod
    def _exprs(cur: Cursor, what: str) -> list:
        if cur.at_end():
            raise cur.error(f"'{what}' needs at least one value.")
        values = [parse_expr(cur)]
        while cur.at_op(","):
            cur.next()
            values.append(parse_expr(cur))
        cur.expect_end(f"after the values of '{what}' (separate values with commas)")
        return values

    def _known(self, cur: Cursor, what: str) -> int:
        tok = cur.peek()
        value = parse_expr(cur).try_eval(self.b._env())
        if value is None:
            raise cur.error(f"The {what} must be a constant known at this point; "
                            f"'{tok.text}...' uses a symbol defined later.", tok)
        return value

    def _ignore(self, cur, name, loc):
        cur.pos = len(cur.tokens) - 1

    def _section(self, cur, name, loc):
        if name == ".section":
            tok = cur.next()
            name = tok.text.lower()
            if name not in (".text", ".data", ".vdata"):
                raise cur.error(f"Unknown section {describe(tok)}; expected .text, .data "
                                "or .vdata.", tok)
            if cur.at_op(","):          # ignore GNU flags: .section .data, "aw"
                cur.pos = len(cur.tokens) - 1
        cur.expect_end(f"after '{name}'")
        self.b.section(name)

    def _data(self, cur, name, loc):
        self.b.put(_DATA_SIZES[name], self._exprs(cur, name), loc=loc)

    def _zero(self, cur, name, loc):
        count = self._known(cur, f"size of '{name}'")
        fill = 0
        if cur.at_op(","):
            cur.next()
            fill = self._known(cur, f"fill value of '{name}'")
        cur.expect_end(f"after the operands of '{name}'")
        if count < 0:
            raise AsmError.at(loc, f"'{name}' needs a size of at least 0, not {count}.")
        if self.b.section_name == "text":
            if count % 4 or fill:
                raise AsmError.at(loc, f"In .text, '{name}' can only add whole zero words; "
                                       f"{count} is not a multiple of 4.")
            self.b.put(4, [0] * (count // 4), loc=loc)
        else:
            self.b.fill(count, fill, loc=loc)

    def _align(self, cur, name, loc):
        value = self._known(cur, f"alignment of '{name}'")
        fill = None
        if cur.at_op(","):
            cur.next()
            fill = self._known(cur, f"fill value of '{name}'")
        cur.expect_end(f"after the operands of '{name}'")
        if name == ".balign":
            boundary = value
        elif not 0 <= value <= 16:
            raise AsmError.at(loc, f"'{name} {value}' asks for 2^{value}-byte alignment; "
                                   "give an exponent from 0 to 16.")
        else:
            boundary = 1 << value
        self.b.align(boundary, fill, loc)

    def _ascii(self, cur, name, loc):
        chunks = []
        while True:
            tok = cur.next()
            if tok.kind != "str":
                raise cur.error(f"'{name}' expects a string in double quotes but found "
                                f"{describe(tok)}.", tok)
            chunks.append(tok.value.encode("utf-8") + (b"\0" if name != ".ascii" else b""))
            if not cur.at_op(","):
                break
            cur.next()
        cur.expect_end(f"after the strings of '{name}'")
        self.b.put_bytes(b"".join(chunks), loc=loc)

    def _equ(self, cur, name, loc):
        tok = cur.next()
        if tok.kind != "ident" or tok.text == ".":
            raise cur.error(f"'{name}' expects a symbol name first but found "
                            f"{describe(tok)}.", tok)
        cur.expect_op(",", f"after the symbol name of '{name}'")
        self._define(cur, tok)

    def _define(self, cur, tok):
        expr = parse_expr(cur)
        cur.expect_end(f"after the value of '{tok.text}'")
        self.b.equ(tok.text, expr, cur.loc.at(tok.col))
