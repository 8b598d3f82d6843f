"""Fixed-point formats: calibration, automatic choice per variable, weight scaling, report.

Every 16-bit value on the core is a signed fixed-point number ``sI.F`` with ``I + F = 15``:
the integer ``q`` stands for ``q / 2**F`` and the range is ``[-2**I, 2**I)``. A format is
represented here by its number of fraction bits ``F`` (0 .. 15).

How formats are chosen (:func:`plan_formats`):

1. **Calibration**: the float reference (:func:`~.reference.simulate`) runs on sample
   input (the user's, else Bernoulli spikes with probability ``rate`` per channel and
   step), recording every state and spike train. Every node of every update, spike and
   reset expression is then evaluated on the recorded trajectories
   (:func:`node_ranges`), giving the maximum absolute value each node takes.
2. A state variable gets the finest format whose range holds ``margin`` times the larger
   of its calibrated maximum, its initial values and the constants it is compared with
   (thresholds) or reset to. Manual overrides (``formats={"hid.v": "s5.10"}``) win.
3. The synaptic input: when a model uses ``I`` only as ``c * I`` with a constant ``c``
   (every library model), ``c`` is folded into the weights and biases, and the
   accumulator takes the format of the state variable the product is added to (so the
   update needs no alignment shift; saturation of the accumulator then clamps where the
   variable would saturate anyway). Otherwise the accumulator format follows the
   calibrated range of ``I``.
4. Weights of each projection are scaled into int8 (``vlacc8``) or int16 (``vlacc``):
   ``w_q = round(w' * 2**(F_acc - shift))`` with the smallest left shift ``shift``
   (0 .. 15) that keeps ``|w_q| <= 127`` (or 32767); the instruction's shift maps them
   back into the accumulator format.

The :class:`FormatPlan` holds all choices plus :meth:`FormatPlan.report` (text) and
:meth:`FormatPlan.to_dict`. The predicted overflow margin of a variable is
``range / calibrated max`` (> 1: headroom; saturation keeps any excess bounded).
"""
from __future__ import annotations

import copy
import math
import re
from dataclasses import dataclass, field

import numpy as np

from .expr import CompileError, Expr
from .model import Network, SpikeInput
from .reference import simulate

__all__ = ["fmt_name", "parse_format", "frac_for", "quantise", "calibration_input",
           "node_ranges", "find_input_fold", "plan_formats", "FormatPlan", "PopFormats",
           "ProjFormat"]

_FMT = re.compile(r"^s(\d{1,2})\.(\d{1,2})$")


def fmt_name(frac: int) -> str:
    return f"s{15 - frac}.{frac}"


def parse_format(text: str, what: str) -> int:
    """``"s5.10"`` -> 10 (fraction bits). Raises CompileError for anything else."""
    m = _FMT.match(str(text).strip())
    if not m or int(m.group(1)) + int(m.group(2)) != 15:
        raise CompileError(f"The format {text!r} given for {what} is not a 16-bit signed "
                           "fixed-point format; write sI.F with I + F = 15, e.g. 's5.10'.")
    return int(m.group(2))


def frac_for(maxabs: float, margin: float = 2.0) -> int:
    """The most fraction bits (0 .. 15) whose range [-2**I, 2**I) holds ``margin * maxabs``."""
    need = float(maxabs) * margin
    if not np.isfinite(need) or need <= 0:
        return 15
    ibits = max(0, math.ceil(math.log2(need) + 1e-12))
    return int(max(0, 15 - ibits))


def quantise(x, frac: int, bits: int = 16, mode: str = "nearest") -> np.ndarray:
    """Round ``x * 2**frac`` to integers and saturate to signed ``bits``."""
    lim = (1 << (bits - 1)) - 1
    return np.clip(np.round(np.asarray(x, dtype=np.float64) * 2.0 ** frac), -lim - 1, lim
                   ).astype(np.int64)


