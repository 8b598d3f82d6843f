"""Pre-decayed accumulators: the input accumulator starts each step at the decayed state.

Most neuron models update the variable that receives the synaptic input first and
linearly in it: ``T = E(T) + c * I`` (LIF: ``v = alpha*v + b_in*I + c_leak``; CubaLIF:
``isyn = alpha_syn*isyn + b_syn*I``; IF, LI, ALIF likewise), and :mod:`.fixedpoint`
folds ``c`` into the weights, so the accumulator holds ``c * I`` in ``T``'s format. The
resident code path (:mod:`.codegen`) keeps every accumulator in a vector register for
the whole run, so the addition can move: at the end of step ``t`` (after the spike and
the reset) the update writes ``E(T) + bias`` into the accumulator, the spikes of step
``t + 1`` are accumulated on top of it, and the update of step ``t + 1`` starts with
``T = accumulator``. The state ``T`` is then neither loaded nor added to, and the
accumulator needs no clearing: 3 vector instructions fewer per chunk and step. The
arithmetic is the same; only the saturation points differ (each ``vlacc`` saturates in
``T``'s format instead of the accumulator before one saturating add), and stochastic
rounding draws its random bits one step earlier.

:func:`split_update` says whether a model qualifies and returns ``(T, E)``:

* the folded product is reached from the root of ``T``'s update only through ``+`` (or
  the left side of ``-``), so ``T = E + fold`` exactly;
* ``T``'s update is the model's first assignment and ``E`` uses only ``T``, parameters
  and ``dt``, so ``E`` can be evaluated on the state as it is after the reset.

The initial accumulator (``E(T_init) + bias``) is computed at ``__start``.
"""
from __future__ import annotations

from .expr import Expr, const, symbols

__all__ = ["split_update", "replace"]


def replace(e: Expr, old: Expr, new: Expr) -> Expr:
    """``e`` with the node ``old`` (by identity) replaced by ``new``."""
    memo = {}

    def walk(n):
        if n is old:
            return new
        if id(n) in memo:
            return memo[id(n)]
        if not n.args:
            out = n
        else:
            args = tuple(walk(a) for a in n.args)
            out = n if all(a is b for a, b in zip(args, n.args)) else \
                Expr(n.op, args, n.value, n.kind)
        memo[id(n)] = out
        return out

    return walk(e)


def _additive(e: Expr, fold: Expr) -> bool | None:
    """True when ``fold`` is reached from ``e`` through additions only, False when it is
    reached otherwise, None when it is not in ``e``."""
    if e is fold:
        return True
    found = [(_additive(a, fold), i) for i, a in enumerate(e.args)]
    hits = [(r, i) for r, i in found if r is not None]
    if not hits:
        return None
    if len(hits) > 1:
        return False
    r, i = hits[0]
    return r and (e.op == "add" or (e.op == "sub" and i == 0))


def split_update(model, fold) -> tuple | None:
    """``(T, E)`` when the model's input can be pre-decayed (see the module doc)."""
    if fold is None or not model.update:
        return None
    target, root = model.update[0]
    if _additive(root, fold) is not True:
        return None
    E = replace(root, fold, const(0.0))
    used = symbols(E)
    if any(k not in ("param", "derived", "dt") and name != target
           for name, k in used.items()):
        return None
    return target, E
