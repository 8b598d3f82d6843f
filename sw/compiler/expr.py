"""Symbolic expressions for neuron updates: built by operator overloading, run by numpy.

A neuron model's update is a short list of assignments ``var = expr`` whose right-hand
sides are trees of :class:`Expr` nodes. The float reference evaluates the trees on numpy
arrays (:func:`evaluate`); the code generator walks the same trees and lowers every node
to vector instructions. Conditions (comparisons, ``&``, ``|``, ``~``) are lane masks and
:func:`where` is a mask-and-select, so nothing here needs a branch on lane data.

Node kinds (``Expr.op``) and their meaning, all elementwise:

====================  ===========================================================
``sym``               a named symbol: a state variable, a parameter, a derived
                      parameter, the synaptic input ``I`` or the timestep ``dt``
``const``             a Python float
``add sub mul div``   arithmetic (``div`` only in derived parameters is cheap; in an
                      update the code generator needs a constant divisor)
``neg``               negation
``lt le gt ge eq ne`` comparisons, giving a boolean mask
``and or not``        mask logic
``where``             ``where(cond, a, b)``: a where the mask is set, else b
``min max``           elementwise minimum and maximum
====================  ===========================================================

Contract: an :class:`Expr` is immutable and hashable by identity; Python's ``==`` is
kept for identity so expressions can live in sets and dicts, and equality comparisons
are written :func:`eq` / :func:`ne`. Using an expression as a Python bool raises
:class:`CompileError` (``if v > thr:`` would silently pick one branch for all lanes).
"""
from __future__ import annotations

import numbers

import numpy as np

__all__ = ["CompileError", "Expr", "Sym", "const", "where", "minimum", "maximum",
           "eq", "ne", "evaluate", "symbols", "ARITH", "COMPARE", "LOGIC"]

ARITH = ("add", "sub", "mul", "div", "neg", "min", "max", "where")
COMPARE = ("lt", "le", "gt", "ge", "eq", "ne")
LOGIC = ("and", "or", "not")


class CompileError(ValueError):
    """A network, neuron model or NIR graph that spikevec cannot compile."""


def _wrap(x) -> "Expr":
    if isinstance(x, Expr):
        return x
    if isinstance(x, (bool, np.bool_)):
        raise CompileError(f"The value {x!r} is a bool; use 1.0 or 0.0 in a neuron "
                           "expression, or a comparison for a condition.")
    if isinstance(x, numbers.Real):
        if not np.isfinite(x):
            raise CompileError(f"The constant {x!r} in a neuron expression is not finite; "
                               "only finite numbers are allowed.")
        return Expr("const", (), float(x))
    raise CompileError(f"Cannot use {x!r} (of type {type(x).__name__}) in a neuron "
                       "expression; use symbols of the model, numbers, or Expr nodes.")


class Expr:
    """One node of an expression tree: ``op``, operand nodes ``args`` and, for ``sym``
    and ``const``, a ``value`` (the symbol name or the float)."""

    __slots__ = ("op", "args", "value", "kind")

    def __init__(self, op: str, args: tuple = (), value=None, kind: str | None = None):
        self.op, self.args, self.value, self.kind = op, tuple(args), value, kind

    # arithmetic
    def __add__(self, o): return Expr("add", (self, _wrap(o)))
    def __radd__(self, o): return Expr("add", (_wrap(o), self))
    def __sub__(self, o): return Expr("sub", (self, _wrap(o)))
    def __rsub__(self, o): return Expr("sub", (_wrap(o), self))
    def __mul__(self, o): return Expr("mul", (self, _wrap(o)))
    def __rmul__(self, o): return Expr("mul", (_wrap(o), self))
    def __truediv__(self, o): return Expr("div", (self, _wrap(o)))
    def __rtruediv__(self, o): return Expr("div", (_wrap(o), self))
    def __neg__(self): return Expr("neg", (self,))
    def __pos__(self): return self

    # comparisons give masks
    def __lt__(self, o): return Expr("lt", (self, _wrap(o)))
    def __le__(self, o): return Expr("le", (self, _wrap(o)))
    def __gt__(self, o): return Expr("gt", (self, _wrap(o)))
    def __ge__(self, o): return Expr("ge", (self, _wrap(o)))

    # mask logic
    def __and__(self, o): return Expr("and", (self, _wrap(o)))
    def __or__(self, o): return Expr("or", (self, _wrap(o)))
    def __invert__(self): return Expr("not", (self,))

    def __bool__(self):
        raise CompileError(
            f"The expression {self} was used as a Python bool (an `if`, `and`, `or` or "
            "`not` on lane data); use where(cond, a, b) and the operators &, |, ~ instead.")

    __hash__ = object.__hash__

    def __eq__(self, o):  # identity, see the module contract
        return self is o

    @property
    def is_condition(self) -> bool:
        return self.op in COMPARE or self.op in LOGIC

    def __repr__(self):
        if self.op == "sym":
            return str(self.value)
        if self.op == "const":
            return repr(self.value)
        infix = {"add": "+", "sub": "-", "mul": "*", "div": "/", "lt": "<", "le": "<=",
                 "gt": ">", "ge": ">=", "eq": "==", "ne": "!=", "and": "&", "or": "|"}
        if self.op in infix:
            a, b = self.args
            return f"({a!r} {infix[self.op]} {b!r})"
        if self.op == "neg":
            return f"(-{self.args[0]!r})"
        if self.op == "not":
            return f"(~{self.args[0]!r})"
        return f"{self.op}({', '.join(map(repr, self.args))})"


