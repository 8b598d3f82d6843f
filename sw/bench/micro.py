"""Microbenchmarks of compiled code on the golden model, next to their physical limits.

All figures are measured on code the compiler generates (so they follow codegen
improvements), on the default 32-lane core, with the golden model's cycle model (which
the lockstep tests hold equal to the RTL's). The physical limit of each is set by the
vector memory: one vector-memory access per cycle.

* Dense propagation (:func:`dense`): a spike input of 256 channels projecting onto
  ``P`` leaky integrators, exactly ``k`` input spikes per step, ``k`` in {4, 16} and
  ``P`` in {128, 256}. Cycles per spike = the slope over ``k`` of cycles per step (every
  other cost of a step is the same in both runs); cycles per ``lanes``-synapse vector =
  the slope of that over ``P / lanes``; the fixed cycles per spike are what remains.
  Limits: 1 cycle per vector (one weight-row access), ``P / lanes`` cycles per spike,
  0 fixed cycles per spike (no vector-memory access is needed to find a spike's row).
* Neuron update (:func:`updates`): 256 neurons of each built-in model with no input
  spikes; the update phase's cycles (:mod:`.phases`) per neuron per step. Limit: every
  state variable that lives in vector memory loaded and stored once, ``2 * states /
  lanes`` cycles per neuron; a state the compiler keeps in its accumulator register for
  the whole run (image stats ``register_states``: a pre-decayed LIF/LI membrane) needs
  no access, so a model whose states all stay in registers has limit 0 (ratio None:
  the update is bound by its arithmetic, not by the memory).
* Rounding (:func:`rounding`): ``vmul.sat`` with a 15-bit shift on random int16 pairs
  in each rounding mode (floor, round half up ``.rn``, stochastic ``.rs``); mean and
  standard deviation of ``result - exact`` in LSB next to FeNN's hardware figures
  (cited from shared/reference/fenn.md, not measured here).
"""
from __future__ import annotations

import numpy as np

from ...hw.config import preset
from ...sim.iss import Machine
from ..asm import assemble
from ..compiler import Network, alif, compile_network, cuba_li, cuba_lif, if_, li, lif, run_iss
from .phases import CountingMachine, split

__all__ = ["dense", "updates", "rounding_errors", "rounding", "measure", "MODELS",
           "ROUNDING_MODES", "FENN_ROUNDING_CITED"]

MODELS = {"LIF": lif, "ALIF": alif, "CubaLIF": cuba_lif, "LI": li, "CubaLI": cuba_li,
          "IF": if_}
N_IN = 256
ROUNDING_MODES = (("floor", ""), ("round-half-up", ".rn"), ("stochastic", ".rs"))
FENN_ROUNDING_CITED = {"floor": (-0.4995, 0.289), "round-half-up": (0.0008, 0.288),
                       "stochastic": (-0.0002, 0.408)}


def _ratio(measured, limit):
    return None if not limit else measured / limit


