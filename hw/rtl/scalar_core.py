"""The scalar core: a 5-stage in-order RV32I pipeline with a vector issue port.

Stages and what happens in each:

* **IF1**: the fetch address (``pc_f``, or the branch target in the cycle a branch in EX
  is taken) addresses instruction memory (synchronous read port);
* **IF2**: the word arrives from the block RAM and is registered with no logic in
  between (block-RAM outputs are slow on ECP5); a pc that is not word aligned or lies
  outside instruction memory is flagged (a fetch fault travels with the instruction and
  halts the core only if it reaches EX unsquashed);
* **ID**: the registered word is decoded (:class:`Decoder`) and the register file read
  is started (synchronous, transparent read ports);
* **EX**: operands are forwarded from MEM and WB, the ALU, branch and address
  computations run; branches and jumps resolve here; every trap (illegal instruction,
  ``ecall``/``ebreak``, fetch fault, misaligned or out-of-range load/store, vector fault)
  is taken here, so an instruction that leaves EX always retires; vector instructions
  issue here; loads present their address to data memory;
* **MEM**: stores write data memory; loads receive their word and align it;
* **WB**: the register file is written.

Timing (identical to :data:`spikevec.hw.isa.TIMING`): one instruction per cycle; a taken
branch or any jump squashes the two younger instructions, in ID and IF2, and fetches the
target in the same cycle (+2 cycles); an instruction in ID
that reads the result of a scalar instruction whose timing class has latency 2 in the
table (loads; ``mul``, whose partial products are registered at the end of EX) waits one
cycle (+1; never for ``x0``); the vector unit may add stalls of its own through
``vector.stall`` (e.g. for its VALU/VLOAD latencies). ``mul_latency=0`` selects a
combinational multiplier instead, for experiments only: it breaks the table's MUL
latency and limits fmax to about 40 MHz.

Counters: ``cycle`` counts cycle-model cycles, i.e. it reads, in any instruction, the sum
of the costs of all instructions before it; ``instret`` the instructions before it.
``ecall``/``ebreak`` retire (they count 1 instruction and 1 cycle); an illegal
instruction or a faulting one does not retire and adds nothing.

Control: ``start`` (in), when the core is not running, starts it at pc 0 with counters
cleared (registers and memories keep their contents). Memories: ``imem`` and ``dmem``
(``lib.memory.Memory``, 32-bit words), the register file ``regfile.mem``. While the core
is not running the host ports ``imem_host``/``dmem_host`` (:class:`HostMemorySignature`)
own the memory ports.
"""
from __future__ import annotations

from amaranth.hdl import Cat, Const, Module, Mux, Signal, signed
from amaranth.lib import memory, wiring
from amaranth.lib.wiring import In, Out

from ..config import CoreConfig
from ..isa import CSRS, TIMING, Timing
from .alu import Alu
from .decoder import Decoder
from .enums import Op, TrapCause, op_of
from .load_store_unit import LoadStoreUnit
from .multiplier import Multiplier
from .register_file import RegisterFile
from .signatures import (HostMemorySignature, ScalarRetireSignature, StatusSignature,
                         VectorIssueSignature)

__all__ = ["ScalarCore"]

# Cycles between ``start`` and the first instruction reaching EX, minus one: the cycle
# counter starts this far below zero so that it counts cycle-model cycles.
PIPELINE_FILL = 3


def _check_scalar_latencies(mul_latency: int) -> None:
    """The pipeline implements scalar result latencies of 1 (forwarded from MEM) and 2
    (loads and a registered ``mul``: one stall); refuse a table asking for others."""
    built = {Timing.ALU: 1, Timing.LOAD: 2, Timing.MUL: 1 + mul_latency}
    for timing, latency in built.items():
        if TIMING.latency_of(timing) != latency and not (timing == Timing.MUL and
                                                        mul_latency == 0):
            raise ValueError(f"The cycle model gives {timing} instructions latency "
                             f"{TIMING.latency_of(timing)} but the scalar core implements "
                             f"{latency}; update ScalarCore's hazard logic.")


def _words_of(data: bytes, depth: int) -> list[int]:
    if len(data) > 4 * depth:
        raise ValueError(f"The initial data ({len(data)} bytes) does not fit the data "
                         f"memory ({4 * depth} bytes).")
    padded = bytes(data) + bytes(-len(data) % 4)
    return [int.from_bytes(padded[i:i + 4], "little") for i in range(0, len(padded), 4)]


