"""One lane of the vector unit: operand bypass, ALU, multiplier, generator, load /
accumulate stage and the lane-local memory."""
from amaranth.hdl import Const, Module, Mux, Signal, Value, signed
from amaranth.lib import data, memory, wiring
from amaranth.lib.wiring import In, Out

from ..config import CoreConfig
from .arith import ELEMENT, INT16_MAX, INT16_MIN, saturate16, shift_left
from .lane_alu import LaneAlu
from .lane_copy import lane_copy
from .lane_multiplier import LaneMultiplier
from .lane_rng import LaneRng
from .vector_decoder import BSource, ResultSource, TestCond, VectorControl
from .vector_memory import undoable_store

__all__ = ["Answer", "Bypass", "LoadControl", "VectorLane"]


class Bypass(data.Struct):
    """Where an EX operand comes from, one-hot (exactly one field set; the unit computes
    it in the cycle before and each lane registers its own copy): the register file read (``rf``); the result of the
    instruction issued two cycles earlier (P2) from the ALU (``alu``, also when that
    instruction's value is not due yet - a multiply, load or accumulate: the scoreboard
    stalls its readers); of the one issued three cycles earlier (P3): ``w3`` (an ALU
    result), ``mul`` (the multiplier's) or ``loaded`` (a load); of the one issued four
    cycles earlier (P4): ``w4``. One-hot selects of the unit outputs
    themselves keep the operand an AND-OR of registers, with no decode in front."""
    rf: 1
    alu: 1
    mul: 1
    w3: 1
    loaded: 1
    w4: 1


class LoadControl(data.Struct):
    """The load stage's control for the instruction in P2 (two cycles after issue)."""
    lane: 1       # lane-local memory data (else vector memory)
    byte: 1       # the lane's int8 of the selected half row (else its int16)
    half: 1       # int8 loads: from the row's upper half (``vmem_bytes[8:]``)
    shift: 4      # left shift of the loaded value (vload8, vlacc, vlacc8)


class Answer(data.Struct):
    """What a lane tells the unit about the instruction in its EX, registered (due one
    cycle after EX): the ``ex.test`` comparison of ``a`` and ``b`` (``flag``), ``a`` (for
    ``vextract``), and its lane-memory element address ``a + imm`` (``addr``) with
    ``over``: ``addr >= elements``."""
    flag: 1
    a: 16
    over: 1
    addr: signed(17)


def _copy_controls(m, platform, ctl):
    """The lane's copies (lane_copy) of the fields of ``ctl`` (:class:`VectorControl`,
    of the next cycle) that a lane uses; returned as a ``VectorControl`` view whose other
    fields are zero."""
    ex = Signal(VectorControl, name="ex")
    for field in _LANE_FIELDS:
        value = Value.cast(getattr(ctl, field))
        width = 16 if field == "imm" else len(value)
        copy = lane_copy(m, platform, value[:width], width, f"ex_{field}")
        m.d.comb += Value.cast(getattr(ex, field))[:width].eq(copy)
    return ex


#: The :class:`VectorControl` fields a lane reads (of ``imm``, the low 16 bits).
_LANE_FIELDS = ("alu", "mul", "b_source", "test", "imm")