def calibration_input(net: Network, T: int = 200, rate: float = 0.05, seed: int = 1) -> dict:
    """Bernoulli sample spikes ``{input name: [T, C] uint8}`` for a calibration run."""
    rng = np.random.default_rng(seed)
    return {s.name: (rng.random((T, s.size)) < rate).astype(np.uint8)
            for s in net.sources.values() if isinstance(s, SpikeInput)}


def _walk(expr: Expr):
    stack, seen = [expr], set()
    while stack:
        e = stack.pop()
        if id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        stack.extend(e.args)


def node_ranges(net: Network, inputs=None, T: int = 200) -> dict:
    """Run the float reference on ``inputs`` (default :func:`calibration_input`) and
    return ``{population: {id(node): max |value|, ("state", var): .., "I": ..}}`` for
    every expression node of its model, evaluated on the recorded trajectories."""
    if inputs is None:
        inputs = calibration_input(net, T)
    probe = copy.copy(net)
    probe.records = [(p.name, v) for p in net.populations.values() for v in p.model.variables()]
    probe.readouts = {}
    res = simulate(probe, inputs)
    tr = {k: (v if v.ndim == 3 else v[None]) for k, v in res.traces.items()}
    B, Tn = next(iter(tr.values())).shape[:2]
    if not isinstance(inputs, dict):
        inputs = {s.name: inputs for s in net.sources.values() if isinstance(s, SpikeInput)}
    src = {k: (np.asarray(a, np.float64) if np.ndim(a) == 3 else np.asarray(a, np.float64)[None])
           for k, a in inputs.items()}
    out = {"__spikes__": {k: float(np.asarray(a).sum(-1).mean()) for k, a in src.items()}}
    for (name, var), a in tr.items():
        if var == "spikes":
            out["__spikes__"][name] = float(a.sum(-1).mean())
    for p in net.populations.values():
        I = np.zeros((B, Tn, p.size))
        for pr in net.inputs_to(p):
            s = src[pr.pre.name] if pr.pre.name in src else tr[(pr.pre.name, "spikes")].astype(float)
            if pr.delayed:
                s = np.concatenate([np.zeros_like(s[:, :1]), s[:, :-1]], axis=1)
            I += s @ pr.weight + (0 if pr.bias is None else pr.bias)
        env = {k: v for k, v in p.consts.items()}
        for var in p.model.states:
            after = tr[(p.name, var)]
            env[var] = np.concatenate([np.broadcast_to(p.init[var], (B, 1, p.size)),
                                       after[:, :-1]], axis=1)
        env["I"], env["dt"] = I, net.dt
        ranges = {"I": float(np.max(np.abs(I), initial=0.0))}
        for var in p.model.states:
            ranges[("state", var)] = float(max(np.max(np.abs(tr[(p.name, var)]), initial=0),
                                               np.max(np.abs(p.init[var]), initial=0)))

        def ev(e, memo):
            if id(e) in memo:
                return memo[id(e)]
            from .expr import _NUMPY
            if e.op == "sym":
                r = env[e.value]
            elif e.op == "const":
                r = e.value
            elif e.op == "neg":
                r = -ev(e.args[0], memo)
            elif e.op == "not":
                r = np.logical_not(ev(e.args[0], memo))
            elif e.op == "where":
                r = np.where(ev(e.args[0], memo), ev(e.args[1], memo), ev(e.args[2], memo))
            else:
                r = _NUMPY[e.op](ev(e.args[0], memo), ev(e.args[1], memo))
            memo[id(e)] = r
            if not e.is_condition:
                m = float(np.max(np.abs(r), initial=0.0))
                ranges[id(e)] = max(ranges.get(id(e), 0.0), m)
            return r

        for var, e in p.model.update:
            env[var] = np.broadcast_to(ev(e, {}), (B, Tn, p.size))
        if p.model.spike is not None:
            spk = np.broadcast_to(ev(p.model.spike, {}), (B, Tn, p.size))
            for var, e in p.model.reset:
                env[var] = np.where(spk, ev(e, {}), env[var])
        out[p.name] = ranges
    return out


def _is_const(e: Expr) -> bool:
    return all(n.op != "sym" or n.kind in ("param", "derived", "dt") for n in _walk(e))


