"""The fixed-point multiplier of one vector lane: product, rounding shift, sat/wrap; it
also does the vector shifts (as products by a power of two or by one)."""
from amaranth.hdl import Const, Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, enum, wiring
from amaranth.lib.wiring import In, Out

from .arith import (ELEMENT, INT16_MAX, INT16_MIN, RoundMode, rounding_bias, shift_left,
                    shift_right)

__all__ = ["MulOp", "MulControl", "LaneMultiplier"]


class MulOp(enum.Enum, shape=2):
    """What :class:`LaneMultiplier` computes; ``s`` is the control's ``shift`` for MUL
    and the per-lane ``amount`` input for the shifts (vsll/vslli, vsra/vsrai,
    vsrl/vsrli: the amount is ``vs2[i] & 15`` or the immediate)."""
    MUL = 0                      # sat/wrap(rshift(a * b, s, round))
    SHIFT_LEFT = 1               # sat/wrap(a * 2^s)         = sat/wrap(a << s)
    SHIFT_RIGHT_ARITHMETIC = 2   # wrap(rshift(a * 1, s, round))
    SHIFT_RIGHT_LOGICAL = 3      # wrap((a as uint16) >> s)  (always floor)


class MulControl(data.Struct):
    """Operation and modifiers of a :class:`LaneMultiplier`, shared by all lanes.

    ``op`` (:class:`MulOp`); ``shift`` (0..15) is vmul's right shift of the product,
    ``round`` how the discarded bits round (:class:`RoundMode`; MUL and
    SHIFT_RIGHT_ARITHMETIC), ``saturate`` whether the value is clamped to int16 (else
    wrapped to its low 16 bits; MUL and SHIFT_LEFT).
    """
    saturate: 1
    round: RoundMode
    shift: 4
    op: MulOp


class LaneMultiplier(wiring.Component):
    """``result = sat/wrap(rshift(a * b, shift, round))`` for one lane (``vmul``), and
    the shifts of :class:`MulOp` as products (so the ALU needs no barrel shifters).

    Inputs (sampled together at the clock edge ending the input cycle): ``ctl``
    (:class:`MulControl`), ``a``, ``b`` (``signed(16)``), ``amount`` (4 bits, the
    shifts' per-lane amount) and ``r`` (the lane generator's 16-bit output; only
    stochastic rounding reads it, the caller steps the generator in the same cycle).
    Output: ``result`` (``signed(16)``). A shift multiplies ``a`` (zero-extended for the
    logical one) by ``2^amount`` (left) or by 1 with the product shift ``amount``
    (right): the same product, rounding and saturation path as vmul.

    Pipeline: latency 3 cycles, a new operation accepted every cycle (no stall input:
    the pipeline always advances).

    * Stage 0 (input cycle -> edge 1): the two factors (``a``, zero-extended for the
      logical shift; ``b``, ``2^amount`` or 1), the product shift ``s``, the rounding
      mode and ``r`` are registered, so the operands' bypass network and the block
      multiplier never share a cycle;
    * stage 1 (-> edge 2): the exact 17x18 -> 32-bit signed product (maps onto one
      ECP5 MULT18X18D, its inputs and result in fabric flip-flops) and, in parallel, the
      rounding bias ``0`` / ``2^(s-1)`` / ``r >> (16 - s)``;
    * stage 2 (-> edge 3): ``sum = product + bias`` (exact: 32 bits cannot overflow),
      then ``sum >> shift`` and, in parallel, the overflow test (sum bits
      ``[15 + shift, 31]`` not all equal to the sign, with a mask made in stage 1),
      then saturation or wrap to 16 bits, into the output register.

    ``result`` shows the operation presented three edges earlier; before three edges
    have passed since reset it is 0.
    """

    ctl: In(MulControl)
    a: In(ELEMENT)
    b: In(ELEMENT)
    amount: In(4)
    r: In(16)
    result: Out(ELEMENT)

    latency = 3

    def elaborate(self, platform):
        m = Module()
        ctl, op = self.ctl, self.ctl.op
        right = (op == MulOp.SHIFT_RIGHT_ARITHMETIC) | (op == MulOp.SHIFT_RIGHT_LOGICAL)
        logical = op == MulOp.SHIFT_RIGHT_LOGICAL
        # Stage 0: the factors, a (zero-extended for the logical shift) times b,
        # 2^amount or 1, and the modifiers, registered.
        ma, mb = Signal(signed(17)), Signal(signed(18))
        shift, rnd = Signal(4), Signal(RoundMode)
        saturate0, r0 = Signal(), Signal(16)
        m.d.sync += ma.eq(Mux(logical, self.a.as_unsigned(), self.a))
        with m.Switch(op):
            with m.Case(MulOp.MUL):
                m.d.sync += mb.eq(self.b)
            with m.Case(MulOp.SHIFT_LEFT):
                m.d.sync += mb.eq(shift_left(Const(1, 17), self.amount))
            with m.Default():
                m.d.sync += mb.eq(1)
        m.d.sync += [
            shift.eq(Mux(right, self.amount, Mux(op == MulOp.MUL, ctl.shift, 0))),
            rnd.eq(Mux(logical, RoundMode.FLOOR, ctl.round)),
            saturate0.eq(ctl.saturate & ~right), r0.eq(self.r),
        ]

        # Stage 1: product, rounding bias and the overflow mask (all in parallel).
        product = Signal(signed(32))
        bias = Signal(unsigned(15))
        shift1 = Signal(4)
        saturate1 = Signal()
        # Bits [15 + shift, 31] of the rounded sum must all equal its sign for the
        # shifted value to fit 16 bits: a thermometer mask over sum bits [15:32].
        fit_mask = Signal(17)
        m.d.sync += [
            product.eq(ma * mb),        # |product| <= 2^30: 32 signed bits hold it
            bias.eq(rounding_bias(shift, rnd, r0)),
            shift1.eq(shift),
            saturate1.eq(saturate0),
            fit_mask.eq(shift_left(Const(0x1FFFF, 17), shift)[:17]),
        ]

        # Stage 2: rounding add, then the arithmetic shift and the overflow test side
        # by side, then saturate or wrap.
        # |a * b| <= 2^30 and bias < 2^15, so 32 signed bits hold the sum exactly.
        rounded = Signal(signed(32))
        m.d.comb += rounded.eq(product + bias)
        shifted = Signal(16)
        m.d.comb += shifted.eq(shift_right(rounded, shift1)[:16])
        sign = rounded[31]
        overflow = ((rounded[15:32] ^ sign.replicate(17)) & fit_mask).any()
        clamp = Mux(sign, Const(INT16_MIN, ELEMENT), Const(INT16_MAX, ELEMENT))
        m.d.sync += self.result.eq(Mux(saturate1 & overflow, clamp, shifted))
        return m

