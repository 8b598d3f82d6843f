"""Constant expressions of the assembly language.

Grammar (C precedence, lowest first): ``|``, ``^``, ``&``, ``<< >>``, ``+ -``,
``* / %``, unary ``- + ~``, primary. A primary is a number (decimal, ``0x``, ``0b``,
``'c'``), a symbol, ``.`` (the address of the current statement), ``%hi(e)``, ``%lo(e)``
or ``(e)``. Parsing builds an :class:`Expr` tree so that the first pass can lay out the
program before every symbol is known; :meth:`Expr.eval` computes the value once they are.

Contract: :func:`parse_expr` raises :class:`AsmError` naming the unexpected token;
:meth:`Expr.eval` raises :class:`Undefined` (carrying the symbol's location) for a
symbol missing from the environment, and :class:`AsmError` for division by zero or a
``%hi``/``%lo`` argument outside 32 bits.
"""
from __future__ import annotations

from dataclasses import dataclass

from ...hw.isa.pseudo import hi_part, lo_part
from .lexer import AsmError, Cursor, Loc, describe

__all__ = ["Expr", "Const", "Sym", "Dot", "Unary", "Binary", "Func", "Undefined",
           "parse_expr", "const"]


class Undefined(Exception):
    """Evaluation met a symbol that is not (yet) defined."""

    def __init__(self, name: str, loc: Loc | None):
        super().__init__(name)
        self.name, self.loc = name, loc


class Expr:
    loc: Loc | None = None

    def eval(self, env) -> int:
        """``env`` has ``lookup(name) -> int | None`` and ``dot`` (an int)."""
        raise NotImplementedError

    def try_eval(self, env):
        """The value, or ``None`` if a symbol is undefined."""
        try:
            return self.eval(env)
        except Undefined:
            return None


@dataclass(frozen=True)
class Const(Expr):
    value: int
    loc: Loc | None = None

    def eval(self, env):
        return self.value


@dataclass(frozen=True)
class Sym(Expr):
    name: str
    loc: Loc | None = None

    def eval(self, env):
        value = env.lookup(self.name)
        if value is None:
            raise Undefined(self.name, self.loc)
        return value


@dataclass(frozen=True)
class Dot(Expr):
    loc: Loc | None = None

    def eval(self, env):
        return env.dot


_UNARY = {"-": lambda a: -a, "+": lambda a: a, "~": lambda a: ~a}
_BINARY = {"|": lambda a, b: a | b, "^": lambda a, b: a ^ b, "&": lambda a, b: a & b,
           "<<": lambda a, b: a << b, ">>": lambda a, b: a >> b,
           "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
           "/": lambda a, b: int(a / b), "%": lambda a, b: a - b * int(a / b)}
_LEVELS = (("|",), ("^",), ("&",), ("<<", ">>"), ("+", "-"), ("*", "/", "%"))
_FUNCS = {"hi": hi_part, "lo": lo_part}


@dataclass(frozen=True)
class Unary(Expr):
    op: str
    arg: Expr
    loc: Loc | None = None

    def eval(self, env):
        return _UNARY[self.op](self.arg.eval(env))


@dataclass(frozen=True)
class Binary(Expr):
    op: str
    left: Expr
    right: Expr
    loc: Loc | None = None

    def eval(self, env):
        a, b = self.left.eval(env), self.right.eval(env)
        if self.op in "/%" and b == 0:
            raise AsmError.at(self.loc, f"Division by zero in '{self.op}'; the divisor "
                                        "must not be 0.")
        if self.op in ("<<", ">>") and not 0 <= b < 64:
            raise AsmError.at(self.loc, f"Shift count {b} is out of range; use 0 to 63.")
        return _BINARY[self.op](a, b)


@dataclass(frozen=True)
class Func(Expr):
    name: str        # "hi" or "lo"
    arg: Expr
    loc: Loc | None = None

    def eval(self, env):
        value = self.arg.eval(env)
        if not -(1 << 31) <= value < (1 << 32):
            raise AsmError.at(self.loc, f"The argument of %{self.name} is {value}, which "
                                        "does not fit in 32 bits.")
        return _FUNCS[self.name](value)


def const(value) -> Expr:
    """Wrap an int (or pass an Expr through)."""
    return value if isinstance(value, Expr) else Const(int(value))


def parse_expr(cur: Cursor) -> Expr:
    """Parse one expression at the cursor; stops before a token that cannot continue it."""
    return _parse_level(cur, 0)


def _parse_level(cur: Cursor, level: int) -> Expr:
    if level == len(_LEVELS):
        return _parse_unary(cur)
    left = _parse_level(cur, level + 1)
    while cur.peek().kind == "op" and cur.peek().text in _LEVELS[level]:
        tok = cur.next()
        right = _parse_level(cur, level + 1)
        left = Binary(tok.text, left, right, cur.loc.at(tok.col))
    return left


def _parse_unary(cur: Cursor) -> Expr:
    tok = cur.peek()
    if tok.kind == "op" and tok.text in _UNARY:
        cur.next()
        return Unary(tok.text, _parse_unary(cur), cur.loc.at(tok.col))
    return _parse_primary(cur)


def _parse_primary(cur: Cursor) -> Expr:
    tok = cur.next()
    loc = cur.loc.at(tok.col)
    if tok.kind == "num":
        return Const(tok.value, loc)
    if tok.kind == "ident":
        return Dot(loc) if tok.text == "." else Sym(tok.text, loc)
    if tok.kind == "func":
        if tok.value not in _FUNCS:
            raise cur.error(f"Unknown operator '{tok.text}'; expected %hi or %lo.", tok)
        cur.expect_op("(", f"after '{tok.text}'")
        arg = parse_expr(cur)
        cur.expect_op(")", f"to close '{tok.text}('")
        return Func(tok.value, arg, loc)
    if tok.kind == "op" and tok.text == "(":
        inner = parse_expr(cur)
        cur.expect_op(")", "to close the parenthesis")
        return inner
    raise cur.error(f"Expected a number, symbol or expression but found {describe(tok)}.",
                    tok)
