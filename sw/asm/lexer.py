"""Source locations, assembler errors and the tokenizer of one source line.

Contract: :func:`tokenize_line` turns one line (without its newline) into :class:`Token` s
with 1-based columns, dropping ``#`` and ``//`` comments and ``/* */`` comments (which
may span lines: the caller threads ``in_comment`` from line to line). A character it
cannot read raises :class:`AsmError` at that column. :class:`Cursor` walks a token list
and produces errors that name what was expected and what was found.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["AsmError", "Loc", "Token", "Cursor", "tokenize_line", "describe"]


@dataclass(frozen=True)
class Loc:
    """A source position: file name, 1-based line and column."""
    file: str
    line: int
    col: int = 1

    def at(self, col: int) -> "Loc":
        return Loc(self.file, self.line, col)

    def __str__(self):
        return f"{self.file}:{self.line}:{self.col}"


class AsmError(ValueError):
    """Assembly failed. ``errors`` lists every message, each of the form
    ``file:line:col: error: <sentence>``; ``str(error)`` joins them with newlines."""

    def __init__(self, errors):
        self.errors = list(errors)
        super().__init__("\n".join(self.errors))

    @classmethod
    def at(cls, loc: Loc | None, sentence: str) -> "AsmError":
        return cls([f"{loc or '<api>'}: error: {sentence}"])


@dataclass(frozen=True)
class Token:
    kind: str     # "ident", "num", "str", "op", "func" (%hi/%lo), "eol"
    text: str
    col: int
    value: object = None    # int for num, str for str/func


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", "\\": "\\", "'": "'", '"': '"'}
_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<num>0[xX][0-9a-fA-F_]+|0[bB][01_]+|[0-9][0-9_]*)
  | (?P<ident>[A-Za-z_.$][A-Za-z0-9_.$]*)
  | (?P<char>'(?:\\.|[^\\'])')
  | (?P<str>"(?:\\.|[^\\"])*")
  | (?P<func>%[A-Za-z]+)
  | (?P<op><<|>>|[-+*/%&|^~(),:=])
""", re.VERBOSE)


def _unescape(body: str) -> str:
    out, i = [], 0
    while i < len(body):
        if body[i] == "\\" and i + 1 < len(body):
            out.append(_ESCAPES.get(body[i + 1], body[i + 1]))
            i += 2
        else:
            out.append(body[i])
            i += 1
    return "".join(out)


def tokenize_line(text: str, loc: Loc, in_comment: bool = False):
    """Return ``(tokens, in_comment)`` for one line; ``tokens`` ends with an "eol"."""
    tokens, pos = [], 0
    while pos < len(text):
        if in_comment:
            end = text.find("*/", pos)
            if end < 0:
                pos = len(text)
                break
            pos, in_comment = end + 2, False
            continue
        if text.startswith("/*", pos):
            in_comment, pos = True, pos + 2
            continue
        if text[pos] == "#" or text.startswith("//", pos):
            break
        m = _TOKEN.match(text, pos)
        if not m:
            raise AsmError.at(loc.at(pos + 1), f"The character {text[pos]!r} cannot start "
                              "a token; expected a mnemonic, directive, label, register, "
                              "number, string or operator.")
        kind, lexeme, col = m.lastgroup, m.group(), pos + 1
        pos = m.end()
        if kind == "ws":
            continue
        if kind == "num":
            digits = lexeme.replace("_", "")
            base = 0 if digits[:2].lower() in ("0x", "0b") else 10
            tokens.append(Token("num", lexeme, col, int(digits, base)))
        elif kind == "char":
            tokens.append(Token("num", lexeme, col, ord(_unescape(lexeme[1:-1]))))
        elif kind == "str":
            tokens.append(Token("str", lexeme, col, _unescape(lexeme[1:-1])))
        elif kind == "func":
            tokens.append(Token("func", lexeme, col, lexeme[1:].lower()))
        else:
            tokens.append(Token(kind, lexeme, col))
    tokens.append(Token("eol", "", len(text) + 1))
    return tokens, in_comment


def describe(tok: Token) -> str:
    """How an error message names a token."""
    return "the end of the line" if tok.kind == "eol" else f"'{tok.text}'"


class Cursor:
    """A position in a token list of one statement."""

    def __init__(self, tokens, loc: Loc):
        self.tokens, self.pos, self.loc = tokens, 0, loc

    def peek(self, ahead: int = 0) -> Token:
        return self.tokens[min(self.pos + ahead, len(self.tokens) - 1)]

    def next(self) -> Token:
        tok = self.peek()
        if tok.kind != "eol":
            self.pos += 1
        return tok

    def at_op(self, text: str, ahead: int = 0) -> bool:
        tok = self.peek(ahead)
        return tok.kind == "op" and tok.text == text

    def at_end(self) -> bool:
        return self.peek().kind == "eol"

    def error(self, sentence: str, tok: Token | None = None) -> AsmError:
        return AsmError.at(self.loc.at((tok or self.peek()).col), sentence)

    def expect_op(self, text: str, context: str) -> Token:
        if not self.at_op(text):
            raise self.error(f"Expected '{text}' {context} but found "
                             f"{describe(self.peek())}.")
        return self.next()

    def expect_end(self, context: str) -> None:
        if not self.at_end():
            raise self.error(f"Unexpected {describe(self.peek())} {context}; expected "
                             "the end of the statement.")
