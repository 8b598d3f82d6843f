"""Neuron models: state variables, parameters and a symbolic discrete-time update.

A :class:`NeuronModel` is data, not code. It declares

* ``states``: state variables with default initial values;
* ``params``: per-population parameters (a scalar or one value per neuron), with a
  default or ``None`` when the user must give one;
* ``derived``: constants computed once per population from parameters and ``dt`` (for
  example ``alpha = 1 - dt / tau_mem``), evaluated in float64 when the population is
  created; the code generator sees them as per-population constants;
* ``update``: assignments ``state = expr`` run in order, each seeing the values the
  previous ones wrote (like C statements), with ``I`` the synaptic input of this step;
* ``spike``: a condition (or ``None`` for a non-spiking model such as a readout);
* ``reset``: assignments applied, in order, only in the neurons that spiked
  (mask-and-select on the hardware);
* ``requires``: conditions on parameters checked when a population is created.

All expressions are :class:`~spikevec.sw.compiler.expr.Expr` trees, so the float
reference executes them with numpy and the code generator lowers them. Write new models
with :class:`ModelBuilder`; the library below (:func:`lif`, :func:`alif`,
:func:`cuba_lif`, :func:`li`, :func:`cuba_li`, :func:`if_`) uses the same mechanism.

Discretisation of the library: forward Euler with step ``dt`` (see
:mod:`spikevec.sw.compiler.reference` for the reasons and the order of operations).
Units are the user's: ``dt`` and every time constant must use the same unit.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .expr import CompileError, Expr, Sym, const, evaluate, symbols

__all__ = ["NeuronModel", "ModelBuilder", "lif", "alif", "cuba_lif", "li", "cuba_li",
           "if_", "RESERVED"]

RESERVED = ("I", "dt", "spikes")


@dataclass(frozen=True, eq=False)
class NeuronModel:
    """A validated neuron model; build one with :class:`ModelBuilder`."""

    name: str
    states: dict
    params: dict
    derived: tuple = ()
    update: tuple = ()
    spike: Expr | None = None
    reset: tuple = ()
    requires: tuple = ()
    nir: str | None = None            # NIR node type this model exports to, if any
    options: dict = field(default_factory=dict)

    @property
    def spiking(self) -> bool:
        return self.spike is not None

    def variables(self) -> list[str]:
        """Names a network may record: every state variable, plus ``spikes``."""
        return list(self.states) + (["spikes"] if self.spiking else [])

    def resolve(self, values: dict, size: int, dt: float, owner: str) -> dict:
        """Check ``values`` against the parameters and return ``{name: array or float}``
        for every parameter and derived constant. ``owner`` names the population in
        errors."""
        unknown = sorted(set(values) - set(self.params))
        if unknown:
            raise CompileError(
                f"Population {owner!r}: {self.name} has no parameter(s) {unknown}; its "
                f"parameters are {sorted(self.params)}.")
        out = {}
        for name, default in self.params.items():
            value = values.get(name, default)
            if value is None:
                raise CompileError(f"Population {owner!r}: the {self.name} parameter "
                                   f"{name!r} has no default, so give a value.")
            out[name] = _per_neuron(value, size, f"Population {owner!r}: parameter {name!r}")
        env = dict(out, dt=float(dt))
        for name, expr in self.derived:
            env[name] = out[name] = evaluate(expr, env)
        for cond, message in self.requires:
            if not np.all(evaluate(cond, env)):
                raise CompileError(f"Population {owner!r}: {message} (dt = {dt}).")
        return out

    def initial(self, values: dict, size: int, owner: str) -> dict:
        """Initial state ``{name: array [size]}`` from defaults and ``values``."""
        unknown = sorted(set(values) - set(self.states))
        if unknown:
            raise CompileError(
                f"Population {owner!r}: cannot initialise {unknown}, which are not state "
                f"variables of {self.name}; its state variables are {list(self.states)}.")
        return {name: np.broadcast_to(_per_neuron(values.get(name, default), size,
                                                  f"Population {owner!r}: initial {name!r}"),
                                      (size,)).astype(np.float64)
                for name, default in self.states.items()}

    def step(self, state: dict, consts: dict, I, dt: float):
        """Advance ``state`` (arrays, updated in place of the dict) by one step with
        synaptic input ``I``; return the spike mask (bool array) or ``None``."""
        env = dict(consts)
        env.update(state)
        env["I"], env["dt"] = I, dt
        shape = np.shape(I)
        for var, expr in self.update:
            env[var] = state[var] = _as(evaluate(expr, env), shape, state[var].dtype)
        if self.spike is None:
            return None
        spikes = np.broadcast_to(evaluate(self.spike, env), shape)
        for var, expr in self.reset:
            new = _as(evaluate(expr, env), shape, state[var].dtype)
            env[var] = state[var] = np.where(spikes, new, state[var])
        return spikes.copy()


def _as(value, shape, dtype):
    return np.broadcast_to(np.asarray(value, dtype=dtype), shape).copy()


def _per_neuron(value, size: int, what: str):
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 1 and arr.shape == (1,):
        arr = arr.reshape(())
    if arr.ndim not in (0, 1) or (arr.ndim == 1 and arr.shape[0] != size):
        raise CompileError(f"{what} has shape {arr.shape}; give a scalar or one value per "
                           f"neuron, shape ({size},).")
    if not np.all(np.isfinite(arr)):
        raise CompileError(f"{what} contains NaN or infinite values; only finite values "
                           "are allowed.")
    return float(arr) if arr.ndim == 0 else arr


class ModelBuilder:
    """Declare a neuron model symbol by symbol; :meth:`build` validates it.

    Example (a LIF with an absolute refractory period, in steps)::

        m = ModelBuilder("RefractoryLIF")
        v, ref = m.state("v"), m.state("ref")
        alpha, thr, t_ref = m.param("alpha", 0.9), m.param("v_thresh", 1.0), m.param("t_ref", 2.0)
        m.update(v, where(ref > 0, v, alpha * v + m.I))
        m.update(ref, maximum(ref - 1, 0))
        m.spike(v > thr)
        m.reset(v, 0.0)
        m.reset(ref, t_ref)
        model = m.build()
    """

    def __init__(self, name: str):
        if not isinstance(name, str) or not name:
            raise CompileError(f"A neuron model name must be a non-empty string, not {name!r}.")
        self.name = name
        self.I, self.dt = Sym("I", "input"), Sym("dt", "dt")
        self._states, self._params, self._derived = {}, {}, []
        self._update, self._reset, self._requires = [], [], []
        self._spike, self._kinds = None, {"I": "input", "dt": "dt"}

    def _declare(self, name, kind):
        if not isinstance(name, str) or not name.isidentifier() or name in RESERVED:
            raise CompileError(f"Model {self.name!r}: {name!r} is not a valid {kind} name; "
                               f"use a Python identifier other than {', '.join(RESERVED)}.")
        if name in self._kinds:
            raise CompileError(f"Model {self.name!r}: the name {name!r} is already declared "
                               f"as a {self._kinds[name]}.")
        self._kinds[name] = kind
        return Sym(name, kind)

    def state(self, name: str, init: float = 0.0) -> Expr:
        sym = self._declare(name, "state")
        self._states[name] = float(init)
        return sym

    def param(self, name: str, default=None) -> Expr:
        sym = self._declare(name, "param")
        self._params[name] = default
        return sym

    def derived(self, name: str, expr) -> Expr:
        self._check(expr, f"derived constant {name!r}", ("param", "derived", "dt"))
        sym = self._declare(name, "derived")
        self._derived.append((name, expr))
        return sym

    def require(self, cond: Expr, message: str) -> None:
        self._check(cond, "requirement", ("param", "derived", "dt"), condition=True)
        self._requires.append((cond, message))

    def update(self, var: Expr, expr) -> None:
        self._assign(self._update, var, expr, "update")

    def reset(self, var: Expr, expr) -> None:
        self._assign(self._reset, var, expr, "reset")

    def spike(self, cond: Expr) -> None:
        if self._spike is not None:
            raise CompileError(f"Model {self.name!r}: the spike condition is already set.")
        self._check(cond, "spike condition", None, condition=True)
        self._spike = cond

    def _assign(self, target, var, expr, what):
        if not (isinstance(var, Expr) and var.op == "sym" and var.kind == "state"):
            raise CompileError(f"Model {self.name!r}: the target of a {what} must be a state "
                               f"variable of the model, not {var!r}.")
        if not isinstance(expr, Expr):
            if not isinstance(expr, (int, float)) or isinstance(expr, bool):
                raise CompileError(f"Model {self.name!r}: the {what} of {var.value!r} must be "
                                   f"an expression or a number, not {expr!r}.")
            expr = const(expr)
        self._check(expr, f"{what} of {var.value!r}", None)
        target.append((var.value, expr))

    def _check(self, expr, what, kinds, condition=False):
        if not isinstance(expr, Expr):
            raise CompileError(f"Model {self.name!r}: the {what} must be an expression, "
                               f"not {expr!r}.")
        if condition != expr.is_condition:
            want = "a condition (comparison or mask)" if condition else "a value, not a condition"
            raise CompileError(f"Model {self.name!r}: the {what} {expr!r} must be {want}.")
        for name, kind in symbols(expr).items():
            if self._kinds.get(name) != kind:
                raise CompileError(f"Model {self.name!r}: the {what} uses {name!r}, which is "
                                   "not declared in this model.")
            if kinds is not None and kind not in kinds:
                raise CompileError(f"Model {self.name!r}: the {what} may only use "
                                   f"{', '.join(kinds)} symbols, but uses the {kind} {name!r}.")

    def build(self, nir: str | None = None, **options) -> NeuronModel:
        if not self._update:
            raise CompileError(f"Model {self.name!r} has no update assignments; add at least "
                               "one with update(var, expr).")
        if self._reset and self._spike is None:
            raise CompileError(f"Model {self.name!r} has reset assignments but no spike "
                               "condition; call spike(cond) or remove the resets.")
        return NeuronModel(self.name, dict(self._states), dict(self._params),
                           tuple(self._derived), tuple(self._update), self._spike,
                           tuple(self._reset), tuple(self._requires), nir, dict(options))


# --- the library -----------------------------------------------------------------------

def _check_reset(reset):
    if reset not in ("value", "subtract"):
        raise CompileError(f"reset={reset!r} is not a reset mode; use 'value' (v = v_reset) "
                           "or 'subtract' (v -= v_thresh).")


def _membrane(m: ModelBuilder, v: Expr, current: Expr):
    """Forward Euler of tau_mem dv/dt = v_leak - v + r * current, as v = a*v + b*current + c."""
    tau, r, v_leak = m.param("tau_mem", 20.0), m.param("r", 1.0), m.param("v_leak", 0.0)
    m.require(tau >= m.dt, "tau_mem must be at least dt (forward Euler decays by "
                           "1 - dt/tau_mem per step, which must not be negative)")
    a = m.derived("alpha", 1.0 - m.dt / tau)
    b = m.derived("b_in", m.dt * r / tau)
    c = m.derived("c_leak", m.dt * v_leak / tau)
    m.update(v, a * v + b * current + c)


def _synapse(m: ModelBuilder) -> Expr:
    """Forward Euler of tau_syn dI/dt = -I + input (NIR's w_in is folded into weights)."""
    isyn, tau_syn = m.state("isyn"), m.param("tau_syn", 5.0)
    m.require(tau_syn >= m.dt, "tau_syn must be at least dt (forward Euler decays by "
                               "1 - dt/tau_syn per step, which must not be negative)")
    a = m.derived("alpha_syn", 1.0 - m.dt / tau_syn)
    b = m.derived("b_syn", m.dt / tau_syn)
    m.update(isyn, a * isyn + b * m.I)
    return isyn


def _fire(m: ModelBuilder, v: Expr, reset: str, threshold: Expr | None = None):
    thr = m.param("v_thresh", 1.0)
    limit = thr if threshold is None else threshold
    m.spike(v > limit)
    if reset == "value":
        m.reset(v, m.param("v_reset", 0.0))
    else:
        m.reset(v, v - limit)


def lif(reset: str = "value") -> NeuronModel:
    """Leaky integrate-and-fire: ``v = alpha*v + b_in*I + c_leak`` with
    ``alpha = 1 - dt/tau_mem``, ``b_in = dt*r/tau_mem``, ``c_leak = dt*v_leak/tau_mem``;
    spike when ``v > v_thresh``; reset ``v = v_reset`` or ``v -= v_thresh``.
    Parameters: tau_mem (20), r (1), v_leak (0), v_thresh (1), v_reset (0, 'value' only)."""
    _check_reset(reset)
    m = ModelBuilder("LIF" if reset == "value" else "LIF(subtract)")
    v = m.state("v")
    _membrane(m, v, m.I)
    _fire(m, v, reset)
    return m.build(nir="LIF" if reset == "value" else None, reset=reset)


def alif(reset: str = "value") -> NeuronModel:
    """Adaptive LIF: the LIF membrane plus an adaptation variable ``a`` that decays as
    ``a = rho*a`` (``rho = 1 - dt/tau_adapt``) and jumps by ``delta_a`` at each spike;
    spike when ``v > v_thresh + beta*a``. With reset='subtract' the adapted threshold is
    subtracted. Parameters: the LIF ones plus tau_adapt (200), beta (1), delta_a (1)."""
    _check_reset(reset)
    m = ModelBuilder("ALIF" if reset == "value" else "ALIF(subtract)")
    v, a = m.state("v"), m.state("a")
    _membrane(m, v, m.I)
    tau_a, beta = m.param("tau_adapt", 200.0), m.param("beta", 1.0)
    delta = m.param("delta_a", 1.0)
    m.require(tau_a >= m.dt, "tau_adapt must be at least dt")
    rho = m.derived("rho", 1.0 - m.dt / tau_a)
    m.update(a, rho * a)
    thr = m.param("v_thresh", 1.0)
    limit = thr + beta * a
    m.spike(v > limit)
    m.reset(v, m.param("v_reset", 0.0) if reset == "value" else v - limit)
    m.reset(a, a + delta)
    return m.build(reset=reset)


def cuba_lif(reset: str = "value") -> NeuronModel:
    """Current-based LIF (exponential synapse): first ``isyn = alpha_syn*isyn +
    b_syn*I`` (``alpha_syn = 1 - dt/tau_syn``, ``b_syn = dt/tau_syn``), then the LIF
    membrane driven by the new ``isyn``. Parameters: the LIF ones plus tau_syn (5)."""
    _check_reset(reset)
    m = ModelBuilder("CubaLIF" if reset == "value" else "CubaLIF(subtract)")
    isyn = _synapse(m)
    v = m.state("v")
    _membrane(m, v, isyn)
    _fire(m, v, reset)
    return m.build(nir="CubaLIF" if reset == "value" else None, reset=reset)


def li() -> NeuronModel:
    """Leaky integrator (non-spiking readout): the LIF membrane without threshold.
    Parameters: tau_mem (20), r (1), v_leak (0)."""
    m = ModelBuilder("LI")
    _membrane(m, m.state("v"), m.I)
    return m.build(nir="LI")


def cuba_li() -> NeuronModel:
    """Current-based leaky integrator: the CubaLIF dynamics without threshold."""
    m = ModelBuilder("CubaLI")
    isyn = _synapse(m)
    _membrane(m, m.state("v"), isyn)
    return m.build(nir="CubaLI")


def if_(reset: str = "value") -> NeuronModel:
    """Integrate-and-fire: ``v = v + b_in*I`` with ``b_in = dt*r``; spike when
    ``v > v_thresh``. Parameters: r (1), v_thresh (1), v_reset (0, 'value' only)."""
    _check_reset(reset)
    m = ModelBuilder("IF" if reset == "value" else "IF(subtract)")
    v, r = m.state("v"), m.param("r", 1.0)
    b = m.derived("b_in", m.dt * r)
    m.update(v, v + b * m.I)
    _fire(m, v, reset)
    return m.build(nir="IF" if reset == "value" else None, reset=reset)