def find_input_fold(model) -> tuple:
    """``(mul node, factor expr)`` when ``I`` occurs exactly once, as ``c * I`` or
    ``I * c`` with a constant ``c``; else ``(None, None)``."""
    exprs = [e for _, e in model.update] + [e for _, e in model.reset]
    if model.spike is not None:
        exprs.append(model.spike)
    uses, parent = 0, None
    for root in exprs:
        for n in _walk(root):
            for a in n.args:
                if a.op == "sym" and a.value == "I":
                    uses += 1
                    parent = n
    if uses != 1 or parent.op != "mul":
        return None, None
    a, b = parent.args
    other = b if (a.op == "sym" and a.value == "I") else a
    return (parent, other) if _is_const(other) else (None, None)


@dataclass
class ProjFormat:
    """Quantised weights of one projection: ``w_q`` int array [pre, post],
    ``shift`` for vlacc/vlacc8, ``bits`` 8 or 16, ``scale``: real value of one unit."""
    name: str
    bits: int
    shift: int
    w_q: np.ndarray
    scale: float
    max_error: float


@dataclass
class PopFormats:
    """Formats of one population: ``state`` {var: frac}, ``acc`` frac of the input
    accumulator, ``fold`` the mul node replaced by the accumulator (or None), ``gain``
    per-neuron factor folded into the weights, ``ranges`` calibrated maxima."""
    name: str
    state: dict
    acc: int
    fold: object
    gain: np.ndarray
    ranges: dict
    bias_q: np.ndarray | None = None


@dataclass
class FormatPlan:
    pops: dict = field(default_factory=dict)
    projs: dict = field(default_factory=dict)
    margin: float = 2.0
    rounding: str = "stochastic"
    precise_decay: bool = True

    def to_dict(self) -> dict:
        d = {"margin": self.margin, "rounding": self.rounding,
             "precise_decay": self.precise_decay, "variables": {},
             "projections": {}}
        for p in self.pops.values():
            for var, f in p.state.items():
                m = p.ranges.get(("state", var), 0.0)
                d["variables"][f"{p.name}.{var}"] = {
                    "format": fmt_name(f), "calibrated_max": m,
                    "overflow_margin": (2.0 ** (15 - f)) / m if m > 0 else None}
            m = p.ranges.get("I_folded", 0.0)
            d["variables"][f"{p.name}.I"] = {
                "format": fmt_name(p.acc), "calibrated_max": m, "folded_gain": p.fold is not None,
                "overflow_margin": (2.0 ** (15 - p.acc)) / m if m > 0 else None}
        for pr in self.projs.values():
            d["projections"][pr.name] = {"bits": pr.bits, "shift": pr.shift,
                                         "unit": pr.scale, "max_error": pr.max_error}
        return d

    def report(self) -> str:
        d = self.to_dict()
        lines = [f"fixed-point formats (margin {self.margin}x, decays rounded {self.rounding}"
                 f"{', precise' if self.precise_decay else ''}):"]
        for k, v in d["variables"].items():
            om = v["overflow_margin"]
            lines.append(f"  {k:<24} {v['format']:<7} max {v['calibrated_max']:.4g}  "
                         f"margin {'inf' if om is None else f'{om:.2f}x'}")
        for k, v in d["projections"].items():
            lines.append(f"  weights {k:<16} int{v['bits']} << {v['shift']}  unit "
                         f"{v['unit']:.3g}  max error {v['max_error']:.3g}")
        return "\n".join(lines)


