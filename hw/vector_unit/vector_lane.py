"""One lane of the vector unit: operand bypass, ALU, multiplier, generator, load /
accumulate stage and the lane-local memory."""
from amaranth.hdl import Cat, Const, Module, Mux, Signal, signed
from amaranth.lib import data, enum, memory, wiring
from amaranth.lib.wiring import In, Out

from .arith import ELEMENT, INT16_MAX, INT16_MIN, saturate16
from .lane_alu import LaneAlu
from .lane_multiplier import LaneMultiplier
from .lane_rng import LaneRng
from .vector_decoder import BSource, ResultSource, TestCond, VectorControl

__all__ = ["Bypass", "LoadControl", "VectorLane"]


class Bypass(enum.Enum, shape=2):
    """Where an EX operand comes from: the register file read, or the result of the
    instruction issued two (``P2``) or three (``P3``) cycles earlier."""
    RF = 0
    P2 = 1
    P3 = 2


class LoadControl(data.Struct):
    """The load stage's control for the instruction in P1 (one cycle after issue)."""
    lane: 1       # lane-local memory data (else vector memory)
    byte: 1       # the lane's int8 of the selected half row (else its int16)
    shift: 4      # left shift of the loaded value (vload8, vlacc, vlacc8)


class VectorLane(wiring.Component):
    """Lane datapath. Stages, counted from the issue cycle ``t`` (EX):

    * EX (``t``): operands ``a`` (vs1), ``b`` (vs2), ``c`` (vd) = the register-file read
      data ``rf_*`` or a bypass (``sel_*``, :class:`Bypass`) from this lane's ``v2``/``w3``;
      the ALU ``b`` operand chosen by ``ex.b_source``; ``flag`` = the ``ex.test``
      comparison of ``a`` and ``b``; lane address ``lane_addr = a + imm`` (``neg``: < 0,
      ``over``: >= ``elements``), which addresses the lane memory (read when ``lmem_read``,
      written with ``b`` when ``lmem_write`` and not ``neg``); the ALU, multiplier and
      generator (``rng_step``, ``rng_seed``: s0 = a, s1 = b) sample at the end of ``t``.
    * P1 (``t+1``): memory data arrives (``vmem_element``, ``vmem_byte`` from the unit,
      the lane memory's own); the load stage (``load``, :class:`LoadControl`) makes
      ``sat16(x << shift)`` for loads and the 17-bit clamped weight for accumulates.
    * P2 (``t+2``): ``v2`` (out) = the ALU, multiplier or load result chosen by
      ``p2_result``: the value of a latency-2 instruction; the accumulate adder
      ``sat16(vd + weight)`` runs.
    * P3 (``t+3``): ``w3`` (out, a register) = ``v2`` or the accumulate sum: the value
      the unit writes to the register file at the end of ``t+3``.

    Host port of the lane memory: ``host_addr``, ``host_wdata`` (16), ``host_we``,
    ``host_rdata`` (latency 1), independent of the core port.
    """

    def __init__(self, elements: int):
        self.elements = elements
        super().__init__({
            "ex": In(VectorControl),
            "sel_a": In(Bypass), "sel_b": In(Bypass), "sel_c": In(Bypass),
            "rf_a": In(16), "rf_b": In(16), "rf_c": In(16),
            "scalar": In(16), "mask": In(1),
            "rng_step": In(1), "rng_seed": In(1),
            "lmem_read": In(1), "lmem_write": In(1),
            "load": In(LoadControl), "vmem_element": In(16), "vmem_byte": In(8),
            "p2_result": In(ResultSource),
            "a": Out(ELEMENT), "b": Out(ELEMENT), "c": Out(ELEMENT), "flag": Out(1),
            "lane_addr": Out(signed(17)), "neg": Out(1), "over": Out(1),
            "v2": Out(ELEMENT), "w3": Out(ELEMENT),
            "s0": Out(16), "s1": Out(16),
            "host_addr": In(range(elements)), "host_wdata": In(16), "host_we": In(1),
            "host_rdata": Out(16),
        })
        self.lmem = memory.Memory(shape=16, depth=elements, init=[])

    def elaborate(self, platform):
        m = Module()
        m.submodules.alu = alu = LaneAlu()
        m.submodules.mul = mul = LaneMultiplier()
        m.submodules.rng = rng = LaneRng()
        m.submodules.lmem = self.lmem
        ex = self.ex

        # EX: operands ---------------------------------------------------------------
        def bypass(sel, rf):
            return Mux(sel == Bypass.P2, self.v2,
                       Mux(sel == Bypass.P3, self.w3, rf.as_signed()))
        a, b, c = self.a, self.b, self.c
        m.d.comb += [a.eq(bypass(self.sel_a, self.rf_a)), b.eq(bypass(self.sel_b, self.rf_b)),
                     c.eq(bypass(self.sel_c, self.rf_c))]
        alu_b = Signal(ELEMENT)
        with m.Switch(ex.b_source):
            with m.Case(BSource.IMM):
                m.d.comb += alu_b.eq(ex.imm[:16])
            with m.Case(BSource.SCALAR):
                m.d.comb += alu_b.eq(self.scalar)
            with m.Case(BSource.SELECT):
                m.d.comb += alu_b.eq(Mux(self.mask, b, c))
            with m.Case(BSource.RNG_S0):
                m.d.comb += alu_b.eq(rng.s0)
            with m.Case(BSource.RNG_S1):
                m.d.comb += alu_b.eq(rng.s1)
            with m.Default():
                m.d.comb += alu_b.eq(b)
        m.d.comb += [
            alu.ctl.eq(ex.alu), alu.a.eq(a), alu.b.eq(alu_b), alu.r.eq(rng.r),
            mul.ctl.eq(ex.mul), mul.a.eq(a), mul.b.eq(b), mul.r.eq(rng.r),
            rng.step.eq(self.rng_step), rng.write_s0.eq(self.rng_seed),
            rng.write_s1.eq(self.rng_seed), rng.seed_s0.eq(a), rng.seed_s1.eq(b),
            self.s0.eq(rng.s0), self.s1.eq(rng.s1),
        ]
        equal, less = a == b, a < b
        with m.Switch(ex.test):
            with m.Case(TestCond.EQ):
                m.d.comb += self.flag.eq(equal)
            with m.Case(TestCond.NE):
                m.d.comb += self.flag.eq(~equal)
            with m.Case(TestCond.LT):
                m.d.comb += self.flag.eq(less)
            with m.Case(TestCond.GE):
                m.d.comb += self.flag.eq(~less)

        # EX: lane-local memory ------------------------------------------------------
        addr_bits = max(1, (self.elements - 1).bit_length())
        m.d.comb += [self.lane_addr.eq(a + ex.imm[:12].as_signed()),
                     self.neg.eq(self.lane_addr < 0),
                     self.over.eq(self.lane_addr >= self.elements)]
        # Transparent across ports so Yosys maps the memory to block RAM (see
        # vector_memory.py).
        core_write = self.lmem.write_port()
        host_write = self.lmem.write_port()
        core_read = self.lmem.read_port(transparent_for=(host_write,))
        host_read = self.lmem.read_port(transparent_for=(core_write, host_write))
        lane_index = self.lane_addr.as_unsigned()[:addr_bits]
        m.d.comb += [
            core_read.addr.eq(lane_index), core_read.en.eq(self.lmem_read),
            core_write.addr.eq(lane_index), core_write.data.eq(b),
            core_write.en.eq(self.lmem_write & ~self.neg),
            host_read.addr.eq(self.host_addr), host_write.addr.eq(self.host_addr),
            host_write.data.eq(self.host_wdata), host_write.en.eq(self.host_we),
            self.host_rdata.eq(host_read.data),
        ]

        # P1: load stage ---------------------------------------------------------------
        c1, neg1 = Signal(ELEMENT), Signal()
        m.d.sync += [c1.eq(c), neg1.eq(self.neg)]
        load = self.load
        element = Signal(ELEMENT)
        m.d.comb += element.eq(Mux(load.lane, Mux(neg1, 0, core_read.data),
                                   Mux(load.byte, self.vmem_byte.as_signed(),
                                       self.vmem_element)))
        full = Signal(signed(31))
        m.d.comb += full.eq(element << load.shift)
        top16, top17 = full[15:], full[16:]
        fits16 = top16.all() | ~top16.any()
        fits17 = top17.all() | ~top17.any()
        sign = full[-1]
        clamp16 = Mux(sign, Const(INT16_MIN, ELEMENT), Const(INT16_MAX, ELEMENT))
        clamp17 = Mux(sign, Const(-65536, signed(17)), Const(65535, signed(17)))
        loaded, weight, c2 = Signal(ELEMENT), Signal(signed(17)), Signal(ELEMENT)
        m.d.sync += [loaded.eq(Mux(fits16, full[:16], clamp16)),
                     weight.eq(Mux(fits17, full[:17], clamp17)), c2.eq(c1)]

        # P2: result select and accumulate ---------------------------------------------
        with m.Switch(self.p2_result):
            with m.Case(ResultSource.MUL):
                m.d.comb += self.v2.eq(mul.result)
            with m.Case(ResultSource.LOADED):
                m.d.comb += self.v2.eq(loaded)
            with m.Default():
                m.d.comb += self.v2.eq(alu.result)
        total = Signal(signed(18))
        m.d.comb += total.eq(c2 + weight)
        m.d.sync += self.w3.eq(Mux(self.p2_result == ResultSource.ACC, saturate16(total),
                                   self.v2))
        return m
