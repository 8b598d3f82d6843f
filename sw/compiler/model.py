"""The network model: populations, spike sources, dense projections, readouts, records.

Build a network in Python::

    net = Network(dt=1.0)
    inp = net.spike_input("in", 64)                       # fed [T, 64] per run
    hid = net.population("hid", 128, lif(), tau_mem=20.0, v_thresh=1.0)
    out = net.population("out", 10, li(), tau_mem=10.0)
    net.project(inp, hid, w_in)                           # weights [pre, post]
    net.project(hid, hid, w_rec)                          # recurrent
    net.project(hid, out, w_out, bias=b_out)
    net.record(hid, "spikes"); net.record(hid, "v")
    net.readout("scores", out, "v", mode="max")

Contract: every method validates its arguments at once and raises
:class:`~spikevec.sw.compiler.expr.CompileError` with a full sentence naming the object,
the bad value and what is allowed. The network's **update order** is the order in which
populations were added: within a timestep populations are updated in that order, and a
projection from a population that comes earlier (or from a source) delivers the spikes
of the same step, while a projection from the population itself or from a later one
delivers the spikes of the previous step (:attr:`Projection.delayed`). See
:mod:`spikevec.sw.compiler.reference` for the complete step semantics.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .expr import CompileError
from .neurons import NeuronModel

__all__ = ["Network", "Population", "SpikeInput", "PoissonSource", "Projection",
           "Readout", "READOUT_MODES"]

READOUT_MODES = ("last", "max", "mean")


@dataclass(eq=False)
class SpikeInput:
    """A stream of ``size`` spike channels, given per timestep when the network runs."""
    name: str
    size: int
    spiking = True


@dataclass(eq=False)
class PoissonSource:
    """``size`` independent Poisson spike trains: a spike per step with probability
    ``rates * dt`` (``rates`` in spikes per unit of ``dt``; scalar or one per channel)."""
    name: str
    size: int
    rates: np.ndarray
    spiking = True


@dataclass(eq=False)
class Population:
    """``size`` neurons of one ``model``; ``consts`` holds the resolved parameters and
    derived constants (float or [size] arrays), ``init`` the initial state arrays."""
    name: str
    size: int
    model: NeuronModel
    params: dict
    consts: dict
    init: dict
    index: int = 0

    @property
    def spiking(self) -> bool:
        return self.model.spiking


@dataclass(eq=False)
class Projection:
    """Dense weights ``[pre.size, post.size]`` and an optional bias ``[post.size]``
    added to the post population's input every step. ``delayed`` is True when the
    projection delivers the pre spikes of the previous step (see the module doc)."""
    name: str
    pre: object
    post: Population
    weight: np.ndarray
    bias: np.ndarray | None = None
    delayed: bool = False


@dataclass(eq=False)
class Readout:
    """A per-run summary of ``var`` of ``population`` over time: 'last', 'max' or 'mean'."""
    name: str
    population: Population
    var: str
    mode: str = "last"


@dataclass(eq=False)
class Network:
    """A spiking network with timestep ``dt`` (same unit as the time constants)."""
    dt: float = 1.0
    name: str = "network"
    sources: dict = field(default_factory=dict)
    populations: dict = field(default_factory=dict)
    projections: list = field(default_factory=list)
    readouts: dict = field(default_factory=dict)
    records: list = field(default_factory=list)

    def __post_init__(self):
        if not isinstance(self.dt, (int, float)) or isinstance(self.dt, bool) \
                or not np.isfinite(self.dt) or self.dt <= 0:
            raise CompileError(f"The network timestep dt = {self.dt!r} is not allowed; give "
                               "a positive finite number.")
        self.dt = float(self.dt)

    # --- construction -------------------------------------------------------------------
    def _new_name(self, name, what):
        if not isinstance(name, str) or not name.strip() or name != name.strip():
            raise CompileError(f"The {what} name {name!r} is not allowed; give a non-empty "
                               "string without leading or trailing spaces.")
        taken = set(self.sources) | set(self.populations) | set(self.readouts) \
            | {p.name for p in self.projections}
        if name in taken:
            raise CompileError(f"The name {name!r} is already used in network "
                               f"{self.name!r}; every source, population, projection and "
                               "readout needs its own name.")
        return name

    @staticmethod
    def _size(size, what, name):
        if not isinstance(size, (int, np.integer)) or isinstance(size, bool) or size <= 0:
            raise CompileError(f"The {what} {name!r} has size {size!r}; give a positive "
                               "integer number of neurons or channels.")
        return int(size)

    def spike_input(self, name: str, size: int) -> SpikeInput:
        src = SpikeInput(self._new_name(name, "spike input"), self._size(size, "spike input", name))
        self.sources[name] = src
        return src

    def poisson(self, name: str, size: int, rates) -> PoissonSource:
        size = self._size(size, "Poisson source", name)
        r = np.asarray(rates, dtype=np.float64)
        if r.ndim == 0:
            r = np.full(size, float(r))
        if r.shape != (size,) or not np.all(np.isfinite(r)) or np.any(r < 0) \
                or np.any(r * self.dt > 1):
            raise CompileError(
                f"The Poisson source {name!r} has rates of shape {r.shape} with values "
                f"{np.unique(r)[:4]}...; give a scalar or ({size},) finite rates >= 0 with "
                f"rate * dt <= 1 (dt = {self.dt}).")
        src = PoissonSource(self._new_name(name, "Poisson source"), size, r)
        self.sources[name] = src
        return src

    def population(self, name: str, size: int, model: NeuronModel, init: dict | None = None,
                   **params) -> Population:
        """Add ``size`` neurons of ``model`` with parameters ``params`` (scalars or
        [size] arrays) and initial state ``init``."""
        name = self._new_name(name, "population")
        size = self._size(size, "population", name)
        if not isinstance(model, NeuronModel):
            raise CompileError(f"Population {name!r}: the model {model!r} is not a "
                               "NeuronModel; use one from spikevec.sw.compiler.neurons or "
                               "build one with ModelBuilder.")
        consts = model.resolve(params, size, self.dt, name)
        state0 = model.initial(init or {}, size, name)
        pop = Population(name, size, model, dict(params), consts, state0, len(self.populations))
        self.populations[name] = pop
        return pop

    def _lookup(self, obj, role, kinds):
        if isinstance(obj, str):
            obj = self.sources.get(obj) or self.populations.get(obj) or obj
        ok = (Population,) if kinds == "population" else (Population, SpikeInput, PoissonSource)
        if not isinstance(obj, ok) or (self.populations.get(obj.name) is not obj
                                       and self.sources.get(obj.name) is not obj):
            allowed = sorted(self.populations) if kinds == "population" \
                else sorted(self.populations) + sorted(self.sources)
            raise CompileError(f"The {role} {getattr(obj, 'name', obj)!r} is not a "
                               f"{kinds} of network {self.name!r}; choose one of {allowed}.")
        return obj

    def project(self, pre, post, weight, bias=None, name: str | None = None) -> Projection:
        """Connect ``pre`` (source or spiking population) to ``post`` with dense
        ``weight[pre.size, post.size]`` and an optional ``bias[post.size]``."""
        pre = self._lookup(pre, "projection source", "population or source")
        post = self._lookup(post, "projection target", "population")
        name = self._new_name(name or f"{pre.name}->{post.name}", "projection")
        if not pre.spiking:
            raise CompileError(f"Projection {name!r}: the source population {pre.name!r} uses "
                               f"the non-spiking model {pre.model.name}, so it emits no spikes; "
                               "project from a spike source or a spiking population.")
        w = _finite_array(weight, f"Projection {name!r}: the weight matrix")
        if w.shape != (pre.size, post.size):
            raise CompileError(f"Projection {name!r}: the weight matrix has shape {w.shape} "
                               f"but {pre.name!r} has {pre.size} and {post.name!r} "
                               f"{post.size} neurons; give shape ({pre.size}, {post.size}) "
                               "as [pre, post].")
        b = None
        if bias is not None:
            b = _finite_array(bias, f"Projection {name!r}: the bias")
            if b.ndim == 0:
                b = np.full(post.size, float(b))
            if b.shape != (post.size,):
                raise CompileError(f"Projection {name!r}: the bias has shape {b.shape}; give "
                                   f"a scalar or one value per post neuron, ({post.size},).")
        delayed = isinstance(pre, Population) and pre.index >= post.index
        proj = Projection(name, pre, post, w, b, delayed)
        self.projections.append(proj)
        return proj

    def _check_var(self, pop, var):
        if var not in pop.model.variables():
            raise CompileError(f"Population {pop.name!r} ({pop.model.name}) has no variable "
                               f"{var!r}; it can record {pop.model.variables()}.")

    def record(self, population, var: str = "spikes") -> tuple:
        """Record ``var`` ('spikes' or a state variable) of a population every step."""
        pop = self._lookup(population, "recorded population", "population")
        self._check_var(pop, var)
        key = (pop.name, var)
        if key not in self.records:
            self.records.append(key)
        return key

    def readout(self, name: str, population, var: str = "v", mode: str = "last") -> Readout:
        """Summarise ``var`` of ``population`` over a run: its last value, its maximum
        over time, or its time average."""
        pop = self._lookup(population, "readout population", "population")
        self._check_var(pop, var)
        if mode not in READOUT_MODES:
            raise CompileError(f"Readout {name!r}: mode {mode!r} is not supported; use one of "
                               f"{', '.join(READOUT_MODES)}.")
        r = Readout(self._new_name(name, "readout"), pop, var, mode)
        self.readouts[name] = r
        return r

    # --- queries ------------------------------------------------------------------------
    def inputs_to(self, pop: Population) -> list:
        return [p for p in self.projections if p.post is pop]

    def summary(self) -> str:
        lines = [f"Network {self.name!r}, dt = {self.dt}"]
        lines += [f"  source {s.name}: {type(s).__name__}[{s.size}]" for s in self.sources.values()]
        lines += [f"  population {p.name}: {p.model.name}[{p.size}]"
                  for p in self.populations.values()]
        lines += [f"  projection {p.name}: {p.pre.name} -> {p.post.name} {p.weight.shape}"
                  f"{' +bias' if p.bias is not None else ''}{' (delayed)' if p.delayed else ''}"
                  for p in self.projections]
        lines += [f"  readout {r.name}: {r.mode} of {r.population.name}.{r.var}"
                  for r in self.readouts.values()]
        return "\n".join(lines)


def _finite_array(value, what) -> np.ndarray:
    try:
        arr = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise CompileError(f"{what} {value!r} is not numeric; give an array of numbers.") from None
    bad = ~np.isfinite(arr)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise CompileError(f"{what} contains {int(bad.sum())} NaN or infinite value(s) (the "
                           f"first at index {where}: {arr[where]}); only finite values are "
                           "allowed.")
    return arr
