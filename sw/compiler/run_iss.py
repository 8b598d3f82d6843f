"""A small host-side runner for the golden model: run an :class:`Image` on inputs.

``run_iss(image, inputs, T=None)`` writes the input spikes into the image's input rings,
runs :class:`spikevec.sim.iss.Machine` and reads back the recorded spikes and variables
and the readouts as numpy arrays in the shapes :func:`~.reference.simulate` returns
(``[T, N]`` / ``[B, T, N]``; spikes bool, variables float = integer / 2**F), plus cycle
counts.

Protocol (see :mod:`.layout` for the header): input records are ``[count: u32]
[index: u16] * count`` padded to 4 bytes, written one after the other from the ring's
start; a count of ``0xFFFFFFFF`` would tell the core to wrap to the start (the runner
never needs it because it refills from the start between runs). The runner runs the
trial in pieces of at most ``ring_steps`` steps (and as many as the input ring holds):
it writes the piece's records, sets ``in_written`` and ``n_steps`` to the piece's last
step, runs to the ``ecall`` at ``__done`` (resuming at ``__step`` after the first
piece), then reads the output slots (slot = step mod ring_steps) and sets
``out_consumed``. The core therefore never waits, and the cycle count is exact.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...sim.iss import Machine
from .expr import CompileError
from .reference import Result

__all__ = ["run_iss", "IssResult", "encode_records"]


@dataclass
class IssResult(Result):
    """A :class:`~.reference.Result` plus ``cycles`` (per sample) and
    ``cycles_per_step`` (mean over samples)."""
    cycles: list = None
    cycles_per_step: float = 0.0


def encode_records(spikes: np.ndarray, capacity: int) -> tuple:
    """Pack rows of 0/1 ``spikes`` [T, C] into records; stop before the first record that
    would not fit in ``capacity`` bytes. Returns ``(bytes, steps packed)``."""
    out, used = [], 0
    for t, row in enumerate(spikes):
        idx = np.flatnonzero(row).astype(np.uint16)
        rec = np.zeros(1 + (2 * len(idx) + 3) // 4, np.uint32)
        rec[0] = len(idx)
        rec.view(np.uint8)[4:4 + 2 * len(idx)] = idx.view(np.uint8)
        if used + rec.nbytes > capacity:
            return b"".join(out), t
        out.append(rec.tobytes())
        used += rec.nbytes
    return b"".join(out), len(spikes)


def _normalise(image, inputs, T):
    specs = image.io["inputs"]
    if inputs is None:
        inputs = {}
    elif not isinstance(inputs, dict):
        if len(specs) != 1:
            raise CompileError(f"The image has {len(specs)} spike inputs; pass a dict of "
                               "arrays by input name.")
        inputs = {specs[0]["name"]: inputs}
    out, batched, B = {}, None, 1
    for s in specs:
        if s["name"] not in inputs:
            raise CompileError(f"No input spikes were given for {s['name']!r}; give an array "
                               f"[T, {s['size']}] or [B, T, {s['size']}].")
        a = np.asarray(inputs[s["name"]])
        if a.ndim not in (2, 3) or a.shape[-1] != s["size"]:
            raise CompileError(f"The input spikes for {s['name']!r} have shape {a.shape}; "
                               f"give [T, {s['size']}] or [B, T, {s['size']}].")
        if not np.all((a == 0) | (a == 1)):
            raise CompileError(f"The input spikes for {s['name']!r} contain values other "
                               "than 0 and 1; the event-driven core takes binary spikes.")
        batched = a.ndim == 3
        a = a if batched else a[None]
        B, T = a.shape[0], a.shape[1]
        out[s["name"]] = a.astype(bool)
    if T is None:
        raise CompileError("The image has no spike inputs, so give the number of steps T.")
    return out, int(T), bool(batched), B


def run_iss(image, inputs=None, T: int | None = None, machine: Machine | None = None,
            max_instructions: int | None = None) -> IssResult:
    """Run ``image`` on ``inputs`` ([T, C], [B, T, C] or a dict of them by input name) on
    the golden model; see the module doc."""
    streams, T, batched, B = _normalise(image, inputs, T)
    m = machine or Machine(image.config)
    m.config.check_compatible(image.config, "program image")
    io, R = image.io, image.io["ring_steps"]
    traces = {tuple(r): [] for r in io["records"]}
    readouts = {r["name"]: [] for r in io["readouts"]}
    cycles = []
    for bi in range(B):
        got = {(o["population"], o["var"]): np.zeros((T, o["size"]),
                                                     bool if o["kind"] == "spikes" else float)
               for o in io["outputs"]}
        m.load_program(image.program)
        t0 = 0
        while t0 < T:
            t1 = min(T, t0 + R)
            for s in io["inputs"]:
                data, n = encode_records(streams[s["name"]][bi, t0:t1], s["ring_bytes"])
                if n == 0:
                    raise CompileError(f"One step of input {s['name']!r} does not fit the "
                                       f"{s['ring_bytes']}-byte input ring; recompile with a "
                                       "larger input_ring_bytes.")
                t1 = min(t1, t0 + n)
            for s in io["inputs"]:
                data, _ = encode_records(streams[s["name"]][bi, t0:t1], s["ring_bytes"])
                m.set_dmem(data, s["ring"])
                m.set_dmem(np.array([t1, s["ring"]], np.uint32).tobytes(), s["written"])
            m.set_dmem(np.array([t1], np.uint32).tobytes(), io["header"]["n_steps"])
            if t0:
                m.pc = image.symbol("__step")
            res = m.run(max_instructions=max_instructions)
            if not res.ok:
                raise RuntimeError(f"The compiled program stopped abnormally: {res.message}")
            _read_outputs(m, io, got, t0, t1, R)
            m.set_dmem(np.array([t1], np.uint32).tobytes(), io["header"]["out_consumed"])
            t0 = t1
        cycles.append(m.cycles)
        for key in traces:
            traces[key].append(got[key])
        for r in io["readouts"]:
            readouts[r["name"]].append(_readout(m, io, r, got))
    traces = {k: np.stack(v) for k, v in traces.items()}
    readouts = {k: np.stack(v) for k, v in readouts.items()}
    if not batched:
        traces = {k: v[0] for k, v in traces.items()}
        readouts = {k: v[0] for k, v in readouts.items()}
    return IssResult(traces, readouts, T, cycles, float(np.mean(cycles)) / T)


def _read_outputs(m, io, got, t0, t1, R):
    L = io["lanes"]
    for o in io["outputs"]:
        arr = got[(o["population"], o["var"])]
        for t in range(t0, t1):
            slot = t % R
            if o["kind"] == "spikes":
                w = o["words"]
                raw = m.dmem[o["address"] + 4 * w * slot: o["address"] + 4 * w * (slot + 1)]
                bits = np.unpackbits(raw, bitorder="little")
                arr[t] = bits[:o["size"]].astype(bool)
            else:
                n = o["chunks"] * L * 2
                raw = m.vmem[o["address"] + n * slot: o["address"] + n * (slot + 1)]
                arr[t] = raw.view(np.int16)[:o["size"]] / 2.0 ** o["frac"]


def _readout(m, io, r, got):
    pop = io["populations"][r["population"]]
    L, frac = io["lanes"], pop["formats"][r["var"]]
    if r["mode"] == "mean":
        return got[(r["population"], r["var"])].mean(axis=0)
    row = pop["rows"][r["name"] if r["mode"] == "max" else r["var"]]
    vals = []
    for c in range(pop["chunks"]):
        a = pop["block"] + c * pop["block_bytes"] + row
        vals.append(m.vmem[a:a + 2 * L].view(np.int16))
    return np.concatenate(vals)[:pop["size"]] / 2.0 ** frac
