"""The compiler driver: ``compile_network(net, config, ...) -> Image``.

Steps: validate the network (finite weights, supported sources), calibrate ranges with
the float reference (:func:`~.fixedpoint.node_ranges`), choose formats
(:func:`~.fixedpoint.plan_formats`), lower, allocate and generate code
(:class:`~.codegen.CodeGen`), and package an :class:`~.image.Image` with the memory map,
I/O descriptors, the format report and a static cycle estimate.

Options:

* ``config``: a :class:`CoreConfig` or a preset name (default ``"default"``);
* ``formats``: manual overrides ``{"pop.var": "sI.F"}`` (``"pop.I"``: the accumulator);
* ``calibrate``: sample input for calibration (an array [T, C] / [B, T, C] or a dict by
  input name); default: Bernoulli spikes with probability 0.05;
* ``weights``: 8 (packed int8, ``vlacc8``) or 16 (int16, ``vlacc``);
* ``rounding``: rounding of decays, ``"stochastic"`` (default when the core has it),
  ``"nearest"`` or ``"floor"``; ``margin``: headroom factor of automatic formats;
* ``precise_decay``: compute decays ``c * x`` (0 < c < 1) as ``x - (1 - c) * x`` with the
  complement in up to 30 fraction bits (2 more instructions per decay and chunk; a 16-bit
  decay constant biases the state by its relative error / (1 - c), see :mod:`.lower`);
* ``ring_steps``: output ring capacity in steps (default: what fits, at most 1024);
  ``input_ring_bytes``: bytes of each input ring (default: the rest of data memory).
"""
from __future__ import annotations

import re

import numpy as np

from ...hw.config import CoreConfig, preset
from ..asm import AsmError
from .codegen import CodeGen
from .expr import CompileError
from .fixedpoint import fmt_name, node_ranges, plan_formats
from .image import Image
from .layout import HEADER
from .model import Network

__all__ = ["compile_network"]


def compile_network(net: Network, config: CoreConfig | str | None = None, formats=None,
                    calibrate=None, weights: int = 8, rounding: str | None = None,
                    margin: float = 2.0, ring_steps: int | None = None,
                    input_ring_bytes: int | None = None, seed: int = 1,
                    precise_decay: bool = True) -> Image:
    """Compile ``net`` for ``config``; see the module doc for the options."""
    if not isinstance(net, Network):
        raise CompileError(f"compile_network needs a Network, not {type(net).__name__}.")
    config = preset(config) if isinstance(config, str) else (config or preset("default"))
    if rounding is None:
        rounding = "stochastic" if config.stochastic_rounding else "nearest"
    if rounding not in ("stochastic", "nearest", "floor"):
        raise CompileError(f"rounding={rounding!r} is not a rounding mode; use "
                           "'stochastic', 'nearest' or 'floor'.")
    if not net.populations:
        raise CompileError(f"Network {net.name!r} has no populations, so there is nothing "
                           "to compile; add one with net.population(...).")
    for pr in net.projections:
        for what, arr in (("weight matrix", pr.weight), ("bias", pr.bias)):
            if arr is not None and not np.all(np.isfinite(arr)):
                bad = tuple(int(i) for i in np.argwhere(~np.isfinite(arr))[0])
                raise CompileError(f"Projection {pr.name!r}: the {what} contains NaN or "
                                   f"infinite values (the first at index {bad}); give finite "
                                   "values.")
    for src in net.sources.values():
        if type(src).__name__ != "SpikeInput":
            raise CompileError(f"The source {src.name!r} is a {type(src).__name__}, which "
                               "the code generator does not support yet; feed its spikes "
                               "as a spike input instead.")
    ranges = node_ranges(net, calibrate)
    plan = plan_formats(net, ranges, formats, weights, margin, rounding, precise_decay)
    args = (net, plan, config, ring_steps, input_ring_bytes, seed, weights)
    try:
        cg, program = _generate(args)
        spare = _unused_registers(program) if cg.resident else []
        if spare:       # second pass: registers the first left alone keep run constants
            try:
                cg2, program2 = _generate(args, spare, cg.near_tails)
                # kept only if it names no register but the first's and the spare it took
                if set(spare) - set(_unused_registers(program2)) <= set(cg2.spare_used):
                    cg, program = cg2, program2
            except AsmError:
                pass
    except AsmError as e:
        if "has grown" not in str(e):
            raise CompileError(f"Internal code generator error (please report it): {e}") from None
        raise CompileError(f"The generated code does not fit core configuration "
                           f"'{config.name}': {e}. Use a configuration with more "
                           "instruction memory or a smaller model.") from None
    io = _io(cg, net)
    stats = _estimate(cg, program, ranges["__spikes__"])
    return Image(program, config, dict(cg.mm.arrays), io, plan.to_dict(), plan.report(),
                 stats, net.name)


