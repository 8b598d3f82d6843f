"""The instruction table of spikevec: every opcode and funct number lives here, once.

Scalar instructions are standard RV32I, Zicsr (read-only counters), MUL and a Zbb subset.
Vector instructions use the RISC-V ``10`` quadrant: major opcode ``(op5 << 2) | 0b10``.

Vector semantics use these definitions (lanes ``i = 0 .. L-1``, elements int16):

* ``wrap(x)``: the low 16 bits of ``x`` as a signed number; ``sat(x)``: ``x`` clamped to
  ``[-32768, 32767]``. Intermediate arithmetic is exact (no overflow before wrap/sat).
* ``rshift(x, s, mode)``, the rounding right shift by ``s`` (0..15) bits:
  floor ``x >> s`` (arithmetic); round-half-up ``(x + 2^(s-1)) >> s`` for ``s > 0``;
  stochastic ``(x + (r >> (16 - s))) >> s`` for ``s > 0`` where ``r`` is the lane's 16-bit
  generator output, so the ``s`` random bits are the generator's HIGH bits (FeNN uses the
  low bits, the weakest of Xoroshiro). With ``s = 0`` every mode returns ``x``.
* Per-lane generator: Xoroshiro32++ on 16-bit halves ``s0, s1``:
  ``r = rotl(s0 + s1, 9) + s0; s1 ^= s0; s0 = rotl(s0, 13) ^ s1 ^ (s1 << 5);
  s1 = rotl(s1, 10)`` (all mod 2^16). ``r`` is computed from the state before the step.
  Every instruction with stochastic rounding, and ``vrng``, steps all lanes once.
* Hazards: none are visible to software; the core interlocks. :data:`TIMING` is the cycle
  model (a scoreboard of per-class result latencies) shared by the golden model and RTL.

This module imports nothing of spikevec outside ``spikevec.hw.isa``.
"""
from __future__ import annotations

from dataclasses import dataclass

from .formats import B, I, J, R, S, U, VA, VR, VU
from .instruction import Instr, Timing as T
from .operands import ROUND, SAT, Csr, Lane, PcRel, SImm, UImm, V, X

__all__ = ["INSTRUCTIONS", "BY_NAME", "CSRS", "TIMING", "CycleModel", "OPCODES"]

# Major opcodes (bits [6:0]) -------------------------------------------------------------
OPCODES = {
    "LOAD": 0b0000011, "MISC_MEM": 0b0001111, "OP_IMM": 0b0010011, "AUIPC": 0b0010111,
    "STORE": 0b0100011, "OP": 0b0110011, "LUI": 0b0110111, "BRANCH": 0b1100011,
    "JALR": 0b1100111, "JAL": 0b1101111, "SYSTEM": 0b1110011,
}
_VECTOR_OP5 = {"VSOP": 0, "VLUI": 1, "VTST": 2, "VSEL": 3, "VLOAD": 4, "VSTORE": 5,
               "VMOV": 6, "VSPC": 8, "VSOP_IMM": 9, "VSOP2": 10, "VLACC": 11}
OPCODES.update({k: (v << 2) | 0b10 for k, v in _VECTOR_OP5.items()})
_O = OPCODES

# Read-only counter CSRs (Zicsr). Writing any of them is an illegal instruction.
CSRS = {"cycle": 0xC00, "instret": 0xC02, "cycleh": 0xC80, "instreth": 0xC82}


