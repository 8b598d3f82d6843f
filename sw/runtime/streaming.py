"""Streaming one trial through the on-chip rings, on any backend.

The core runs a trial of ``T`` steps; the host keeps its input rings filled and its
output rings drained (the header protocol of :mod:`spikevec.sw.compiler.layout`):

* **inputs**: each step's spikes are a record ``[count u32][u16 index]*count`` padded to
  4 bytes. :class:`InputRing` writes records one after the other from the ring's start;
  when the next record does not fit before the ring's end it writes the wrap marker
  ``0xFFFFFFFF`` (the ring is followed by a guard, so a marker always fits) and goes on
  at the start. A record may be overwritten only once its step is finished
  (``steps_done`` > step: the core reads the indices during the step). After writing,
  the host raises ``in_written``.
* **outputs**: the core writes step ``t``'s spike mask / recorded variables to slot
  ``t mod ring_steps`` and waits while ``steps_done - out_consumed`` equals the ring
  capacity; the host reads slots ``[out_consumed, steps_done)`` and raises
  ``out_consumed``.

The core runs with ``n_steps = T`` from the start; between the host's rounds of service
the backend lets time pass (:meth:`~.backend.IssBackend.advance`: the golden model
executes a slice; the RTL and a board run by themselves). The core spins in its wait
loops whenever the host is behind and counts those cycles in ``wait_cycles``.

Contract: :func:`stream_trial` returns exactly what the core computed or raises
(``RuntimeError`` naming the stop reason if the program stops abnormally, ``TimeoutError``
if the core stops making progress).
"""
from __future__ import annotations

import time
from collections import deque

import numpy as np

__all__ = ["InputRing", "stream_trial", "encode_record", "WRAP"]

WRAP = 0xFFFFFFFF


