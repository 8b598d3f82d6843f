"""The scalar multiplier: the low 32 bits of ``x[rs1] * x[rs2]`` (``mul``).

Built from three 16 x 16 partial products (one ECP5 MULT18X18D each): ``a_lo * b_lo`` in
full and the low halves of ``a_lo * b_hi`` and ``a_hi * b_lo``. Two variants, chosen by
``latency``:

* ``latency = 0``: combinational, the product is ready in the EX cycle; a 32 x 32
  product in one cycle limits the core to about 40 MHz on ECP5 speed grade 6;
* ``latency = 1`` (the core's default, the table's MUL latency 2): the partial products
  are registered at the end of EX and summed in MEM, so ``product`` shows the product of
  the operands presented one cycle earlier, and the core stalls an instruction that
  reads the result right after the ``mul`` by one cycle (like a load).
"""
from __future__ import annotations

from amaranth.hdl import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

__all__ = ["Multiplier"]

HALF = 16


class Multiplier(wiring.Component):
    """Low word of a 32 x 32 product.

    Ports: ``a``, ``b`` (in, 32); ``product`` (out, 32) = ``(a * b) mod 2^32`` of the
    operands of the same cycle (``latency = 0``) or of the previous cycle (``latency =
    1``; registers always advance, there is no enable).
    """

    def __init__(self, latency: int = 0):
        if latency not in (0, 1):
            raise ValueError(f"Multiplier latency {latency!r} is not supported; use 0 or 1.")
        self.latency = latency
        super().__init__({"a": In(32), "b": In(32), "product": Out(32)})

    def elaborate(self, platform):
        m = Module()
        a_lo, a_hi = self.a[:HALF], self.a[HALF:]
        b_lo, b_hi = self.b[:HALF], self.b[HALF:]
        low = Signal(2 * HALF)
        cross1, cross2 = Signal(HALF), Signal(HALF)
        domain = m.d.comb if self.latency == 0 else m.d.sync
        domain += [low.eq(a_lo * b_lo), cross1.eq(a_lo * b_hi), cross2.eq(a_hi * b_lo)]
        m.d.comb += self.product.eq(low + ((cross1 + cross2)[:HALF] << HALF))
        return m
