"""The scalar core's front end: stages IF1, IF2 and ID, up to EX's instruction register.

* **IF1**: the fetch address addresses instruction memory (``imem_addr``, a word index,
  with ``imem_en``; a synchronous read port, its word back in ``imem_data`` a cycle
  later): the target of a mispredicted branch or ``jalr`` in MEM (``redirect``/
  ``redirect_target``), else the target of a branch predicted taken leaving ID, else the
  word after the one in IF2;
* **IF2**: the word arrives from the block RAM and is registered with no logic in
  between (block-RAM outputs are slow on ECP5); a pc that is not word aligned or lies
  outside instruction memory is flagged (a fetch fault travels with the instruction and
  halts the core only if it reaches EX unsquashed);
* **ID**: the registered word is decoded (:class:`Decoder`) into one-hot controls for EX,
  constants are precomputed (``lui``/``auipc`` results, link addresses, the branch
  target), and ``jal`` and backward branches (static prediction: taken) redirect the
  fetch as they move on to EX (+1 cycle; a redirect from MEM squashes IF2 and ID).

The ID instruction moves on to EX when the core runs, ID holds one, EX does not keep
its own (``ex_blocked``) and MEM does not redirect. It is then registered in
``ex`` (:class:`ExInstruction`, unchanged until the next one moves on) with ``ex_valid``
set and ``ex_wait`` loaded from ``wait`` (the cycles it waits for an operand); ``halt``
makes it a trap of cause ``NONE`` (it does not execute or retire). Otherwise ``ex_wait``
counts down to 0 and ``ex_valid`` falls unless ``hold`` (EX keeps its instruction).
``stop`` (the core stops in this cycle: a trap in EX or a fault in MEM) and a stopped
core (``running`` low) empty IF2, ID and EX; while the core is stopped the fetch pc is
set up for ``start_pc``.
"""
from amaranth.hdl import Cat, Module, Mux, Signal, signed
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from ..config import CoreConfig
from ..isa import BY_NAME, CSRS, FORMATS, INSTRUCTIONS, TIMING, Timing
from .alu import ALU_CONTROL, ALU_FLAGS, COUNT_OPS
from .decoder import Decoder
from .enums import Op, TrapCause
from .hazard_unit import WAIT_BITS

__all__ = ["FrontEnd", "ExInstruction"]

_BRANCHES = tuple(ins.name for ins in INSTRUCTIONS if ins.timing == Timing.BRANCH)


class ExInstruction(data.Struct):
    """The instruction in EX as ID registers it (:class:`FrontEnd` ``ex``; its valid bit
    and operand wait are ``ex_valid`` and ``ex_wait``)."""
    pc: 32
    word: 32
    op: Op
    rd: 5
    rs1: 5
    rs2: 5
    imm: signed(32)       # the decoder's; the shift amount for shifts by an immediate
    ctrl: ALU_CONTROL
    op2_imm: 1            # the ALU's second operand is ``imm``
    constant: 32          # ``lui``/``auipc`` result, or the link address pc + 4
    csr_sel: len(CSRS)    # one-hot, in :data:`CSRS` order: the CSR it reads
    writes_x: 1
    vector: 1
    late: 1               # a scalar result of latency 2 or more
    late_mul: 1           # ``mul`` with a registered multiplier
    load: 1
    xlate: 1              # ``vtst*``/``vextract``: the value comes from the vector unit
    count: 1
    clz: 1
    ctz: 1
    trap: 1               # it does not execute: ``cause`` says why
    cause: TrapCause
    retiring: 1           # a trap that counts as retired (``ecall``/``ebreak``)
    branch: 1
    jalr: 1
    pred: 1               # predicted taken (branches, ``jal``): the fetch went to target
    target: 32            # the branch or ``jal`` target


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


