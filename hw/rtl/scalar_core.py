"""The scalar core: a 6-stage in-order RV32I pipeline with a vector issue port.

Stages and what happens in each:

* **IF1**, **IF2**, **ID**: the front end (:class:`FrontEnd`): fetch, static branch
  prediction (``jal`` and backward branches redirect the fetch from ID), decode into
  EX's instruction register; in ID the register file read is started (synchronous,
  transparent read ports);
* **EX**: operands are forwarded from MEM, WB and L3, the ALU and the branch comparator run;
  illegal instructions, ``ecall``/``ebreak`` and fetch faults trap here; vector
  instructions issue here; loads and stores address data memory (stores write here);
  the branch outcome is checked against the prediction and registered;
* **MEM**: a mispredicted branch or a ``jalr`` redirects the fetch (squashing EX, ID and
  IF2); a load or store that faulted in EX, or a vector instruction whose fault the
  vector unit reports now, traps here (it does not retire; the younger instruction in
  EX is squashed); loads receive their word (and
  register it as it leaves the block RAM); ``mul`` sums its registered partial products;
  ``clz``/``ctz``/``cpop`` count;
* **WB**: loads align their word; the register file is written;
* **L1** to **L3** (:data:`~.hazard_unit.LATE_STAGES`): only a ``vtst*``/``vextract``
  still matters here: its value, which the vector lanes compute behind the core, arrives
  from the unit in L3 and is written
  through the register file's late port (a younger instruction's write-back of the same
  register cancels it).

Timing (identical to :data:`spikevec.hw.isa.TIMING`): one instruction per cycle; a taken
backward branch or a ``jal`` costs +1 (the fetch redirected from ID), overlapping the
branch's own operand wait; a taken forward branch, a not-taken backward branch and every
``jalr`` cost +3 (redirect from MEM); an instruction that reads the result of a ``mul``
or ``clz``/``ctz``/``cpop`` (latency 2) right after it waits one cycle in EX, of a load
(latency 3) two cycles, or one if one instruction lies between, of a ``vtst*`` or
``vextract`` (latency 5) four cycles less the instructions between (never for ``x0``);
the vector unit may add stalls of its own through ``vector.stall``. ``mul_latency=0`` selects a combinational multiplier
instead, for experiments only: it breaks the table's MUL latency and limits fmax.

Counters (kept with the stop status by :class:`RunControl`): ``cycle`` counts
cycle-model cycles, i.e. it reads, in any instruction, its issue cycle in the model;
``instret`` the instructions before it. ``ecall``/``ebreak`` retire (they count 1
instruction and 1 cycle); an illegal instruction or a faulting one does not retire; at a
fault stop ``cycles`` reads the faulting instruction's issue cycle (the cycle model's
rule: faults are detected when the instruction issues, after its operand waits), at an
illegal instruction or fetch fault the cycle it reached EX.

Vector port notes: an instruction may advance from ID (``id_advance``) and then be
squashed in EX (``valid`` stays low) by an older mispredicted branch or an older
faulting load, store or vector instruction in MEM; ``valid`` is also held low while the
instruction waits for a scalar operand produced by a load, ``mul`` or count just before
it.

Control: ``start`` (in), when the core is not running, starts it at ``start_pc`` (in,
32; a misaligned or out-of-range pc halts with a fetch fault) with counters cleared
(registers and memories keep their contents). ``halt`` (in, level; hold it until
``status.running`` falls): the next instruction to move from ID into EX does not execute;
when it reaches EX unsquashed the core stops with ``halted``, cause ``NONE``,
``trap_pc``/``trap_word`` that instruction (the pc to resume at with ``start``),
``trap_addr`` 0 and ``cycles``/``instret`` as the cycle model gives them after the last
executed instruction. Older instructions finish normally (one in EX may still wait, fault
or redirect the fetch: a fault wins, a redirect squashes the marked instruction and the
target is marked instead); MEM to L3 drain in the next 5 cycles, the vector unit's P1-P4
in the next 4 + ``TIMING.lane_delay`` (its lanes run behind). The stop takes at most a few cycles plus the wait of the instruction in
EX. Memories: ``imem`` and ``dmem``
(``lib.memory.Memory``, 32-bit words, true dual-port block RAMs: one port for the core,
one for the host), the register file ``regfile`` (``sim_get``/``sim_set``). Host ports
(:class:`HostMemorySignature`, one cycle read latency):

* ``dmem_host``: its own data-memory port, honoured at all times, also while the core
  runs; a read returns a write to the same word in the same cycle by either side (the
  host and the core writing the same word in the same cycle: the host's bytes win in
  simulation, the result is undefined in hardware);
* ``imem_host``: its own instruction-memory port; writes are honoured only while the
  core is not running (reads always);
* ``xreg_host``: registers ``x0``..``x31`` (``addr`` 0..31, ``we`` 1 bit; writes to
  ``x0`` are ignored), honoured only while the core is not running.
"""
from __future__ import annotations

