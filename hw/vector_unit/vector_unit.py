"""The vector unit: register file, lanes, memories and scoreboard behind the core's vector
issue port.

Pipeline (``t`` = the issue cycle, the instruction in the scalar core's EX stage). The
decoder, the scoreboard, the bypass selects, the vector-memory address check and the
fault logic run in step with the core. The lanes, the register file and the vector
memory run ``TIMING.lane_delay`` (``D``, 2) cycles behind: everything the unit sends
them passes the register tree of :mod:`.relay` (a register here, one per group of four
lanes), so the stages below happen there ``D`` cycles later (EX at ``t+D``, and so on).
Every issued instruction is delayed alike, so the bypasses and the scoreboard see the
same distances. Where the core needs an answer from the lanes: ``x_result`` (``vt*``,
``vextract``) comes from the lanes' answer (:class:`~.vector_lane.Answer`), one register
per group of lanes (:class:`~.answer_group.AnswerGroup`) and the unit's ``x_result``
register: due ``D + 3`` cycles after issue (the VTOX latency; the core writes it late,
nothing waits for it at issue); for the lane-address fault of ``vloadl``/``vstorel`` the
instruction waits ``TIMING.lane_wait`` cycles in EX with its operands ready (the
:class:`Scoreboard` stalls it): the lanes check the address ``D`` cycles after it became
ready and register their flags, which the unit combines one register later
(``D + 2``), so the fault is due in P1 as before.

* ID (``t-1``, look-ahead ``id_*``): :class:`VectorDecoder` decodes the instruction,
  the register file reads ``vs1`` (or ``vd``, for the instructions that read it) and
  ``vs2`` on its two ports, the :class:`Scoreboard` computes
  whether it must stall, and the bypass selects are found; all are registered.
  While an instruction stalls in EX the same happens again for it, every cycle.
* EX (``t``): operands = register file or bypass from P2/P3/P4; vector and lane-memory
  addresses and accesses (stores write here, before their fault is known), the lanes'
  answer (registered), generator step/seed; the ALU and multiplier take their inputs.
* P1 (``t+1``): memory read data, registered with no logic in between (block-RAM
  outputs are slow on ECP5); the fault and its address go to the core.
* P2 (``t+2``): ALU results (latency 2: bypassed to EX); the load stage
  (:class:`VectorLane`) from the registered memory data. After a store that faulted,
  the old data it read is written back (the core has stopped).
* P3 (``t+3``): ALU results registered (``w3``), multiplier results and loaded values
  (latency 3: bypassed to EX); the accumulate adder.
* P4 (``t+4``): the result register ``w4``; accumulate results (latency 4: bypassed to
  EX); written to the register file at the end of the cycle (one write port, every
  class writes in P4, so writes never collide); the retire port reports all vector
  writes here, in program order.

The unit's ``ex`` control record mirrors the core's EX stage: it is loaded from the
look-ahead when ``id_advance`` is high and held otherwise, because an instruction
can leave ID and then wait in EX with ``valid`` low (for a scalar operand from a load,
``mul`` or count) or be squashed there (``squash``). Only issued instructions
(``valid & ~squash & ~stall``) touch the :class:`Scoreboard` or P1-P4, so the
scoreboard is exactly the table's :class:`~spikevec.hw.isa.table.CycleModel`. The
lane memories' write enables and the generators' step and seed leave out the late
``squash`` (it comes from the core's MEM): a squashed lane store or generator change
happens and is undone a cycle later (a lane store also when it faults; an instruction
that changes the generators never faults: :func:`~.table_checks.check_table`). The
vector memory, written ``D`` cycles after issue, needs no undo: its write enable
leaves out squashed and faulting stores.

``stall`` is a register (the :class:`Scoreboard`'s, computed in the cycle before from the
instruction that is about to be in EX), so it reaches the core's control with no logic in
front. ``fault`` and ``fault_addr`` are due in P1 (the core's MEM, when it traps): the
unit registers the issued instruction's scalar address and vector-memory fault, and the
lanes' address flag and the lowest faulting lane's address (from their answer), so
``fault`` is an OR of two registers. A faulting instruction changes nothing: no
register write leaves P1 with ``fault``, and a lane store, which wrote in the lane's
EX, is undone in P2 from the old data its own access read (the memories' core ports
read before they write); see :func:`~.vector_memory.undoable_store`.

Ports: ``issue`` (``In(VectorIssueSignature())``), ``running`` (in: the core runs),
``vmem_host``, ``lmem_host`` (usable at any time), ``vreg_host`` (only while
``running`` is low) (:class:`HostMemorySignature`, one 32-bit word = two lanes; word
orders of :mod:`spikevec.hw.rtl.host_bus`; latency :data:`~.host_group.HOST_LATENCY`:
all three pass a register per group of lanes each way, :mod:`.host_group`; they share
the groups' write data, so write through one of them per cycle), ``retire``
(``Out(VectorRetireSignature(lanes))``). Memories for tests: ``regfile.mems``
(``regfile.sim_get``/``sim_set``), ``vmem.mems`` (``vmem.sim_get``/``sim_set``),
``lanes[i].lmem``; generator state ``lanes[i].s0``/``s1``.
"""
import operator
from functools import reduce