def plan_formats(net: Network, ranges: dict, overrides: dict | None = None,
                 weight_bits: int = 8, margin: float = 2.0,
                 rounding: str = "stochastic", precise_decay: bool = True) -> FormatPlan:
    """Choose every format (see the module doc). ``overrides`` maps ``"pop.var"`` (or
    ``"pop.I"`` for the accumulator) to ``"sI.F"``."""
    if weight_bits not in (8, 16):
        raise CompileError(f"weights={weight_bits!r} is not supported; use 8 (packed int8, "
                           "vlacc8) or 16 (int16, vlacc).")
    overrides = dict(overrides or {})
    known = {f"{p.name}.{v}" for p in net.populations.values() for v in list(p.model.states) + ["I"]}
    bad = sorted(set(overrides) - known)
    if bad:
        raise CompileError(f"Format overrides were given for {bad}, which are not variables "
                           f"of the network; choose among {sorted(known)}.")
    plan = FormatPlan(margin=margin, rounding=rounding, precise_decay=bool(precise_decay))
    for p in net.populations.values():
        r = dict(ranges[p.name])
        state = {}
        for var in p.model.states:
            m = r.get(("state", var), 0.0)
            for cond in ([p.model.spike] if p.model.spike is not None else []):
                for n in _walk(cond):
                    if n.op in ("lt", "le", "gt", "ge", "eq", "ne") and any(
                            a.op == "sym" and a.value == var for a in n.args):
                        for a in n.args:
                            if _is_const(a):
                                from .expr import evaluate
                                c = evaluate(a, dict(p.consts, dt=net.dt))
                                m = max(m, float(np.max(np.abs(c))))
            for rv, e in p.model.reset:
                for n in (_walk(e) if rv == var else ()):
                    if _is_const(n):
                        from .expr import evaluate
                        c = evaluate(n, dict(p.consts, dt=net.dt))
                        m = max(m, float(np.max(np.abs(c))))
            key = f"{p.name}.{var}"
            state[var] = parse_format(overrides[key], key) if key in overrides else frac_for(m, margin)
        fold, factor = find_input_fold(p.model)
        if fold is not None:
            from .expr import evaluate
            gain = np.broadcast_to(np.asarray(evaluate(factor, dict(p.consts, dt=net.dt)),
                                              np.float64), (p.size,)).copy()
            r["I_folded"] = r.get(id(fold), 0.0)
            target = _fold_target(p.model, fold)
            kick = max((float(np.max(np.abs(pr.weight * gain[None, :]), initial=0.0))
                        for pr in net.inputs_to(p)), default=0.0)
            key = f"{p.name}.{target}"
            if target and key not in overrides and kick * 4 > r.get(("state", target), 0.0):
                state[target] = min(state[target], frac_for(4 * kick, margin))
            acc = state[target] if target else frac_for(r["I_folded"], margin)
        else:
            gain = np.ones(p.size)
            r["I_folded"] = r.get("I", 0.0)
            acc = frac_for(r["I_folded"], margin)
        if f"{p.name}.I" in overrides:
            acc = parse_format(overrides[f"{p.name}.I"], f"{p.name}.I")
        pf = PopFormats(p.name, state, acc, fold, gain, r)
        biases = [pr.bias for pr in net.inputs_to(p) if pr.bias is not None]
        bias = np.sum(biases, axis=0) if biases else None
        if bias is not None:
            pf.bias_q = quantise(bias * gain, acc)
        plan.pops[p.name] = pf
        for pr in net.inputs_to(p):
            plan.projs[pr.name] = _weights(pr, gain, acc, weight_bits)
    return plan


def _fold_target(model, fold) -> str | None:
    """The state variable whose update adds the folded product directly (or None)."""
    for var, e in model.update:
        for n in _walk(e):
            if n.op in ("add", "sub") and any(a is fold for a in n.args):
                return var
    return None


def _weights(pr, gain, acc: int, bits: int) -> ProjFormat:
    w = pr.weight * gain[None, :]
    if not np.all(np.isfinite(w)):
        raise CompileError(f"Projection {pr.name!r}: the weights (times the model's input "
                           "gain) contain NaN or infinite values; give finite weights.")
    lim = (1 << (bits - 1)) - 1
    wmax = float(np.max(np.abs(w), initial=0.0))
    shift = 0
    while shift < 15 and wmax * 2.0 ** (acc - shift) > lim + 0.49:
        shift += 1
    scale = 2.0 ** (shift - acc)
    w_q = np.clip(np.round(w / scale), -lim - 1, lim).astype(np.int64)
    err = float(np.max(np.abs(w_q * scale - w), initial=0.0))
    return ProjFormat(pr.name, bits, shift, w_q, scale, err)