from amaranth.hdl import Cat, Const, Module, Mux, Signal
from amaranth.lib import memory, wiring
from amaranth.lib.wiring import In, Out

from ..config import CoreConfig
from .alu import COUNT_PARTIALS, Alu, count_combine, count_partials
from .front_end import FrontEnd
from .hazard_unit import LATE_STAGES, HazardUnit, Writer, check_cycle_model
from .delay import delayed
from .enums import Op, TrapCause
from .load_store_unit import LoadStoreUnit
from .multiplier import Multiplier
from .register_file import RegisterFile
from .run_control import PIPELINE_FILL, RunControl
from .signatures import (HostMemorySignature, ScalarRetireSignature, StatusSignature,
                         VectorIssueSignature)

__all__ = ["ScalarCore", "PIPELINE_FILL"]


def _words_of(data: bytes, depth: int) -> list[int]:
    if len(data) > 4 * depth:
        raise ValueError(f"The initial data ({len(data)} bytes) does not fit the data "
                         f"memory ({4 * depth} bytes).")
    padded = bytes(data) + bytes(-len(data) % 4)
    return [int.from_bytes(padded[i:i + 4], "little") for i in range(0, len(padded), 4)]


class ScalarCore(wiring.Component):
    """The scalar pipeline with its instruction, data and register memories.

    Ports: ``start``, ``start_pc``, ``halt`` (in, see the module documentation);
    ``status`` (:class:`StatusSignature`); ``vector`` (:class:`VectorIssueSignature`,
    connect a vector unit or :class:`NullVectorUnit`);
    ``imem_host``, ``dmem_host``, ``xreg_host`` (:class:`HostMemorySignature`, see the
    module documentation for when each is honoured); ``retire``
    (:class:`ScalarRetireSignature`).

    ``program`` (instruction words) and ``data`` (bytes) give the initial memory contents.
    """

    def __init__(self, config: CoreConfig, program=(), data: bytes = b"",
                 mul_latency: int = 1):
        check_cycle_model(mul_latency)
        self.config = config
        self.mul_latency = mul_latency
        if len(program) > config.imem_words:
            raise ValueError(f"The program has {len(program)} instructions but instruction "
                             f"memory holds only {config.imem_words}.")
        dmem_words = config.dmem_bytes // 4
        super().__init__({
            "start": In(1), "start_pc": In(32), "halt": In(1),
            "status": Out(StatusSignature()),
            "vector": Out(VectorIssueSignature()),
            "imem_host": Out(HostMemorySignature(config.imem_words)),
            "dmem_host": Out(HostMemorySignature(dmem_words, 4)),
            "xreg_host": Out(HostMemorySignature(32)),
            "retire": Out(ScalarRetireSignature()),
        })
        self.imem = memory.Memory(shape=32, depth=config.imem_words, init=list(program))
        self.dmem = memory.Memory(shape=32, depth=dmem_words,
                                  init=_words_of(data, dmem_words))
        self.regfile = RegisterFile()

    def elaborate(self, platform):
        m = Module()
        cfg = self.config
        m.submodules.imem = self.imem
        m.submodules.dmem = self.dmem
        m.submodules.regfile = rf = self.regfile
        m.submodules.front_end = fe = FrontEnd(cfg, self.mul_latency)
        m.submodules.alu = alu = Alu()
        m.submodules.lsu = lsu = LoadStoreUnit(cfg)
        m.submodules.multiplier = mul = Multiplier(self.mul_latency)
        m.submodules.hazards = hz = HazardUnit()
        m.submodules.run_control = ctl = RunControl()
        vec, ex = self.vector, fe.ex
        ihost, dhost, xhost = self.imem_host, self.dmem_host, self.xreg_host

        # Memory ports: port A of each block RAM for the core, port B for the host (a
        # read and a write port sharing one address form one read/write port).
        imem_read = self.imem.read_port()
        ihost_write = self.imem.write_port()
        ihost_read = self.imem.read_port(transparent_for=(ihost_write,))
        # Data memory: both read ports see a same-cycle write of the other port (yosys maps
        # the cross-port bypass to a little logic; block RAMs leave such collisions
        # undefined, which it refuses to assume). The core's port reads the old word of
        # the word it writes (read-before-write): see the store restore below.
        dmem_write = self.dmem.write_port(granularity=8)
        dhost_write = self.dmem.write_port(granularity=8)
        dmem_read = self.dmem.read_port(transparent_for=(dhost_write,))   # read-first
        dhost_read = self.dmem.read_port(transparent_for=(dmem_write, dhost_write))

        wiring.connect(m, wiring.flipped(self.status), ctl.status)
        running = ctl.status.running

        # Pipeline registers ---------------------------------------------------------------
        # (IF2, ID and EX's instruction register ``ex`` with its valid bit and operand
        # wait are the front end's.)
        e_valid, e_wait = fe.ex_valid, fe.ex_wait
        m_valid, m_rd, m_writes_x, m_result = Signal(), Signal(5), Signal(), Signal(32)
        m_load, m_late_mul, m_op, m_addr_lo = Signal(), Signal(), Signal(Op), Signal(2)
        w_load, w_op, w_addr_lo, w_raw = Signal(), Signal(Op), Signal(2), Signal(32)
        m_count, m_clz, m_ctz = Signal(), Signal(), Signal()
        m_count_parts = Signal(COUNT_PARTIALS)    # clz/ctz/cpop: per-byte counts of x[rs1]
        m_word_addr = Signal.like(lsu.ex_word_addr)
        m_byte_en, m_wdata, m_pc, m_word = Signal(4), Signal(32), Signal(32), Signal(32)
        m_fault, m_cause, m_fault_addr = Signal(), Signal(TrapCause), Signal(32)
        m_scalar_fault = Signal()   # a load/store faulted in EX (registered)
        m_scalar_cause = Signal(TrapCause)
        m_vec = Signal()            # a vector instruction issued in EX: its fault is due now
        m_xlate, w_xlate = Signal(), Signal()   # the value comes late (vector unit)
        m_store = Signal()
        m_dropped = Signal()        # a store wrote in EX and was squashed there
        m_redirect, m_target = Signal(), Signal(32)
        w_valid, w_rd, w_writes_x, w_result = Signal(), Signal(5), Signal(), Signal(32)
        w_pc = Signal(32)
        # L1 to Lk (k = LATE_STAGES): a ``vtst*``/``vextract`` on its way to the late write.
        l_valid = [Signal(name=f"l{j + 1}_valid") for j in range(LATE_STAGES)]
        l_rd = [Signal(5, name=f"l{j + 1}_rd") for j in range(LATE_STAGES)]

        # EX: operands ---------------------------------------------------------------------
        # Forwarding selects are computed one cycle early (for the instruction entering or
        # staying in EX) and registered, so EX starts from flip-flops.
        # One-hot: from MEM, WB, the late value (L3) or the register file (whose choice
        # between its two banks joins here, so its read path has one multiplexer less).
        fwd1, fwd2 = hz.fwd1, hz.fwd2
        a, b, op2 = Signal(32), Signal(32), Signal(32)
        for k, (operand, fwd) in enumerate(((a, fwd1), (b, fwd2)), start=1):
            live = getattr(rf, f"late{k}")
            sources = ((fwd[0], m_result), (fwd[1], w_result), (fwd[2], vec.x_result),
                       (fwd[3] & ~live, getattr(rf, f"rdata{k}_w")),
                       (fwd[3] & live, getattr(rf, f"rdata{k}_late")))
            m.d.comb += operand.eq(_or_all(sel.replicate(32) & value for sel, value in sources))
        m.d.comb += op2.eq(Mux(ex.op2_imm, ex.imm.as_unsigned(), b))

        m.d.comb += [
            alu.ctrl.eq(ex.ctrl), alu.a.eq(a), alu.b.eq(b), alu.op2.eq(op2),
            alu.const.eq(ex.constant), alu.csr_value.eq(ctl.csr_value),
            # A registered multiplier's product joins in MEM (``late_value``), not here.
            alu.product.eq(0 if self.mul_latency else mul.product),
            mul.a.eq(a), mul.b.eq(b),
            lsu.ex_op.eq(ex.op), lsu.ex_base.eq(a), lsu.ex_offset.eq(ex.imm),
            lsu.ex_store_data.eq(b),
        ]

        # EX: squash, traps, waits ---------------------------------------------------------
        # An instruction in EX is squashed by an older mispredicted branch/jalr or an older
        # faulting instruction, both in MEM (registers, or the vector unit's fault: an OR
        # of registered lane flags).
        e_live = e_valid & ~m_redirect & ~m_fault
        ex_trap = e_live & ex.trap
        m.d.comb += [
            # ``valid`` from registers only; the late squash is separate, so the vector
            # memories' write enables need not wait for MEM (the unit undoes a squashed
            # store; nothing issues in the two cycles after a squash).
            vec.valid.eq(e_valid & ex.vector & ~ex.trap & ~e_wait.any()),
            vec.squash.eq(m_redirect | m_fault),
            vec.op.eq(ex.op), vec.word.eq(ex.word), vec.imm.eq(ex.imm), vec.pc.eq(ex.pc),
            vec.rd.eq(ex.rd), vec.rs1.eq(ex.rs1), vec.rs2.eq(ex.rs2),
            vec.rs1_value.eq(a), vec.rs2_value.eq(b),
            vec.id_valid.eq(fe.id_valid), vec.id_word.eq(fe.id_word),
        ]
        # ``e_blocked``: EX waits (for a scalar operand, or a vector stall); registers only.
        # ``e_tries``: it would fire but for an older squash (for the data memory's write
        # enable and the vector look-ahead, which must not wait for MEM).
        ex_hold, e_blocked = Signal(), Signal()
        m.d.comb += [e_blocked.eq(e_wait.any() | (vec.valid & vec.stall)),
                     ex_hold.eq(e_live & ~ex.trap & e_blocked)]
        e_fire, e_tries = Signal(), Signal()
        m.d.comb += [e_tries.eq(e_valid & ~ex.trap & ~e_blocked),
                     e_fire.eq(e_tries & ~m_redirect & ~m_fault)]
        mispredict = (ex.branch & (alu.taken ^ ex.pred)) | ex.jalr

        # Data memory, core port: loads read and stores write in EX (one address). The
        # address checks and the squash from MEM are too slow for the write enable, so a
        # store writes even if it faults or is squashed; the old word it read is
        # registered in MEM and written back two cycles after the store (``restore``:
        # the core has stopped at the fault, or refetches after the squash, so EX is
        # empty). A squashed store right behind a faulting one is restored second: only
        # its bytes that the older store did not write (those hold the older's new data).
        restore, restore_en = Signal(), Signal(4)
        restore_addr = Signal.like(m_word_addr)
        core_addr = Signal.like(m_word_addr)
        m.d.comb += [
            core_addr.eq(Mux(restore, restore_addr, lsu.ex_word_addr)),
            dmem_read.addr.eq(core_addr), dmem_write.addr.eq(core_addr),
            dmem_write.data.eq(Mux(restore, w_raw, lsu.ex_wdata)),
            dmem_write.en.eq(Mux(restore, restore_en,
                                 lsu.ex_byte_en & e_tries.replicate(4))),
            lsu.mem_op.eq(w_op), lsu.mem_addr_lo.eq(w_addr_lo), lsu.mem_rdata.eq(w_raw),
        ]

        # Front end (front_end.py): it sees EX block from registers only (the vector unit's
        # look-ahead must not wait for MEM); a fault or a trap empties IF2, ID and EX.
        m.d.comb += [
            fe.running.eq(running), fe.start_pc.eq(self.start_pc), fe.halt.eq(self.halt),
            fe.stop.eq(m_fault | ex_trap), fe.ex_blocked.eq(e_valid & ~ex.trap & e_blocked),
            fe.redirect.eq(m_redirect), fe.redirect_target.eq(m_target),
            fe.hold.eq(ex_hold), fe.wait.eq(hz.wait),
            imem_read.addr.eq(fe.imem_addr), imem_read.en.eq(fe.imem_en),
            fe.imem_data.eq(imem_read.data), vec.id_advance.eq(fe.id_advance),
        ]

        # Forwarding selects, register-file reads and operand waits for the next cycle's
        # EX instruction (hazard_unit.py): the one entering from ID (EX moves on to MEM,
        # MEM to WB), or the one held in EX (MEM empties).
        m.d.comb += [
            hz.hold.eq(ex_hold), hz.ex_rs1.eq(ex.rs1), hz.ex_rs2.eq(ex.rs2),
            hz.id_rs1.eq(fe.id_rs1), hz.id_rs2.eq(fe.id_rs2),
            hz.id_reads_rs1.eq(fe.id_reads_rs1), hz.id_reads_rs2.eq(fe.id_reads_rs2),
            hz.late_valid.eq(Cat(l_valid[:-1])),
            *(hz.late_rd[j].eq(rd) for j, rd in enumerate(l_rd[:-1])),
            *_writer(hz.ex, valid=e_live, writes=ex.writes_x, rd=ex.rd, late=ex.late,
                     load=ex.load, xlate=ex.xlate),
            *_writer(hz.mem, valid=m_valid, writes=m_writes_x, rd=m_rd, load=m_load,
                     xlate=m_xlate),
            *_writer(hz.wb, valid=w_valid, writes=w_writes_x, rd=w_rd, xlate=w_xlate),
        ]
        src1, src2 = hz.src1, hz.src2
        wb_write = hz.wb_write

        # Register file and host ports ------------------------------------------------------
        w_value = Signal(32)        # loads are aligned here, from the registered word
        m.d.comb += w_value.eq(Mux(w_load, lsu.mem_value, w_result))
        m.d.comb += [
            rf.raddr1.eq(Mux(running, src1, xhost.addr)), rf.raddr2.eq(src2),
            xhost.rdata.eq(rf.rdata1),
            rf.waddr.eq(Mux(wb_write, w_rd, xhost.addr)),
            rf.wdata.eq(Mux(wb_write, w_value, xhost.wdata)),
            rf.we.eq(wb_write | (~running & xhost.we)),
            rf.late_addr.eq(l_rd[-1]), rf.late_data.eq(vec.x_result), rf.late_we.eq(l_valid[-1]),
            ihost_read.addr.eq(ihost.addr), ihost.rdata.eq(ihost_read.data),
            ihost_write.addr.eq(ihost.addr), ihost_write.data.eq(ihost.wdata),
            ihost_write.en.eq(ihost.we & ~running),
            dhost_read.addr.eq(dhost.addr), dhost.rdata.eq(dhost_read.data),
            dhost_write.addr.eq(dhost.addr), dhost_write.data.eq(dhost.wdata),
            dhost_write.en.eq(dhost.we),
        ]

        # Run control (run_control.py): a fault in MEM wins over a trap in EX.
        m.d.comb += [
            ctl.start.eq(self.start), ctl.fire.eq(e_fire), ctl.csr_sel.eq(ex.csr_sel),
            ctl.fault.eq(m_fault), ctl.fault_cause.eq(m_cause), ctl.fault_pc.eq(m_pc),
            ctl.fault_word.eq(m_word),
            ctl.fault_addr.eq(Mux(m_vec, vec.fault_addr, m_fault_addr)),
            ctl.trap.eq(ex_trap), ctl.trap_cause.eq(ex.cause), ctl.trap_pc.eq(ex.pc),
            ctl.trap_word.eq(ex.word), ctl.trap_retiring.eq(ex.retiring),
        ]

        # Sequential: MEM and WB (they drain even after a halt) ----------------------------
        # A vector instruction's fault (and its address) arrive from the unit in MEM, so
        # the lane-address adders and their OR over all lanes feed no EX path.
        m.d.comb += [
            m_fault.eq(m_scalar_fault | (m_vec & vec.fault)),
            m_cause.eq(Mux(m_vec, TrapCause.VECTOR_FAULT, m_scalar_cause)),
        ]
        m.d.sync += [
            m_valid.eq(e_fire), m_rd.eq(ex.rd), m_writes_x.eq(ex.writes_x),
            m_xlate.eq(ex.xlate),
            m_result.eq(alu.result),
            m_load.eq(lsu.ex_is_load), m_late_mul.eq(ex.late_mul), m_op.eq(ex.op),
            m_store.eq(lsu.ex_is_store),
            m_dropped.eq(e_tries & lsu.ex_is_store & (m_redirect | m_fault)),
            restore.eq((m_scalar_fault & m_store) | m_dropped), restore_addr.eq(m_word_addr),
            restore_en.eq(m_byte_en & ~Mux(restore & (restore_addr == m_word_addr),
                                           restore_en, 0)),
            m_count.eq(ex.count), m_clz.eq(ex.clz), m_ctz.eq(ex.ctz),
            m_count_parts.eq(count_partials(a)),
            m_addr_lo.eq(lsu.ex_addr[:2]),
            m_word_addr.eq(lsu.ex_word_addr), m_byte_en.eq(lsu.ex_byte_en),
            m_wdata.eq(lsu.ex_wdata), m_pc.eq(ex.pc), m_word.eq(ex.word),
            m_scalar_fault.eq(e_fire & lsu.ex_fault), m_vec.eq(e_fire & ex.vector),
            m_scalar_cause.eq(Mux(lsu.ex_is_load, TrapCause.LOAD_FAULT,
                                  TrapCause.STORE_FAULT)),
            m_fault_addr.eq(lsu.ex_addr),
            m_redirect.eq(e_fire & mispredict),
            m_target.eq(Mux(ex.jalr, Cat(Const(0, 1), alu.sum[1:]),
                            Mux(ex.pred, ex.constant, ex.target))),
        ]
        counted = Signal(32)
        m.d.comb += counted.eq(count_combine(m_count_parts, m_clz, m_ctz))
        late_value = Mux(m_late_mul, mul.product, Mux(m_count, counted, m_result))
        m.d.sync += [
            w_valid.eq(m_valid & ~m_fault), w_rd.eq(m_rd), w_writes_x.eq(m_writes_x),
            w_xlate.eq(m_xlate),
            # L1 to Lk: a ``vtst*``/``vextract`` on its way to the late write port (Lk,
            # where the unit's value is due); a younger write-back of its register cancels
            # it (``late_keep``).
            l_valid[0].eq(w_valid & w_writes_x & w_xlate & (w_rd != 0)), l_rd[0].eq(w_rd),
            *(l_valid[j + 1].eq(hz.late_keep[j]) for j in range(LATE_STAGES - 1)),
            *(l_rd[j + 1].eq(l_rd[j]) for j in range(LATE_STAGES - 1)),
            w_pc.eq(m_pc), w_result.eq(late_value),
            # Loads: the block RAM's word is registered raw (its output is slow), aligned
            # in WB and written to the register file (latency 3: never forwarded).
            w_load.eq(m_load), w_op.eq(m_op), w_addr_lo.eq(m_addr_lo),
            w_raw.eq(dmem_read.data),
        ]
        # Retire: every record is reported when it reaches L3 (the last write, a late
        # one, happens there), so the stream is in program order.
        retire = self.retire
        x_rec = {"x_valid": w_valid & w_writes_x & (w_rd != 0), "x_late": w_xlate,
                 "x_pc": w_pc, "x_rd": w_rd, "x_value": w_value}
        mem_rec = {"mem_valid": m_valid & ~m_fault & m_byte_en.any(), "mem_pc": m_pc,
                   "mem_word_addr": m_word_addr, "mem_byte_en": m_byte_en,
                   "mem_data": m_wdata}
        late = {k: delayed(m, v, LATE_STAGES, f"retire_{k}") for k, v in x_rec.items()}
        late.update({k: delayed(m, v, LATE_STAGES + 1, f"retire_{k}")
                     for k, v in mem_rec.items()})
        late["x_value"] = Mux(late.pop("x_late"), vec.x_result, late["x_value"])
        m.d.comb += [getattr(retire, k).eq(v) for k, v in late.items()]
        return m


def _writer(port, **fields):
    """Statements driving the :class:`~.hazard_unit.Writer` input ``port`` (fields not
    named: 0)."""
    return [getattr(port, name).eq(fields.get(name, 0)) for name, _ in Writer.as_shape()]


def _or_all(values):
    values = list(values)
    result = values[0]
    for value in values[1:]:
        result = result | value
    return result
