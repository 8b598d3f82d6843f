"""SocScalarCore: :class:`ScalarCore` + :class:`NullVectorUnit` behind the port set the SoC
expects of a core (the SoC uses ``hw/rtl/core.py``'s ``Core``; this scalar-only variant
stays for small builds and tests: ``Soc(config, core=SocScalarCore(config))``).

The SoC (:mod:`.soc`) only needs these ports of a core (:func:`core_port_members`):

* ``start`` (in), ``start_pc`` (in, 32: where ``start`` begins), ``halt`` (in, level:
  stop at the next instruction boundary with cause ``NONE``), ``status``
  (``Out(StatusSignature())``);
* ``imem_host``, ``dmem_host`` (4 byte enables), ``xreg_host``, ``vmem_host``,
  ``lmem_host``, ``vreg_host``: ``Out(HostMemorySignature)``, one 32-bit word per address,
  in the word order of :mod:`.host_bus`, each with its read latency (the signature's
  ``latency``, which the SoC's router follows);
* ``retire`` (``Out(ScalarRetireSignature())``) and ``vector_retire``
  (``Out(VectorRetireSignature(lanes))``), for lockstep simulation.

In this adapter ``vmem_host``, ``lmem_host``, ``vreg_host`` read 0 and ignore writes, and
``vector_retire`` never fires: the null vector unit has no state.
"""
from __future__ import annotations

from amaranth.hdl import Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..config import CoreConfig
from .host_protocol import Space, space_bytes
from .null_vector_unit import NullVectorUnit
from .scalar_core import ScalarCore
from .signatures import (HostMemorySignature, ScalarRetireSignature, StatusSignature,
                         VectorRetireSignature)

__all__ = ["SocScalarCore", "core_port_members"]


def core_port_members(config: CoreConfig, vector_host_latency: int = 1) -> dict:
    """The port set a core must offer the SoC (see the module docstring);
    ``vector_host_latency``: the read latency of ``vmem_host``, ``lmem_host`` and
    ``vreg_host``."""
    def host(space, byte_lanes=1, latency=1):
        return Out(HostMemorySignature(space_bytes(config, space) // 4, byte_lanes, latency))
    return {
        "start": In(1), "start_pc": In(32), "halt": In(1), "status": Out(StatusSignature()),
        "imem_host": host(Space.IMEM), "dmem_host": host(Space.DMEM, 4),
        "xreg_host": host(Space.XREG),
        "vmem_host": host(Space.VMEM, latency=vector_host_latency),
        "lmem_host": host(Space.LMEM, latency=vector_host_latency),
        "vreg_host": host(Space.VREG, latency=vector_host_latency),
        "retire": Out(ScalarRetireSignature()),
        "vector_retire": Out(VectorRetireSignature(config.lanes)),
    }


class SocScalarCore(wiring.Component):
    """The scalar core with vector instructions as no-ops, with the SoC's core ports.

    ``core`` is the :class:`ScalarCore` (its memories ``core.imem``, ``core.dmem``).
    """

    def __init__(self, config: CoreConfig):
        self.config = config
        self.core = ScalarCore(config)
        super().__init__(core_port_members(config))

    def elaborate(self, platform):
        m = Module()
        m.submodules.core = core = self.core
        m.submodules.vector_unit = vector_unit = NullVectorUnit()
        wiring.connect(m, core.vector, vector_unit.issue)
        m.d.comb += [core.start.eq(self.start), core.start_pc.eq(self.start_pc),
                     core.halt.eq(self.halt)]
        for outer, inner in ((self.status, core.status), (self.imem_host, core.imem_host),
                             (self.dmem_host, core.dmem_host),
                             (self.xreg_host, core.xreg_host), (self.retire, core.retire)):
            wiring.connect(m, wiring.flipped(outer), inner)
        # vmem_host, lmem_host, vreg_host: rdata stays 0; vector_retire stays 0.
        return m
