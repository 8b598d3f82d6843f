"""The integer ALU of one vector lane (everything except the multiplier)."""

from amaranth.hdl import Cat, Const, Module, Mux, Signal, signed
from amaranth.lib import data, enum, wiring
from amaranth.lib.wiring import In, Out

from .arith import (ELEMENT, INT16_MAX, INT16_MIN, RoundMode, rounding_bias, saturate16,
                    saturate_or_wrap16, wrap16)

__all__ = ["AluOp", "AluControl", "AluFlags", "LaneAlu"]


class AluOp(enum.Enum, shape=4):
    """What :class:`LaneAlu` computes. ``a``, ``b`` are the lane's int16 operands, ``s``
    the 4-bit shift amount named in each member, ``sat`` the saturate modifier
    (``sat(x)`` when set, else ``wrap(x)``), ``r`` the lane generator output.

    Instruction mapping (done by the decoder, listed here only as documentation):
    vadd/vaddi -> ADD (b = vs2[i] or the immediate), vsub -> SUBTRACT, vsll/vslli ->
    SHIFT_LEFT, vsra/vsrai -> SHIFT_RIGHT_ARITHMETIC, vsrl/vsrli -> SHIFT_RIGHT_LOGICAL
    (immediate shift amounts arrive in ``b``), vandadd -> AND_ADD (b = x[rs2]), vlacc ->
    ACCUMULATE, vlacc8 -> ACCUMULATE_BYTE, vload8 -> ACCUMULATE_BYTE with ``a = 0``,
    vlui/vfill/vsel/vload -> PASS_B, vrng -> RANDOM.
    """
    ADD = 0                      # sat/wrap(a + b)
    SUBTRACT = 1                 # sat/wrap(a - b)
    AND = 2                      # a & b
    OR = 3                       # a | b
    XOR = 4                      # a ^ b
    MIN = 5                      # signed minimum
    MAX = 6                      # signed maximum
    SHIFT_LEFT = 7               # sat/wrap(a << (b & 15))
    SHIFT_RIGHT_ARITHMETIC = 8   # rshift(a, b & 15, round): floor/half-up/stochastic
    SHIFT_RIGHT_LOGICAL = 9      # wrap((a as uint16) >> (b & 15))
    AND_ADD = 10                 # wrap((a & (2^shift - 1)) + b), shift from control
    ACCUMULATE = 11              # sat(a + (b << shift)), shift from control
    ACCUMULATE_BYTE = 12         # sat(a + (sext8(b & 255) << shift))
    PASS_B = 13                  # b
    RANDOM = 14                  # r as int16


class AluControl(data.Struct):
    """Operation and modifiers of a :class:`LaneAlu`, shared by all lanes of a vector.

    ``shift`` is the instruction's shift field: the mask width of AND_ADD and the weight
    shift of ACCUMULATE/ACCUMULATE_BYTE (the shift operations take their amount from
    ``b``). ``saturate`` matters for ADD, SUBTRACT and SHIFT_LEFT, ``round`` for
    SHIFT_RIGHT_ARITHMETIC; both are ignored elsewhere.
    """
    op: AluOp
    saturate: 1
    round: RoundMode
    shift: 4


class AluFlags(data.Struct):
    """Signed comparison of ``a`` and ``b`` (for vteq/vtne/vtlt/vtge), with the same
    latency as ``result``. ``equal`` is valid for every operation; ``less`` comes from
    the shared subtractor and is valid for every operation except ADD (the decoder
    maps the compare instructions onto SUBTRACT and ignores ``result``)."""
    equal: 1   # a == b
    less: 1    # a < b (signed)