def _generate(args, spare=(), near=None):
    """A :class:`CodeGen` and its program; a step body beyond branch reach is generated
    again with the wait blocks near (``near_tails``), unless ``near`` fixes the choice
    (a second pass makes the first pass's choices, so its registers stay unused)."""
    cg = CodeGen(*args, near_tails=bool(near), spare=spare)
    try:
        return cg, cg.generate()
    except AsmError as e:
        if near is not None or "out of range" not in str(e) or "has grown" in str(e):
            raise
    cg = CodeGen(*args, near_tails=True, spare=spare)
    return cg, cg.generate()


def _unused_registers(program) -> list:
    """The scalar registers no instruction of ``program`` names."""
    from ..asm.disasm import disassemble
    used = set(re.findall(r"\b(ra|sp|gp|tp|t[0-6]|s1[01]|s[0-9]|a[0-7])\b",
                          disassemble(program)))
    names = [f"a{i}" for i in range(1, 8)] + [f"s{i}" for i in range(3, 12)] + \
        [f"t{i}" for i in range(7)] + ["ra", "tp"]
    return [r for r in names if r not in used]


def _io(cg, net) -> dict:
    mm = cg.mm
    pops = {}
    for p in cg.pops:
        base, blk, off = cg.blocks[p.name]
        pf = cg.plan.pops[p.name]
        pops[p.name] = {"size": p.size, "chunks": cg.C[p.name], "block": base,
                        "block_bytes": blk, "spiking": p.spiking,
                        "rows": {k[1]: v for k, v in off.items() if k[0] in ("state", "rmax")},
                        "formats": {v: f for v, f in pf.state.items()}}
    outputs = []
    for p in cg.pops:
        if (p.name, "spikes") in net.records:
            a = mm[f"out.{p.name}.spikes"]
            outputs.append({"population": p.name, "var": "spikes", "kind": "spikes",
                            "address": a.address, "words": cg.W[p.name], "size": p.size})
        for var in cg.records[p.name]:
            a = mm[f"out.{p.name}.{var}"]
            outputs.append({"population": p.name, "var": var, "kind": "variable",
                            "address": a.address, "chunks": cg.C[p.name], "size": p.size,
                            "frac": cg.plan.pops[p.name].state[var],
                            "format": fmt_name(cg.plan.pops[p.name].state[var])})
    inputs = []
    for s in cg.inputs:
        ctl, ring = mm[f"in_ctl.{s.name}"].address, mm[f"in.{s.name}"]
        inputs.append({"name": s.name, "size": s.size, "ring": ring.address,
                       "ring_bytes": ring.nbytes, "written": ctl, "rptr": ctl + 4,
                       "cur": ctl + 8})
    readouts = [{"name": r.name, "population": r.population.name, "var": r.var,
                 "mode": r.mode} for r in net.readouts.values()]
    return {"header": {f: 4 * i for i, f in enumerate(HEADER)}, "ring_steps": cg.R,
            "inputs": inputs, "outputs": outputs, "readouts": readouts,
            "records": [list(r) for r in net.records], "populations": pops,
            "dt": net.dt, "lanes": cg.L}


