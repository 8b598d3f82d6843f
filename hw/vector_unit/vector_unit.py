"""The vector unit: register file, lanes, memories and scoreboard behind the core's vector
issue port.

Pipeline (``t`` = the issue cycle, the instruction in the scalar core's EX stage):

* ID (``t-1``, look-ahead ``id_*``): :class:`VectorDecoder` decodes the instruction,
  the register file reads ``vs1`` (or ``vd``, for the instructions that read it) and
  ``vs2`` on its two ports, the :class:`Scoreboard` computes
  whether it must stall, and the bypass selects are found; all are registered.
  While an instruction stalls in EX the same happens again for it, every cycle.
* EX (``t``): operands = register file or bypass from P2/P3/P4; vector and lane-memory
  addresses and accesses (stores write here, before their fault is known), ``x_result``
  (``vt*``, ``vextract``; registered, due in P1), generator step/seed; the ALU and
  multiplier take their inputs.
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
memories' write enables and the generators' step and seed leave out the late
``squash`` (it comes from the core's MEM): a squashed store or generator change
happens and is undone a cycle later (a store also when it faults; an instruction that
changes the generators never faults: :func:`_check_generators_never_fault`).

``stall`` is a register (the :class:`Scoreboard`'s, computed in the cycle before from the
instruction that is about to be in EX), so it reaches the core's control with no logic in
front. ``fault`` and ``fault_addr`` are due in P1 (the core's MEM, when it traps): the
unit registers the issued instruction's scalar address, its vector-memory fault and the
lane addresses with their out-of-range flags, so ``fault`` is an OR of registered flags
and ``fault_addr`` the lowest faulting lane's address, picked by a balanced tree. A
faulting instruction changes nothing: no register write leaves P1 with ``fault``, and a
store, which wrote in EX, is undone in P2 from the old data its own access read (the
memories' core ports read before they write); see :func:`undoable_store`.

Ports: ``issue`` (``In(VectorIssueSignature())``), ``running`` (in: the core runs),
``vmem_host``, ``lmem_host`` (usable at any time), ``vreg_host`` (only while
``running`` is low) (:class:`HostMemorySignature`, one 32-bit word = two lanes, latency
1; word orders of :mod:`spikevec.hw.rtl.host_bus`), ``retire``
(``Out(VectorRetireSignature(lanes))``). Memories for tests: ``regfile.mems``
(``regfile.sim_get``/``sim_set``), ``vmem.mem``, ``lanes[i].lmem``; generator state
``lanes[i].s0``/``s1``.
"""
from amaranth.hdl import Cat, Module, Mux, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..config import CoreConfig
from ..isa.operands import ROUND
from ..rtl.shared_module import shared_modules
from ..rtl.signatures import HostMemorySignature, VectorIssueSignature, VectorRetireSignature
from .scoreboard import Scoreboard
from .vector_decoder import (LANE_MAP, MemKind, ResultSource, VectorControl, VectorDecoder,
                             XSource, vector_instructions, vector_reads)
from .vector_lane import Bypass, LoadControl, VectorLane
from .vector_memory import VectorMemory, undoable_store
from .vector_register_file import REGISTERS, VectorRegisterFile

__all__ = ["VectorUnit", "LOCAL_DECODE_LANES"]

#: From this many lanes on, each lane decodes its own copy of the instruction word:
#: the unit's decoded control, fanned out to lanes spread over the chip, was the
#: critical path at 32 lanes (decode logic, then up to 20 ns of routing). With 8 lanes
#: the lane's own decoder in front of its lane-memory address costs more (70.4 ->
#: 63.6 MHz on the ULX3S-85F), so the unit decodes once there.
LOCAL_DECODE_LANES = 32


def _check_two_reads() -> None:
    """The register file has two read ports, A (vs1, or vd) and B (vs2): no instruction
    of the ISA table may read both vs1 and vd."""
    for ins in vector_instructions():
        if {"rs1", "rd"} <= vector_reads(ins):
            raise AssertionError(f"The vector instruction {ins.name!r} reads vs1 and vd, "
                                 "but the register file reads vd through vs1's port A; "
                                 "give VectorRegisterFile a third read port for it.")