@dataclass(frozen=True)
class CycleModel:
    """The cycle contract between the golden model and the RTL (a scoreboard).

    Instructions issue in program order. Instruction ``n`` issues at cycle
    ``t[n] = max(f[n], ready(r) for every register r it reads)``, where ``f[n]`` is the
    cycle the front end can deliver it: ``f[0] = 0`` and ``f[n+1] = t[n] + 1`` for every
    instruction except these control transfers (static prediction: ``jal`` and backward
    branches, offset < 0, are predicted taken; forward branches, offset >= 0, not taken):

    * a taken backward branch and ``jal`` (predicted taken and redirected in the decode
      stage): ``f[n+1] = max(t[n] + 1, f[n] + 1 + predicted_penalty)``, so the bubble
      overlaps the branch's own wait for its operands;
    * a not-taken backward branch, a taken forward branch (mispredicted, redirected one
      stage after execute) and ``jalr``: ``f[n+1] = t[n] + 1 + mispredict_penalty``;
    * a not-taken forward branch costs nothing extra.

    A register written by an instruction that issues at ``t`` is ready at ``t + latency``
    of the writer's timing class (``latency`` 1: the very next instruction may use it with
    no stall). ``x0`` is always ready. The cycle counter reads ``t[n]`` at instruction
    ``n``; after the last instruction it is ``f[last + 1]``.

    The vector lanes run ``lane_delay`` cycles behind the core (the instruction stream
    reaches them through a register tree). An instruction whose scalar result the lanes
    compute (``lane_answer`` ``"value"`` in the table: ``vt*``, ``vextract``) issues
    without waiting for them; its result is ready ``latency(VTOX) = lane_delay + 3``
    cycles after it issues (the lanes compute it ``lane_delay`` cycles later and register
    it, each group of lanes reduces its lanes' answers into a register, the unit ORs the
    groups' words into its result register and the core writes it to the register file
    through a second, late write port), so only a reader that follows it closely waits.
    An instruction that needs the lanes' lane-address check before it can complete
    (``"address"``: ``vloadl``/``vstorel``, whose fault must be precise) waits at issue:
    ``t[n] = max(f[n], ready(r)...) + address_wait`` (the lanes' delay, their answer
    register and the unit's register of their combined flags).

    Stops: ``ecall``/``ebreak`` retire, so the counter then reads ``t[n] + 1``. At a fault
    stop (a load, store or vector instruction refused for its address; it does not
    retire) the cycle counter reads the faulting instruction's issue cycle ``t[n]``: its
    waits for operands count, nothing after them (the RTL detects faults when the
    instruction issues). An illegal instruction or a fetch fault reads no registers, so
    there it reads ``t[n] = f[n]``.
    """
    predicted_penalty: int = 1
    mispredict_penalty: int = 3
    lane_delay: int = 2
    address_wait: int = 4
    latency: tuple = ((T.ALU, 1), (T.MUL, 2), (T.COUNT, 2), (T.LOAD, 3), (T.STORE, 1),
                      (T.BRANCH, 1), (T.JUMP, 1), (T.SYSTEM, 1), (T.VALU, 2), (T.VMUL, 3),
                      (T.VTOX, 5), (T.VLOAD, 3), (T.VACC, 4), (T.VSTORE, 1))

    @property
    def max_lane_wait(self) -> int:
        """The longest wait for the lanes' answer."""
        return self.address_wait

    def lane_wait(self, answer: str) -> int:
        """Extra issue wait of an instruction whose ``lane_answer`` is ``answer``."""
        return {"": 0, "value": 0, "address": self.address_wait}[answer]

    def latency_of(self, timing: str) -> int:
        return dict(self.latency)[timing]

    @staticmethod
    def predicted_taken(name: str, timing: str, offset: int) -> bool:
        """The static prediction: ``jal`` always, a branch iff ``offset < 0``."""
        return name == "jal" or (timing == T.BRANCH and offset < 0)

    def next_front(self, name: str, timing: str, taken: bool, offset: int, front: int,
                   issue: int) -> int:
        """``f[n+1]`` for instruction ``n`` (mnemonic ``name``, timing class ``timing``,
        branch ``offset``, whether it changes the pc) delivered at ``front = f[n]`` and
        issued at ``issue = t[n]``."""
        if timing not in (T.BRANCH, T.JUMP):
            return issue + 1
        if self.predicted_taken(name, timing, offset):
            if taken:
                return max(issue + 1, front + 1 + self.predicted_penalty)
            return issue + 1 + self.mispredict_penalty
        return issue + 1 + (self.mispredict_penalty if taken else 0)


TIMING = CycleModel()

_rr = {"rd": X("rd"), "rs1": X("rs1"), "rs2": X("rs2")}
_ri = {"rd": X("rd"), "rs1": X("rs1"), "imm": SImm()}
_vvv = {"vd": V("rd"), "vs1": V("rs1"), "vs2": V("rs2")}