def Sym(name: str, kind: str) -> Expr:
    """A named symbol of the given kind: 'state', 'param', 'derived', 'input' or 'dt'."""
    return Expr("sym", (), name, kind)


def const(x: float) -> Expr:
    return _wrap(x)


def where(cond, a, b) -> Expr:
    """Mask-and-select: ``a`` in the lanes where ``cond`` holds, ``b`` elsewhere."""
    cond = _wrap(cond)
    if not cond.is_condition:
        raise CompileError(f"The first argument of where() must be a condition (a "
                           f"comparison or a mask expression), not {cond!r}.")
    return Expr("where", (cond, _wrap(a), _wrap(b)))


def minimum(a, b) -> Expr:
    return Expr("min", (_wrap(a), _wrap(b)))


def maximum(a, b) -> Expr:
    return Expr("max", (_wrap(a), _wrap(b)))


def eq(a, b) -> Expr:
    return Expr("eq", (_wrap(a), _wrap(b)))


def ne(a, b) -> Expr:
    return Expr("ne", (_wrap(a), _wrap(b)))


_NUMPY = {
    "add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide,
    "lt": np.less, "le": np.less_equal, "gt": np.greater, "ge": np.greater_equal,
    "eq": np.equal, "ne": np.not_equal, "and": np.logical_and, "or": np.logical_or,
    "min": np.minimum, "max": np.maximum,
}


def evaluate(expr: Expr, env: dict):
    """Evaluate ``expr`` with numpy; ``env`` maps every symbol name to a number or array.

    Shared subtrees are evaluated once. A symbol missing from ``env`` raises
    :class:`CompileError` naming it.
    """
    memo: dict[int, object] = {}

    def ev(e: Expr):
        key = id(e)
        if key in memo:
            return memo[key]
        if e.op == "sym":
            try:
                r = env[e.value]
            except KeyError:
                raise CompileError(f"The symbol {e.value!r} ({e.kind}) has no value here; "
                                   f"known symbols are {sorted(env)}.") from None
        elif e.op == "const":
            r = e.value
        elif e.op == "neg":
            r = np.negative(ev(e.args[0]))
        elif e.op == "not":
            r = np.logical_not(ev(e.args[0]))
        elif e.op == "where":
            r = np.where(ev(e.args[0]), ev(e.args[1]), ev(e.args[2]))
        else:
            r = _NUMPY[e.op](ev(e.args[0]), ev(e.args[1]))
        memo[key] = r
        return r

    return ev(expr)


def symbols(expr: Expr) -> dict[str, str]:
    """All symbols used by ``expr``, as ``{name: kind}``."""
    out, stack, seen = {}, [expr], set()
    while stack:
        e = stack.pop()
        if id(e) in seen:
            continue
        seen.add(id(e))
        if e.op == "sym":
            out[e.value] = e.kind
        stack.extend(e.args)
    return out