def _estimate(cg, program, spikes: dict) -> dict:
    """Static cycles per step: step-body instructions outside the spike loops (each
    counted once, so stalls are ignored) + per-word mask scans + per-spike loop costs
    with the calibration run's mean spike counts."""
    sym = program.symbols
    body = (sym["__limit"][1] - sym["__phase_input"][1]) // 4 - cg.stats["loop_instructions"]
    words = sum(6 * w for w in cg.stats["per_word"].values())
    terms = {}
    for key, cyc in cg.stats["per_spike"].items():
        if key.endswith("*"):               # fused rows of one source (resident path)
            pre = key[:-1]
        else:
            pre = next(pr for pr in cg.net.projections if key.startswith(pr.name + "@")).pre.name
        terms[key] = {"cycles_per_spike": cyc, "spikes": spikes.get(pre, 0.0)}
    est = body + words + sum(t["cycles_per_spike"] * t["spikes"] for t in terms.values())
    return {"instructions": len(program.text), "step_instructions": body,
            "fixed_cycles": body + words, "spike_terms": terms, "estimated_cycles": est,
            # states kept in their accumulator registers for the whole run (never loaded)
            "register_states": {name: sorted({i.attrs["mem"][1] for i in low.ins
                                              if i.op == "vstore" and i.attrs.get("sync")})
                                for name, low in cg.lowered.items()},
            "register_plan": {k: {"group": v["G"], "interleave": v["K"],
                                  "pinned_constants": v["npin"],
                                  "vector_spills": v["alloc"].v_spills}
                              for k, v in cg.alloc_plan.items()}}


def effective_network(net: Network, image: Image) -> Network:
    """A copy of ``net`` whose weights and biases are the values the compiled core really
    uses (the quantised integers times their unit, divided by the folded input gain; a
    population's biases are summed and quantised together, as on the core).
    Simulating it with the float reference separates weight quantisation from the
    arithmetic error of the neuron updates."""
    import copy

    from .expr import evaluate
    from .fixedpoint import find_input_fold, parse_format, quantise
    out = copy.copy(net)
    out.projections = []
    vdata = np.frombuffer(image.program.vdata, np.uint8)
    for pr in net.projections:
        a = image.memory_map[f"weights.{pr.name}"]
        dtype = np.dtype(a.dtype)
        raw = np.zeros(a.nbytes, np.uint8)
        raw[:max(0, min(a.nbytes, len(vdata) - a.address))] = vdata[a.address:a.address + a.nbytes]
        rowb = a.shape[1] * dtype.itemsize
        rows = raw.reshape(-1, a.stride or rowb)[:, :rowb]     # strided: fused rows
        j = np.arange(a.shape[0])
        rows = rows[(j % 32) * a.interleave + j // 32 if a.interleave else j]
        w_q = np.ascontiguousarray(rows).view(dtype)[:, :pr.post.size].astype(np.float64)
        unit = image.formats["projections"][pr.name]["unit"]
        _, factor = find_input_fold(pr.post.model)
        gain = 1.0 if factor is None else np.broadcast_to(
            np.asarray(evaluate(factor, dict(pr.post.consts, dt=net.dt)), np.float64),
            (pr.post.size,))
        q = copy.copy(pr)
        q.weight = w_q * unit / gain
        if pr.bias is not None:     # the population's summed bias, as quantised, goes on
            first = next(b for b in net.inputs_to(pr.post) if b.bias is not None)
            if pr is first:         # its first biased projection
                frac = parse_format(image.formats["variables"][f"{pr.post.name}.I"]["format"],
                                    f"{pr.post.name}.I")
                total = np.sum([b.bias for b in net.inputs_to(pr.post) if b.bias is not None],
                               axis=0)
                q.bias = quantise(total * gain, frac) / 2.0 ** frac / gain
            else:
                q.bias = np.zeros_like(pr.bias)
        out.projections.append(q)
    return out