class ScalarCore(wiring.Component):
    """The scalar pipeline with its instruction, data and register memories.

    Ports: ``start`` (in); ``status`` (:class:`StatusSignature`); ``vector``
    (:class:`VectorIssueSignature`, connect a vector unit or :class:`NullVectorUnit`);
    ``imem_host``, ``dmem_host`` (:class:`HostMemorySignature`).

    ``program`` (instruction words) and ``data`` (bytes) give the initial memory contents.
    """

    def __init__(self, config: CoreConfig, program=(), data: bytes = b"",
                 mul_latency: int = 1):
        self.config = config
        self.mul_latency = mul_latency
        if len(program) > config.imem_words:
            raise ValueError(f"The program has {len(program)} instructions but instruction "
                             f"memory holds only {config.imem_words}.")
        dmem_words = config.dmem_bytes // 4
        super().__init__({
            "start": In(1),
            "status": Out(StatusSignature()),
            "vector": Out(VectorIssueSignature()),
            "imem_host": Out(HostMemorySignature(config.imem_words)),
            "dmem_host": Out(HostMemorySignature(dmem_words, 4)),
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
        m.submodules.decoder = dec = Decoder(cfg)
        m.submodules.alu = alu = Alu()
        m.submodules.lsu = lsu = LoadStoreUnit(cfg)
        m.submodules.multiplier = mul = Multiplier(self.mul_latency)
        vec, status = self.vector, self.status

        imem_read = self.imem.read_port()
        imem_write = self.imem.write_port()
        dmem_write = self.dmem.write_port(granularity=8)
        dmem_read = self.dmem.read_port(transparent_for=(dmem_write,))

        running = Signal()
        cycles = Signal(64)
        instret = Signal(64)

        # Pipeline registers ---------------------------------------------------------------
        pc_f, fetch_addr = Signal(32), Signal(32)
        f_valid, f_pc = Signal(), Signal(32)
        d_valid, d_pc, d_fetch_fault, d_word = Signal(), Signal(32), Signal(), Signal(32)
        e_valid, e_pc, e_word = Signal(), Signal(32), Signal(32)
        e_op = Signal(Op)
        e_rd, e_rs1, e_rs2 = Signal(5), Signal(5), Signal(5)
        e_imm = Signal(signed(32))
        e_writes_x, e_vector = Signal(), Signal()
        e_illegal, e_fetch_fault = Signal(), Signal()
        m_valid, m_rd, m_writes_x, m_result = Signal(), Signal(5), Signal(), Signal(32)
        m_load, m_late_mul, m_op, m_addr_lo = Signal(), Signal(), Signal(Op), Signal(2)
        m_word_addr = Signal.like(lsu.ex_word_addr)
        m_byte_en, m_wdata, m_pc = Signal(4), Signal(32), Signal(32)
        w_valid, w_rd, w_writes_x, w_result = Signal(), Signal(5), Signal(), Signal(32)
        w_pc = Signal(32)

        # IF -------------------------------------------------------------------------------
        f_fault = f_pc[:2].any() | (f_pc >= cfg.imem_bytes)

        # ID -------------------------------------------------------------------------------
        m.d.comb += dec.word.eq(d_word)

        # EX: forwarding -------------------------------------------------------------------
        # The selects are computed one cycle early (for the instruction entering or staying
        # in EX) and registered, so EX starts from flip-flops.
        fwd_mem1, fwd_wb1, fwd_mem2, fwd_wb2 = Signal(), Signal(), Signal(), Signal()
        a, b = Signal(32), Signal(32)
        m.d.comb += [a.eq(Mux(fwd_mem1, m_result, Mux(fwd_wb1, w_result, rf.rdata1))),
                     b.eq(Mux(fwd_mem2, m_result, Mux(fwd_wb2, w_result, rf.rdata2)))]

        csr_value = Signal(32)
        csr_sources = {"cycle": cycles[:32], "cycleh": cycles[32:],
                       "instret": instret[:32], "instreth": instret[32:]}
        with m.Switch(e_imm[:12]):
            for name, number in CSRS.items():
                with m.Case(number):
                    m.d.comb += csr_value.eq(csr_sources[name])

        m.d.comb += [
            alu.op.eq(e_op), alu.a.eq(a), alu.b.eq(b), alu.imm.eq(e_imm),
            alu.shamt.eq(e_rs2), alu.pc.eq(e_pc), alu.csr_value.eq(csr_value),
            alu.product.eq(mul.product), mul.a.eq(a), mul.b.eq(b),
            lsu.ex_op.eq(e_op), lsu.ex_addr.eq(a + e_imm.as_unsigned()),
            lsu.ex_store_data.eq(b),
        ]

        # EX: vector issue -----------------------------------------------------------------
        m.d.comb += [
            vec.valid.eq(e_valid & e_vector & ~e_illegal & ~e_fetch_fault),
            vec.op.eq(e_op), vec.word.eq(e_word), vec.imm.eq(e_imm), vec.pc.eq(e_pc),
            vec.rd.eq(e_rd), vec.rs1.eq(e_rs1), vec.rs2.eq(e_rs2),
            vec.rs1_value.eq(a), vec.rs2_value.eq(b),
            vec.id_valid.eq(d_valid), vec.id_op.eq(dec.op), vec.id_word.eq(d_word),
        ]

        # EX: traps, stalls, redirects -----------------------------------------------------
        is_ecall = e_op == op_of("ecall")
        is_ebreak = e_op == op_of("ebreak")
        vec_fault = vec.valid & vec.fault
        cause = Signal(TrapCause)
        with m.If(e_fetch_fault):
            m.d.comb += cause.eq(TrapCause.FETCH_FAULT)
        with m.Elif(e_illegal):
            m.d.comb += cause.eq(TrapCause.ILLEGAL)
        with m.Elif(is_ecall):
            m.d.comb += cause.eq(TrapCause.ECALL)
        with m.Elif(is_ebreak):
            m.d.comb += cause.eq(TrapCause.EBREAK)
        with m.Elif(lsu.ex_fault):
            m.d.comb += cause.eq(Mux(lsu.ex_is_load, TrapCause.LOAD_FAULT,
                                     TrapCause.STORE_FAULT))
        with m.Elif(vec_fault):
            m.d.comb += cause.eq(TrapCause.VECTOR_FAULT)
        trap = Signal()
        m.d.comb += trap.eq(e_valid & (cause != TrapCause.NONE))
        retiring_halt = (cause == TrapCause.ECALL) | (cause == TrapCause.EBREAK)

        ex_stall = Signal()
        m.d.comb += ex_stall.eq(vec.valid & vec.stall & ~vec.fault)
        e_fire = e_valid & ~trap & ~ex_stall
        # Only branches and jumps redirect, and they never fault in EX nor stall, so the
        # redirect does not wait for the address checks of loads and stores.
        redirect = e_valid & ~e_illegal & ~e_fetch_fault & alu.taken
        reads_e_rd = ((dec.reads_rs1 & (dec.rs1 == e_rd)) |
                      (dec.reads_rs2 & (dec.rs2 == e_rd)))
        # Results that appear only in MEM: loads, and mul with a registered multiplier.
        e_late_mul = (e_op == op_of("mul")) if self.mul_latency else Const(0, 1)
        _check_scalar_latencies(self.mul_latency)
        late_result = lsu.ex_is_load | e_late_mul
        load_use = Signal()
        m.d.comb += load_use.eq(e_valid & late_result & (e_rd != 0) & d_valid & reads_e_rd)
        id_stall = ex_stall | load_use
        m.d.comb += fetch_addr.eq(Mux(redirect, alu.target, pc_f))
        next_pc_f = Mux(redirect, alu.target_plus_4, pc_f + 4)

        # Forwarding selects for the next cycle's EX instruction: the one entering from ID
        # (EX moves on to MEM, MEM to WB), or the one held by a stall (MEM empties).
        src1 = Mux(ex_stall, e_rs1, dec.rs1)
        src2 = Mux(ex_stall, e_rs2, dec.rs2)
        from_ex = e_valid & e_writes_x & ~ex_stall
        from_mem = m_valid & m_writes_x
        m.d.sync += [
            fwd_mem1.eq(from_ex & (e_rd == src1) & (src1 != 0)),
            fwd_wb1.eq(from_mem & (m_rd == src1) & (src1 != 0)),
            fwd_mem2.eq(from_ex & (e_rd == src2) & (src2 != 0)),
            fwd_wb2.eq(from_mem & (m_rd == src2) & (src2 != 0)),
        ]
        id_advance = Signal()
        m.d.comb += [
            id_advance.eq(running & d_valid & ~trap & ~id_stall & ~redirect),
            vec.id_advance.eq(id_advance),
        ]

        # Memory and register-file ports --------------------------------------------------
        m.d.comb += [
            rf.raddr1.eq(src1), rf.raddr2.eq(src2),
            rf.waddr.eq(w_rd), rf.wdata.eq(w_result), rf.we.eq(w_valid & w_writes_x),
            lsu.mem_op.eq(m_op), lsu.mem_addr_lo.eq(m_addr_lo),
            lsu.mem_rdata.eq(dmem_read.data),
        ]
        ihost, dhost = self.imem_host, self.dmem_host
        m.d.comb += [ihost.rdata.eq(imem_read.data), dhost.rdata.eq(dmem_read.data),
                     imem_write.addr.eq(ihost.addr), imem_write.data.eq(ihost.wdata)]
        with m.If(running):
            m.d.comb += [
                imem_read.addr.eq(fetch_addr[2:]), imem_read.en.eq(~id_stall),
                dmem_read.addr.eq(lsu.ex_word_addr),
                dmem_write.addr.eq(m_word_addr), dmem_write.data.eq(m_wdata),
                dmem_write.en.eq(m_byte_en & m_valid.replicate(4)),
            ]
        with m.Else():
            m.d.comb += [
                imem_read.addr.eq(ihost.addr), imem_read.en.eq(1),
                imem_write.en.eq(ihost.we),
                dmem_read.addr.eq(dhost.addr),
                dmem_write.addr.eq(dhost.addr), dmem_write.data.eq(dhost.wdata),
                dmem_write.en.eq(dhost.we),
            ]

        # Sequential: front end and EX -----------------------------------------------------
        with m.If(~running):
            m.d.sync += [f_valid.eq(0), d_valid.eq(0), e_valid.eq(0)]
            with m.If(self.start):
                m.d.sync += [
                    running.eq(1), status.halted.eq(0), status.cause.eq(TrapCause.NONE),
                    pc_f.eq(0), cycles.eq(Const(-PIPELINE_FILL, 64)), instret.eq(0),
                    status.trap_pc.eq(0), status.trap_word.eq(0), status.trap_addr.eq(0),
                ]
        with m.Elif(trap):
            m.d.sync += [
                running.eq(0), status.halted.eq(1), status.cause.eq(cause),
                status.trap_pc.eq(e_pc), status.trap_word.eq(e_word),
                f_valid.eq(0), d_valid.eq(0), e_valid.eq(0),
                cycles.eq(cycles + retiring_halt), instret.eq(instret + retiring_halt),
            ]
            with m.Switch(cause):
                with m.Case(TrapCause.FETCH_FAULT, TrapCause.ILLEGAL):
                    m.d.sync += status.trap_addr.eq(e_pc)
                with m.Case(TrapCause.LOAD_FAULT, TrapCause.STORE_FAULT):
                    m.d.sync += status.trap_addr.eq(lsu.ex_addr)
                with m.Case(TrapCause.VECTOR_FAULT):
                    m.d.sync += status.trap_addr.eq(vec.fault_addr)
        with m.Else():
            m.d.sync += [cycles.eq(cycles + 1), instret.eq(instret + e_fire)]
            with m.If(~id_stall):
                m.d.sync += [pc_f.eq(next_pc_f), f_valid.eq(1), f_pc.eq(fetch_addr),
                             d_valid.eq(f_valid & ~redirect), d_pc.eq(f_pc),
                             d_word.eq(imem_read.data), d_fetch_fault.eq(f_fault)]
            with m.If(id_advance):
                m.d.sync += [
                    e_valid.eq(1), e_pc.eq(d_pc), e_word.eq(d_word),
                    e_op.eq(dec.op), e_imm.eq(dec.imm),
                    e_rd.eq(dec.rd), e_rs1.eq(dec.rs1), e_rs2.eq(dec.rs2),
                    e_writes_x.eq(dec.writes_x), e_vector.eq(dec.is_vector),
                    e_illegal.eq(dec.illegal | dec.csr_illegal),
                    e_fetch_fault.eq(d_fetch_fault),
                ]
            with m.Elif(~ex_stall):
                m.d.sync += e_valid.eq(0)

        # Sequential: MEM and WB (they drain even after a halt) ----------------------------
        m.d.sync += [
            m_valid.eq(e_fire), m_rd.eq(e_rd), m_writes_x.eq(e_writes_x),
            m_result.eq(Mux(e_vector, vec.x_result, alu.result)),
            m_load.eq(lsu.ex_is_load), m_late_mul.eq(e_late_mul), m_op.eq(e_op),
            m_addr_lo.eq(lsu.ex_addr[:2]),
            m_word_addr.eq(lsu.ex_word_addr), m_byte_en.eq(lsu.ex_byte_en),
            m_wdata.eq(lsu.ex_wdata), m_pc.eq(e_pc),
            w_valid.eq(m_valid), w_rd.eq(m_rd), w_writes_x.eq(m_writes_x), w_pc.eq(m_pc),
            w_result.eq(Mux(m_load, lsu.mem_value, Mux(m_late_mul, mul.product, m_result))),
        ]
        m.d.comb += [status.running.eq(running), status.cycles.eq(cycles),
                     status.instret.eq(instret)]
        retire = self.retire
        m.d.comb += [
            retire.x_valid.eq(w_valid & w_writes_x & (w_rd != 0)), retire.x_pc.eq(w_pc),
            retire.x_rd.eq(w_rd), retire.x_value.eq(w_result),
            retire.mem_valid.eq(m_valid & m_byte_en.any()), retire.mem_pc.eq(m_pc),
            retire.mem_word_addr.eq(m_word_addr), retire.mem_byte_en.eq(m_byte_en),
            retire.mem_data.eq(m_wdata),
        ]
        return m
