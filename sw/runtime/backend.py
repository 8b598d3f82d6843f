"""The two kinds of backend under a :class:`~.device.Device`.

Every backend offers the same small interface to :func:`~.streaming.stream_trial`:

* ``load_program(program)``: code and initial memories (``restore`` then resets a trial);
* ``read(space, address, n) -> bytes`` / ``write(space, address, data)`` with ``space``
  ``"dmem"`` or ``"vmem"`` (any byte range; a SoC backend widens it to whole words);
* ``restore(shadow)``: put back the state a trial starts from (the :class:`Shadow`:
  initial data and vector memory as the host last set them, registers zero);
* ``begin(image)`` starts the core at ``__start``; ``advance()`` lets time pass (the
  golden model executes a slice; a real or simulated core runs by itself); ``poll()``
  returns the status dict; ``finish(image)`` waits for the stop at ``__done`` and
  returns the final status; ``idle()`` waits a little between polls.

Status dicts hold ``running``, ``exit`` (``"ecall"``, ...), ``message``, ``cycles`` and
``instret``.

* :class:`IssBackend`: the golden model, driven directly in slices of instructions
  (about half an output ring of steps, from the image's cycle estimate); the host
  services the rings between slices, and the core waits (spins) when a slice outruns
  them, exactly as on hardware, so ``cycles - wait_cycles`` is the same exact compute
  cycle count as on the RTL.
* :class:`SocBackend`: a core behind the host protocol through a
  :class:`~spikevec.sim.rtl.soc_client.SocClient` (the RTL simulation, a board, or
  :class:`~.fake_device.FakeSocTransport`); cycles come from ``STATUS``.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ...hw.rtl.enums import TrapCause
from ...hw.rtl.host_protocol import Space
from ...sim.iss import Machine

__all__ = ["Shadow", "IssBackend", "SocBackend"]

_CAUSE_EXIT = {"ECALL": "ecall", "EBREAK": "ebreak", "ILLEGAL": "illegal_instruction",
               "FETCH_FAULT": "pc_fault", "LOAD_FAULT": "load_fault",
               "STORE_FAULT": "store_fault", "VECTOR_FAULT": "vector_fault",
               "NONE": "halted by the host"}
#: Arrays a trial never changes or that the host rewrites itself (skipped by restore).
_NOT_RESTORED = ("in.", "out.", "weights.", "in_guard.")


@dataclass
class Shadow:
    """The host's copy of the initial data and vector memory of the loaded image, with
    the host's :meth:`~.device.Device.write_array` changes; ``spans`` are the
    ``(space, address, nbytes)`` ranges a trial may change (merged)."""
    dmem: bytearray
    vmem: bytearray
    spans: list

    @classmethod
    def of(cls, image) -> "Shadow":
        c, p = image.config, image.program
        dmem, vmem = bytearray(c.dmem_bytes), bytearray(c.vmem_bytes)
        dmem[:len(p.data)] = p.data
        vmem[:len(p.vdata)] = p.vdata
        spans = []
        for a in sorted(image.memory_map.values(), key=lambda a: (a.space, a.address)):
            if a.name.startswith(_NOT_RESTORED):
                continue
            lo, hi = a.address & ~3, -(-(a.address + a.nbytes) // 4) * 4
            if spans and spans[-1][0] == a.space and spans[-1][2] >= lo:
                spans[-1][2] = max(spans[-1][2], hi)
            else:
                spans.append([a.space, lo, hi])
        return cls(dmem, vmem, [(s, lo, hi - lo) for s, lo, hi in spans])

    def write(self, space: str, address: int, data: bytes) -> None:
        getattr(self, space)[address:address + len(data)] = data


class IssBackend:
    """The golden model (see the module doc). ``trace=True`` keeps the write-back trace
    in :attr:`trace`; ``slice_instructions`` overrides the slice length."""
    name = "iss"

    def __init__(self, config, trace: bool = False, slice_instructions: int | None = None):
        self.config = config
        self.machine = Machine(config)
        self.tracing, self.slice_override = trace, slice_instructions
        self.trace = [] if trace else None
        self.running = False

    def load_program(self, program) -> None:
        self.machine.load_program(program)

    def read(self, space: str, address: int, n: int) -> bytes:
        return getattr(self.machine, space)[address:address + n].tobytes()

    def write(self, space: str, address: int, data: bytes) -> None:
        getattr(self.machine, space)[address:address + len(data)] = np.frombuffer(
            bytes(data), np.uint8)

    def restore(self, shadow: Shadow) -> None:
        m = self.machine
        m.dmem[:] = np.frombuffer(bytes(shadow.dmem), np.uint8)
        m.vmem[:] = np.frombuffer(bytes(shadow.vmem), np.uint8)
        m.lmem[:] = 0
        m.reset()

    def begin(self, image) -> None:
        per_step = max(50, int(image.stats.get("estimated_cycles", 500)))
        self.slice = self.slice_override or max(2000, per_step * image.io["ring_steps"] // 2)
        self.machine.restart(image.symbol("__start"))
        self.running = True

    def advance(self) -> None:
        """Execute one slice (the host services the rings between slices)."""
        if not self.running:
            return
        res = self.machine.run(max_instructions=self.slice, trace=self.tracing)
        if self.tracing:
            self.trace.extend(res.trace)
        self.running = res.exit_reason == "max_instructions"
        self.result = res

    def poll(self) -> dict:
        m = self.machine
        exit_ = "running" if self.running else self.result.exit_reason
        return {"running": self.running, "exit": exit_,
                "message": "" if exit_ in ("running", "ecall") else self.result.message,
                "cycles": m.cycles, "instret": m.instret}

    def finish(self, image) -> dict:
        while self.running:
            self.advance()
        status = self.poll()
        if status["exit"] != "ecall":
            raise RuntimeError(f"The compiled program stopped abnormally on the golden "
                               f"model: {status['message']}")
        return status

    def idle(self) -> None:
        pass

    def close(self) -> None:
        pass


class SocBackend:
    """A core behind the host protocol (see the module doc). ``client`` is a
    :class:`~spikevec.sim.rtl.soc_client.SocClient`; ``poll_interval`` seconds are
    slept between status polls; ``timeout`` bounds the wait for the final stop."""

    def __init__(self, client, config, name: str, poll_interval: float = 0.0,
                 timeout: float = 60.0, closer=None):
        self.client, self.config, self.name = client, config, name
        self.poll_interval, self.timeout, self._closer = poll_interval, timeout, closer

    def load_program(self, program) -> None:
        if self.client.status().running:
            self.client.halt()
        self.client.load_program(program)

    def read(self, space: str, address: int, n: int) -> bytes:
        lo, hi = address & ~3, -(-(address + n) // 4) * 4
        data = self.client.read(Space[space.upper()], lo, hi - lo)
        return data[address - lo:address - lo + n]

    def write(self, space: str, address: int, data: bytes) -> None:
        data = bytes(data)
        lo, hi = address & ~3, -(-(address + len(data)) // 4) * 4
        if (lo, hi) != (address, address + len(data)):
            buf = bytearray(self.client.read(Space[space.upper()], lo, hi - lo))
            buf[address - lo:address - lo + len(data)] = data
            data = bytes(buf)
        self.client.write(Space[space.upper()], lo, data)

    def restore(self, shadow: Shadow) -> None:
        for space, address, nbytes in shadow.spans:
            self.write(space, address, bytes(getattr(shadow, space)[address:address + nbytes]))
        self.client.write(Space.XREG, 0, bytes(128))
        self.client.write(Space.VREG, 0, bytes(self.config.vector_registers
                                               * self.config.vector_bytes))

    def begin(self, image) -> None:
        self.client.start(pc=image.symbol("__start"))

    def advance(self) -> None:
        """The core runs by itself."""

    def poll(self) -> dict:
        s = self.client.status()
        cause = TrapCause(s.cause).name if s.cause < len(_CAUSE_EXIT) else str(s.cause)
        exit_ = "running" if s.running else _CAUSE_EXIT.get(cause, cause)
        message = "" if s.running or exit_ == "ecall" else (
            f"{exit_} at pc {s.trap_pc:#x} (word {s.trap_word:#010x}, address "
            f"{s.trap_addr:#x})")
        return {"running": s.running, "exit": exit_, "message": message,
                "cycles": s.cycles, "instret": s.instret}

    def finish(self, image) -> dict:
        deadline = time.monotonic() + self.timeout
        while True:
            status = self.poll()
            if not status["running"]:
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"The core on the {self.name} backend finished every "
                                   f"step but did not stop at __done within "
                                   f"{self.timeout:.0f} s; check the loaded image.")
            self.idle()
        if status["exit"] != "ecall":
            raise RuntimeError(f"The compiled program stopped abnormally on the "
                               f"{self.name} backend: {status['message']}")
        return status

    def idle(self) -> None:
        if self.poll_interval:
            time.sleep(self.poll_interval)

    def close(self) -> None:
        if self._closer is not None:
            self._closer()
