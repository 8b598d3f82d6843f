"""A vector unit that does nothing: for scalar-only tests and synthesis of the core alone.

It never stalls or faults and returns 0 for instructions that write a scalar register, so
every vector instruction behaves as a no-op (except that ``vtst*``/``vextract`` write 0 to
``x[rd]``). It is not a model of the real vector unit (``spikevec.hw.vector_unit``).
"""
from __future__ import annotations

from amaranth.hdl import Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In

from .signatures import VectorIssueSignature

__all__ = ["NullVectorUnit"]


class NullVectorUnit(wiring.Component):
    """Consumes the core's vector issue port (``issue``: ``In(VectorIssueSignature())``),
    zero latency: ``stall = fault = 0``, ``x_result = 0``."""

    def __init__(self):
        super().__init__({"issue": In(VectorIssueSignature())})

    def elaborate(self, platform):
        m = Module()
        m.d.comb += [self.issue.stall.eq(0), self.issue.fault.eq(0),
                     self.issue.x_result.eq(0), self.issue.fault_addr.eq(0)]
        return m