from amaranth.hdl import Cat, Module, Mux, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..config import CoreConfig
from ..isa import TIMING
from ..rtl.delay import delayed
from ..rtl.shared_module import shared_modules
from ..rtl.signatures import HostMemorySignature, VectorIssueSignature, VectorRetireSignature
from .answer_group import AnswerGroup
from .host_group import HOST_LATENCY, connect_host_groups
from .relay import GROUP, FanOut
from .scoreboard import Scoreboard
from .table_checks import check_table
from .vector_decoder import MemKind, ResultSource, VectorControl, VectorDecoder, XSource
from .vector_lane import Bypass, LoadControl, VectorLane
from .vector_memory import VectorMemory
from .vector_register_file import REGISTERS, VectorRegisterFile

__all__ = ["VectorUnit"]


def _log2(n: int) -> int:
    assert n & (n - 1) == 0, f"{n} is not a power of two"
    return n.bit_length() - 1


def _lowest_set(flags, values):
    """``(any flag, the value of the lowest set flag)`` as a balanced tree of 2:1
    multiplexers (depth log2 of the count, not a chain)."""
    if len(flags) == 1:
        return flags[0], values[0]
    half = len(flags) // 2
    low_any, low = _lowest_set(flags[:half], values[:half])
    high_any, high = _lowest_set(flags[half:], values[half:])
    return low_any | high_any, Mux(low_any, low, high)