def encode_record(row: np.ndarray) -> bytes:
    """One step's record for a 0/1 row of input spikes."""
    idx = np.flatnonzero(row).astype(np.uint16)
    rec = np.zeros(1 + (2 * len(idx) + 3) // 4, np.uint32)
    rec[0] = len(idx)
    rec.view(np.uint8)[4:4 + 2 * len(idx)] = idx.view(np.uint8)
    return rec.tobytes()


class InputRing:
    """Host side of one input ring: which bytes hold records the core may still read."""

    def __init__(self, spec: dict, spikes: np.ndarray):
        self.spec, self.spikes = spec, spikes
        self.start, self.end = spec["ring"], spec["ring"] + spec["ring_bytes"]
        self.wpos = self.start
        self.live = deque()     # (step, address, nbytes, wrap marker address or None)
        self.written = 0                # records written = in_written

    def _fits(self, nbytes: int) -> int | None:
        """Address where a record of ``nbytes`` can go now (the ring's start means after
        a wrap marker at ``wpos``), or None when the ring is full. A record written after
        a wrap also protects its marker (the core reads the marker when it starts that
        record's step)."""
        head = None
        if self.live:
            _, addr, _, wrap_from = self.live[0]
            head = addr if wrap_from is None else wrap_from
        if head is None or head < self.wpos:
            if self.wpos + nbytes <= self.end:
                return self.wpos
            limit = self.end if head is None else head
            return self.start if self.start + nbytes <= limit else None
        if head > self.wpos and self.wpos + nbytes <= head:
            return self.wpos
        return None

    def refill(self, done: int, write, limit_steps: int) -> bool:
        """Forget records of steps < ``done``; write records up to step ``limit_steps``
        while they fit (``write(addr, bytes)``). Returns whether ``in_written`` moved."""
        while self.live and self.live[0][0] < done:
            self.live.popleft()
        pieces, base, moved = [], None, False
        while self.written < limit_steps:
            rec = encode_record(self.spikes[self.written])
            if len(rec) + 4 > self.spec["ring_bytes"]:
                raise ValueError(
                    f"Step {self.written}'s spikes on input {self.spec['name']!r} need a "
                    f"{len(rec)}-byte record but the input ring holds "
                    f"{self.spec['ring_bytes']} bytes; recompile with a larger "
                    "input_ring_bytes.")
            addr = self._fits(len(rec))
            if addr is None:
                break
            wrap_from = None
            if addr != self.wpos:                   # wrap: marker at the old position
                wrap_from = self.wpos
                if pieces:
                    write(base, b"".join(pieces))
                    pieces = []
                write(self.wpos, np.uint32(WRAP).tobytes())
            if not pieces:
                base = addr
            pieces.append(rec)
            self.live.append((self.written, addr, len(rec), wrap_from))
            self.wpos = addr + len(rec)
            self.written += 1
            moved = True
        if pieces:
            write(base, b"".join(pieces))
        return moved


def _slot_ranges(c: int, d: int, R: int):
    """Split steps [c, d) into runs of consecutive slots: (first step, count)."""
    t = c
    while t < d:
        n = min(d - t, R - t % R)
        yield t, n
        t += n


def _drain(backend, io, outputs, got, c, d):
    R, L = io["ring_steps"], io["lanes"]
    for o in outputs:
        arr = got[(o["population"], o["var"])]
        for t, n in _slot_ranges(c, d, R):
            slot = t % R
            if o["kind"] == "spikes":
                w = o["words"]
                raw = np.frombuffer(backend.read("dmem", o["address"] + 4 * w * slot,
                                                 4 * w * n), np.uint8).reshape(n, 4 * w)
                bits = np.unpackbits(raw, axis=1, bitorder="little")
                arr[t:t + n] = bits[:, :o["size"]].astype(bool)
            else:
                nb = o["chunks"] * L * 2
                raw = backend.read("vmem", o["address"] + nb * slot, nb * n)
                vals = np.frombuffer(raw, np.int16).reshape(n, -1)[:, :o["size"]]
                arr[t:t + n] = vals / 2.0 ** o["frac"]


def _u32(value: int) -> bytes:
    return np.uint32(value).tobytes()


def stream_trial(backend, image, spikes: dict, T: int, outputs: list,
                 stall_timeout: float = 30.0) -> tuple:
    """Run one trial of ``T`` steps on a prepared ``backend`` (memories restored).
    ``spikes``: ``{input name: bool [T, C]}``; ``outputs``: the ``io["outputs"]`` entries
    to read back. Returns ``(got, status)``: ``{(population, var): array [T, N]}`` and the
    backend's final status dict (cycles, instret, ...)."""
    io = image.io
    hdr = io["header"]
    got = {(o["population"], o["var"]): np.zeros((T, o["size"]),
                                                 bool if o["kind"] == "spikes" else float)
           for o in outputs}
    rings = [InputRing(s, spikes[s["name"]]) for s in io["inputs"]]

    def write_dmem(addr, data):
        backend.write("dmem", addr, data)

    def refill(done):
        for ring in rings:
            if ring.refill(done, write_dmem, T):
                backend.write("dmem", ring.spec["written"], _u32(ring.written))

    head_bytes = 4 + max(hdr.values()) // 4 * 4
    refill(0)
    backend.write("dmem", hdr["n_steps"], _u32(T))
    backend.begin(image)
    done = consumed = 0
    stopped = False
    last_progress = time.monotonic()
    while True:
        backend.advance()
        head = np.frombuffer(backend.read("dmem", 0, head_bytes), np.uint32)
        new_done, done_before = int(head[hdr["steps_done"] // 4]), done
        if new_done > done or new_done == T:
            _drain(backend, io, outputs, got, consumed, new_done)
            if new_done > consumed:
                consumed = new_done
                backend.write("dmem", hdr["out_consumed"], _u32(consumed))
            if new_done > done:
                last_progress = time.monotonic()
            done = new_done
            refill(done)
        if done >= T:
            status = backend.finish(image)
            break
        if new_done > done_before:
            continue
        status = backend.poll()             # no progress: is the core still running?
        if not status["running"]:
            if status["exit"] != "ecall" or stopped:
                raise RuntimeError(f"The core stopped after {done} of {T} steps: "
                                   f"{status['message'] or status['exit']}")
            stopped = True                  # re-read the header once: it may have ended
            continue
        if time.monotonic() - last_progress > stall_timeout:
            raise TimeoutError(
                f"The core made no progress for {stall_timeout:.0f} s at step {done} of "
                f"{T} on the {backend.name} backend; check that the device runs the "
                "loaded image (spikevec inspect) and that the link works.")
        backend.idle()
    if "wait_cycles" in hdr:
        waits = backend.read("dmem", hdr["wait_cycles"] & ~3, 4)
        status["wait_cycles"] = int(np.frombuffer(waits, np.uint32)[0])
    return got, status
