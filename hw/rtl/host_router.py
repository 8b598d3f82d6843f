"""HostRouter: the host port's request bus and control, routed to the core's host ports.

The router sits between :class:`.host_port.HostPort` (``bus``: :class:`HostBusSignature`,
``control``: :class:`HostControlSignature`, both flipped here) and a core that offers one
:class:`.signatures.HostMemorySignature` port per address space plus ``start``/``status``
(the ports of ``hw/rtl/core.py``'s ``Core`` or :class:`.soc_scalar_core.SocScalarCore`).

Contract
--------
* Requests: a request of space ``s`` is taken (``req.ready``) in any cycle in which the
  core can serve ``s``. Spaces in ``live_spaces`` are served at any time; every other
  space only while the core is stopped, so a request for one of them that arrives while
  the core runs waits (``ready`` low) until the core stops. The host port never sends
  IMEM/XREG/VREG requests while running (it answers ``BUSY``); DMEM/VMEM/LMEM requests
  wait unless the core declares them live.
* A transfer drives ``addr``/``wdata`` of every memory port and ``we`` (all byte lanes)
  of the selected one only, one cycle after it is taken (the request is registered); a
  read answers with exactly one ``rdata`` beat :attr:`HostRouter.read_latency` cycles
  after it is taken, whatever its space: the request register, the slowest port's read
  latency (``latencies``: the ``latency`` of each core port's signature; the vector
  unit's memories take 3), and every port's read data is registered before the space
  read is chosen; a faster space's word waits in a delay line (block-RAM outputs are
  slow on ECP5, and the host path is not speed critical: the host port keeps one read
  outstanding and streams one byte per cycle).
* Control: ``start`` and ``start_pc`` are passed on (``core_start``,
  ``core_start_pc``); a ``halt`` pulse is latched into ``core_halt`` until the core
  stops or is started again (the core stops at the next instruction boundary with cause
  ``NONE``; the host port answers ``HALT`` once the drain below is over).
* Status: ``control.status`` shows ``running`` for :data:`DRAIN_CYCLES` cycles longer
  than the core does, so that the instructions still in MEM and WB after a halt have
  written memory and registers before the host may read them (and ``halted`` only after
  that). ``cause``, ``trap_*``, ``cycles`` and ``instret`` are the core's. The core's
  status has no ``pc``: the router reports ``trap_pc`` (the pc the golden model stops at
  for ecall, ebreak and faults; after a HALT the pc to resume at; 0 while running).
"""
from __future__ import annotations

from amaranth.hdl import Const, Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..isa import TIMING
from ..config import CoreConfig
from .delay import delayed
from .host_bus import HostBusSignature, HostControlSignature
from .host_protocol import Space, space_bytes
from .signatures import HostMemorySignature, StatusSignature

__all__ = ["HostRouter", "DRAIN_CYCLES", "ROUTED_SPACES", "space_port_signature",
           "port_latencies"]

#: Cycles the router keeps reporting ``running`` after the core stops: the vector unit's
#: P1-P4, which run ``TIMING.lane_delay`` cycles behind the core, drain.
DRAIN_CYCLES = 4 + TIMING.lane_delay

#: Memory spaces the router serves through a core port (STATUS is the host port's own).
ROUTED_SPACES = (Space.IMEM, Space.DMEM, Space.VMEM, Space.LMEM, Space.XREG, Space.VREG)


def space_port_signature(config: CoreConfig, space: Space,
                         latency: int = 1) -> HostMemorySignature:
    """The core's host port of ``space``: one word per address, 4 byte enables for DMEM
    (the scalar core's data memory port) and one write enable for the others; read
    ``latency``."""
    words = space_bytes(config, space) // 4
    return HostMemorySignature(words, 4 if space == Space.DMEM else 1, latency)


def port_name(space: Space) -> str:
    return Space(space).name.lower()


def port_latencies(core) -> dict:
    """``{space: read latency}`` of ``core``'s host ports (``<space>_host``, each a
    :class:`HostMemorySignature`): what :class:`HostRouter` needs to follow them."""
    return {space: getattr(core, f"{port_name(space)}_host").signature.latency
            for space in ROUTED_SPACES}


