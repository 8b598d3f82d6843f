"""Core: the scalar core and the vector unit, wired together (wiring only).

Ports (the port set :mod:`.soc` expects of a core, :func:`.soc_scalar_core.core_port_members`):

* ``start`` (in): start at ``start_pc`` (in, 32) with counters cleared; ``halt`` (in,
  level, held until ``status.running`` falls): stop at the next instruction boundary
  with cause ``NONE`` and ``trap_pc`` the pc to resume at (see :class:`ScalarCore`);
* ``status`` (``Out(StatusSignature())``);
* host ports (``Out(HostMemorySignature)``, one 32-bit word per address, word orders of
  :mod:`.host_bus`; latency 1 unless said): ``imem_host`` (writes only while stopped),
  ``dmem_host`` (4 byte enables, at any time: its own block-RAM port), ``xreg_host``
  (the scalar register file, only while stopped; ``x0`` reads 0 and ignores writes);
  ``vmem_host`` and ``lmem_host`` (at any time, own memory ports) and ``vreg_host``
  (only while stopped), all three with latency ``HOST_LATENCY`` of
  ``hw/vector_unit/host_group.py`` and one write per cycle between them;
* ``retire`` (``Out(ScalarRetireSignature())``) and ``vector_retire``
  (``Out(VectorRetireSignature(lanes))``): every architectural write, for lockstep
  comparison with the golden model.

After the core stops, the scalar MEM/WB stages write for 2 more cycles and the vector
unit's P1-P4 for 4 + ``TIMING.lane_delay`` (its lanes run behind the core; the SoC's router keeps reporting ``running`` that long, see
:data:`.host_router.DRAIN_CYCLES`). ``scalar`` and ``vector`` are the
:class:`ScalarCore` and :class:`VectorUnit`.
"""
from __future__ import annotations

from amaranth.hdl import Module
from amaranth.lib import wiring

from ..config import CoreConfig
from ..vector_unit.host_group import HOST_LATENCY
from ..vector_unit.vector_unit import VectorUnit
from .scalar_core import ScalarCore
from .soc_scalar_core import core_port_members

__all__ = ["Core"]


class Core(wiring.Component):
    """Scalar core + vector unit for ``config``; ``program`` and ``data`` are the initial
    instruction words and data-memory bytes (as for :class:`ScalarCore`)."""

    def __init__(self, config: CoreConfig, program=(), data: bytes = b""):
        self.config = config
        self.scalar = ScalarCore(config, program, data)
        self.vector = VectorUnit(config)
        super().__init__(core_port_members(config, vector_host_latency=HOST_LATENCY))

    def elaborate(self, platform):
        m = Module()
        m.submodules.scalar = scalar = self.scalar
        m.submodules.vector = vector = self.vector
        wiring.connect(m, scalar.vector, vector.issue)
        m.d.comb += [scalar.start.eq(self.start), scalar.start_pc.eq(self.start_pc),
                     scalar.halt.eq(self.halt), vector.running.eq(scalar.status.running)]
        for outer, inner in ((self.status, scalar.status), (self.imem_host, scalar.imem_host),
                             (self.dmem_host, scalar.dmem_host),
                             (self.xreg_host, scalar.xreg_host), (self.retire, scalar.retire),
                             (self.vmem_host, vector.vmem_host),
                             (self.lmem_host, vector.lmem_host),
                             (self.vreg_host, vector.vreg_host),
                             (self.vector_retire, vector.retire)):
            wiring.connect(m, wiring.flipped(outer), inner)
        return m