def _scalar():
    t = []
    add = t.append
    add(Instr("lui", U, _O["LUI"], "{rd}, {imm}", {"rd": X("rd"), "imm": UImm("imm_31_12")},
              "x[rd] = imm << 12", "RV32I", T.ALU, writes="x"))
    add(Instr("auipc", U, _O["AUIPC"], "{rd}, {imm}", {"rd": X("rd"), "imm": UImm("imm_31_12")},
              "x[rd] = pc + (imm << 12)", "RV32I", T.ALU, writes="x"))
    add(Instr("jal", J, _O["JAL"], "{rd}, {off}", {"rd": X("rd"), "off": PcRel()},
              "x[rd] = pc + 4; pc += off", "RV32I", T.JUMP, writes="x"))
    add(Instr("jalr", I, _O["JALR"], "{rd}, {imm}({rs1})", _ri,
              "t = (x[rs1] + imm) & ~1; x[rd] = pc + 4; pc = t", "RV32I", T.JUMP,
              fixed={"funct3": 0}, writes="x"))
    for name, f3, cond in (("beq", 0, "=="), ("bne", 1, "!="), ("blt", 4, "<"),
                           ("bge", 5, ">="), ("bltu", 6, "<u"), ("bgeu", 7, ">=u")):
        add(Instr(name, B, _O["BRANCH"], "{rs1}, {rs2}, {off}",
                  {"rs1": X("rs1"), "rs2": X("rs2"), "off": PcRel()},
                  f"if x[rs1] {cond} x[rs2]: pc += off", "RV32I", T.BRANCH,
                  fixed={"funct3": f3}))
    for name, f3, what in (("lb", 0, "sext8"), ("lh", 1, "sext16"), ("lw", 2, "32-bit"),
                           ("lbu", 4, "zext8"), ("lhu", 5, "zext16")):
        add(Instr(name, I, _O["LOAD"], "{rd}, {imm}({rs1})", _ri,
                  f"x[rd] = {what} dmem[x[rs1] + imm] (naturally aligned, else a fault)",
                  "RV32I", T.LOAD, fixed={"funct3": f3}, writes="x"))
    for name, f3, size in (("sb", 0, 8), ("sh", 1, 16), ("sw", 2, 32)):
        add(Instr(name, S, _O["STORE"], "{rs2}, {imm}({rs1})",
                  {"rs2": X("rs2"), "rs1": X("rs1"), "imm": SImm()},
                  f"dmem[x[rs1] + imm] = low {size} bits of x[rs2] (aligned)", "RV32I",
                  T.STORE, fixed={"funct3": f3}, writes="xmem"))
    for name, f3, what in (("addi", 0, "x[rs1] + imm"), ("slti", 2, "x[rs1] <s imm"),
                           ("sltiu", 3, "x[rs1] <u imm"), ("xori", 4, "x[rs1] ^ imm"),
                           ("ori", 6, "x[rs1] | imm"), ("andi", 7, "x[rs1] & imm")):
        add(Instr(name, I, _O["OP_IMM"], "{rd}, {rs1}, {imm}", _ri, f"x[rd] = {what}",
                  "RV32I", T.ALU, fixed={"funct3": f3}, writes="x"))
    for name, f3, f7, what in (("slli", 1, 0, "<<"), ("srli", 5, 0, ">>u"),
                               ("srai", 5, 0b0100000, ">>s")):
        add(Instr(name, R, _O["OP_IMM"], "{rd}, {rs1}, {shamt}",
                  {"rd": X("rd"), "rs1": X("rs1"), "shamt": UImm("rs2")},
                  f"x[rd] = x[rs1] {what} shamt", "RV32I", T.ALU,
                  fixed={"funct3": f3, "funct7": f7}, writes="x"))
    for name, f3, f7, what in (
            ("add", 0, 0, "x[rs1] + x[rs2]"), ("sub", 0, 0b0100000, "x[rs1] - x[rs2]"),
            ("sll", 1, 0, "x[rs1] << x[rs2][4:0]"), ("slt", 2, 0, "x[rs1] <s x[rs2]"),
            ("sltu", 3, 0, "x[rs1] <u x[rs2]"), ("xor", 4, 0, "x[rs1] ^ x[rs2]"),
            ("srl", 5, 0, "x[rs1] >>u x[rs2][4:0]"),
            ("sra", 5, 0b0100000, "x[rs1] >>s x[rs2][4:0]"),
            ("or", 6, 0, "x[rs1] | x[rs2]"), ("and", 7, 0, "x[rs1] & x[rs2]")):
        add(Instr(name, R, _O["OP"], "{rd}, {rs1}, {rs2}", _rr, f"x[rd] = {what}", "RV32I",
                  T.ALU, fixed={"funct3": f3, "funct7": f7}, writes="x"))
    add(Instr("fence", I, _O["MISC_MEM"], "", {}, "no operation (memories are coherent)",
              "RV32I", T.ALU, fixed={"funct3": 0, "imm_11_0": 0x0FF},
              ignore=("rd", "rs1", "imm_11_0")))
    add(Instr("ecall", I, _O["SYSTEM"], "", {}, "stop the program: exit reason 'ecall'",
              "RV32I", T.SYSTEM))
    add(Instr("ebreak", I, _O["SYSTEM"], "", {}, "stop the program: exit reason 'ebreak'",
              "RV32I", T.SYSTEM, fixed={"imm_11_0": 1}))
    csr_doc = ("t = csr; write csr (illegal: every CSR is a read-only counter, so only "
               "the forms that do not write are legal); x[rd] = t")
    for name, f3, src in (("csrrw", 1, "rs1"), ("csrrs", 2, "rs1"), ("csrrc", 3, "rs1"),
                          ("csrrwi", 5, "uimm"), ("csrrsi", 6, "uimm"),
                          ("csrrci", 7, "uimm")):
        srcop = X("rs1") if src == "rs1" else UImm("rs1")
        add(Instr(name, I, _O["SYSTEM"], "{rd}, {csr}, {%s}" % src,
                  {"rd": X("rd"), "csr": Csr("imm_11_0"), src: srcop},
                  csr_doc + "; csrrs/csrrc with rs1 = x0 and csrrsi/csrrci with uimm = 0 "
                  "only read", "Zicsr", T.ALU, fixed={"funct3": f3}, writes="x"))
    add(Instr("mul", R, _O["OP"], "{rd}, {rs1}, {rs2}", _rr,
              "x[rd] = low 32 bits of x[rs1] * x[rs2]", "M", T.MUL,
              fixed={"funct3": 0, "funct7": 1}, writes="x"))
    for name, imm, what in (("clz", 0, "count leading zeros"),
                            ("ctz", 1, "count trailing zeros"),
                            ("cpop", 2, "count set bits"),
                            ("sext.b", 4, "sign-extend the low byte"),
                            ("sext.h", 5, "sign-extend the low half")):
        add(Instr(name, R, _O["OP_IMM"], "{rd}, {rs1}", {"rd": X("rd"), "rs1": X("rs1")},
                  f"x[rd] = {what} of x[rs1]", "Zbb",
                  T.COUNT if name in ("clz", "ctz", "cpop") else T.ALU,
                  fixed={"funct3": 1, "funct7": 0b0110000, "rs2": imm}, writes="x"))
    for name, f3, what in (("min", 4, "signed minimum"), ("minu", 5, "unsigned minimum"),
                           ("max", 6, "signed maximum"), ("maxu", 7, "unsigned maximum")):
        add(Instr(name, R, _O["OP"], "{rd}, {rs1}, {rs2}", _rr, f"x[rd] = {what}", "Zbb",
                  T.ALU, fixed={"funct3": f3, "funct7": 0b0000101}, writes="x"))
    return t