class HostRouter(wiring.Component):
    """Routes host requests to the core by address space (see the module docstring).

    Ports: ``bus`` (``In(HostBusSignature(config))``), ``control``
    (``In(HostControlSignature())``); towards the core ``imem``, ``dmem``, ``vmem``,
    ``lmem``, ``xreg``, ``vreg`` (``In(HostMemorySignature)``: the router drives
    ``addr``/``wdata``/``we``), ``core_start``, ``core_start_pc`` and ``core_halt`` (out) and
    ``core_status`` (``In(StatusSignature())``).

    ``live_spaces``: the spaces the core serves while running (default none);
    ``latencies``: ``{space: read latency}`` of the core's ports (default 1 each; see
    :func:`port_latencies`).
    """

    def __init__(self, config: CoreConfig, live_spaces=(), latencies=None):
        self._MustUse__silence = True       # no "never used" warning if a check raises
        self.config = config
        latencies = dict(latencies or {})
        unknown = [getattr(s, "name", s) for s in latencies if s not in ROUTED_SPACES]
        if unknown:
            raise ValueError(f"HostRouter latencies name {unknown}, which are not memory "
                             f"spaces; choose from {[s.name for s in ROUTED_SPACES]}.")
        self.latencies = {space: latencies.get(space, 1) for space in ROUTED_SPACES}
        #: Cycles from a read request taken to its ``rdata`` beat.
        self.read_latency = 2 + max(self.latencies.values())
        self.live_spaces = frozenset(Space(s) for s in live_spaces)
        bad = [s.name for s in self.live_spaces if s not in ROUTED_SPACES]
        if bad:
            raise ValueError(f"HostRouter live_spaces {bad} are not memory spaces; choose "
                             f"from {[s.name for s in ROUTED_SPACES]}.")
        self._MustUse__silence = False
        members = {
            "bus": In(HostBusSignature(config)), "control": In(HostControlSignature()),
            "core_start": Out(1), "core_start_pc": Out(32), "core_halt": Out(1), "core_status": In(StatusSignature()),
        }
        for space in ROUTED_SPACES:
            members[port_name(space)] = In(space_port_signature(config, space,
                                                                self.latencies[space]))
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        req, rdata, ctl, core = self.bus.req, self.bus.rdata, self.control, self.core_status

        # Running as the host sees it: the core's flag stretched by the drain cycles.
        drain = Signal(range(DRAIN_CYCLES + 1))
        with m.If(core.running):
            m.d.sync += drain.eq(DRAIN_CYCLES)
        with m.Elif(drain != 0):
            m.d.sync += drain.eq(drain - 1)
        busy = Signal()
        m.d.comb += busy.eq(core.running | (drain != 0))

        # Requests.
        live = Const(0, 1)
        for space in sorted(self.live_spaces, key=lambda s: s.value):   # stable Verilog
            live = live | (req.payload.space == space)
        m.d.comb += req.ready.eq(~busy | live)
        take = req.valid & req.ready
        # The request is registered once before it reaches the ports: the host port's
        # buffer is a block RAM (slow output on ECP5) and the vector unit's host ports
        # fan out to every lane, so neither delay adds to the other.
        addr = Signal.like(req.payload.addr, name="port_addr")
        wdata = Signal.like(req.payload.wdata, name="port_wdata")
        m.d.sync += [addr.eq(req.payload.addr), wdata.eq(req.payload.wdata)]
        for space in ROUTED_SPACES:
            port = getattr(self, port_name(space))
            we = Signal(name=f"{port_name(space)}_we")
            m.d.sync += we.eq(take & req.payload.we & (req.payload.space == space))
            m.d.comb += [port.addr.eq(addr), port.wdata.eq(wdata),
                         port.we.eq(we.replicate(len(port.we)))]
        # A read: request registered (stage 0), the port's latency L (its data is due in
        # stage L), data registered (stage L + 1), then a delay line up to the slowest.
        last = self.read_latency - 1
        read_space = [Signal(Space, name=f"read_space{i}") for i in range(last + 1)]
        read_valid = [Signal(name=f"read_valid{i}") for i in range(last + 1)]
        m.d.sync += [read_valid[0].eq(take & ~req.payload.we),
                     read_space[0].eq(req.payload.space)]
        m.d.sync += [x.eq(y) for x, y in zip(read_valid[1:] + read_space[1:],
                                             read_valid[:-1] + read_space[:-1])]
        m.d.comb += rdata.valid.eq(read_valid[last])
        # Every port's data is registered as it comes (block-RAM outputs are slow); the
        # spaces of one latency are then chosen between and share one delay line.
        by_latency = {}
        for space in ROUTED_SPACES:
            by_latency.setdefault(self.latencies[space], []).append(space)
        answer = {}
        for latency, spaces in sorted(by_latency.items()):
            word = Signal(32, name=f"rdata_latency{latency}")
            registered = {space: Signal(32, name=f"{port_name(space)}_rdata_q")
                          for space in spaces}
            m.d.sync += [registered[space].eq(getattr(self, port_name(space)).rdata)
                         for space in spaces]
            with m.Switch(read_space[latency + 1]):
                for space in spaces:
                    with m.Case(space):
                        m.d.comb += word.eq(registered[space])
            word = delayed(m, word, last - latency - 1, f"rdata_latency{latency}")
            answer.update({space: word for space in spaces})
        with m.Switch(read_space[last]):
            for space in ROUTED_SPACES:
                with m.Case(space):
                    m.d.comb += rdata.payload.eq(answer[space])

        # Control.
        m.d.comb += [self.core_start.eq(ctl.start), self.core_start_pc.eq(ctl.start_pc)]
        with m.If(ctl.start | ~core.running):
            m.d.sync += self.core_halt.eq(0)
        with m.Elif(ctl.halt):
            m.d.sync += self.core_halt.eq(1)

        # Status.
        status = ctl.status
        m.d.comb += [
            status.running.eq(busy), status.halted.eq(core.halted & ~busy),
            status.cause.eq(core.cause), status.pc.eq(core.trap_pc),
            status.trap_pc.eq(core.trap_pc), status.trap_word.eq(core.trap_word),
            status.trap_addr.eq(core.trap_addr), status.cycles.eq(core.cycles),
            status.instret.eq(core.instret),
        ]
        return m
