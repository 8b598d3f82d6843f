"""Core: the scalar core and the vector unit, wired together (wiring only).

Ports (the port set :mod:`.soc` expects of a core, as in :mod:`.soc_scalar_core`):

* ``start`` (in): start at pc 0 (see :class:`ScalarCore`); ``halt`` (in): not yet
  honoured (ScalarCore has no halt input);
* ``status`` (``Out(StatusSignature())``);
* host ports (``Out(HostMemorySignature)``, one 32-bit word per address, latency 1, word
  orders of :mod:`.host_bus`): ``imem_host``, ``dmem_host`` (4 byte enables) and
  ``xreg_host`` (only while stopped); ``vmem_host`` and ``lmem_host`` (at any time, own
  memory ports); ``vreg_host`` (only while stopped);
* ``retire`` (``Out(ScalarRetireSignature())``) and ``vector_retire``
  (``Out(VectorRetireSignature(lanes))``): every architectural write, for lockstep
  comparison with the golden model.

``xreg_host`` reads come from a shadow copy of the x registers written from the retire
port (exact, x0 reads 0); writes are ignored, because ScalarCore has no register-file
host port. ``scalar`` and ``vector`` are the :class:`ScalarCore` and :class:`VectorUnit`.
"""
from __future__ import annotations

from amaranth.hdl import Module
from amaranth.lib import memory, wiring
from amaranth.lib.wiring import In, Out

from ..config import CoreConfig
from ..vector_unit.vector_unit import VectorUnit
from .host_protocol import Space, space_bytes
from .scalar_core import ScalarCore
from .signatures import (HostMemorySignature, ScalarRetireSignature, StatusSignature,
                         VectorRetireSignature)

__all__ = ["Core"]


def _host(config, space, byte_lanes=1):
    return Out(HostMemorySignature(space_bytes(config, space) // 4, byte_lanes))


class Core(wiring.Component):
    """Scalar core + vector unit for ``config``; ``program`` and ``data`` are the initial
    instruction words and data-memory bytes (as for :class:`ScalarCore`)."""

    def __init__(self, config: CoreConfig, program=(), data: bytes = b""):
        self.config = config
        self.scalar = ScalarCore(config, program, data)
        self.vector = VectorUnit(config)
        super().__init__({
            "start": In(1), "halt": In(1), "status": Out(StatusSignature()),
            "imem_host": _host(config, Space.IMEM), "dmem_host": _host(config, Space.DMEM, 4),
            "xreg_host": _host(config, Space.XREG), "vmem_host": _host(config, Space.VMEM),
            "lmem_host": _host(config, Space.LMEM), "vreg_host": _host(config, Space.VREG),
            "retire": Out(ScalarRetireSignature()),
            "vector_retire": Out(VectorRetireSignature(config.lanes)),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.scalar = scalar = self.scalar
        m.submodules.vector = vector = self.vector
        wiring.connect(m, scalar.vector, vector.issue)
        m.d.comb += [scalar.start.eq(self.start), vector.running.eq(scalar.status.running)]
        for outer, inner in ((self.status, scalar.status), (self.imem_host, scalar.imem_host),
                             (self.dmem_host, scalar.dmem_host), (self.retire, scalar.retire),
                             (self.vmem_host, vector.vmem_host),
                             (self.lmem_host, vector.lmem_host),
                             (self.vreg_host, vector.vreg_host),
                             (self.vector_retire, vector.retire)):
            wiring.connect(m, wiring.flipped(outer), inner)

        # x registers for the host: a shadow written by the scalar retire port.
        m.submodules.xshadow = xshadow = memory.Memory(shape=32, depth=32, init=[])
        shadow_write, shadow_read = xshadow.write_port(), xshadow.read_port()
        m.d.comb += [
            shadow_write.addr.eq(scalar.retire.x_rd), shadow_write.data.eq(scalar.retire.x_value),
            shadow_write.en.eq(scalar.retire.x_valid),
            shadow_read.addr.eq(self.xreg_host.addr), self.xreg_host.rdata.eq(shadow_read.data),
        ]
        return m