class FrontEnd(wiring.Component):
    """IF1, IF2 and ID of the scalar core, and EX's instruction register (module
    docstring).

    Inputs: ``running``, ``start_pc``, ``halt`` (the core's), ``stop``, ``ex_blocked``
    (EX holds an instruction that is not a trap and waits; from registers only),
    ``redirect``/``redirect_target`` (MEM), ``hold``, ``wait``, ``imem_data``
    (instruction memory's read data). Outputs: ``imem_addr``/``imem_en``;
    ``id_valid``/``id_word`` (the ID instruction), ``id_advance`` (it would move on, from
    registers only: it does not wait for ``redirect`` or ``stop``), its decoded
    ``id_rs1``/``id_rs2``/``id_reads_rs1``/``id_reads_rs2``; ``ex``, ``ex_valid``,
    ``ex_wait`` (registered).
    ``mul_latency`` 0 (a combinational multiplier) does not mark ``mul`` ``late``.
    """

    def __init__(self, config: CoreConfig, mul_latency: int = 1):
        self.config = config
        self.mul_latency = mul_latency
        super().__init__({
            "running": In(1), "start_pc": In(32), "halt": In(1), "stop": In(1),
            "ex_blocked": In(1), "redirect": In(1), "redirect_target": In(32),
            "hold": In(1), "wait": In(WAIT_BITS),
            "imem_addr": Out(range(config.imem_words)), "imem_en": Out(1),
            "imem_data": In(32),
            "id_valid": Out(1), "id_word": Out(32), "id_advance": Out(1),
            "id_rs1": Out(5), "id_rs2": Out(5),
            "id_reads_rs1": Out(1), "id_reads_rs2": Out(1),
            "ex": Out(ExInstruction), "ex_valid": Out(1), "ex_wait": Out(WAIT_BITS),
        })

    def elaborate(self, platform):
        m = Module()
        flags = {**ALU_FLAGS, **_core_flags(self.mul_latency)}
        m.submodules.decoder = dec = Decoder(self.config, flags)
        df, ex, e_valid, e_wait = dec.flags, self.ex, self.ex_valid, self.ex_wait
        running, m_redirect = self.running, self.redirect
        f_valid, f_pc = Signal(), Signal(32)
        d_valid, d_word = self.id_valid, self.id_word
        d_pc, d_fetch_fault = Signal(32), Signal()

        # IF2 ------------------------------------------------------------------------------
        f_fault = f_pc[:2].any() | (f_pc >= self.config.imem_bytes)

        # ID -------------------------------------------------------------------------------
        m.d.comb += [dec.word.eq(d_word), self.id_rs1.eq(dec.rs1), self.id_rs2.eq(dec.rs2),
                     self.id_reads_rs1.eq(dec.reads_rs1),
                     self.id_reads_rs2.eq(dec.reads_rs2)]
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

        # Control ----------------------------------------------------------------------
        # ``id_advance``: the ID instruction would move on, from registers only (the
        # vector unit's look-ahead); ``id_go``: it moves to EX at the clock edge. Neither
        # waits for ``stop`` (late: the vector fault ORs the lanes' flags): in a cycle that
        # stops, the sequential block below clears IF2, ID and EX (its first branch wins
        # over ``id_free`` and ``id_go``), so what the fetch does then does not matter.
        id_go_early, id_go = self.id_advance, Signal()
        m.d.comb += [id_go_early.eq(running & d_valid & ~self.ex_blocked),
                     id_go.eq(id_go_early & ~m_redirect)]
        id_redirect = id_go & d_pred
        id_free = Signal()          # ID takes the word in IF2 (and IF1 fetches)
        m.d.comb += id_free.eq(running & (~d_valid | id_go | m_redirect))
        fetch_addr = Signal(32)
        m.d.comb += fetch_addr.eq(Mux(m_redirect, self.redirect_target,
                                      Mux(id_redirect, id_target, f_pc + 4)))
        m.d.comb += [self.imem_addr.eq(fetch_addr[2:]), self.imem_en.eq(id_free)]

        # Sequential: IF2, ID and EX's instruction register -----------------------------
        # The fetch pc sits outside the priority chain below (after a trap, ``~running``
        # resets it before the next start), so the fetch address meets a single
        # multiplexer here.
        with m.If(~running):
            m.d.sync += f_pc.eq(self.start_pc - 4)
        with m.Elif(id_free):
            m.d.sync += f_pc.eq(fetch_addr)
        with m.If(~running | self.stop):
            m.d.sync += [f_valid.eq(0), d_valid.eq(0), e_valid.eq(0)]
        with m.Else():
            with m.If(id_free):
                m.d.sync += [f_valid.eq(1),
                             d_valid.eq(f_valid & ~m_redirect & ~id_redirect),
                             d_pc.eq(f_pc), d_word.eq(self.imem_data),
                             d_fetch_fault.eq(f_fault)]
            with m.If(id_go):
                is_csr = [dec.imm[:12] == number for number in CSRS.values()]
                fetch_fault = d_fetch_fault
                illegal = dec.illegal | dec.csr_illegal
                m.d.sync += [
                    e_valid.eq(1), e_wait.eq(self.wait),
                    ex.pc.eq(d_pc), ex.word.eq(d_word),
                    ex.op.eq(dec.op),
                    ex.imm.eq(Mux(df.shift_imm, dec.rs2, dec.imm)),
                    ex.rd.eq(dec.rd), ex.rs1.eq(dec.rs1), ex.rs2.eq(dec.rs2),
                    ex.writes_x.eq(dec.writes_x), ex.vector.eq(dec.is_vector),
                    ex.ctrl.eq(Cat(*(getattr(df, name) for name in ALU_FLAGS))),
                    ex.op2_imm.eq(~dec.reads_rs2),
                    ex.constant.eq(Mux(df.lui, dec.imm,
                                       d_pc + Mux(df.auipc, dec.imm.as_unsigned(), 4))),
                    ex.csr_sel.eq(Cat(*is_csr)),
                    ex.late.eq(df.late), ex.late_mul.eq(df.late_mul), ex.load.eq(df.load),
                    ex.xlate.eq(df.xlate),
                    ex.count.eq(df.count), ex.clz.eq(df.clz), ex.ctz.eq(df.ctz),
                    # ``halt``: the instruction entering EX becomes a trap of cause NONE
                    # (it does not execute or retire; trap_pc is where to resume).
                    ex.trap.eq(self.halt | fetch_fault | illegal | df.ecall | df.ebreak),
                    ex.cause.eq(Mux(self.halt, TrapCause.NONE,
                                    Mux(fetch_fault, TrapCause.FETCH_FAULT,
                                        Mux(illegal, TrapCause.ILLEGAL,
                                            Mux(df.ecall, TrapCause.ECALL,
                                                TrapCause.EBREAK))))),
                    ex.retiring.eq(~self.halt & ~fetch_fault & ~illegal),
                    ex.branch.eq(df.branch), ex.jalr.eq(df.jalr), ex.pred.eq(d_pred),
                    ex.target.eq(id_target),
                ]
            with m.Else():
                m.d.sync += e_wait.eq(Mux(e_wait.any(), e_wait - 1, 0))
                with m.If(~self.hold):
                    m.d.sync += e_valid.eq(0)
        return m