def _check_generators_never_fault() -> None:
    """No instruction of the ISA table both changes the generators (steps them, seeds
    them, or may round stochastically) and accesses memory: such an instruction never
    faults, so the lanes undo a generator change only when the core squashes it (see
    VectorLane)."""
    for ins in vector_instructions():
        lane = LANE_MAP[ins.name]
        changes = lane.step or lane.seed or any(mod.name == ROUND.name
                                                for mod in ins.modifiers)
        if changes and lane.mem != MemKind.NONE:
            raise AssertionError(
                f"The vector instruction {ins.name!r} changes the generators and accesses "
                "memory, so it may fault after changing them, but VectorLane undoes a "
                "generator change only on a squash; add the fault to its rng undo.")


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
            "vmem_host": Out(HostMemorySignature(config.vmem_bytes // 4)),
            "lmem_host": Out(HostMemorySignature(lanes * config.lane_mem_bytes // 4)),
            "vreg_host": Out(HostMemorySignature(REGISTERS * config.vector_bytes // 4)),
            "retire": Out(VectorRetireSignature(lanes)),
        })
        self.regfile = VectorRegisterFile(lanes)
        self.vmem = VectorMemory(config)
        self.local_decode = lanes >= LOCAL_DECODE_LANES
        self.lanes = [VectorLane(config, self.local_decode) for _ in range(lanes)]

    def elaborate(self, platform):
        _check_two_reads()
        _check_generators_never_fault()
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
                lane, "spikevec_vector_lane", (cfg.fingerprint(), self.local_decode))

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
        if self.local_decode:
            # Its word, for the lanes (each decodes its own copy).
            ex_word, ex_valid = Signal(32), Signal()
            with m.If(iss.id_advance):
                m.d.sync += [ex_word.eq(iss.id_word), ex_valid.eq(iss.id_valid)]
            following_word, following_valid = Signal(32), Signal()
            m.d.comb += [following_word.eq(Mux(iss.id_advance, iss.id_word, ex_word)),
                         following_valid.eq(Mux(iss.id_advance, iss.id_valid, ex_valid))]
        # Port A reads vd for the instructions that read it (vsel, vlacc, vlacc8), else
        # vs1: none reads both (checked by _check_two_reads), so two ports suffice.
        read_a = Signal(5)
        m.d.comb += read_a.eq(Mux(following.reads_vd, following.vd, following.vs1))
        for src, ctl in ((sb.next_id, dec.ctl), (sb.next_ex, ex)):
            m.d.comb += [src.vs1.eq(ctl.vs1), src.vs2.eq(ctl.vs2), src.vd.eq(ctl.vd),
                         src.reads_vs1.eq(ctl.reads_vs1), src.reads_vs2.eq(ctl.reads_vs2),
                         src.reads_vd.eq(ctl.reads_vd)]
        m.d.comb += [
            sb.advance.eq(iss.id_advance),
            rf.raddr_a.eq(read_a), rf.raddr_b.eq(following.vs2),
            rf.host_enable.eq(~self.running),
        ]
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
        # The fault and its address are due one cycle later (P1, the core's MEM): from the
        # registered lane flags and addresses, the lowest faulting lane found by a
        # balanced tree. Register writes leave P1 only without it; stores, which wrote in
        # EX, are undone after it (below and in VectorLane).
        overs_q, vfault_q, lane_q, vaddr_q = Signal(n), Signal(), Signal(), Signal(32)
        addrs_q = [Signal(signed(17), name=f"lane_addr{i}_q") for i in range(n)]
        m.d.sync += [overs_q.eq(Cat(lane.over for lane in self.lanes)),
                     vfault_q.eq(steps & vfault), lane_q.eq(steps & lane_mem),
                     vaddr_q.eq(vaddr)]
        m.d.sync += [q.eq(lane.lane_addr) for q, lane in zip(addrs_q, self.lanes)]
        _, lowest = _lowest_set(list(overs_q), addrs_q)
        fault = Signal()
        m.d.comb += [fault.eq(vfault_q | (lane_q & overs_q.any())), iss.fault.eq(fault),
                     iss.fault_addr.eq(Mux(vfault_q, vaddr_q, lowest.as_unsigned()))]

        # EX: x results, registered (the core takes them in MEM) -------------------------
        extract = Cat(lane.a for lane in self.lanes).word_select(ex.imm[:_log2(n)], 16)
        with m.Switch(ex.x_source):
            with m.Case(XSource.TEST):
                m.d.sync += iss.x_result.eq(Cat(lane.flag for lane in self.lanes))
            with m.Case(XSource.EXTRACT):
                m.d.sync += iss.x_result.eq(extract.as_signed())
            with m.Default():
                m.d.sync += iss.x_result.eq(0)

        # Scoreboard and memories ---------------------------------------------------------
        m.d.comb += [sb.issue.eq(steps), sb.writes.eq(ex.writes_v), sb.vd.eq(ex.vd),
                     sb.latency.eq(ex.latency)]
        # The vector memory is accessed in EX. Its fault is known one cycle later, so a
        # vstore writes even if it faults: the port reads the old row as it writes
        # (registered raw in P1, ``row_q``), and in the first halted cycle after the
        # fault (``restore``, the stopped core issues nothing) the old row is written
        # back. No fault test sits in front of the block RAMs.
        row, vstore = Signal.like(vmem.row, name="row"), Signal()
        m.d.comb += [row.eq(vaddr[row_lo:]), vstore.eq(tries & vector_mem & ex.store)]
        port_row, port_data, port_write, row_q = undoable_store(
            m, addr=row, store=vstore, data=Cat(lane.b for lane in self.lanes),
            rdata=vmem.rdata, cancel=fault, dropped=iss.squash)
        m.d.comb += [vmem.row.eq(port_row), vmem.write.eq(port_write),
                     vmem.wdata.eq(port_data)]
        wiring.connect(m, wiring.flipped(self.vmem_host), vmem.host)
        wiring.connect(m, wiring.flipped(self.vreg_host), rf.host)

        # Lanes --------------------------------------------------------------------------
        # The load stage runs in P2, on the memories' registered read data.
        # (``load1``: its control one cycle early, for the lanes' own copies.)
        load1 = Signal(LoadControl)
        row = row_q
        m.d.sync += [load1.lane.eq(lane_mem), load1.byte.eq(ex.byte),
                     load1.shift.eq(ex.shift), load1.half.eq(vaddr[_log2(n)])]
        scalar = Mux(ex.scalar_rs2, iss.rs2_value, iss.rs1_value)[:16]
        for i, lane in enumerate(self.lanes):
            if self.local_decode:
                m.d.comb += [lane.word_next.eq(following_word),
                             lane.valid_next.eq(following_valid)]
            else:
                m.d.comb += lane.ex_next.eq(following)
            m.d.comb += [
                lane.sel_a_next.eq(sels[0]),
                lane.sel_b_next.eq(sels[1]),
                lane.rf_a.eq(rf.rdata_a[16 * i:16 * (i + 1)]),
                lane.rf_b.eq(rf.rdata_b[16 * i:16 * (i + 1)]),
                lane.scalar.eq(scalar), lane.mask.eq(iss.rs1_value[i]),
                lane.rng_step.eq(tries & ex.rng_step), lane.rng_seed.eq(tries & ex.rng_seed),
                lane.lmem_write.eq(tries & lane_mem & ex.store), lane.cancel.eq(fault),
                lane.dropped.eq(iss.squash),
                lane.load_next.eq(load1), lane.vmem_element.eq(row[16 * i:16 * (i + 1)]),
                lane.vmem_bytes.eq(Cat(row[8 * i:8 * (i + 1)], row[8 * (n + i):8 * (n + i + 1)])),
                lane.p2_result.eq(p2_res),
            ]
        self._lane_memory_host(m)

        # P1 -> P4 bookkeeping, register write, retire -------------------------------------
        m.d.sync += [p1_w.eq(steps & ex.writes_v), p1_vd.eq(ex.vd), p1_res.eq(ex.result),
                     p2_w.eq(p1_w & ~fault), p2_vd.eq(p1_vd), p2_res.eq(p1_res),
                     p3_w.eq(p2_w), p3_vd.eq(p2_vd),
                     p4_w.eq(p3_w), p4_vd.eq(p3_vd)]
        w4 = Cat(lane.w4 for lane in self.lanes)
        m.d.comb += [rf.waddr_next.eq(p3_vd), rf.we_next.eq(p3_w), rf.wdata.eq(w4)]
        self._retire(m, steps & ~vfault, fault, ex, vaddr, p4_w, p4_vd, w4)
        return m

    def _lane_memory_host(self, m):
        """LMEM host words: element ``a // (lanes/2)`` of lanes ``2k`` and ``2k + 1``."""
        host, n = self.lmem_host, self.config.lanes
        pair_bits = _log2(n // 2)
        pair, element = host.addr[:pair_bits], host.addr[pair_bits:]
        pair_q = Signal(max(1, pair_bits))
        m.d.sync += pair_q.eq(pair)
        words = []
        for k in range(n // 2):
            low, high = self.lanes[2 * k], self.lanes[2 * k + 1]
            chosen = host.we & (pair == k) if pair_bits else host.we
            m.d.comb += [low.host_addr.eq(element), high.host_addr.eq(element),
                         low.host_wdata.eq(host.wdata[:16]),
                         high.host_wdata.eq(host.wdata[16:]),
                         low.host_we.eq(chosen), high.host_we.eq(chosen)]
            words.append(Cat(low.host_rdata, high.host_rdata))
        m.d.comb += host.rdata.eq(Cat(*words).word_select(pair_q, 32) if pair_bits
                                  else words[0])

    def _retire(self, m, go, fault, ex, vaddr, p4_w, p4_vd, w4):
        """The retire port, reported in P4 so every vector write comes out in program
        order (simulation only: nothing in synthesis reads it). ``go``: the instruction in
        EX issues and has no vector-memory fault; ``fault``: the one in P1 faults."""
        n, ret, iss = self.config.lanes, self.retire, self.issue
        kinds = ("vmem", "lmem", "rng")
        fields = {"pc": 32, "addr": 32, "tr_a": 16 * n, "tr_b": 16 * n, "enables": n}
        stages = []
        for s in range(4):
            stage = {k: Signal(name=f"p{s + 1}_{k}") for k in kinds}
            stage.update({k: Signal(w, name=f"p{s + 1}_{k}") for k, w in fields.items()})
            stages.append(stage)
        lane_mem_store = (ex.mem == MemKind.LANE) & ex.store
        first = {
            "vmem": go & (ex.mem == MemKind.VECTOR) & ex.store,
            "lmem": go & lane_mem_store, "rng": go & ex.rng_seed,
            "pc": iss.pc, "addr": vaddr,
            "tr_a": Mux(lane_mem_store, Cat(lane.lane_addr[:16] for lane in self.lanes),
                        Cat(lane.a for lane in self.lanes)),
            "tr_b": Cat(lane.b for lane in self.lanes),
            "enables": Cat(~lane.neg for lane in self.lanes),
        }
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
