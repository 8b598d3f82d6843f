"""A fake spikevec device: the golden model behind the host protocol.

:class:`FakeSoc` answers request frames like the RTL SoC: the checks, statuses and
payloads come from :class:`~spikevec.hw.rtl.host_model.HostPortModel`; the memories,
registers and execution are a golden-model :class:`~spikevec.sim.iss.Machine`. Time is
simulated: every request a running core receives first lets it execute
``instructions_per_request`` instructions, so a slow host makes the core spin in its
wait loops exactly as on a board. ``ecall``, ``ebreak`` and faults halt the core with
the matching ``TrapCause``; ``HALT`` stops it where it is.

:class:`FakeSocTransport` wraps it as a blocking byte transport (``send``/``receive``) for
:class:`~spikevec.sim.rtl.soc_client.SocClient`, with the same interface as the RTL
harness (``cycles``, ``close``, context manager). The runtime's tests use it as the far
end of the RTL and board code paths; :mod:`.protocol_svfake` puts it behind a fault-
injecting serial port.

Contract: with a correct host, the spikes and state a program computes on a
:class:`FakeSoc` are bit-identical to running it on a ``Machine`` directly (it is one).
"""
from __future__ import annotations

import numpy as np

from ...hw.config import CoreConfig, preset
from ...hw.rtl.enums import TrapCause
from ...hw.rtl.host_model import HostPortModel, ModelCore
from ...hw.rtl.host_protocol import REQUEST_SYNC, CoreStatus, Space, split_frame
from ...sim.iss import Machine

__all__ = ["FakeSoc", "FakeSocTransport", "MachineCore"]

_EXIT_TO_CAUSE = {"ecall": "ECALL", "ebreak": "EBREAK", "illegal_instruction": "ILLEGAL",
                  "pc_fault": "FETCH_FAULT", "load_fault": "LOAD_FAULT",
                  "store_fault": "STORE_FAULT"}


class MachineCore(ModelCore):
    """Core control on a :class:`Machine`: ``start`` zeroes the counters and runs from
    ``pc``; :meth:`advance` executes a slice; ``status`` is always current."""

    def __init__(self, machine: Machine, instructions_per_request: int):
        super().__init__()
        self.machine = machine
        self.slice = int(instructions_per_request)
        self.running = False
        self.cause = 0
        self.trap = (0, 0, 0)

    @property
    def status(self) -> CoreStatus:
        m = self.machine
        return CoreStatus(running=self.running, halted=not self.running, cause=self.cause,
                          pc=m.pc, trap_pc=self.trap[0], trap_word=self.trap[1],
                          trap_addr=self.trap[2], cycles=m.cycles, instret=m.instret)

    @status.setter
    def status(self, value):        # ModelCore.__init__ assigns a default; ignore it
        pass

    def start(self, pc: int) -> None:
        self.machine.restart(pc)
        self.running, self.cause, self.trap = True, 0, (0, 0, 0)

    def halt(self) -> None:
        self.running = False

    def advance(self, instructions: int | None = None) -> None:
        """Run the core for ``instructions`` (default: one slice) if it is running."""
        if not self.running:
            return
        m = self.machine
        res = m.run(max_instructions=self.slice if instructions is None else instructions)
        if res.exit_reason == "max_instructions":
            return
        self.running = False
        name = _EXIT_TO_CAUSE.get(res.exit_reason, "ILLEGAL")
        self.cause = TrapCause[name].value
        fault = res.fault or {}
        word = int(m.imem[res.pc // 4]) if 0 <= res.pc < 4 * len(m.imem) else 0
        self.trap = (res.pc, word, int(fault.get("address") or res.pc))


class FakeSoc(HostPortModel):
    """The host-port model with a golden-model core behind it (see the module doc)."""

    def __init__(self, config: CoreConfig | str = "default", instructions_per_request=2000):
        config = preset(config) if isinstance(config, str) else config
        self.machine = Machine(config)
        super().__init__(config, MachineCore(self.machine, instructions_per_request))
        self._imem_dirty = False

    # memory spaces as byte views of the machine's state --------------------------------
    def _view(self, space: Space) -> np.ndarray:
        m, L = self.machine, self.config.lanes
        if space == Space.DMEM:
            return m.dmem
        if space == Space.VMEM:
            return m.vmem
        if space == Space.IMEM:
            return m.imem.view(np.uint8)
        if space == Space.XREG:
            return m.x.view(np.uint8)
        if space == Space.VREG:
            return m.v.reshape(-1).view(np.uint8)
        raise KeyError(space)

    def read(self, space: Space, address: int, count: int) -> bytes:
        if space == Space.STATUS:
            return self.core.status.to_bytes()[address:address + count]
        if space == Space.LMEM:
            element_major = self.machine.lmem.T.copy().reshape(-1).view(np.uint8)
            return element_major[address:address + count].tobytes()
        return self._view(space)[address:address + count].tobytes()

    def write(self, space: Space, address: int, data: bytes) -> None:
        raw = np.frombuffer(bytes(data), np.uint8)
        if space == Space.LMEM:
            lm = self.machine.lmem
            flat = lm.T.copy().reshape(-1).view(np.uint8)
            flat[address:address + len(raw)] = raw
            lm[:] = flat.view(np.int16).reshape(lm.shape[1], lm.shape[0]).T
            return
        self._view(space)[address:address + len(raw)] = raw
        if space == Space.XREG:
            self.machine.x[0] = 0
        if space == Space.IMEM:
            self._imem_dirty = True

    def handle(self, frame: bytes) -> bytes:
        """Let a running core execute one slice, then answer ``frame``."""
        self.core.advance()
        if self._imem_dirty and not self.core.running:
            self.machine.set_imem(self.machine.imem.copy())     # pre-decode again
            self._imem_dirty = False
        return super().handle(frame)


class FakeSocTransport:
    """A :class:`FakeSoc` as a blocking byte transport with the RTL harness's interface:
    ``send(bytes)``, ``receive(n)`` (exactly ``n`` bytes or ``TimeoutError``),
    ``cycles`` (the core's cycle counter), ``close()`` and ``with``."""

    def __init__(self, config: CoreConfig | str = "default", instructions_per_request=2000):
        self.device = FakeSoc(config, instructions_per_request)
        self._rx = b""
        self._tx = bytearray()

    def send(self, data: bytes) -> None:
        self._rx += bytes(data)
        while True:
            frame, rest = split_frame(self._rx, REQUEST_SYNC)
            if frame is None:
                self._rx = rest
                return
            self._rx = rest
            self._tx += self.device.handle(frame)

    def receive(self, n: int) -> bytes:
        if len(self._tx) < n:
            self.device.core.advance()
            raise TimeoutError(f"The fake device has {len(self._tx)} response bytes but "
                               f"{n} were expected; the request was incomplete.")
        out = bytes(self._tx[:n])
        del self._tx[:n]
        return out

    @property
    def cycles(self) -> int:
        return self.device.machine.cycles

    def close(self) -> None:
        self._rx, self._tx = b"", bytearray()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