class VectorUnit(wiring.Component):
    """The vector unit of a core with ``config`` (see the module docstring)."""

    def __init__(self, config: CoreConfig):
        self.config = config
        lanes = config.lanes
        super().__init__({
            "issue": In(VectorIssueSignature()), "running": In(1),
            "vmem_host": Out(HostMemorySignature(config.vmem_bytes // 4,
                                                 latency=HOST_LATENCY)),
            "lmem_host": Out(HostMemorySignature(lanes * config.lane_mem_bytes // 4,
                                                 latency=HOST_LATENCY)),
            "vreg_host": Out(HostMemorySignature(REGISTERS * config.vector_bytes // 4,
                                                 latency=HOST_LATENCY)),
            "retire": Out(VectorRetireSignature(lanes)),
        })
        self.regfile = VectorRegisterFile(lanes)
        self.vmem = VectorMemory(config)
        self.lanes = [VectorLane(config) for _ in range(lanes)]

    def elaborate(self, platform):
        check_table()
        m = Module()
        cfg, iss = self.config, self.issue
        n = cfg.lanes
        m.submodules.decoder = dec = VectorDecoder(cfg)
        m.submodules.scoreboard = sb = Scoreboard()
        m.submodules.regfile = rf = self.regfile
        m.submodules.vmem = vmem = self.vmem
        # A build that synthesises hierarchically places every lane as an instance of
        # one module, synthesised once (shared_module.py); otherwise each is elaborated.
        shared = shared_modules(platform)
        for i, lane in enumerate(self.lanes):
            m.submodules[f"lane{i}"] = lane if shared is None else shared.instance(
                lane, "spikevec_vector_lane", cfg.fingerprint())

        # The lanes, the register file and the vector memory run LANE_DELAY cycles behind
        # the core: all the unit sends them passes the register tree (relay.py).
        fan = FanOut(n)
        late = TIMING.lane_delay

        # ID: decode, register reads, scoreboard and bypass selects ------------------------
        m.d.comb += [dec.valid.eq(iss.id_valid), dec.word.eq(iss.id_word)]
        # ``ex`` mirrors the core's EX stage: it takes the ID instruction when the core
        # moves it on (``id_advance``) and keeps it otherwise - while the core holds EX (a
        # vector stall, or ``valid`` low while waiting for a scalar operand). In a cycle
        # where the core squashes or traps, ``id_advance`` may load an instruction that
        # never becomes valid (nothing issues from it).
        ex = Signal(VectorControl)
        stall = sb.stall
        with m.If(iss.id_advance):
            m.d.sync += ex.eq(dec.ctl)
        following = Signal(VectorControl)     # the instruction in EX in the next cycle
        m.d.comb += following.eq(Mux(iss.id_advance, dec.ctl.as_value(), ex.as_value()))
        # Its word, for the lanes: the relay tree carries the word (33 bits, not the
        # decoded control) and each group of lanes decodes it behind its relay, in front
        # of the lanes' own copies (see "Lanes" below).
        ex_word, ex_valid = Signal(32), Signal()
        with m.If(iss.id_advance):
            m.d.sync += [ex_word.eq(iss.id_word), ex_valid.eq(iss.id_valid)]
        following_word, following_valid = Signal(32), Signal()
        m.d.comb += [following_word.eq(Mux(iss.id_advance, iss.id_word, ex_word)),
                     following_valid.eq(Mux(iss.id_advance, iss.id_valid, ex_valid))]
        # Port A reads vd for the instructions that read it (vsel, vlacc, vlacc8), else
        # vs1: none reads both (checked by table_checks), so two ports suffice.
        read_a = Signal(5)
        m.d.comb += read_a.eq(Mux(following.reads_vd, following.vd, following.vs1))
        for src, ctl in ((sb.next_id, dec.ctl), (sb.next_ex, ex)):
            m.d.comb += [src.vs1.eq(ctl.vs1), src.vs2.eq(ctl.vs2), src.vd.eq(ctl.vd),
                         src.reads_vs1.eq(ctl.reads_vs1), src.reads_vs2.eq(ctl.reads_vs2),
                         src.reads_vd.eq(ctl.reads_vd), src.lane_wait.eq(ctl.lane_wait)]
        m.d.comb += [sb.advance.eq(iss.id_advance), rf.host_enable.eq(~self.running)]
        for i, (ra, rb) in enumerate(zip(fan.add(read_a, 5, "raddr_a"),
                                         fan.add(following.vs2, 5, "raddr_b"))):
            m.d.comb += [rf.raddr_a[i].eq(ra), rf.raddr_b[i].eq(rb)]
        # Result pipeline: what each of P1 to P4 will write.
        p1_w, p2_w, p3_w, p4_w = Signal(), Signal(), Signal(), Signal()
        p1_vd, p2_vd, p3_vd, p4_vd = Signal(5), Signal(5), Signal(5), Signal(5)
        p1_res, p2_res = (Signal(ResultSource, name=f"p{k}_res") for k in (1, 2))
        # The selects for the instruction in EX in the next cycle; each lane registers
        # its own copy (lane_copy.py). They are found for both candidates (the ID
        # instruction and the one now in EX) and for both registers port A may read, and
        # chosen last: the decoder's ``reads_vd`` and ``id_advance`` meet only the final
        # multiplexers.
        def selects(reg):
            # The instruction now in P1 will be in P2 (the ALU's result; any other is not
            # due yet and the scoreboard stalls the reader), the one in P2 in P3 (``w3``,
            # the multiplier's or the loaded value, by ``p2_res``), the one in P3 in P4
            # (``w4``); the youngest writer wins.
            hit1, hit2 = p1_w & (p1_vd == reg), p2_w & (p2_vd == reg)
            hit3 = p3_w & (p3_vd == reg)
            older2 = ~hit1 & hit2
            sel = Signal(Bypass)
            m.d.comb += [
                sel.alu.eq(hit1),
                sel.mul.eq(older2 & (p2_res == ResultSource.MUL)),
                sel.w3.eq(older2 & (p2_res != ResultSource.LOADED) &
                          (p2_res != ResultSource.MUL)),
                sel.loaded.eq(older2 & (p2_res == ResultSource.LOADED)),
                sel.w4.eq(~hit1 & ~hit2 & hit3), sel.rf.eq(~hit1 & ~hit2 & ~hit3),
            ]
            return sel.as_value()

        sels = [Signal(Bypass, name=f"sel_{x}_next") for x in ("a", "b")]
        candidates = [(Mux(ctl.reads_vd, selects(ctl.vd), selects(ctl.vs1)), selects(ctl.vs2))
                      for ctl in (dec.ctl, ex)]
        for k, sel in enumerate(sels):
            m.d.comb += sel.eq(Mux(iss.id_advance, candidates[0][k], candidates[1][k]))

        # EX: addresses and faults -------------------------------------------------------
        vaddr = Signal(32)
        m.d.comb += vaddr.eq(iss.rs1_value + ex.imm.as_unsigned())
        row_lo = _log2(cfg.vector_bytes)
        misaligned = Mux(ex.byte, vaddr[:_log2(n)].any(), vaddr[:row_lo].any())
        vector_mem = ex.mem == MemKind.VECTOR
        lane_mem = ex.mem == MemKind.LANE
        vfault = vector_mem & (misaligned | (vaddr >= cfg.vmem_bytes))
        m.d.comb += iss.stall.eq(stall)
        # ``steps``: the instruction issues (``valid & ~squash & ~stall``; a stalled one is
        # not final: its operands may still change). ``tries``: the same without the late
        # ``squash``, for the memories' write enables and the generators.
        steps, tries = Signal(), Signal()
        m.d.comb += [tries.eq(iss.valid & ~stall), steps.eq(tries & ~iss.squash)]
        # The fault and its address are due one cycle later (P1, the core's MEM). A
        # vector-memory fault is known in EX from the scalar address. A lane-memory
        # address check comes from the lanes' answer: their registered flags and
        # addresses are registered again here (``overs_q``, ``addrs_q``), and, as the
        # instruction issues (it has waited ``address_wait`` for that), combined into
        # ``lane_fault_q`` and the lowest faulting lane's address (a balanced tree), so the
        # core's trap logic sees registers only. Register writes leave P1 only without a
        # fault; lane stores, which wrote in EX, are undone after it (in VectorLane).
        overs_q, vfault_q, vaddr_q = Signal(n), Signal(), Signal(32)
        lane_fault_q, lowest_q = Signal(), Signal(signed(17))
        addrs_q = [Signal(signed(17), name=f"lane_addr{i}_q") for i in range(n)]
        _, lowest = _lowest_set(list(overs_q), addrs_q)
        m.d.sync += [overs_q.eq(Cat(lane.answer.over for lane in self.lanes)),
                     vfault_q.eq(steps & vfault), vaddr_q.eq(vaddr),
                     lane_fault_q.eq(steps & lane_mem & overs_q.any()), lowest_q.eq(lowest)]
        m.d.sync += [q.eq(lane.answer.addr) for q, lane in zip(addrs_q, self.lanes)]
        fault = Signal()
        m.d.comb += [fault.eq(vfault_q | lane_fault_q), iss.fault.eq(fault),
                     iss.fault_addr.eq(Mux(vfault_q, vaddr_q, lowest_q.as_unsigned()))]

        # x results (``vt*``, ``vextract``): the lanes' answers (``lane_delay + 1`` cycles
        # after issue) pass one AnswerGroup register per group, then ``x_result``, so they
        # are due at the VTOX latency ``lane_delay + 3`` (answer_group.py).
        x_source = Signal(XSource)
        m.d.comb += x_source.eq(delayed(m, ex.x_source, TIMING.lane_delay + 2, "x_source"))
        answers = [AnswerGroup(n, g) for g in range(n // GROUP)]
        flags = Cat(group.flags_q for group in answers)
        extract = Signal(16)
        m.d.comb += extract.eq(reduce(operator.or_, (group.value for group in answers)))
        m.d.sync += iss.x_result.eq(Mux(x_source == XSource.TEST, flags,
                                        Mux(x_source == XSource.EXTRACT, extract.as_signed(), 0)))

        # Scoreboard and memories ---------------------------------------------------------
        m.d.comb += [sb.issue.eq(steps), sb.writes.eq(ex.writes_v), sb.vd.eq(ex.vd),
                     sb.latency.eq(ex.latency)]
        # The vector memory is accessed in the lanes' EX, ``late`` cycles after the core's,
        # when the instruction's squash (in the core's EX) and fault (P1) are known: a
        # vstore's write enable is registers only, nothing is undone, and the read data is
        # registered raw (``row_q``). A column's row and store pass its first lane's relay.
        row, vstore, row_q = Signal(len(vmem.row[0])), Signal(), Signal.like(vmem.rdata)
        m.d.comb += [row.eq(vaddr[row_lo:]), vstore.eq(steps & vector_mem & ex.store),
                     vmem.wdata.eq(Cat(lane.b for lane in self.lanes))]
        m.d.sync += row_q.eq(vmem.rdata)
        rows, vstores = fan.add(row, len(row), "vrow"), fan.add(vstore, 1, "vstore")
        faulted = delayed(m, fault, late - 1, "vstore_fault")
        for c, first in enumerate(range(0, n, vmem.column_lanes)):
            m.d.comb += [vmem.row[c].eq(rows[first]), vmem.write[c].eq(vstores[first] & ~faulted)]

        # Lanes --------------------------------------------------------------------------
        # The load stage runs in P2, on the memories' registered read data.
        # (``load1``: its control one cycle early, for the lanes' own copies.)
        load1 = Signal(LoadControl)
        row = row_q
        m.d.sync += [load1.lane.eq(lane_mem), load1.byte.eq(ex.byte),
                     load1.shift.eq(ex.shift), load1.half.eq(vaddr[_log2(n)])]
        scalar = Mux(ex.scalar_rs2, iss.rs2_value, iss.rs1_value)[:16]
        words, valids = fan.add(following_word, 32, "word"), fan.add(following_valid, 1, "valid")
        for g, first in enumerate(range(0, n, GROUP)):
            # One decoder per relay group, between the relay (near its lanes) and the
            # lanes' copies of the control: no decode logic in a lane's EX, no long net
            # behind a decoder, and a quarter of the decoders of one per lane.
            m.submodules[f"group_decoder{g}"] = group_dec = VectorDecoder(cfg)
            m.d.comb += [group_dec.word.eq(words[first]), group_dec.valid.eq(valids[first])]
            lanes = self.lanes[first:first + GROUP]
            m.d.comb += [lane.ex_next.eq(group_dec.ctl) for lane in lanes]
            m.submodules[f"answer_group{g}"] = answer = answers[g]
            m.d.comb += [answer.lane_select.eq(group_dec.ctl.imm[:_log2(n)]),
                         answer.a.eq(Cat(lane.answer.a for lane in lanes)),
                         answer.flags.eq(Cat(lane.answer.flag for lane in lanes))]
        sel_as, sel_bs = fan.add(sels[0], Bypass, "sel_a"), fan.add(sels[1], Bypass, "sel_b")
        scalars = fan.add(scalar, 16, "scalar")
        masks = fan.add_own(list(iss.rs1_value[:n]), 1, "mask")    # lane i: bit i
        rng_steps = fan.add(tries & ex.rng_step, 1, "rng_step")
        rng_seeds = fan.add(tries & ex.rng_seed, 1, "rng_seed")
        lmem_writes = fan.add(tries & lane_mem & ex.store, 1, "lmem_write")
        droppeds = fan.add(iss.squash, 1, "dropped")
        cancels = fan.add(fault, 1, "cancel")
        loads = fan.add(load1, LoadControl, "load")
        p2_results = fan.add(p2_res, ResultSource, "p2_result")
        for i, lane in enumerate(self.lanes):
            m.d.comb += [
                lane.sel_a_next.eq(sel_as[i]),
                lane.sel_b_next.eq(sel_bs[i]),
                lane.rf_a.eq(rf.rdata_a[16 * i:16 * (i + 1)]),
                lane.rf_b.eq(rf.rdata_b[16 * i:16 * (i + 1)]),
                lane.scalar.eq(scalars[i]), lane.mask.eq(masks[i]),
                lane.rng_step.eq(rng_steps[i]), lane.rng_seed.eq(rng_seeds[i]),
                lane.lmem_write.eq(lmem_writes[i]), lane.cancel.eq(cancels[i]),
                lane.dropped.eq(droppeds[i]),
                lane.load_next.eq(loads[i]), lane.vmem_element.eq(row[16 * i:16 * (i + 1)]),
                lane.vmem_bytes.eq(Cat(row[8 * i:8 * (i + 1)], row[8 * (n + i):8 * (n + i + 1)])),
                lane.p2_result.eq(p2_results[i]),
            ]
        connect_host_groups(m, self, shared)

        # P1 -> P4 bookkeeping, register write, retire -------------------------------------
        m.d.sync += [p1_w.eq(steps & ex.writes_v), p1_vd.eq(ex.vd), p1_res.eq(ex.result),
                     p2_w.eq(p1_w & ~fault), p2_vd.eq(p1_vd), p2_res.eq(p1_res),
                     p3_w.eq(p2_w), p3_vd.eq(p2_vd),
                     p4_w.eq(p3_w), p4_vd.eq(p3_vd)]
        w4 = Cat(lane.w4 for lane in self.lanes)
        for i, (wa, we) in enumerate(zip(fan.add(p3_vd, 5, "waddr"), fan.add(p3_w, 1, "we"))):
            m.d.comb += [rf.waddr_next[i].eq(wa), rf.we_next[i].eq(we)]
        m.d.comb += rf.wdata.eq(w4)
        self._retire(m, steps & ~vfault, fault, ex, vaddr, p4_w, p4_vd, w4)
        fan.build(m, shared)
        return m

    def _retire(self, m, go, fault, ex, vaddr, p4_w, p4_vd, w4):
        """The retire port, reported in P4 of the lanes (``lane_delay`` cycles after the
        core's P4) so every vector write comes out in program order with its value
        (simulation only: nothing in synthesis reads it). ``go``: the instruction in EX
        issues and has no vector-memory fault; ``fault``: the one in P1 faults."""
        n, ret, iss = self.config.lanes, self.retire, self.issue
        late = TIMING.lane_delay
        kinds = ("vmem", "lmem", "rng")
        fields = {"pc": 32, "addr": 32, "tr_a": 16 * n, "tr_b": 16 * n, "enables": n}
        stages = []
        for s in range(4):
            stage = {k: Signal(name=f"p{s + 1}_{k}") for k in kinds}
            stage.update({k: Signal(w, name=f"p{s + 1}_{k}") for k, w in fields.items()})
            stages.append(stage)
        # What the core knows at issue, delayed to the lanes' EX, where their values are.
        lane_mem_store = (ex.mem == MemKind.LANE) & ex.store
        core = {"vmem": go & (ex.mem == MemKind.VECTOR) & ex.store,
                "lmem": go & lane_mem_store, "rng": go & ex.rng_seed,
                "pc": iss.pc, "addr": vaddr, "lane_store": lane_mem_store}
        core = {key: delayed(m, value, late, f"retire_{key}") for key, value in core.items()}
        fault = delayed(m, fault, late, "retire_fault")
        p4_w, p4_vd = delayed(m, p4_w, late, "retire_p4_w"), delayed(m, p4_vd, late, "retire_p4_vd")
        first = {key: core[key] for key in kinds + ("pc", "addr")}
        first.update({
            "tr_a": Mux(core["lane_store"], Cat(lane.lane_addr for lane in self.lanes),
                        Cat(lane.a for lane in self.lanes)),
            "tr_b": Cat(lane.b for lane in self.lanes),
            "enables": Cat(~lane.neg for lane in self.lanes),
        })
        for key, value in first.items():
            m.d.sync += stages[0][key].eq(value)
            m.d.sync += [stages[s + 1][key].eq(stages[s][key]) for s in range(3)]
        m.d.sync += [stages[1][k].eq(stages[0][k] & ~fault) for k in kinds]
        p4 = stages[3]
        m.d.comb += [
            ret.v_valid.eq(p4_w), ret.v_pc.eq(p4["pc"]), ret.v_reg.eq(p4_vd),
            ret.v_value.eq(w4),
            ret.vmem_valid.eq(p4["vmem"]), ret.vmem_pc.eq(p4["pc"]),
            ret.vmem_addr.eq(p4["addr"]), ret.vmem_value.eq(p4["tr_b"]),
            ret.lmem_valid.eq(p4["lmem"]), ret.lmem_pc.eq(p4["pc"]),
            ret.lmem_lanes.eq(p4["enables"]), ret.lmem_addr.eq(p4["tr_a"]),
            ret.lmem_value.eq(p4["tr_b"]),
            ret.rng_valid.eq(p4["rng"]), ret.rng_pc.eq(p4["pc"]),
            ret.rng_s0.eq(p4["tr_a"]), ret.rng_s1.eq(p4["tr_b"]),
        ]