class LaneAlu(wiring.Component):
    """Integer ALU of one lane: one operation per cycle, fixed latency.

    Inputs: ``ctl`` (:class:`AluControl`), operands ``a``, ``b`` (``signed(16)``) and
    ``r`` (16-bit generator output, used only by SHIFT_RIGHT_ARITHMETIC in stochastic
    mode and by RANDOM; the caller steps the generator in the same cycle, the ALU
    samples ``r`` with the operands). Outputs: ``result`` (``signed(16)``) and
    ``flags`` (:class:`AluFlags`).

    Latency (``stages``): the inputs are sampled at the clock edge that ends the input
    cycle and ``result``/``flags`` are valid ``stages`` cycles later; a new operation is
    accepted every cycle, the pipeline always advances (no stall input).

    * ``stages=2`` (default): stage 1 does the add/subtract, compare, min/max, logic,
      AND_ADD, the left barrel shift with its overflow detection and the rounding bias
      add; stage 2 the right barrel shift, the accumulate add and all saturation and
      result selection. Chosen for 100 MHz on ECP5 speed 6 (a first one-stage
      version placed and routed at about 65 MHz there, a lane with this one at about
      114 MHz), and it equals the multiplier's latency so the two units can share one
      write-back slot.
    * ``stages=1``: the same logic between the inputs and one output register.

    Semantics follow ``spikevec.hw.isa.table`` exactly; intermediate arithmetic is exact
    before the final saturation or wrap.
    """

    ctl: In(AluControl)
    a: In(ELEMENT)
    b: In(ELEMENT)
    r: In(16)
    result: Out(ELEMENT)
    flags: Out(AluFlags)

    def __init__(self, *, stages: int = 2):
        if stages not in (1, 2):
            raise ValueError(f"LaneAlu stages = {stages!r}; choose 1 or 2")
        self.stages = stages
        self.latency = stages
        super().__init__()

    def elaborate(self, platform):
        m = Module()
        ctl, a, b = self.ctl, self.a, self.b
        op = ctl.op

        def stage(value, name):
            """The value after the stage-1 register (or the value itself, 1 stage)."""
            sig = Signal.like(value, name=name) if isinstance(value, Signal) else \
                Signal(value.shape(), name=name)
            if self.stages == 2:
                m.d.sync += sig.eq(value)
            else:
                m.d.comb += sig.eq(value)
            return sig

        # ---- stage 1 -------------------------------------------------------------
        # One adder: a + b for ADD, a - b for everything else (the compare flags).
        subtract = op != AluOp.ADD
        sum_ = Signal(signed(17))
        b_or_not_b = (b.as_unsigned() ^ subtract.replicate(16)).as_signed()
        m.d.comb += sum_.eq(a + b_or_not_b + subtract)
        less = sum_[16]                      # sign of the exact difference
        equal = a == b

        # Results that need nothing after stage 1, selected here.
        low_mask = ~(Const(0xFFFF, 16) << ctl.shift)[:16]
        simple = Signal(ELEMENT)
        with m.Switch(op):
            with m.Case(AluOp.AND):
                m.d.comb += simple.eq(a & b)
            with m.Case(AluOp.OR):
                m.d.comb += simple.eq(a | b)
            with m.Case(AluOp.XOR):
                m.d.comb += simple.eq(a ^ b)
            with m.Case(AluOp.MIN):
                m.d.comb += simple.eq(Mux(less, a, b))
            with m.Case(AluOp.MAX):
                m.d.comb += simple.eq(Mux(less, b, a))
            with m.Case(AluOp.AND_ADD):
                m.d.comb += simple.eq((a.as_unsigned() & low_mask) + b.as_unsigned())
            with m.Case(AluOp.RANDOM):
                m.d.comb += simple.eq(self.r)
            with m.Default():                # PASS_B
                m.d.comb += simple.eq(b)

        # One left shifter for SHIFT_LEFT and the accumulate weights; keep 17 low bits
        # and whether the exact value fits in 16 and in 17 signed bits. An accumulate
        # weight outside 17 bits saturates the sum whatever a is, so it is clamped.
        accumulate = (op == AluOp.ACCUMULATE) | (op == AluOp.ACCUMULATE_BYTE)
        weight = Mux(op == AluOp.ACCUMULATE_BYTE, b[:8].as_signed(), b)
        left_in = Mux(accumulate, weight, a)
        left_amount = Mux(accumulate, ctl.shift, b[:4])
        shifted = Signal(signed(17))
        m.d.comb += shifted.eq((left_in << left_amount)[:17])
        # x << s fits 16 (17) signed bits iff bits [15 - s, 15] ([16 - s, 15]) of x all
        # equal its sign: tested on x with a thermometer mask, beside the shifter.
        left_sign = left_in[15]
        differs = (left_in.as_unsigned() ^ left_sign.replicate(16))
        mask16 = (Const(0xFFFF, 16) << (~left_amount)[:4])[:16]   # bits >= 15 - s
        fits16 = ~(differs & mask16).any()
        fits17 = ~(differs & (mask16 << 1)[:16]).any()

        # Right shift input: a + rounding bias (17 bits, exact) or a zero-extended.
        amount = b[:4]
        bias = rounding_bias(amount, ctl.round, self.r)
        right_in = Mux(op == AluOp.SHIFT_RIGHT_LOGICAL, a.as_unsigned(), a + bias)

        # ---- stage-1 register ------------------------------------------------------
        op_q = stage(op.as_value(), "op_q")
        sat_q = stage(ctl.saturate, "sat_q")
        a_q = stage(a, "a_q")
        sum_q = stage(sum_, "sum_q")
        simple_q = stage(simple, "simple_q")
        left_q = stage(shifted, "left_q")
        fits16_q = stage(fits16, "fits16_q")
        fits17_q = stage(fits17, "fits17_q")
        sign_q = stage(left_sign, "sign_q")
        right_in_q = stage(right_in[:17].as_signed(), "right_in_q")
        amount_q = stage(amount, "amount_q")
        flags_q = stage(Cat(equal, less), "flags_q")

        # ---- stage 2 -------------------------------------------------------------
        clamp16 = Mux(sign_q, Const(INT16_MIN, ELEMENT), Const(INT16_MAX, ELEMENT))
        clamp17 = Mux(sign_q, Const(-65536, signed(17)), Const(65535, signed(17)))
        acc_sum = Signal(signed(18))
        m.d.comb += acc_sum.eq(a_q + Mux(fits17_q, left_q, clamp17))

        result = Signal(ELEMENT)
        with m.Switch(op_q):
            with m.Case(AluOp.ADD, AluOp.SUBTRACT):
                m.d.comb += result.eq(saturate_or_wrap16(sum_q, sat_q))
            with m.Case(AluOp.SHIFT_LEFT):
                m.d.comb += result.eq(Mux(sat_q & ~fits16_q, clamp16, left_q[:16]))
            with m.Case(AluOp.SHIFT_RIGHT_ARITHMETIC, AluOp.SHIFT_RIGHT_LOGICAL):
                m.d.comb += result.eq(wrap16(right_in_q >> amount_q))
            with m.Case(AluOp.ACCUMULATE, AluOp.ACCUMULATE_BYTE):
                m.d.comb += result.eq(saturate16(acc_sum))
            with m.Default():
                m.d.comb += result.eq(simple_q)

        m.d.sync += [self.result.eq(result), self.flags.eq(flags_q)]
        return m
