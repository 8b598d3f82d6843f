"""The fixed-point multiplier of one vector lane: product, rounding shift, sat/wrap."""
from amaranth.hdl import Const, Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from .arith import ELEMENT, INT16_MAX, INT16_MIN, RoundMode, rounding_bias

__all__ = ["MulControl", "LaneMultiplier"]


class MulControl(data.Struct):
    """Modifiers of a :class:`LaneMultiplier` operation, shared by all lanes.

    ``shift`` (0..15) is the right shift applied to the 32-bit product, ``round`` how
    the discarded bits round (:class:`RoundMode`), ``saturate`` whether the shifted
    value is clamped to int16 (else wrapped to its low 16 bits).
    """
    saturate: 1
    round: RoundMode
    shift: 4


class LaneMultiplier(wiring.Component):
    """``result = sat/wrap(rshift(a * b, shift, round))`` for one lane (``vmul``).

    Inputs (sampled together at the clock edge ending the input cycle): ``ctl``
    (:class:`MulControl`), ``a``, ``b`` (``signed(16)``) and ``r`` (the lane generator's
    16-bit output; only stochastic rounding reads it, the caller steps the generator in
    the same cycle). Output: ``result`` (``signed(16)``).

    Pipeline: latency 2 cycles, a new operation accepted every cycle (no stall input:
    the pipeline always advances).

    * Stage 1 (input cycle -> edge 1): the exact 16x16 -> 32-bit signed product
      (maps onto one ECP5 MULT18X18D, its result captured in fabric flip-flops) and, in
      parallel, the rounding bias ``0`` / ``2^(s-1)`` / ``r >> (16 - s)``;
    * stage 2 (-> edge 2): ``sum = product + bias`` (exact: 32 bits cannot overflow),
      then ``sum >> shift`` and, in parallel, the overflow test (sum bits
      ``[15 + shift, 31]`` not all equal to the sign, with a mask made in stage 1),
      then saturation or wrap to 16 bits, into the output register.

    ``result`` shows the operation presented two edges earlier; before two edges have
    passed since reset it is 0.
    """

    ctl: In(MulControl)
    a: In(ELEMENT)
    b: In(ELEMENT)
    r: In(16)
    result: Out(ELEMENT)

    latency = 2

    def elaborate(self, platform):
        m = Module()

        # Stage 1: product, rounding bias and the overflow mask (all in parallel).
        product = Signal(signed(32))
        bias = Signal(unsigned(15))
        shift1 = Signal(4)
        saturate1 = Signal()
        # Bits [15 + shift, 31] of the rounded sum must all equal its sign for the
        # shifted value to fit 16 bits: a thermometer mask over sum bits [15:32].
        fit_mask = Signal(17)
        m.d.sync += [
            product.eq(self.a * self.b),
            bias.eq(rounding_bias(self.ctl.shift, self.ctl.round, self.r)),
            shift1.eq(self.ctl.shift),
            saturate1.eq(self.ctl.saturate),
            fit_mask.eq((Const(0x1FFFF, 17) << self.ctl.shift)[:17]),
        ]

        # Stage 2: rounding add, then the arithmetic shift and the overflow test side
        # by side, then saturate or wrap.
        # |a * b| <= 2^30 and bias < 2^15, so 32 signed bits hold the sum exactly.
        rounded = Signal(signed(32))
        m.d.comb += rounded.eq(product + bias)
        shifted = Signal(16)
        m.d.comb += shifted.eq((rounded >> shift1)[:16])
        sign = rounded[31]
        overflow = ((rounded[15:32] ^ sign.replicate(17)) & fit_mask).any()
        clamp = Mux(sign, Const(INT16_MIN, ELEMENT), Const(INT16_MAX, ELEMENT))
        m.d.sync += self.result.eq(Mux(saturate1 & overflow, clamp, shifted))
        return m