def _vector():
    t = []
    add = t.append
    vsop = _O["VSOP"]
    add(Instr("vadd", VR, vsop, "{vd}, {vs1}, {vs2}", _vvv,
              "vd[i] = sat(vs1[i] + vs2[i]) with .sat, else wrap", "vector", T.VALU,
              fixed={"funct3": 0}, modifiers=(SAT,), writes="v"))
    add(Instr("vsll", VR, vsop, "{vd}, {vs1}, {vs2}", _vvv,
              "vd[i] = sat/wrap(vs1[i] << (vs2[i] & 15))", "vector", T.VMUL,
              fixed={"funct3": 1}, modifiers=(SAT,), writes="v"))
    add(Instr("vsub", VR, vsop, "{vd}, {vs1}, {vs2}", _vvv,
              "vd[i] = sat(vs1[i] - vs2[i]) with .sat, else wrap", "vector", T.VALU,
              fixed={"funct3": 2}, modifiers=(SAT,), writes="v"))
    add(Instr("vand", VR, vsop, "{vd}, {vs1}, {vs2}", _vvv, "vd[i] = vs1[i] & vs2[i]",
              "vector", T.VALU, fixed={"funct3": 3}, writes="v"))
    add(Instr("vmul", VR, vsop, "{vd}, {vs1}, {vs2}, {shift}",
              dict(_vvv, shift=UImm("shift")),
              "vd[i] = sat/wrap(rshift(vs1[i] * vs2[i], shift, round)): 16x16 -> 32-bit "
              "product, rounding shift, then saturation (.sat) or wrap", "vector", T.VMUL,
              fixed={"funct3": 4}, modifiers=(ROUND, SAT), writes="v"))
    add(Instr("vsra", VR, vsop, "{vd}, {vs1}, {vs2}", _vvv,
              "vd[i] = rshift(vs1[i], vs2[i] & 15, round)", "vector", T.VMUL,
              fixed={"funct3": 5}, modifiers=(ROUND,), writes="v"))
    add(Instr("vor", VR, vsop, "{vd}, {vs1}, {vs2}", _vvv, "vd[i] = vs1[i] | vs2[i]",
              "vector", T.VALU, fixed={"funct3": 6}, writes="v",
              why="combining spike masks and flags in one instruction instead of 3 "
                  "(FeNN has only AND)"))
    add(Instr("vxor", VR, vsop, "{vd}, {vs1}, {vs2}", _vvv, "vd[i] = vs1[i] ^ vs2[i]",
              "vector", T.VALU, fixed={"funct3": 7}, writes="v",
              why="negation and toggles in 1 instruction instead of 2-3"))
    add(Instr("vlui", VU, _O["VLUI"], "{vd}, {imm}",
              {"vd": V("rd"), "imm": SImm("imm16", accept_unsigned=True)},
              "vd[i] = imm (16 bits, written signed or as an unsigned pattern)", "vector",
              T.VALU, writes="v"))
    for name, f3, cond in (("vteq", 0, "=="), ("vtne", 2, "!="), ("vtlt", 4, "<"),
                           ("vtge", 6, ">=")):
        add(Instr(name, VR, _O["VTST"], "{rd}, {vs1}, {vs2}",
                  {"rd": X("rd"), "vs1": V("rs1"), "vs2": V("rs2")},
                  f"x[rd] = sum over lanes of (vs1[i] {cond} vs2[i]) << i: signed "
                  "compare, bits from the lane count up are 0",
                  "vector", T.VTOX, fixed={"funct3": f3}, writes="x", lane_answer="value"))
    add(Instr("vsel", VR, _O["VSEL"], "{vd}, {rs1}, {vs2}",
              {"vd": V("rd"), "rs1": X("rs1"), "vs2": V("rs2")},
              "vd[i] = vs2[i] if bit i of x[rs1] else vd[i]", "vector", T.VALU,
              writes="v", reads_rd=True))
    vmem = "a = x[rs1] + imm, a multiple of the vector size, inside vector memory"
    add(Instr("vload", I, _O["VLOAD"], "{vd}, {imm}({rs1})",
              {"vd": V("rd"), "rs1": X("rs1"), "imm": SImm()},
              f"{vmem}; vd[i] = int16 vmem[a + 2i]", "vector", T.VLOAD,
              fixed={"funct3": 0}, writes="v"))
    add(Instr("vloadl", I, _O["VLOAD"], "{vd}, {imm}({vs1})",
              {"vd": V("rd"), "vs1": V("rs1"), "imm": SImm()},
              "e = vs1[i] + imm (16-bit elements); vd[i] = lanemem_i[e], or 0 where e < 0",
              "vector", T.VLOAD, fixed={"funct3": 2}, writes="v", lane_answer="address"))
    add(Instr("vstore", S, _O["VSTORE"], "{vs2}, {imm}({rs1})",
              {"vs2": V("rs2"), "rs1": X("rs1"), "imm": SImm()},
              f"{vmem}; int16 vmem[a + 2i] = vs2[i]", "vector", T.VSTORE,
              fixed={"funct3": 0}, writes="vmem"))
    add(Instr("vstorel", S, _O["VSTORE"], "{vs2}, {imm}({vs1})",
              {"vs2": V("rs2"), "vs1": V("rs1"), "imm": SImm()},
              "e = vs1[i] + imm; lanemem_i[e] = vs2[i] unless e < 0 (lane disabled)",
              "vector", T.VSTORE, fixed={"funct3": 2}, writes="lmem", lane_answer="address"))
    add(Instr("vfill", I, _O["VMOV"], "{vd}, {rs1}", {"vd": V("rd"), "rs1": X("rs1")},
              "vd[i] = wrap(x[rs1])", "vector", T.VALU, fixed={"funct3": 0}, writes="v"))
    add(Instr("vextract", I, _O["VMOV"], "{rd}, {vs1}, {lane}",
              {"rd": X("rd"), "vs1": V("rs1"), "lane": Lane("imm_11_0")},
              "x[rd] = sext16(vs1[lane]) (lane < lanes, else illegal)", "vector", T.VTOX,
              fixed={"funct3": 1}, writes="x", lane_answer="value"))
    vspc = _O["VSPC"]
    add(Instr("vrng", VR, vspc, "{vd}", {"vd": V("rd")},
              "vd[i] = the lane generator's output r (as int16); step all lanes",
              "vector", T.VALU, fixed={"funct3": 0}, uses_rng=True, writes="v"))
    add(Instr("vandadd", VR, vspc, "{vd}, {vs1}, {rs2}, {n}",
              {"vd": V("rd"), "vs1": V("rs1"), "rs2": X("rs2"), "n": UImm("shift")},
              "vd[i] = wrap((vs1[i] & (2^n - 1)) + x[rs2]): ring-buffer lane addresses",
              "vector", T.VALU, fixed={"funct3": 1}, writes="v"))
    add(Instr("vseed", VR, vspc, "{vs1}, {vs2}", {"vs1": V("rs1"), "vs2": V("rs2")},
              "s0 of lane i = vs1[i], s1 = vs2[i] (an all-zero state stays zero)",
              "vector", T.VALU, fixed={"funct3": 2}, uses_rng=True, writes="rng",
              why="seeds from registers: 1 instruction instead of FeNN's two loads"))
    add(Instr("vrds0", VR, vspc, "{vd}", {"vd": V("rd")}, "vd[i] = s0 of lane i",
              "vector", T.VALU, fixed={"funct3": 3}, uses_rng=True, writes="v",
              why="lets the runtime save and restore generator state (checkpoints)"))
    add(Instr("vrds1", VR, vspc, "{vd}", {"vd": V("rd")}, "vd[i] = s1 of lane i",
              "vector", T.VALU, fixed={"funct3": 4}, uses_rng=True, writes="v",
              why="lets the runtime save and restore generator state (checkpoints)"))
    vimm = _O["VSOP_IMM"]
    shamt = UImm("rs2", hi=15)
    add(Instr("vslli", VR, vimm, "{vd}, {vs1}, {shamt}",
              {"vd": V("rd"), "vs1": V("rs1"), "shamt": shamt},
              "vd[i] = sat/wrap(vs1[i] << shamt)", "vector", T.VMUL,
              fixed={"funct3": 0}, modifiers=(SAT,), writes="v"))
    add(Instr("vsrai", VR, vimm, "{vd}, {vs1}, {shamt}",
              {"vd": V("rd"), "vs1": V("rs1"), "shamt": shamt},
              "vd[i] = rshift(vs1[i], shamt, round)", "vector", T.VMUL,
              fixed={"funct3": 1}, modifiers=(ROUND,), writes="v"))
    add(Instr("vsrli", VR, vimm, "{vd}, {vs1}, {shamt}",
              {"vd": V("rd"), "vs1": V("rs1"), "shamt": shamt},
              "vd[i] = (vs1[i] as uint16) >> shamt", "vector", T.VMUL,
              fixed={"funct3": 2}, writes="v",
              why="unsigned fields (packed flags, RNG bits) in 1 instruction instead of 2"))
    for name, f3, what in (("vaddi", 3, "wrap"), ("vaddi.sat", 7, "sat")):
        add(Instr(name, I, vimm, "{vd}, {vs1}, {imm}",
                  {"vd": V("rd"), "vs1": V("rs1"), "imm": SImm()},
                  f"vd[i] = {what}(vs1[i] + imm)", "vector", T.VALU, fixed={"funct3": f3},
                  writes="v",
                  why="thresholds, biases and resets by a constant: 1 instruction instead "
                      "of vlui + vadd and one vector register fewer"))
    vsop2 = _O["VSOP2"]
    for name, f3, what, timing, why in (
            ("vmin", 0, "min(vs1[i], vs2[i])", T.VALU, "clamping and refractory counters "
                                                       "in 1 instruction instead of vtlt + "
                                                       "vsel (2)"),
            ("vmax", 1, "max(vs1[i], vs2[i])", T.VALU, "ReLU-like floors in 1 instruction "
                                                       "instead of 2"),
            ("vsrl", 2, "(vs1[i] as uint16) >> (vs2[i] & 15)", T.VMUL,
             "per-lane logical shifts")):
        add(Instr(name, VR, vsop2, "{vd}, {vs1}, {vs2}", _vvv, f"vd[i] = {what}", "vector",
                  timing, fixed={"funct3": f3}, writes="v", why=why))
    vlacc = _O["VLACC"]
    acc_why = ("dense synaptic input: 1 instruction and 1 cycle per vector of synapses "
               "instead of FeNN's 4 instructions and 5.8 cycles (load, add, ...)")
    add(Instr("vlacc", VA, vlacc, "{vd}, {off}({rs1}), {shift}",
              {"vd": V("rd"), "off": SImm("imm8", scale="vector"), "rs1": X("rs1"),
               "shift": UImm("shift")},
              f"a = x[rs1] + off ({vmem}); w = int16 vmem[a + 2i]; "
              "vd[i] = sat(vd[i] + (w << shift))", "vector", T.VACC,
              fixed={"funct3": 0}, writes="v", why=acc_why, reads_rd=True))
    add(Instr("vlacc8", VA, vlacc, "{vd}, {off}({rs1}), {shift}",
              {"vd": V("rd"), "off": SImm("imm8", scale="half"), "rs1": X("rs1"),
               "shift": UImm("shift")},
              "a = x[rs1] + off, a multiple of the lane count (half a vector), inside "
              "vector memory; w = int8 vmem[a + i]; vd[i] = sat(vd[i] + (w << shift))",
              "vector", T.VACC, fixed={"funct3": 1}, writes="v", reads_rd=True,
              why=acc_why + "; 8-bit weights halve the memory of every projection, so a "
                            "700-256-20 recurrent network (250k synapses) fits on chip"))
    add(Instr("vload8", VA, vlacc, "{vd}, {off}({rs1}), {shift}",
              {"vd": V("rd"), "off": SImm("imm8", scale="half"), "rs1": X("rs1"),
               "shift": UImm("shift")},
              "a as for vlacc8; vd[i] = sat(int8 vmem[a + i] << shift)", "vector", T.VLOAD,
              fixed={"funct3": 2}, writes="v",
              why="reads packed 8-bit data (weights, delays) in 1 instruction"))
    return t


INSTRUCTIONS: tuple = tuple(_scalar() + _vector())
BY_NAME = {ins.name: ins for ins in INSTRUCTIONS}
assert len(BY_NAME) == len(INSTRUCTIONS), "duplicate mnemonic in the instruction table"
