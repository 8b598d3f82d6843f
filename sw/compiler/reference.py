"""The float reference simulator: the meaning of a :class:`Network`, in numpy.

``simulate(net, inputs)`` runs ``T`` timesteps in float64 (or float32) and returns the
recorded spikes and variables and the readouts. The fixed-point code the compiler
generates implements the same discrete-time model; this module is its specification.

Discretisation
--------------
Time advances in steps of ``net.dt`` (the unit is the user's; time constants use the same
unit). Continuous dynamics are discretised with **forward Euler**: ``tau dv/dt = v_leak -
v + r I`` becomes ``v += dt/tau * (v_leak - v + r I)``, stored as
``v = alpha v + b_in I + c_leak`` with ``alpha = 1 - dt/tau``, ``b_in = dt r / tau`` and
``c_leak = dt v_leak / tau`` computed once per population (``tau >= dt`` is required).
Why forward Euler and not the exact exponential ``alpha = exp(-dt/tau)``:

* it is exactly what the NIR exporters of snnTorch and Norse assume: snnTorch writes
  ``tau = dt / (1 - beta)`` and ``r = tau / dt`` (with its fixed ``dt = 1e-4``), so
  forward Euler with that ``dt`` gives back ``v = beta v + I`` bit for bit, and Norse
  integrates its own models with forward Euler; a trained network imported from NIR
  therefore behaves as it did in training;
* both choices cost the same on the core (``alpha`` is a per-population constant either
  way), so nothing is gained in hardware by the other one.

Order of operations within step ``t`` (``t = 0 .. T-1``)
-------------------------------------------------------
1. Sources emit their spikes of step ``t``: row ``t`` of the input array for a
   :class:`SpikeInput` (normally 0/1; finite graded values are accepted and act as
   weighted events, which the float reference handles but the event-driven code
   generator may not); for a :class:`PoissonSource`, ``u < rate * dt`` with ``u``
   uniform (numpy ``default_rng(seed)`` here; the core uses its own generator, so Poisson
   networks agree only in distribution).
2. Populations are updated one after the other in the order they were added. For each:

   a. the synaptic input ``I = sum over projections (s_pre @ W) + sum of biases``, where
      ``s_pre`` is the 0/1 spike vector of step ``t`` for a source or a population
      updated earlier in this step, and of step ``t-1`` (zero at ``t = 0``) for the
      population itself (recurrent) or one updated later (``Projection.delayed``). So
      input spikes of step ``t`` act at step ``t``, a feed-forward chain has no added
      latency (like snnTorch's layer-by-layer loop), and every cycle has one step of delay;
   b. the model's ``update`` assignments run in order (each sees the values written by
      the previous ones; a current-based model updates ``isyn`` first, then ``v`` with
      the new ``isyn``);
   c. the spike condition is evaluated on the updated state (NIR: ``v > v_threshold``,
      strict);
   d. the ``reset`` assignments run in order in the neurons that spiked (reset to a
      value: ``v = v_reset``; by subtraction: ``v -= v_thresh``). A neuron can thus spike
      in the same step its input arrives, and its recorded ``v`` is the value after reset.
3. Recorded variables are sampled after the step (after resets).

Readouts summarise one variable over the whole run: ``last`` (the value after step
``T-1``), ``max`` (maximum over the ``T`` sampled values) or ``mean`` (their average).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .expr import CompileError
from .model import Network, PoissonSource, SpikeInput

__all__ = ["simulate", "Result"]


@dataclass
class Result:
    """Recorded traces ``{(population, var): array [B, T, N]}`` (spikes as bool) and
    readouts ``{name: array [B, N]}``; without a batch axis in the input, the leading
    ``B`` axis is dropped from both."""
    traces: dict
    readouts: dict
    T: int

    def spikes(self, population: str) -> np.ndarray:
        return self.trace(population, "spikes")

    def trace(self, population: str, var: str) -> np.ndarray:
        try:
            return self.traces[(population, var)]
        except KeyError:
            raise CompileError(f"Nothing recorded for {population}.{var}; recorded are "
                               f"{[f'{p}.{v}' for p, v in self.traces]}. Call "
                               f"net.record({population!r}, {var!r}) before simulating."
                               ) from None


def _inputs(net: Network, inputs, T):
    """Normalise ``inputs`` to ``{name: array [B, T, C]}``; return it, T, batched."""
    streams = [s for s in net.sources.values() if isinstance(s, SpikeInput)]
    if inputs is None:
        inputs = {}
    elif not isinstance(inputs, dict):
        if len(streams) != 1:
            raise CompileError(f"Network {net.name!r} has {len(streams)} spike inputs "
                               f"({[s.name for s in streams]}); pass a dict of arrays by "
                               "input name instead of a single array.")
        inputs = {streams[0].name: inputs}
    unknown = sorted(set(inputs) - {s.name for s in streams})
    if unknown:
        raise CompileError(f"Inputs were given for {unknown}, which are not spike inputs of "
                           f"network {net.name!r}; its spike inputs are "
                           f"{[s.name for s in streams]}.")
    out, batched, batch = {}, None, None
    for s in streams:
        if s.name not in inputs:
            raise CompileError(f"No input spikes were given for the spike input {s.name!r}; "
                               f"give an array [T, {s.size}] or [B, T, {s.size}].")
        a = np.asarray(inputs[s.name])
        if a.ndim not in (2, 3) or a.shape[-1] != s.size:
            raise CompileError(f"The input spikes for {s.name!r} have shape {a.shape}; give "
                               f"[T, {s.size}] or [B, T, {s.size}].")
        if not np.all(np.isfinite(a)):
            raise CompileError(f"The input spikes for {s.name!r} contain NaN or infinite "
                               "values; give 0/1 spikes (or finite spike counts).")
        this_batched = a.ndim == 3
        a = a if this_batched else a[None]
        if batched is None:
            batched, batch, T = this_batched, a.shape[0], a.shape[1] if T is None else T
        if this_batched != batched or a.shape[0] != batch or a.shape[1] != T:
            raise CompileError(f"The input spikes for {s.name!r} have shape "
                               f"{np.asarray(inputs[s.name]).shape}, which does not match the "
                               f"other inputs (T = {T}, batch = {batch if batched else None}).")
        out[s.name] = a
    if T is None:
        raise CompileError(f"Network {net.name!r} has no spike inputs, so give the number of "
                           "timesteps T.")
    if not isinstance(T, (int, np.integer)) or T <= 0:
        raise CompileError(f"The number of timesteps T = {T!r} must be a positive integer.")
    return out, int(T), bool(batched), batch or 1


def simulate(net: Network, inputs=None, T: int | None = None, dtype=np.float64,
             seed: int = 0) -> Result:
    """Run ``net`` on ``inputs`` (one array [T, C] / [B, T, C], or a dict of them by
    spike-input name) and return a :class:`Result`. ``dtype`` is np.float64 or
    np.float32; ``seed`` drives the Poisson sources."""
    dtype = np.dtype(dtype)
    if dtype not in (np.float64, np.float32):
        raise CompileError(f"dtype {dtype} is not supported; use numpy.float64 or float32.")
    streams, T, batched, B = _inputs(net, inputs, T)
    rng = np.random.default_rng(seed)
    pops = list(net.populations.values())
    state = {p.name: {k: np.repeat(v[None].astype(dtype), B, axis=0) for k, v in p.init.items()}
             for p in pops}
    consts = {p.name: {k: (v.astype(dtype) if isinstance(v, np.ndarray) else v)
                       for k, v in p.consts.items()} for p in pops}
    incoming = {p.name: [(pr, pr.weight.astype(dtype),
                          None if pr.bias is None else pr.bias.astype(dtype))
                         for pr in net.inputs_to(p)] for p in pops}
    wanted = list(net.records) + [(r.population.name, r.var) for r in net.readouts.values()]
    wanted = list(dict.fromkeys(wanted))
    traces = {k: np.zeros((B, T, net.populations[k[0]].size),
                          dtype=bool if k[1] == "spikes" else dtype) for k in wanted}
    prev = {p.name: np.zeros((B, p.size), dtype=bool) for p in pops}
    for t in range(T):
        cur = {}
        for s in net.sources.values():
            if isinstance(s, SpikeInput):
                cur[s.name] = streams[s.name][:, t, :]
            else:
                assert isinstance(s, PoissonSource)
                cur[s.name] = rng.random((B, s.size)) < s.rates * net.dt
        for p in pops:
            I = np.zeros((B, p.size), dtype=dtype)
            for pr, w, b in incoming[p.name]:
                src = prev[pr.pre.name] if pr.delayed else cur[pr.pre.name]
                I += src.astype(dtype) @ w
                if b is not None:
                    I += b
            spikes = p.model.step(state[p.name], consts[p.name], I, dtype.type(net.dt))
            cur[p.name] = spikes if spikes is not None else np.zeros((B, p.size), bool)
        for (name, var), arr in traces.items():
            arr[:, t] = cur[name] if var == "spikes" else state[name][var]
        prev = {p.name: cur[p.name] for p in pops}
    readouts = {}
    for r in net.readouts.values():
        tr = traces[(r.population.name, r.var)].astype(dtype)
        readouts[r.name] = {"last": lambda a: a[:, -1], "max": lambda a: a.max(axis=1),
                            "mean": lambda a: a.mean(axis=1)}[r.mode](tr)
    keep = {k: v for k, v in traces.items() if k in net.records}
    if not batched:
        keep = {k: v[0] for k, v in keep.items()}
        readouts = {k: v[0] for k, v in readouts.items()}
    return Result(keep, readouts, T)

