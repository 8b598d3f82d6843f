"""The integer ALU of one vector lane (everything except the multiplier)."""

from amaranth.hdl import Cat, Const, Module, Mux, Signal, signed
from amaranth.lib import data, enum, wiring
from amaranth.lib.wiring import In, Out

from .arith import ELEMENT, saturate_or_wrap16, shift_left

__all__ = ["AluOp", "AluControl", "AluFlags", "LaneAlu"]


class AluOp(enum.Enum, shape=4):
    """What :class:`LaneAlu` computes. ``a``, ``b`` are the lane's int16 operands, ``s``
    the 4-bit shift amount named in each member, ``sat`` the saturate modifier
    (``sat(x)`` when set, else ``wrap(x)``), ``r`` the lane generator output.

    Instruction mapping (done by the decoder, listed here only as documentation):
    vadd/vaddi -> ADD (b = vs2[i] or the immediate), vsub -> SUBTRACT, vandadd ->
    AND_ADD (b = x[rs2]), vlui/vfill/vsel/vload -> PASS_B, vrng -> RANDOM. The shifts
    (vsll, vsra, vsrl and their immediate forms) run on the lane multiplier
    (:class:`~.lane_multiplier.MulOp`); the accumulates (vlacc, vlacc8) and vload8 on
    the lane's load stage and P3 adder (:class:`~.vector_lane.VectorLane`). Values 7 to
    9, 11 and 12 are unused (former shift and accumulate paths).
    """
    ADD = 0                      # sat/wrap(a + b)
    SUBTRACT = 1                 # sat/wrap(a - b)
    AND = 2                      # a & b
    OR = 3                       # a | b
    XOR = 4                      # a ^ b
    MIN = 5                      # signed minimum
    MAX = 6                      # signed maximum
    AND_ADD = 10                 # wrap((a & (2^shift - 1)) + b), shift from control
    PASS_B = 13                  # b
    RANDOM = 14                  # r as int16


class AluControl(data.Struct):
    """Operation and modifiers of a :class:`LaneAlu`, shared by all lanes of a vector.

    ``shift`` is the instruction's shift field: the mask width of AND_ADD.
    ``saturate`` matters for ADD and SUBTRACT and is ignored elsewhere.
    """
    op: AluOp
    saturate: 1
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
    ``r`` (16-bit generator output, used only by RANDOM; the caller steps the generator
    in the same cycle, the ALU samples ``r`` with the operands). Outputs: ``result``
    (``signed(16)``) and ``flags`` (:class:`AluFlags`).

    Latency (``stages``): the inputs are sampled at the clock edge that ends the input
    cycle and ``result``/``flags`` are valid ``stages`` cycles later; a new operation is
    accepted every cycle, the pipeline always advances (no stall input).

    * ``stages=2`` (default): the inputs are registered as they arrive (so the
      operands' bypass network and the adder never share a cycle); in the second cycle
      the add/subtract, compare, min/max, logic and AND_ADD, then the saturation and
      result selection, run into the output register.
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
        ctl, a, b, r = self.ctl, self.a, self.b, self.r
        if self.stages == 2:
            # Stage 0: the inputs, registered.
            ctl, a, b, r = (Signal.like(port, name=f"{name}_q") for name, port in
                            (("ctl", self.ctl), ("a", self.a), ("b", self.b), ("r", self.r)))
            m.d.sync += [ctl.eq(self.ctl), a.eq(self.a), b.eq(self.b), r.eq(self.r)]
        op = ctl.op

        # ---- the operation ----------------------------------------------------------
        # One adder: a + b for ADD, a - b for everything else (the compare flags).
        subtract = op != AluOp.ADD
        sum_ = Signal(signed(17))
        b_or_not_b = (b.as_unsigned() ^ subtract.replicate(16)).as_signed()
        m.d.comb += sum_.eq(a + b_or_not_b + subtract)
        less = sum_[16]                      # sign of the exact difference
        equal = a == b

        # Results that need nothing after stage 1, selected here.
        low_mask = ~shift_left(Const(0xFFFF, 16), ctl.shift)[:16]
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
                m.d.comb += simple.eq(r)
            with m.Default():                # PASS_B
                m.d.comb += simple.eq(b)

        # ---- saturation and result selection, into the output register -------------
        result = Signal(ELEMENT)
        with m.Switch(op):
            with m.Case(AluOp.ADD, AluOp.SUBTRACT):
                m.d.comb += result.eq(saturate_or_wrap16(sum_, ctl.saturate))
            with m.Default():
                m.d.comb += result.eq(simple)

        m.d.sync += [self.result.eq(result), self.flags.eq(Cat(equal, less))]
        return m