class VectorLane(wiring.Component):
    """Lane datapath. Stages, counted from the cycle ``t`` the instruction is in the
    lane's EX (``TIMING.lane_delay`` cycles after the core's EX: the unit's control
    reaches the lane through the register tree of relay.py).

    Control arrives one cycle ahead and the lane registers its own copy
    (:func:`~.lane_copy.lane_copy`: no control flip-flop is shared by all lanes):
    ``ex_next`` (the instruction in EX in the next cycle, decoded near the lane: the
    unit decodes each group's relayed word), ``sel_a_next``/``sel_b_next``
    (its operand bypass), ``load_next`` (the load stage's control in the next cycle) and
    ``p2_result`` (the result select of the instruction now in P2). Below, ``ex``,
    ``sel_*``, ``load`` and ``p3_result`` are these copies.

    * EX (``t``): operands ``a`` (vs1, or vd for the instructions that read vd: the
      unit's read port A, see vector_unit.py) and ``b`` (vs2) = the register-file read
      data ``rf_*`` or a bypass (``sel_*``, :class:`Bypass`) from this lane's unit
      results, ``w3``, the loaded value or ``w4``; ``c`` (vd) is ``a``;
      the ALU ``b`` operand chosen by ``ex.b_source``; the ``answer`` (out,
      :class:`Answer`, registered: due in P1) for the unit; the lane address
      ``a + imm`` (``lane_addr``, out: its low 16 bits, for the trace; ``neg``: < 0),
      which addresses the lane memory (read every cycle: a read enable would cost a hold
      multiplexer behind the block RAM; written with ``b`` when ``lmem_write`` and not
      ``neg``, with no fault test in front: see P2);
      the ALU, multiplier and generator (``rng_step``, ``rng_seed``: s0 = a, s1 = b)
      sample at the end of ``t``.
    * P1 (``t+1``): the memory data arrives and is registered with no logic in between
      (block-RAM outputs are slow on ECP5; the unit does the same for the vector
      memory's row). ``cancel`` (in) is the unit's fault for this instruction;
      ``dropped`` (in, at ``t``) says the core squashed it as it wrote. The memory
      store of a cancelled or dropped instruction is undone, and so is the generator
      change of a dropped one (at the end of ``t+1``, from its previous state; no
      instruction that changes the generator can fault).
    * P2 (``t+2``): after a cancelled or dropped store, the old value (read by the
      store's own access) is written back (``restore``, see :func:`undoable_store`: the
      core issues nothing then, so the port is free). The ALU result, the value of a
      latency-2 instruction, is registered as ``w3`` (out); the load stage (``load``,
      :class:`LoadControl`) makes ``sat16(x << shift)`` of the registered memory data
      (this lane's, or ``vmem_element``/a byte of ``vmem_bytes``: the lane's int16 and
      its two int8 candidates from the vector memory's row) for loads and the
      17-bit clamped weight for accumulates, registered.
    * P3 (``t+3``): ``w3``, the multiplier result or the loaded value (latency 3);
      the accumulate adder ``sat16(vd + weight)`` runs; ``w4`` (out, a register) = one
      of them, chosen by ``p3_result``.
    * P4 (``t+4``): ``w4``, the value the unit writes to the register file at the end
      of ``t+4`` (accumulates: latency 4).

    Host port of the lane memory: ``host_addr``, ``host_wdata`` (16), ``host_we``,
    ``host_rdata`` (latency 1), independent of the core port.
    """

    def __init__(self, config: CoreConfig):
        self.config = config
        self.elements = elements = config.lane_mem_elements
        super().__init__({
            "ex_next": In(VectorControl),
            "sel_a_next": In(Bypass), "sel_b_next": In(Bypass),
            "rf_a": In(16), "rf_b": In(16),
            "scalar": In(16), "mask": In(1),
            "rng_step": In(1), "rng_seed": In(1),
            "lmem_write": In(1), "cancel": In(1), "dropped": In(1),
            "load_next": In(LoadControl), "vmem_element": In(16), "vmem_bytes": In(16),
            "p2_result": In(ResultSource),
            "a": Out(ELEMENT), "b": Out(ELEMENT), "c": Out(ELEMENT),
            "lane_addr": Out(16), "neg": Out(1), "answer": Out(Answer),
            "w3": Out(ELEMENT), "w4": Out(ELEMENT),
            "s0": Out(16), "s1": Out(16),
            "host_addr": In(range(elements)), "host_wdata": In(16), "host_we": In(1),
            "host_rdata": Out(16),
        })
        self.lmem = memory.Memory(shape=16, depth=elements, init=[])

    def elaborate(self, platform):
        m = Module()
        m.submodules.alu = alu = LaneAlu()
        m.submodules.mul = mul = LaneMultiplier()
        # ``r`` straight from the state (two adders): the ALU and the multiplier both
        # register it with their operands, and a registered ``r`` would put the seed
        # operands' bypass in front of those adders.
        m.submodules.rng = rng = LaneRng(registered_output=False)
        m.submodules.lmem = self.lmem
        # This lane's copies of the unit's control (see lane_copy.py), each sampled from
        # the value the unit has for it one cycle earlier.
        ex = _copy_controls(m, platform, self.ex_next)
        sel_a = lane_copy(m, platform, self.sel_a_next, Bypass, "sel_a")
        sel_b = lane_copy(m, platform, self.sel_b_next, Bypass, "sel_b")
        load = lane_copy(m, platform, self.load_next, LoadControl, "load")
        p3_result = lane_copy(m, platform, self.p2_result, ResultSource, "p3_result")

        # EX: operands ---------------------------------------------------------------
        loaded, weight = Signal(ELEMENT), Signal(signed(17))

        def bypass(sel, rf):
            # The register file's data arrives last (distributed RAM read through a
            # high-fanout address): the AND-OR of the registered results comes first and
            # the register file meets a single 2:1 multiplexer.
            terms = ((sel.alu, alu.result), (sel.mul, mul.result), (sel.w3, self.w3),
                     (sel.loaded, loaded), (sel.w4, self.w4))
            early = 0
            for flag, source in terms:
                early = early | (flag.replicate(16) & source.as_unsigned())
            return Mux(sel.rf, rf, early).as_signed()
        a, b, c = self.a, self.b, self.c
        m.d.comb += [a.eq(bypass(sel_a, self.rf_a)), b.eq(bypass(sel_b, self.rf_b)),
                     c.eq(a)]
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
        # The generator steps or is seeded before the squash is known and is undone one
        # cycle later. No instruction that changes it can fault (none accesses memory:
        # VectorUnit checks the table), so ``cancel`` (late: an OR over all lanes) plays
        # no part; the undo is an AND of this lane's own registers.
        changed1 = lane_copy(m, platform, self.rng_step | self.rng_seed, 1, "rng_changed1")
        dropped1 = lane_copy(m, platform, self.dropped, 1, "rng_dropped1")
        rng_undo = Signal()
        m.d.comb += rng_undo.eq(changed1 & dropped1)
        m.d.comb += [
            alu.ctl.eq(ex.alu), alu.a.eq(a), alu.b.eq(alu_b), alu.r.eq(rng.r),
            mul.ctl.eq(ex.mul), mul.a.eq(a), mul.b.eq(b), mul.r.eq(rng.r),
            # the shifts' amount: vs2[i] or the immediate (not through alu_b: timing)
            mul.amount.eq(Mux(ex.b_source == BSource.IMM, ex.imm[:4], b[:4])),
            rng.step.eq(self.rng_step), rng.undo.eq(rng_undo),
            rng.write_s0.eq(self.rng_seed),
            rng.write_s1.eq(self.rng_seed), rng.seed_s0.eq(a), rng.seed_s1.eq(b),
            self.s0.eq(rng.s0), self.s1.eq(rng.s1),
        ]
        equal, less = a == b, a < b
        answer = self.answer
        with m.Switch(ex.test):
            with m.Case(TestCond.EQ):
                m.d.sync += answer.flag.eq(equal)
            with m.Case(TestCond.NE):
                m.d.sync += answer.flag.eq(~equal)
            with m.Case(TestCond.LT):
                m.d.sync += answer.flag.eq(less)
            with m.Case(TestCond.GE):
                m.d.sync += answer.flag.eq(~less)

        # EX: lane-local memory ------------------------------------------------------
        addr_bits = max(1, (self.elements - 1).bit_length())
        element = Signal(signed(17))
        m.d.comb += [element.eq(a + ex.imm[:12].as_signed()),
                     self.lane_addr.eq(element[:16]), self.neg.eq(element < 0)]
        m.d.sync += [answer.a.eq(a), answer.addr.eq(element),
                     answer.over.eq(element >= self.elements)]
        # Transparent across ports so Yosys maps the memory to block RAM (see
        # vector_memory.py).
        core_write = self.lmem.write_port()
        host_write = self.lmem.write_port()
        core_read = self.lmem.read_port(transparent_for=(host_write,))
        host_read = self.lmem.read_port(transparent_for=(core_write, host_write))
        # A store writes in EX even if its instruction faults (known one cycle later,
        # ``cancel``) or is squashed (``dropped``), and is then undone
        # (undoable_store).
        index, store = Signal(addr_bits), Signal()
        m.d.comb += [index.eq(element.as_unsigned()[:addr_bits]),
                     store.eq(self.lmem_write & ~self.neg)]
        port_addr, port_data, port_write, lmem_q = undoable_store(
            m, addr=index, store=store, data=b, rdata=core_read.data,
            cancel=self.cancel, dropped=self.dropped)
        m.d.comb += [
            core_read.addr.eq(port_addr), core_read.en.eq(1),
            core_write.addr.eq(port_addr), core_write.data.eq(port_data),
            core_write.en.eq(port_write),
            host_read.addr.eq(self.host_addr), host_write.addr.eq(self.host_addr),
            host_write.data.eq(self.host_wdata), host_write.en.eq(self.host_we),
            self.host_rdata.eq(host_read.data),
        ]

        # P1: the block RAM data is registered raw (its output is slow on ECP5) --------
        c1, neg1 = Signal(ELEMENT), Signal()
        m.d.sync += [c1.eq(c), neg1.eq(self.neg)]

        # P2: load stage, from registers: sat16(x << shift) and the 17-bit clamped weight;
        # whether the shifted value fits is tested beside the shifter (thermometer mask).
        c2, neg2, c3 = Signal(ELEMENT), Signal(), Signal(ELEMENT)
        m.d.sync += [c2.eq(c1), neg2.eq(neg1), c3.eq(c2)]
        element = Signal(ELEMENT)
        byte = Mux(load.half, self.vmem_bytes[8:], self.vmem_bytes[:8])
        m.d.comb += element.eq(Mux(load.lane, Mux(neg2, 0, lmem_q),
                                   Mux(load.byte, byte.as_signed(), self.vmem_element)))
        full = Signal(signed(17))
        m.d.comb += full.eq(shift_left(element, load.shift)[:17])
        sign = element[-1]
        differs = element.as_unsigned() ^ sign.replicate(16)
        mask16 = shift_left(Const(0xFFFF, 16), (~load.shift)[:4])[:16]  # bits >= 15 - shift
        fits16 = ~(differs & mask16).any()
        fits17 = ~(differs & mask16.shift_left(1)[:16]).any()
        clamp16 = Mux(sign, Const(INT16_MIN, ELEMENT), Const(INT16_MAX, ELEMENT))
        clamp17 = Mux(sign, Const(-65536, signed(17)), Const(65535, signed(17)))
        m.d.sync += [loaded.eq(Mux(fits16, full[:16], clamp16)),
                     weight.eq(Mux(fits17, full, clamp17))]

        # P2: the ALU result (latency 2), registered as ``w3`` --------------------------
        m.d.sync += self.w3.eq(alu.result)

        # P3: the multiplier's or the load's result (latency 3) or the accumulate sum,
        # registered as ``w4`` ---------------------------------------------------------
        total = Signal(signed(18))
        m.d.comb += total.eq(c3 + weight)
        with m.Switch(p3_result):
            with m.Case(ResultSource.ACC):
                m.d.sync += self.w4.eq(saturate16(total))
            with m.Case(ResultSource.LOADED):
                m.d.sync += self.w4.eq(loaded)
            with m.Case(ResultSource.MUL):
                m.d.sync += self.w4.eq(mul.result)
            with m.Default():
                m.d.sync += self.w4.eq(self.w3)
        return m