def _fixed_count_input(T: int, k: int, channels: int = N_IN, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = np.zeros((T, channels), np.uint8)
    for t in range(T):
        x[t, rng.choice(channels, k, replace=False)] = 1
    return x


def dense(steps: int = 20, config=None) -> dict:
    """Dense-propagation figures (see the module doc)."""
    config = config or preset("default")
    L = config.lanes
    per_spike = {}
    for P in (128, 256):
        net = Network(name=f"dense-{P}")
        inp = net.spike_input("in", N_IN)
        out = net.population("out", P, li(), tau_mem=20.0)
        net.project(inp, out, np.random.default_rng(P).normal(0, 0.1, (N_IN, P)))
        net.readout("v", out, "v")
        xs = {k: _fixed_count_input(steps, k) for k in (4, 16)}
        image = compile_network(net, config, calibrate=xs[16])
        cps = {k: run_iss(image, xs[k]).cycles_per_step for k in xs}
        per_spike[P] = (cps[16] - cps[4]) / 12
    per_vector = (per_spike[256] - per_spike[128]) / ((256 - 128) / L)
    fixed = per_spike[128] - (128 / L) * per_vector
    return {
        "lanes": L, "steps": steps,
        "cycles_per_vector": per_vector, "limit_cycles_per_vector": 1.0,
        "ratio_per_vector": _ratio(per_vector, 1.0),
        "fixed_cycles_per_spike": fixed, "limit_fixed_cycles_per_spike": 0.0,
        "ratio_fixed_per_spike": None,
        "cycles_per_spike_256": per_spike[256], "limit_cycles_per_spike_256": 256 / L,
        "ratio_per_spike_256": _ratio(per_spike[256], 256 / L),
        "cycles_per_spike_128": per_spike[128],
    }


def updates(steps: int = 10, neurons: int = 256, config=None) -> dict:
    """Neuron-update cycles per neuron per step for each model in :data:`MODELS`."""
    config = config or preset("default")
    L = config.lanes
    out = {}
    for name, make in MODELS.items():
        model = make()
        net = Network(name=f"update-{name}")
        inp = net.spike_input("in", L)
        pop = net.population("pop", neurons, model)
        net.project(inp, pop, np.full((L, neurons), 0.1))
        net.readout("r", pop, "v")
        x = np.zeros((steps, L), np.uint8)
        image = compile_network(net, config, calibrate=_fixed_count_input(steps, 4, L))
        cm = CountingMachine(config)
        run_iss(image, x, machine=cm)
        ph = split(cm, image.program)
        per_neuron = ph["phases"]["update"]["cycles"] / steps / neurons
        states = len(model.states)
        in_regs = len(image.stats["register_states"].get("pop", []))
        limit = 2 * (states - in_regs) / L
        out[name] = {"cycles_per_neuron": per_neuron, "state_variables": states,
                     "state_variables_in_registers": in_regs,
                     "limit_cycles_per_neuron": limit,
                     "ratio": _ratio(per_neuron, limit),
                     "instructions_per_vector": ph["phases"]["update"]["instructions"]
                     / steps / (neurons / L),
                     "exact_labels": ph["exact_labels"]}
    return out


def measure(quick: bool = False) -> dict:
    """Both microbenchmarks (fewer steps with ``quick``)."""
    return {"dense": dense(10 if quick else 20), "update": updates(4 if quick else 10)}


def rounding_errors(suffix: str, n: int, seed: int = 1) -> np.ndarray:
    """``result - exact`` (LSB) of ``n`` (rounded down to whole vectors) random
    products with the ``vmul`` rounding ``suffix`` ("", ".rn" or ".rs")."""
    config = preset("default")
    machine = Machine(config)
    machine.load_program(assemble(f"vmul{suffix}.sat v3, v1, v2, 15\necall\n", config))
    gen = np.random.default_rng(seed)
    machine.rng[:] = gen.integers(1, 1 << 16, machine.rng.shape)
    rows = max(1, n // config.lanes)
    a = gen.integers(-32768, 32768, (rows, config.lanes))
    b = gen.integers(-32768, 32768, (rows, config.lanes))
    out = np.empty_like(a)
    for k in range(rows):
        machine.v[1], machine.v[2] = a[k], b[k]
        machine.restart()
        machine.run(check=True)
        out[k] = machine.v[3]
    exact = a * b / 2.0 ** 15
    keep = exact < 32767                        # the saturated (-32768)^2 corner
    return (out - exact)[keep]


def rounding(n: int = 100_000) -> dict:
    """Mean and standard deviation of the rounding error per mode, with FeNN's cited
    figures alongside."""
    out = {"products": n, "shift": 15}
    for name, suffix in ROUNDING_MODES:
        e = rounding_errors(suffix, n)
        out[name] = {"mean_lsb": float(e.mean()), "std_lsb": float(e.std()),
                     "fenn_cited_mean_lsb": FENN_ROUNDING_CITED[name][0],
                     "fenn_cited_std_lsb": FENN_ROUNDING_CITED[name][1]}
    return out
