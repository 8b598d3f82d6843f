"""Lowering: a population's symbolic update to a straight-line vector IR for one chunk.

One *chunk* is ``lanes`` neurons. :func:`lower_population` turns the model's ordered
``update`` assignments, its ``spike`` condition and its ``reset`` assignments into a list
of :class:`Ins` on virtual registers, with every value in a fixed-point format chosen by
:mod:`.fixedpoint`. The code generator allocates registers (:mod:`.regalloc`),
replicates the IR for every chunk and resolves the memory references.

Values: ``("v", n)`` virtual vector register, ``("x", n)`` virtual scalar (a lane mask),
``("acc",)`` the chunk's input accumulator, ``("k", i)`` the i-th broadcast constant of
:attr:`Lowered.consts` (kept in a register when possible, else rematerialised by vlui).
Memory references: ``("state", var)``, ``("carr", i)`` (a per-neuron constant array),
``("rmax", name)`` (a running-maximum readout), all inside the chunk's block.

Rules: constant subtrees are folded at compile time (scalars or per-neuron arrays);
``x * 1``, ``x + 0`` vanish; a state variable's product by a constant in (0, 1)
inside its own update (a decay) rounds with the plan's rounding mode (stochastic by
default) and, with ``plan.precise_decay``, is computed as ``x - x * (1 - c)`` with the
complement in up to 30 fraction bits (:meth:`_Lowerer.precise_decay`); other products
and alignment shifts round half up; every add, subtract, multiply and left shift saturates. Comparisons give
masks (``vtlt``/``vtge``/``vteq``/``vtne``), ``&``/``|``/``~`` become scalar
``and``/``or``/``xori``, and ``where`` and the resets become ``vsel``. Division by a
non-constant raises :class:`CompileError`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .expr import CompileError, evaluate
from .fixedpoint import _is_const, frac_for, quantise
from .predecay import split_update

__all__ = ["Ins", "Lowered", "lower_population", "ROUND"]

ROUND = {"floor": 0, "nearest": 1, "stochastic": 2}
_CMP = {"gt": ("vtlt", True), "lt": ("vtlt", False), "ge": ("vtge", False),
        "le": ("vtge", True), "eq": ("vteq", False), "ne": ("vtne", False)}


@dataclass
class Ins:
    """One IR instruction: mnemonic-like ``op``, destination value (or None), source
    values, attributes (immediates, modifiers, memory reference). A ``vstore`` with
    ``sync`` set writes a state that lives in its accumulator register for the whole run
    (a pre-decayed state): the program never reads that memory copy, so the code
    generator may store it only when the core is about to stop (:mod:`.codegen_update`)."""
    op: str
    dst: tuple | None
    srcs: tuple = ()
    attrs: dict = field(default_factory=dict)


@dataclass
class Lowered:
    """The IR of one chunk plus what it needs: broadcast constants (int16 values),
    per-neuron constant arrays (``(label, frac, float array [size])``) and whether the
    chunk block holds a bias vector for the accumulator."""
    ins: list
    consts: list
    carrays: list
    states: list
    n_virtual: int
    pre_decay: bool = False


class _Lowerer:
    def __init__(self, pop, pf, plan, net, records, rmax):
        self.pop, self.pf, self.plan, self.dt = pop, pf, plan, net.dt
        self.records, self.rmax, self.rmax_regs = records, rmax, False
        self.ins, self.consts, self.carrays, self.n = [], [], [], 0
        self.env, self.target = {}, None
        # the root of an assignment is computed in its target's format (the result
        # saturates to that format anyway, so a coarser intermediate only loses bits)
        self.root, self.cmp_operands, self.split = None, set(), None
        self.cenv = dict(pop.consts, dt=net.dt)
        self.mode = ROUND[plan.rounding]

    def roomfor(self, e):
        """Headroom a node needs in a hinted format: the plan's margin, or none for an
        operand of a comparison (a saturated operand compares correctly)."""
        return 1.0 if e in self.cmp_operands else self.plan.margin

    def new(self, cls="v"):
        self.n += 1
        return (cls, self.n)

    def emit(self, op, dst, srcs=(), **attrs):
        self.ins.append(Ins(op, dst, tuple(srcs), attrs))
        return dst

    def kconst(self, q: int):
        q = int(np.clip(q, -32768, 32767))
        if q not in self.consts:
            self.consts.append(q)
        return ("k", self.consts.index(q))

    def carr(self, values, frac, what):
        self.carrays.append((what, frac, np.asarray(values, np.float64)))
        return self.emit("vload", self.new(), mem=("carr", len(self.carrays) - 1))

    # formats -----------------------------------------------------------------------------
    def natural(self, e, hint):
        m = self.pf.ranges.get(id(e), 0.0)
        if hint is not None and (e is self.root or m * self.roomfor(e) <= 2.0 ** (15 - hint)):
            return hint
        return frac_for(m, self.plan.margin)

    def align(self, val, frm, to):
        if to == frm:
            return val
        if to < frm:
            return self.emit("vsrai", self.new(), (val,), shamt=min(15, frm - to),
                             round=ROUND["nearest"])
        return self.emit("vslli", self.new(), (val,), shamt=min(15, to - frm), sat=1)

    def materialise(self, c, frac, what="constant"):
        """A register holding constant ``c`` (scalar or array) in format ``frac``."""
        if np.ndim(c) == 0:
            return self.kconst(int(quantise(float(c), frac)))
        return self.carr(c, frac, what)

    # values ------------------------------------------------------------------------------
    def value(self, e, hint):
        """Lower value expression ``e``; returns ``(register, frac)`` or ``("const", c)``."""
        if _is_const(e):
            return ("const", evaluate(e, self.cenv))
        if e is self.pf.fold:
            return ("acc",), self.pf.acc
        op = e.op
        if op == "sym":
            if e.value == "I":
                return ("acc",), self.pf.acc
            return self.env[e.value]
        f = self.natural(e, hint)
        if op in ("add", "sub"):
            return self.addsub(e, f)
        if op == "mul":
            return self.mul(e, f)
        if op == "div":
            a, b = e.args
            if not _is_const(b):
                raise CompileError(f"Population {self.pop.name!r} ({self.pop.model.name}): "
                                   f"the division {e!r} has a non-constant divisor; the core "
                                   "has no divider, so divide only by parameters or numbers.")
            c = 1.0 / np.asarray(evaluate(b, self.cenv), np.float64)
            lo = self.value(a, None)
            return self.scale(self.reg(lo, None), c, f, self.own_frac(lo))
        if op == "neg":
            x = self.reg(self.value(e.args[0], f), f)
            return self.emit("vsub", self.new(), (self.kconst(0), x), sat=1), f
        if op in ("min", "max"):
            a = self.reg(self.value(e.args[0], f), f)
            b = self.reg(self.value(e.args[1], f), f)
            return self.emit("v" + op, self.new(), (a, b)), f
        if op == "where":
            mask = self.cond(e.args[0])
            a = self.reg(self.value(e.args[1], f), f)
            b = self.reg(self.value(e.args[2], f), f)
            return self.emit("vsel", self.new(), (b, mask, a)), f
        raise CompileError(f"Population {self.pop.name!r}: the expression node {op!r} in "
                           f"{e!r} cannot be lowered to vector code; use arithmetic, "
                           "comparisons, where, minimum and maximum.")

    def reg(self, lowered, frac, what="constant"):
        """A register in format ``frac`` (None: keep the value's own format)."""
        if lowered[0] == "const":
            if frac is None:
                frac = frac_for(float(np.max(np.abs(lowered[1]), initial=0)), self.plan.margin)
            return self.materialise(lowered[1], frac, what)
        val, f = lowered
        return val if frac is None else self.align(val, f, frac)

    def own_frac(self, lowered):
        return lowered[1] if lowered[0] != "const" else None

    def addsub(self, e, f):
        if e is self.root:          # `x + 0` passes the root's format on to x
            for x, y in (e.args, e.args[::-1]):
                if _is_const(y) and np.all(np.asarray(evaluate(y, self.cenv)) == 0):
                    self.root = x
        a, b = (self.value(x, f) for x in e.args)
        if a[0] == "const" and e.op == "add":
            a, b = b, a
        if b[0] == "const":
            c = np.asarray(b[1], np.float64)
            if np.all(c == 0):
                return self.reg(a, f), f
            if e.op == "sub" and a[0] != "const":
                c = -c
                if np.ndim(c) == 0:
                    q = int(quantise(float(c), f))
                    x = self.reg(a, f)
                    if -2048 <= q <= 2047:
                        return self.emit("vaddi", self.new(), (x,), imm=q, sat=1), f
                    return self.emit("vadd", self.new(), (x, self.kconst(q)), sat=1), f
                return self.emit("vadd", self.new(), (self.reg(a, f),
                                                      self.materialise(c, f)), sat=1), f
            if np.ndim(c) == 0 and -2048 <= int(quantise(float(c), f)) <= 2047:
                return self.emit("vaddi", self.new(), (self.reg(a, f),),
                                 imm=int(quantise(float(c), f)), sat=1), f
        x, y = self.reg(a, f), self.reg(b, f)
        return self.emit("v" + e.op, self.new(), (x, y), sat=1), f

    def mul(self, e, f):
        a, b = (self.value(x, None) for x in e.args)
        if a[0] == "const":
            a, b = b, a
        if b[0] == "const":
            x = e.args[0] if e.args[1] is not None and _is_const(e.args[1]) else e.args[1]
            decay = x.op == "sym" and x.value == self.target
            return self.scale(self.reg(a, None), np.asarray(b[1], np.float64), f,
                              self.own_frac(a), decay)
        (x, fx), (y, fy) = a, b
        s = fx + fy - f
        if s > 15:
            x, fx = self.align(x, fx, fx - (s - 15)), fx - (s - 15)
            s = 15
        out = self.emit("vmul", self.new(), (x, y), shift=max(s, 0),
                        round=ROUND["nearest"], sat=1)
        return (self.align(out, 0, -s) if s < 0 else out), f

    def scale(self, x, c, f, fx=None, decay=False):
        """``x * c`` for a constant scalar or per-neuron array ``c``; x's format ``fx``."""
        if fx is None:
            fx = f
        cmax = float(np.max(np.abs(c), initial=0.0))
        if cmax == 0.0:
            return self.kconst(0), f
        if np.ndim(c) == 0 and c == 1.0:
            return self.align(x, fx, f), f
        fc = 15 if cmax * 2 ** 15 < 32767.5 else 15 - math.ceil(math.log2(cmax * 2 ** 15 / 32767.5))
        s = fx + fc - f
        if s > 15:
            fc -= s - 15
            s = 15
        if fc < 0:
            x, fx, fc = self.align(x, fx, fx + fc), fx + fc, 0
            s = fx + fc - f
        decay = decay and cmax < 1.0 and np.all(np.asarray(c) > 0)
        if decay and self.plan.precise_decay:
            out = self.precise_decay(x, np.asarray(c, np.float64), f, fx, fc)
            if out is not None:
                return out, f
        rnd = self.mode if decay else ROUND["nearest"]
        fine = min(30, int(math.floor(math.log2(32767.5 / cmax))))
        if fine > fc and fx + fine - f > 15 and fc >= 0:
            # a small factor: hold it in all 15 bits (``fine`` fraction bits) and shift the
            # product in two steps, instead of losing its low bits to the 15-bit shift
            s2 = min(15, fx + fine - f - 15)
            k = self.materialise(c, f + 15 + s2 - fx, "factor")
            out = self.emit("vmul", self.new(), (x, k), shift=15, round=ROUND["nearest"], sat=1)
            return self.emit("vsrai", self.new(), (out,), shamt=s2, round=rnd), f
        k = self.materialise(c, fc, "factor")
        out = self.emit("vmul", self.new(), (x, k), shift=max(s, 0), round=rnd, sat=1)
        return (self.align(out, 0, -s) if s < 0 else out), f

    def precise_decay(self, x, c, f, fx, fc):
        """``x * c`` for a decay ``0 < c < 1`` as ``x - x * (1 - c)``, with ``1 - c`` held
        in up to 30 fraction bits (a vmul with shift 15, then a rounding vsrai), so the
        constant's quantisation error is below 2**-20 instead of 2**-16; or None when
        that gains nothing. Why: a decay constant's relative error ``e`` biases the
        variable by ``e / (1 - c)`` in steady state (a 0.995 adaptation decay stored in
        15 bits shifts an ALIF threshold by several LSBs), which moves spike times."""
        k = 1.0 - c
        kmax = float(np.max(k))
        fck = min(30, int(math.floor(math.log2(32767.0 / kmax))))
        S = fx + fck - f
        if fck <= fc or S < 16:
            return None
        s1, s2 = 15, S - 15
        if s2 > 15:
            fck, s2 = fck - (s2 - 15), 15
        kq = self.materialise(k, fck, "decay complement")
        t = self.emit("vmul", self.new(), (x, kq), shift=s1, round=ROUND["nearest"], sat=1)
        t = self.emit("vsrai", self.new(), (t,), shamt=s2, round=self.mode)
        return self.emit("vsub", self.new(), (self.align(x, fx, f), t), sat=1)

    # conditions --------------------------------------------------------------------------
    def cond(self, e):
        if e.op in ("and", "or"):
            a, b = self.cond(e.args[0]), self.cond(e.args[1])
            return self.emit(e.op, self.new("x"), (a, b))
        if e.op == "not":
            return self.emit("xori", self.new("x"), (self.cond(e.args[0]),), imm=-1)
        if e.op not in _CMP:
            raise CompileError(f"Population {self.pop.name!r}: {e!r} is not a condition the "
                               "core can evaluate; use comparisons combined with &, |, ~.")
        # a state variable side sets the format; the other side is computed in it
        syms = [x for x in e.args if x.op == "sym" and x.value in self.env]
        hint = self.env[syms[0].value][1] if syms else None
        self.cmp_operands.update(e.args)
        a, b = (self.value(x, hint) for x in e.args)
        if a[0] == "const" and b[0] == "const":
            raise CompileError(f"Population {self.pop.name!r}: the condition {e!r} compares "
                               "two constants; it is the same in every step, so remove it.")
        # compare in the finer format: the saturating left shift of the coarser operand
        # keeps the comparison exact (a value beyond the finer range saturates, and the
        # other operand, which lives in that range, compares the same way against it)
        f = max(x[1] for x in (a, b) if x[0] != "const")
        x, y = self.reg(a, f, "threshold"), self.reg(b, f, "threshold")
        name, swap = _CMP[e.op]
        return self.emit(name, self.new("x"), (y, x) if swap else (x, y))

    # the whole update --------------------------------------------------------------------
    def run(self):
        model, split = self.pop.model, self.split
        for var in model.states:
            if split and var == split[0]:       # T arrives in the accumulator
                self.env[var] = (("acc",), self.pf.state[var])
                continue
            self.env[var] = (self.emit("vload", self.new(), mem=("state", var)),
                             self.pf.state[var])
        for n, (var, e) in enumerate(model.update):
            if split and n == 0:
                continue
            fv, self.target, self.root = self.pf.state[var], var, e
            self.env[var] = (self.reg(self.value(e, fv), fv), fv)
        self.root = None
        mask, self.target = None, None
        if model.spike is not None:
            mask = self.cond(model.spike)
            for var, e in model.reset:
                fv, self.root = self.pf.state[var], e
                new = self.reg(self.value(e, fv), fv)
                old = self.env[var][0]      # a pre-decayed T is reset in its accumulator
                self.env[var] = (self.emit("vsel", old if old == ("acc",) else self.new(),
                                           (old, mask, new)), fv)
        changed = {v for v, _ in model.update} | {v for v, _ in model.reset}
        for var in model.states:
            if var in changed:      # sync: the run never reads it back (see Ins)
                self.emit("vstore", None, (self.env[var][0],), mem=("state", var),
                          sync=bool(split and var == split[0]))
        for var in self.records:
            self.emit("record", None, (self.env[var][0],), var=var)
        for name, var in self.rmax:
            if self.rmax_regs:      # a fixed register for the run (codegen_step)
                self.emit("vmax", ("rmx", name), (("rmx", name), self.env[var][0]))
                continue
            old = self.emit("vload", self.new(), mem=("rmax", name))
            new = self.emit("vmax", self.new(), (old, self.env[var][0]))
            self.emit("vstore", None, (new,), mem=("rmax", name))
        if mask is not None:
            self.emit("mask_out", None, (mask,))
        if split:
            self.next_accumulator()
        return Lowered(self.ins, self.consts, self.carrays, list(model.states), self.n,
                       split is not None)

    def next_accumulator(self):
        """Pre-decay (:mod:`.predecay`): accumulator = E(T) + bias, written last."""
        var, E = self.split
        fv, self.target, self.root = self.pf.state[var], var, E
        val = self.reg(self.value(E, fv), fv)
        if self.pf.bias_q is not None:
            bias = self.emit("vload", self.new(), mem=("bias",))
            val = self.emit("vadd", self.new(), (val, bias), sat=1)
        if val == ("acc",):
            return
        last = self.ins[-1]
        if last.dst == val and not any(val in i.srcs for i in self.ins):
            last.dst = ("acc",)             # the last instruction writes it directly
        else:
            self.emit("vmv", ("acc",), (val,))

    def initial_accumulator(self):
        """The IR that sets the accumulator before the first step: E(T_init) + bias."""
        var = self.split[0]
        self.env[var] = (self.emit("vload", self.new(), mem=("state", var)),
                         self.pf.state[var])
        self.next_accumulator()
        return Lowered(self.ins, self.consts, self.carrays, [var], self.n, True)


def lower_population(pop, pf, plan, net, records=(), rmax=(), pre_decay=False,
                     rmax_regs=False) -> tuple:
    """Lower ``pop``'s model with formats ``pf`` (a :class:`~.fixedpoint.PopFormats`).
    ``records``: state variables stored to their output ring each step; ``rmax``:
    ``(readout name, var)`` pairs kept as running maxima; ``pre_decay``: use a
    pre-decayed accumulator when the model qualifies (:mod:`.predecay`). Returns
    ``(update IR, initial-accumulator IR or None)``; both share the constant arrays
    (the second is lowered after the first, so its array indices extend the first's).
    ``rmax_regs``: the running maxima are the fixed operands ``("rmx", name)`` instead
    of vector-memory rows."""
    low = _Lowerer(pop, pf, plan, net, list(records), list(rmax))
    low.rmax_regs = rmax_regs
    low.split = split_update(pop.model, pf.fold) if pre_decay else None
    update = low.run()
    if not low.split:
        return update, None
    init = _Lowerer(pop, pf, plan, net, [], [])
    init.split, init.consts, init.carrays = low.split, list(low.consts), low.carrays
    return update, init.initial_accumulator()
