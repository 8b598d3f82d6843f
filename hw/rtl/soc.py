"""Soc: the spikevec system on chip - host port, host router and core. Wiring only.

::

    rx bytes -> HostPort -> bus/control -> HostRouter -> core host ports, start, halt
    tx bytes <-         <-  rdata/status <-           <- core status
                                                          core retire -> retire, vector_retire

Ports: ``rx`` (``In(stream.Signature(8))``), ``tx`` (``Out(stream.Signature(8))``): the
host protocol byte streams (:mod:`.host_protocol`); ``retire``
(``Out(ScalarRetireSignature())``) and ``vector_retire``
(``Out(VectorRetireSignature(lanes))``): the core's write-back trace, for lockstep
simulation only (nothing reads them on a board, so synthesis removes them);
``running`` (``Out(1)``): the core is executing (for a board's LEDs).

The core is made by :func:`make_core`: ``hw/rtl/core.py``'s ``Core`` (scalar core +
vector unit). ``Soc(config, core=SocScalarCore(config))`` builds the scalar-only variant
(:class:`.soc_scalar_core.SocScalarCore`, vector instructions are no-ops). The core
serves :data:`LIVE_SPACES` (DMEM, VMEM, LMEM: own block-RAM ports) while it runs; IMEM,
XREG and VREG only while it is stopped. ``START`` runs from its pc, ``HALT`` stops a
running program at an instruction boundary (cause ``NONE``, the ``STATUS`` pc is where
to resume); see :mod:`.host_router`.
"""
from __future__ import annotations

from amaranth.hdl import Module
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ..config import CoreConfig
from .host_port import HostPort
from .host_protocol import Space
from .host_router import ROUTED_SPACES, HostRouter, port_latencies, port_name
from .signatures import ScalarRetireSignature, VectorRetireSignature

__all__ = ["Soc", "make_core", "has_vector_unit", "LIVE_SPACES"]

#: Spaces the core serves while running: data memory (ScalarCore's ``dmem_host`` port),
#: vector and lane memories (the vector unit's host ports), all on their own RAM ports.
LIVE_SPACES = (Space.DMEM, Space.VMEM, Space.LMEM)


def make_core(config: CoreConfig):
    """The core inside the SoC: scalar core + vector unit."""
    from .core import Core
    return Core(config)


def has_vector_unit(config: CoreConfig) -> bool:
    """Whether :func:`make_core` gives a core with a real vector unit."""
    from .core import Core
    return isinstance(make_core(config), Core)


class Soc(wiring.Component):
    """Host port + host router + core (see the module docstring).

    ``timeout_cycles`` is the host port's inter-byte and halt timeout (default 1 ms at
    ``config.clock_hz``). ``core`` overrides :func:`make_core` (a component with the
    ports listed in :mod:`.soc_scalar_core`).
    """

    def __init__(self, config: CoreConfig, *, timeout_cycles: int | None = None,
                 core=None, live_spaces=LIVE_SPACES):
        self.config = config
        self.host_port = HostPort(config, timeout_cycles=timeout_cycles)
        self.core = core if core is not None else make_core(config)
        self.router = HostRouter(config, live_spaces=live_spaces,
                                 latencies=port_latencies(self.core))
        super().__init__({
            "rx": In(stream.Signature(8)), "tx": Out(stream.Signature(8)),
            "retire": Out(ScalarRetireSignature()),
            "vector_retire": Out(VectorRetireSignature(config.lanes)),
            "running": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.host_port = host = self.host_port
        m.submodules.router = router = self.router
        m.submodules.core = core = self.core
        wiring.connect(m, wiring.flipped(self.rx), host.rx)
        wiring.connect(m, wiring.flipped(self.tx), host.tx)
        wiring.connect(m, host.bus, router.bus)
        wiring.connect(m, host.control, router.control)
        for space in ROUTED_SPACES:
            name = port_name(Space(space))
            wiring.connect(m, getattr(core, f"{name}_host"), getattr(router, name))
        wiring.connect(m, core.status, router.core_status)
        m.d.comb += [core.start.eq(router.core_start), core.start_pc.eq(router.core_start_pc),
                     core.halt.eq(router.core_halt), self.running.eq(core.status.running)]
        wiring.connect(m, wiring.flipped(self.retire), core.retire)
        wiring.connect(m, wiring.flipped(self.vector_retire), core.vector_retire)
        return m
