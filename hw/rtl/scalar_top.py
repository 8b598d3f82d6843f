"""Top level for the scalar core alone: :class:`ScalarCore` wired to a :class:`NullVectorUnit`.

Only wiring lives here. Used by the scalar-core tests and by ``synth_check.py``; the real
system top will connect the vector unit instead.
"""
from __future__ import annotations

from amaranth.hdl import Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..config import CoreConfig
from .null_vector_unit import NullVectorUnit
from .scalar_core import ScalarCore
from .signatures import HostMemorySignature, StatusSignature

__all__ = ["ScalarTop"]


class ScalarTop(wiring.Component):
    """The scalar core with vector instructions as no-ops.

    Ports (forwarded from :class:`ScalarCore`): ``start``, ``status``, ``imem_host``,
    ``dmem_host``, ``xreg_host``. ``mul_latency`` is passed to the core. ``core`` is the :class:`ScalarCore` (its memories are ``core.imem``,
    ``core.dmem`` and ``core.regfile``).
    """

    def __init__(self, config: CoreConfig, program=(), data: bytes = b"",
                 mul_latency: int = 1):
        self.core = ScalarCore(config, program, data, mul_latency=mul_latency)
        super().__init__({
            "start": In(1),
            "status": Out(StatusSignature()),
            "imem_host": Out(HostMemorySignature(config.imem_words)),
            "dmem_host": Out(HostMemorySignature(config.dmem_bytes // 4, 4)),
            "xreg_host": Out(HostMemorySignature(32)),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.core = core = self.core
        m.submodules.vector_unit = vector_unit = NullVectorUnit()
        wiring.connect(m, core.vector, vector_unit.issue)
        m.d.comb += core.start.eq(self.start)
        for name in ("status", "imem_host", "dmem_host", "xreg_host"):
            outer, inner = getattr(self, name), getattr(core, name)
            for path, member, value in outer.signature.flatten(outer):
                inner_value = _lookup(inner, path)
                if member.flow == wiring.Out:
                    m.d.comb += value.eq(inner_value)
                else:
                    m.d.comb += inner_value.eq(value)
        return m


def _lookup(interface, path):
    for step in path:
        interface = getattr(interface, step)
    return interface
