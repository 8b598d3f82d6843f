"""The scalar core: a 6-stage in-order RV32I pipeline with a vector issue port.

Stages and what happens in each:

* **IF1**: the fetch address addresses instruction memory (synchronous read port): the
  target of a mispredicted branch or ``jalr`` in MEM, else the target of a branch
  predicted taken leaving ID, else the word after the one in IF2;
* **IF2**: the word arrives from the block RAM and is registered with no logic in
  between (block-RAM outputs are slow on ECP5); a pc that is not word aligned or lies
  outside instruction memory is flagged (a fetch fault travels with the instruction and
  halts the core only if it reaches EX unsquashed);
* **ID**: the registered word is decoded (:class:`Decoder`) into one-hot controls for EX,
  the register file read is started (synchronous, transparent read ports), constants are
  precomputed (``lui``/``auipc`` results, link addresses, the branch target), and
  ``jal`` and backward branches (static prediction: taken) redirect the fetch as they
  move on to EX;
* **EX**: operands are forwarded from MEM, WB and L2, the ALU and the branch comparator run;
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
* **L1**, **L2**: only a ``vtst*``/``vextract`` still matters here: its value, which the
  vector lanes compute behind the core, arrives from the unit in L2 and is written
  through the register file's late port (a younger instruction's write-back of the same
  register cancels it).

Timing (identical to :data:`spikevec.hw.isa.TIMING`): one instruction per cycle; a taken
backward branch or a ``jal`` costs +1 (the fetch redirected from ID), overlapping the
branch's own operand wait; a taken forward branch, a not-taken backward branch and every
``jalr`` cost +3 (redirect from MEM); an instruction that reads the result of a ``mul``
or ``clz``/``ctz``/``cpop`` (latency 2) right after it waits one cycle in EX, of a load
(latency 3) two cycles, or one if one instruction lies between, of a ``vtst*`` or
``vextract`` (latency 4) three cycles less the instructions between (never for ``x0``);
the vector unit may add stalls of its own through ``vector.stall``. ``mul_latency=0`` selects a combinational multiplier
instead, for experiments only: it breaks the table's MUL latency and limits fmax.

Counters: ``cycle`` counts cycle-model cycles, i.e. it reads, in any instruction, its
issue cycle in the model; ``instret`` the instructions before it. ``ecall``/``ebreak``
retire (they count 1 instruction and 1 cycle); an illegal instruction or a faulting one
does not retire; at a fault stop ``cycles`` reads the faulting instruction's issue cycle
(the cycle model's rule: faults are detected when the instruction issues, after its
operand waits), at an illegal instruction or fetch fault the cycle it reached EX.

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
target is marked instead); MEM to L2 drain in the next 4 cycles, the vector unit's P1-P4
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

from amaranth.hdl import Cat, Const, Module, Mux, Signal, signed
from amaranth.lib import data, memory, wiring
from amaranth.lib.wiring import In, Out

from ..config import CoreConfig
from ..isa import BY_NAME, CSRS, FORMATS, INSTRUCTIONS, TIMING, Timing
from .alu import (ALU_CONTROL, ALU_FLAGS, COUNT_OPS, COUNT_PARTIALS, Alu, count_combine,
                  count_partials)
from .decoder import Decoder
from .hazard_unit import LATE_STAGES, HazardUnit, Writer, check_cycle_model
from .delay import delayed
from .enums import Op, TrapCause
from .load_store_unit import LoadStoreUnit
from .multiplier import Multiplier
from .register_file import RegisterFile
from .signatures import (HostMemorySignature, ScalarRetireSignature, StatusSignature,
                         VectorIssueSignature)

__all__ = ["ScalarCore", "PIPELINE_FILL"]

# Cycles between ``start`` and the first instruction reaching EX, minus one: the cycle
# counter starts this far below zero so that it counts cycle-model cycles.
PIPELINE_FILL = 3
_BRANCHES = tuple(ins.name for ins in INSTRUCTIONS if ins.timing == Timing.BRANCH)


def _words_of(data: bytes, depth: int) -> list[int]:
    if len(data) > 4 * depth:
        raise ValueError(f"The initial data ({len(data)} bytes) does not fit the data "
                         f"memory ({4 * depth} bytes).")
    padded = bytes(data) + bytes(-len(data) % 4)
    return [int.from_bytes(padded[i:i + 4], "little") for i in range(0, len(padded), 4)]


def _core_flags(mul_latency: int) -> dict:
    """Decoder flags (by mnemonic) the core registers in ID besides the ALU's."""
    late = [ins.name for ins in INSTRUCTIONS
            if not ins.is_vector and ins.writes == "x" and TIMING.latency_of(ins.timing) > 1
            and not (ins.timing == Timing.MUL and mul_latency == 0)]
    loads = [ins.name for ins in INSTRUCTIONS if ins.timing == Timing.LOAD]
    xlate = [ins.name for ins in INSTRUCTIONS if ins.timing == Timing.VTOX]
    return {
        "xlate": tuple(xlate),
        "lui": ("lui",), "auipc": ("auipc",), "shift_imm": ("slli", "srli", "srai"),
        "ecall": ("ecall",), "ebreak": ("ebreak",), "jalr": ("jalr",),
        "branch": _BRANCHES, "late": tuple(late), "load": tuple(loads),
        "late_mul": ("mul",) if mul_latency else (),
        "count": COUNT_OPS, "clz": ("clz",), "ctz": ("ctz",),
    }


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
        flags = {**ALU_FLAGS, **_core_flags(self.mul_latency)}
        m.submodules.decoder = dec = Decoder(cfg, flags)
        m.submodules.alu = alu = Alu()
        m.submodules.lsu = lsu = LoadStoreUnit(cfg)
        m.submodules.multiplier = mul = Multiplier(self.mul_latency)
        m.submodules.hazards = hz = HazardUnit()
        vec, status = self.vector, self.status
        ihost, dhost, xhost = self.imem_host, self.dmem_host, self.xreg_host
        df = dec.flags

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

        running = Signal()
        cycles = Signal(64)
        instret = Signal(64)

        # Pipeline registers ---------------------------------------------------------------
        f_valid, f_pc = Signal(), Signal(32)
        d_valid, d_pc, d_fetch_fault, d_word = Signal(), Signal(32), Signal(), Signal(32)
        e_valid, e_pc, e_word = Signal(), Signal(32), Signal(32)
        e_op = Signal(Op)
        e_rd, e_rs1, e_rs2 = Signal(5), Signal(5), Signal(5)
        e_imm = Signal(signed(32))
        e_ctrl = Signal(ALU_CONTROL)
        e_op2_imm, e_const, e_csr_sel = Signal(), Signal(32), Signal(len(CSRS))
        e_writes_x, e_vector, e_late, e_late_mul = Signal(), Signal(), Signal(), Signal()
        e_count, e_clz, e_ctz = Signal(), Signal(), Signal()
        e_trap, e_cause, e_retiring = Signal(), Signal(TrapCause), Signal()
        e_branch, e_jalr, e_pred, e_target = Signal(), Signal(), Signal(), Signal(32)
        e_wait, e_load, e_xlate = Signal(2), Signal(), Signal()
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
        l1_valid, l1_rd, l2_valid, l2_rd = Signal(), Signal(5), Signal(), Signal(5)

        # IF2 ------------------------------------------------------------------------------
        f_fault = f_pc[:2].any() | (f_pc >= cfg.imem_bytes)

        # ID -------------------------------------------------------------------------------
        m.d.comb += dec.word.eq(d_word)
        # Static prediction straight from the word (no full decode on the fetch path): the
        # opcodes come from the table; a branch word of an illegal funct3 may redirect too,
        # harmlessly (it traps in EX).
        opcode = d_word[:7]
        d_is_jal = opcode == BY_NAME["jal"].opcode
        d_is_branch = opcode == BY_NAME["beq"].opcode
        imm_b = Decoder._assemble_imm(FORMATS["B"], data.View(FORMATS["B"].layout, d_word))
        imm_j = Decoder._assemble_imm(FORMATS["J"], data.View(FORMATS["J"].layout, d_word))
        d_pred = d_is_jal | (d_is_branch & imm_b[-1])
        # Both candidate targets are added in parallel, straight from the ID registers, and
        # the opcode test only selects between them (it is not in front of a carry chain).
        id_target = Signal(32)
        m.d.comb += id_target.eq(Mux(d_is_jal, d_pc + imm_j,
                                     d_pc + imm_b))

        # EX: operands ---------------------------------------------------------------------
        # Forwarding selects are computed one cycle early (for the instruction entering or
        # staying in EX) and registered, so EX starts from flip-flops.
        # One-hot: from MEM, WB, the late value (L2) or the register file (whose choice
        # between its two banks joins here, so its read path has one multiplexer less).
        fwd1, fwd2 = hz.fwd1, hz.fwd2
        a, b, op2 = Signal(32), Signal(32), Signal(32)
        for k, (operand, fwd) in enumerate(((a, fwd1), (b, fwd2)), start=1):
            live = getattr(rf, f"late{k}")
            sources = ((fwd[0], m_result), (fwd[1], w_result), (fwd[2], vec.x_result),
                       (fwd[3] & ~live, getattr(rf, f"rdata{k}_w")),
                       (fwd[3] & live, getattr(rf, f"rdata{k}_late")))
            m.d.comb += operand.eq(_or_all(sel.replicate(32) & value for sel, value in sources))
        m.d.comb += op2.eq(Mux(e_op2_imm, e_imm.as_unsigned(), b))

        csr_value = Signal(32)
        csr_sources = {"cycle": cycles[:32], "cycleh": cycles[32:],
                       "instret": instret[:32], "instreth": instret[32:]}
        m.d.comb += csr_value.eq(_or_all(e_csr_sel[i].replicate(32) & csr_sources[name]
                                         for i, name in enumerate(CSRS)))
        m.d.comb += [
            alu.ctrl.eq(e_ctrl), alu.a.eq(a), alu.b.eq(b), alu.op2.eq(op2),
            alu.const.eq(e_const), alu.csr_value.eq(csr_value),
            # A registered multiplier's product joins in MEM (``late_value``), not here.
            alu.product.eq(0 if self.mul_latency else mul.product),
            mul.a.eq(a), mul.b.eq(b),
            lsu.ex_op.eq(e_op), lsu.ex_base.eq(a), lsu.ex_offset.eq(e_imm),
            lsu.ex_store_data.eq(b),
        ]

        # EX: squash, traps, waits ---------------------------------------------------------
        # An instruction in EX is squashed by an older mispredicted branch/jalr or an older
        # faulting instruction, both in MEM (registers, or the vector unit's fault: an OR
        # of registered lane flags).
        e_live = e_valid & ~m_redirect & ~m_fault
        ex_trap = e_live & e_trap
        m.d.comb += [
            # ``valid`` from registers only; the late squash is separate, so the vector
            # memories' write enables need not wait for MEM (the unit undoes a squashed
            # store; nothing issues in the two cycles after a squash).
            vec.valid.eq(e_valid & e_vector & ~e_trap & ~e_wait.any()),
            vec.squash.eq(m_redirect | m_fault),
            vec.op.eq(e_op), vec.word.eq(e_word), vec.imm.eq(e_imm), vec.pc.eq(e_pc),
            vec.rd.eq(e_rd), vec.rs1.eq(e_rs1), vec.rs2.eq(e_rs2),
            vec.rs1_value.eq(a), vec.rs2_value.eq(b),
            vec.id_valid.eq(d_valid), vec.id_word.eq(d_word),
        ]
        # ``e_blocked``: EX waits (for a scalar operand, or a vector stall); registers only.
        # ``e_tries``: it would fire but for an older squash (for the data memory's write
        # enable and the vector look-ahead, which must not wait for MEM).
        ex_hold, e_blocked = Signal(), Signal()
        m.d.comb += [e_blocked.eq(e_wait.any() | (vec.valid & vec.stall)),
                     ex_hold.eq(e_live & ~e_trap & e_blocked)]
        e_fire, e_tries = Signal(), Signal()
        m.d.comb += [e_tries.eq(e_valid & ~e_trap & ~e_blocked),
                     e_fire.eq(e_tries & ~m_redirect & ~m_fault)]
        mispredict = (e_branch & (alu.taken ^ e_pred)) | e_jalr

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

        # Front end control -----------------------------------------------------------------
        # ``id_go_early``: the ID instruction would move on, from registers only (the
        # vector unit's look-ahead); ``id_go``: it moves to EX at the clock edge. Neither
        # waits for a trap or a fault (late: the vector fault ORs the lanes' flags): in a
        # cycle that traps, the sequential block below stops the core and clears IF2, ID
        # and EX (its trap branches win over ``id_free`` and ``id_go``), so what the
        # fetch does then does not matter.
        id_go_early, id_go = Signal(), Signal()
        m.d.comb += [id_go_early.eq(running & d_valid & ~(e_valid & ~e_trap & e_blocked)),
                     id_go.eq(id_go_early & ~m_redirect)]
        id_redirect = id_go & d_pred
        id_free = Signal()          # ID takes the word in IF2 (and IF1 fetches)
        m.d.comb += id_free.eq(running & (~d_valid | id_go | m_redirect))
        fetch_addr = Signal(32)
        m.d.comb += fetch_addr.eq(Mux(m_redirect, m_target,
                                      Mux(id_redirect, id_target, f_pc + 4)))
        m.d.comb += [imem_read.addr.eq(fetch_addr[2:]), imem_read.en.eq(id_free),
                     vec.id_advance.eq(id_go_early)]

        # Forwarding selects, register-file reads and operand waits for the next cycle's
        # EX instruction (hazard_unit.py): the one entering from ID (EX moves on to MEM,
        # MEM to WB), or the one held in EX (MEM empties).
        m.d.comb += [
            hz.hold.eq(ex_hold), hz.ex_rs1.eq(e_rs1), hz.ex_rs2.eq(e_rs2),
            hz.id_rs1.eq(dec.rs1), hz.id_rs2.eq(dec.rs2),
            hz.id_reads_rs1.eq(dec.reads_rs1), hz.id_reads_rs2.eq(dec.reads_rs2),
            hz.l1_valid.eq(l1_valid), hz.l1_rd.eq(l1_rd),
            *_writer(hz.ex, valid=e_live, writes=e_writes_x, rd=e_rd, late=e_late,
                     load=e_load, xlate=e_xlate),
            *_writer(hz.mem, valid=m_valid, writes=m_writes_x, rd=m_rd, load=m_load,
                     xlate=m_xlate),
            *_writer(hz.wb, valid=w_valid, writes=w_writes_x, rd=w_rd, xlate=w_xlate),
        ]
        src1, src2, wait = hz.src1, hz.src2, hz.wait
        wb_write, late_next = hz.wb_write, hz.late_next

        # Register file and host ports ------------------------------------------------------
        w_value = Signal(32)        # loads are aligned here, from the registered word
        m.d.comb += w_value.eq(Mux(w_load, lsu.mem_value, w_result))
        m.d.comb += [
            rf.raddr1.eq(Mux(running, src1, xhost.addr)), rf.raddr2.eq(src2),
            xhost.rdata.eq(rf.rdata1),
            rf.waddr.eq(Mux(wb_write, w_rd, xhost.addr)),
            rf.wdata.eq(Mux(wb_write, w_value, xhost.wdata)),
            rf.we.eq(wb_write | (~running & xhost.we)),
            rf.late_addr.eq(l2_rd), rf.late_data.eq(vec.x_result), rf.late_we.eq(l2_valid),
            ihost_read.addr.eq(ihost.addr), ihost.rdata.eq(ihost_read.data),
            ihost_write.addr.eq(ihost.addr), ihost_write.data.eq(ihost.wdata),
            ihost_write.en.eq(ihost.we & ~running),
            dhost_read.addr.eq(dhost.addr), dhost.rdata.eq(dhost_read.data),
            dhost_write.addr.eq(dhost.addr), dhost_write.data.eq(dhost.wdata),
            dhost_write.en.eq(dhost.we),
        ]

        # Sequential: control, front end and EX ---------------------------------------------
        # The fetch pc sits outside the priority chain below (after a trap, ``~running``
        # resets it before the next start), so the fetch address meets a single
        # multiplexer here.
        with m.If(~running):
            m.d.sync += f_pc.eq(self.start_pc - 4)
        with m.Elif(id_free):
            m.d.sync += f_pc.eq(fetch_addr)
        with m.If(~running):
            m.d.sync += [f_valid.eq(0), d_valid.eq(0), e_valid.eq(0)]
            with m.If(self.start):
                m.d.sync += [
                    running.eq(1), status.halted.eq(0), status.cause.eq(TrapCause.NONE),
                    cycles.eq(Const(-PIPELINE_FILL, 64)),
                    instret.eq(0),
                    status.trap_pc.eq(0), status.trap_word.eq(0), status.trap_addr.eq(0),
                ]
        with m.Elif(m_fault):
            # The faulting instruction fired in EX (counted) and is in MEM: uncount it.
            m.d.sync += [
                running.eq(0), status.halted.eq(1), status.cause.eq(m_cause),
                status.trap_pc.eq(m_pc), status.trap_word.eq(m_word),
                status.trap_addr.eq(Mux(m_vec, vec.fault_addr, m_fault_addr)),
                f_valid.eq(0), d_valid.eq(0), e_valid.eq(0),
                cycles.eq(cycles - 1), instret.eq(instret - 1),
            ]
        with m.Elif(ex_trap):
            m.d.sync += [
                running.eq(0), status.halted.eq(1), status.cause.eq(e_cause),
                status.trap_pc.eq(e_pc), status.trap_word.eq(e_word),
                f_valid.eq(0), d_valid.eq(0), e_valid.eq(0),
                cycles.eq(cycles + e_retiring), instret.eq(instret + e_retiring),
            ]
            with m.If((e_cause == TrapCause.FETCH_FAULT) | (e_cause == TrapCause.ILLEGAL)):
                m.d.sync += status.trap_addr.eq(e_pc)
        with m.Else():
            m.d.sync += [cycles.eq(cycles + 1), instret.eq(instret + e_fire)]
            with m.If(id_free):
                m.d.sync += [f_valid.eq(1),
                             d_valid.eq(f_valid & ~m_redirect & ~id_redirect),
                             d_pc.eq(f_pc), d_word.eq(imem_read.data),
                             d_fetch_fault.eq(f_fault)]
            with m.If(id_go):
                is_csr = [dec.imm[:12] == number for number in CSRS.values()]
                fetch_fault = d_fetch_fault
                illegal = dec.illegal | dec.csr_illegal
                m.d.sync += [
                    e_valid.eq(1), e_pc.eq(d_pc), e_word.eq(d_word),
                    e_op.eq(dec.op),
                    e_imm.eq(Mux(df.shift_imm, dec.rs2, dec.imm)),
                    e_rd.eq(dec.rd), e_rs1.eq(dec.rs1), e_rs2.eq(dec.rs2),
                    e_writes_x.eq(dec.writes_x), e_vector.eq(dec.is_vector),
                    e_ctrl.eq(Cat(*(getattr(df, name) for name in ALU_FLAGS))),
                    e_op2_imm.eq(~dec.reads_rs2),
                    e_const.eq(Mux(df.lui, dec.imm,
                                   d_pc + Mux(df.auipc, dec.imm.as_unsigned(), 4))),
                    e_csr_sel.eq(Cat(*is_csr)),
                    e_late.eq(df.late), e_late_mul.eq(df.late_mul), e_load.eq(df.load),
                    e_xlate.eq(df.xlate),
                    e_count.eq(df.count), e_clz.eq(df.clz), e_ctz.eq(df.ctz),
                    # ``halt``: the instruction entering EX becomes a trap of cause NONE
                    # (it does not execute or retire; trap_pc is where to resume).
                    e_trap.eq(self.halt | fetch_fault | illegal | df.ecall | df.ebreak),
                    e_cause.eq(Mux(self.halt, TrapCause.NONE,
                               Mux(fetch_fault, TrapCause.FETCH_FAULT,
                                   Mux(illegal, TrapCause.ILLEGAL,
                                       Mux(df.ecall, TrapCause.ECALL, TrapCause.EBREAK))))),
                    e_retiring.eq(~self.halt & ~fetch_fault & ~illegal),
                    e_branch.eq(df.branch), e_jalr.eq(df.jalr), e_pred.eq(d_pred),
                    e_target.eq(id_target),
                    e_wait.eq(wait),
                ]
            with m.Else():
                m.d.sync += e_wait.eq(Mux(e_wait.any(), e_wait - 1, 0))
                with m.If(~ex_hold):
                    m.d.sync += e_valid.eq(0)

        # Sequential: MEM and WB (they drain even after a halt) ----------------------------
        # A vector instruction's fault (and its address) arrive from the unit in MEM, so
        # the lane-address adders and their OR over all lanes feed no EX path.
        m.d.comb += [
            m_fault.eq(m_scalar_fault | (m_vec & vec.fault)),
            m_cause.eq(Mux(m_vec, TrapCause.VECTOR_FAULT, m_scalar_cause)),
        ]
        m.d.sync += [
            m_valid.eq(e_fire), m_rd.eq(e_rd), m_writes_x.eq(e_writes_x), m_xlate.eq(e_xlate),
            m_result.eq(alu.result),
            m_load.eq(lsu.ex_is_load), m_late_mul.eq(e_late_mul), m_op.eq(e_op),
            m_store.eq(lsu.ex_is_store),
            m_dropped.eq(e_tries & lsu.ex_is_store & (m_redirect | m_fault)),
            restore.eq((m_scalar_fault & m_store) | m_dropped), restore_addr.eq(m_word_addr),
            restore_en.eq(m_byte_en & ~Mux(restore & (restore_addr == m_word_addr),
                                           restore_en, 0)),
            m_count.eq(e_count), m_clz.eq(e_clz), m_ctz.eq(e_ctz),
            m_count_parts.eq(count_partials(a)),
            m_addr_lo.eq(lsu.ex_addr[:2]),
            m_word_addr.eq(lsu.ex_word_addr), m_byte_en.eq(lsu.ex_byte_en),
            m_wdata.eq(lsu.ex_wdata), m_pc.eq(e_pc), m_word.eq(e_word),
            m_scalar_fault.eq(e_fire & lsu.ex_fault), m_vec.eq(e_fire & e_vector),
            m_scalar_cause.eq(Mux(lsu.ex_is_load, TrapCause.LOAD_FAULT,
                                  TrapCause.STORE_FAULT)),
            m_fault_addr.eq(lsu.ex_addr),
            m_redirect.eq(e_fire & mispredict),
            m_target.eq(Mux(e_jalr, Cat(Const(0, 1), alu.sum[1:]),
                            Mux(e_pred, e_const, e_target))),
        ]
        counted = Signal(32)
        m.d.comb += counted.eq(count_combine(m_count_parts, m_clz, m_ctz))
        late_value = Mux(m_late_mul, mul.product, Mux(m_count, counted, m_result))
        m.d.sync += [
            w_valid.eq(m_valid & ~m_fault), w_rd.eq(m_rd), w_writes_x.eq(m_writes_x),
            w_xlate.eq(m_xlate),
            # L1, L2: a ``vtst*``/``vextract`` on its way to the late write port (L2, where
            # the unit's value is due); a younger write-back of its register cancels it.
            l1_valid.eq(w_valid & w_writes_x & w_xlate & (w_rd != 0)), l1_rd.eq(w_rd),
            l2_valid.eq(late_next), l2_rd.eq(l1_rd),
            w_pc.eq(m_pc), w_result.eq(late_value),
            # Loads: the block RAM's word is registered raw (its output is slow), aligned
            # in WB and written to the register file (latency 3: never forwarded).
            w_load.eq(m_load), w_op.eq(m_op), w_addr_lo.eq(m_addr_lo),
            w_raw.eq(dmem_read.data),
        ]
        m.d.comb += [status.running.eq(running), status.cycles.eq(cycles),
                     status.instret.eq(instret)]
        # Retire: every record is reported when it reaches L2 (the last write, a late
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
