"""The vector decoder: the ONE place where table instructions become lane controls.

:data:`LANE_MAP` maps every vector instruction of :data:`spikevec.hw.isa.INSTRUCTIONS`, by
mnemonic, to what the lanes do with it (:class:`LaneOp`); :class:`VectorDecoder` turns an
instruction word into a :class:`VectorControl` record, recognising each entry by the
table's own ``(mask, match)`` pair. Everything else comes from the table entry itself: the timing class and its
latency (:data:`~spikevec.hw.isa.TIMING`), which registers are read and written (operand
kinds and fields, ``reads_rd``, ``writes``), the modifiers present (``sat``, ``round``)
and the immediate operand (field, signedness, scale). Modifier fields and immediates are
read through ``data.View`` of the format layouts; no opcode, funct or bit position is
written here.

Importing the module checks that :data:`LANE_MAP` covers exactly the table's vector
instructions, so a new table row fails loudly until it is mapped here.
"""
from dataclasses import dataclass

from amaranth.hdl import Const, Module, Mux, Signal, signed
from amaranth.lib import data, enum, wiring
from amaranth.lib.wiring import In, Out

from ..config import CoreConfig
from ..isa import FORMATS, INSTRUCTIONS, TIMING, Kind
from ..isa.operands import ROUND, SAT
from ..rtl.decoder import Decoder
from .arith import RoundMode
from .lane_alu import AluControl, AluOp
from .lane_multiplier import MulControl, MulOp

__all__ = ["BSource", "ResultSource", "XSource", "TestCond", "VectorControl", "LaneOp",
           "LANE_MAP", "VectorDecoder", "vector_instructions", "vector_reads"]


class BSource(enum.Enum, shape=3):
    """The ALU's ``b`` operand: ``vs2[i]``, the immediate, the scalar operand, ``vsel``'s
    choice ``vs2[i] if mask bit i else vd[i]``, or generator state half ``s0``/``s1``."""
    VS2 = 0
    IMM = 1
    SCALAR = 2
    SELECT = 3
    RNG_S0 = 4
    RNG_S1 = 5


class ResultSource(enum.Enum, shape=2):
    """Which lane unit produces the vector result."""
    ALU = 0
    MUL = 1
    LOADED = 2    # the load stage: vload, vload8, vloadl
    ACC = 3       # the load stage then the accumulate adder: vlacc, vlacc8


class XSource(enum.Enum, shape=2):
    """Which value an instruction writes to ``x[rd]`` (``x_result``)."""
    NONE = 0
    TEST = 1      # vteq/vtne/vtlt/vtge: one bit per lane
    EXTRACT = 2   # vextract: sext16 of one lane


class TestCond(enum.Enum, shape=2):
    EQ = 0
    NE = 1
    LT = 2
    GE = 3


class MemKind(enum.Enum, shape=2):
    NONE = 0
    VECTOR = 1    # vector memory: vload, vload8, vlacc, vlacc8, vstore
    LANE = 2      # lane-local memories: vloadl, vstorel


@dataclass(frozen=True)
class LaneOp:
    """What the lanes do for one instruction (the rest is derived from the table)."""
    alu: AluOp = AluOp.PASS_B
    b: BSource = BSource.VS2
    result: ResultSource = ResultSource.ALU
    mul: MulOp = MulOp.MUL         # with result MUL: vmul or a shift (amount from b)
    saturate: bool | None = None   # forced value; None: the SAT modifier, if any
    x: XSource = XSource.NONE
    test: TestCond = TestCond.EQ
    mem: MemKind = MemKind.NONE
    store: bool = False
    byte: bool = False             # packed 8-bit vector-memory access (half a row)
    seed: bool = False             # vseed
    step: bool = False             # always steps the generators (vrng)
    scalar_rs2: bool = False       # BSource.SCALAR is x[rs2] (else x[rs1])


_A = AluOp
LANE_MAP = {
    "vadd": LaneOp(_A.ADD), "vsub": LaneOp(_A.SUBTRACT), "vand": LaneOp(_A.AND),
    "vor": LaneOp(_A.OR), "vxor": LaneOp(_A.XOR), "vmin": LaneOp(_A.MIN),
    "vmax": LaneOp(_A.MAX),
    "vsll": LaneOp(result=ResultSource.MUL, mul=MulOp.SHIFT_LEFT),
    "vsra": LaneOp(result=ResultSource.MUL, mul=MulOp.SHIFT_RIGHT_ARITHMETIC),
    "vsrl": LaneOp(result=ResultSource.MUL, mul=MulOp.SHIFT_RIGHT_LOGICAL),
    "vslli": LaneOp(b=BSource.IMM, result=ResultSource.MUL, mul=MulOp.SHIFT_LEFT),
    "vsrai": LaneOp(b=BSource.IMM, result=ResultSource.MUL,
                    mul=MulOp.SHIFT_RIGHT_ARITHMETIC),
    "vsrli": LaneOp(b=BSource.IMM, result=ResultSource.MUL,
                    mul=MulOp.SHIFT_RIGHT_LOGICAL),
    "vaddi": LaneOp(_A.ADD, BSource.IMM, saturate=False),
    "vaddi.sat": LaneOp(_A.ADD, BSource.IMM, saturate=True),
    "vmul": LaneOp(result=ResultSource.MUL),
    "vlui": LaneOp(_A.PASS_B, BSource.IMM),
    "vfill": LaneOp(_A.PASS_B, BSource.SCALAR),
    "vsel": LaneOp(_A.PASS_B, BSource.SELECT),
    "vrng": LaneOp(_A.RANDOM, step=True),
    "vandadd": LaneOp(_A.AND_ADD, BSource.SCALAR, scalar_rs2=True),
    "vrds0": LaneOp(_A.PASS_B, BSource.RNG_S0), "vrds1": LaneOp(_A.PASS_B, BSource.RNG_S1),
    "vseed": LaneOp(seed=True),
    "vteq": LaneOp(x=XSource.TEST, test=TestCond.EQ),
    "vtne": LaneOp(x=XSource.TEST, test=TestCond.NE),
    "vtlt": LaneOp(x=XSource.TEST, test=TestCond.LT),
    "vtge": LaneOp(x=XSource.TEST, test=TestCond.GE),
    "vextract": LaneOp(x=XSource.EXTRACT),
    "vload": LaneOp(result=ResultSource.LOADED, mem=MemKind.VECTOR),
    "vload8": LaneOp(result=ResultSource.LOADED, mem=MemKind.VECTOR, byte=True),
    "vlacc": LaneOp(result=ResultSource.ACC, mem=MemKind.VECTOR),
    "vlacc8": LaneOp(result=ResultSource.ACC, mem=MemKind.VECTOR, byte=True),
    "vstore": LaneOp(mem=MemKind.VECTOR, store=True),
    "vloadl": LaneOp(result=ResultSource.LOADED, mem=MemKind.LANE),
    "vstorel": LaneOp(mem=MemKind.LANE, store=True),
}


def vector_instructions():
    return [ins for ins in INSTRUCTIONS if ins.is_vector]


def _check_map():
    names = {ins.name for ins in vector_instructions()}
    missing, extra = sorted(names - set(LANE_MAP)), sorted(set(LANE_MAP) - names)
    if missing or extra:
        raise AssertionError(f"The vector decoder's LANE_MAP does not match the instruction "
                             f"table: unmapped vector instructions {missing}, mapped names "
                             f"that are not in the table {extra}. Add or remove them in "
                             f"hw/vector_unit/vector_decoder.py.")


_check_map()

_ROUND_MODES = {ROUND.suffixes[""]: RoundMode.FLOOR, ROUND.suffixes[".rn"]: RoundMode.HALF_UP,
                ROUND.suffixes[".rs"]: RoundMode.STOCHASTIC}
_LATENCY_BITS = 3


class VectorControl(data.Struct):
    """Everything the vector unit needs to know about one instruction.

    ``vd``/``vs1``/``vs2`` are the register fields; ``reads_*``/``writes_v`` say which
    vector registers it reads and writes (for the scoreboard and the bypasses);
    ``latency`` is its timing class's result latency; ``imm`` its immediate operand as
    written (scaled, sign-extended; the shift amount of ``vslli``/``vsrai``/``vsrli``;
    the lane of ``vextract``); ``shift`` the weight shift of ``vlacc``/``vlacc8``/
    ``vload8`` (0 otherwise); ``rng_step`` whether it steps the generators.
    """
    vector: 1
    alu: AluControl
    mul: MulControl
    b_source: BSource
    scalar_rs2: 1
    result: ResultSource
    writes_v: 1
    latency: _LATENCY_BITS
    reads_vs1: 1
    reads_vs2: 1
    reads_vd: 1
    lane_wait: range(TIMING.max_lane_wait + 1)
    rng_step: 1
    rng_seed: 1
    x_source: XSource
    test: TestCond
    mem: MemKind
    store: 1
    byte: 1
    shift: 4
    vd: 5
    vs1: 5
    vs2: 5
    imm: signed(32)


def _immediate(ins, views, config):
    """The value of ``ins``'s immediate operand (not its shift field), or 0."""
    for op in ins.operands.values():
        if op.kind not in (Kind.SIMM, Kind.UIMM, Kind.LANE) or op.field == "shift":
            continue
        if op.field == "imm":
            value = Decoder._assemble_imm(ins.fmt, views[ins.fmt.name])
        else:
            raw = views[ins.fmt.name][op.field]
            value = raw.as_signed() if op.kind == Kind.SIMM else raw.as_unsigned()
        scale = op.scale_for(config)
        assert scale & (scale - 1) == 0, f"{ins.name}: scale {scale} is not a power of 2"
        return value << (scale.bit_length() - 1)
    return Const(0, signed(32))


class VectorDecoder(wiring.Component):
    """Combinational (zero latency): ``valid`` and ``word`` (32) in, ``ctl``
    (:class:`VectorControl`) out. For ``valid`` low or a word that is no vector
    instruction of the table the control is all zero but the register fields (``vector``
    low: reads and writes nothing). Words the scalar decoder finds illegal (reserved
    modifier values) decode to their entry's control; the core traps them in EX."""

    def __init__(self, config: CoreConfig):
        self.config = config
        super().__init__({"valid": In(1), "word": In(32), "ctl": Out(VectorControl)})

    def elaborate(self, platform):
        m = Module()
        cfg, ctl = self.config, self.ctl
        views = {name: data.View(fmt.layout, self.word) for name, fmt in FORMATS.items()}
        vr = views["VR"]
        # One-hot: each table entry's own (mask, match) test, and each control bit an
        # AND-OR of those tests with the entry's value (the entries are disjoint), so the
        # control is two shallow levels of logic from the word (no binary opcode
        # encoded and decoded again: at 32 lanes it fans out across the chip).
        combined = 0
        for k, ins in enumerate(vector_instructions()):
            hit = Signal(name=f"hit_{k}")
            mine = Signal(VectorControl, name=f"ctl_{k}")
            m.d.comb += [hit.eq(self.valid & ((self.word & ins.mask) == ins.match)),
                         self._controls(ins, mine, views, cfg)]
            combined = combined | (hit.replicate(len(mine.as_value())) & mine.as_value())
        m.d.comb += ctl.eq(combined)
        # Register fields sit at the same place in every format (the scalar decoder
        # checks it); read them through the VR layout.
        m.d.comb += [ctl.vd.eq(vr.rd), ctl.vs1.eq(vr.rs1), ctl.vs2.eq(vr.rs2)]
        return m

    def _controls(self, ins, ctl, views, cfg):
        """Statements setting ``ctl`` (all but the register fields) to ``ins``'s
        control."""
        lane = LANE_MAP[ins.name]
        view = views[ins.fmt.name]
        latency = TIMING.latency_of(ins.timing)
        assert 1 <= latency < (1 << _LATENCY_BITS), f"{ins.name}: latency {latency}"
        vregs = vector_reads(ins)
        has = {mod.name for mod in ins.modifiers}
        saturate = (Const(int(lane.saturate), 1) if lane.saturate is not None else
                    view[SAT.field] if SAT.name in has else Const(0, 1))
        round_mode = RoundMode.FLOOR
        stochastic = Const(0, 1)
        if ROUND.name in has:
            round_mode = _round_mode(view[ROUND.field])
            stochastic = view[ROUND.field] == ROUND.suffixes[".rs"]
        shift = view["shift"] if ins.fmt.has_field("shift") else Const(0, 4)
        writes_v = ins.writes == "v"
        stmts = [
            ctl.vector.eq(1),
            ctl.alu.op.eq(lane.alu), ctl.alu.saturate.eq(saturate), ctl.alu.shift.eq(shift),
            ctl.mul.saturate.eq(saturate), ctl.mul.round.eq(round_mode),
            ctl.mul.shift.eq(shift), ctl.mul.op.eq(lane.mul),
            ctl.b_source.eq(lane.b), ctl.scalar_rs2.eq(lane.scalar_rs2),
            ctl.result.eq(lane.result), ctl.writes_v.eq(writes_v),
            ctl.latency.eq(latency if writes_v else 1),
            ctl.reads_vs1.eq("rs1" in vregs), ctl.reads_vs2.eq("rs2" in vregs),
            ctl.reads_vd.eq("rd" in vregs), ctl.lane_wait.eq(TIMING.lane_wait(ins.lane_answer)),
            ctl.rng_step.eq(Const(int(lane.step), 1) | stochastic),
            ctl.rng_seed.eq(lane.seed),
            ctl.x_source.eq(lane.x), ctl.test.eq(lane.test),
            ctl.mem.eq(lane.mem), ctl.store.eq(lane.store), ctl.byte.eq(lane.byte),
            ctl.imm.eq(_immediate(ins, views, cfg)),
        ]
        if lane.mem == MemKind.VECTOR and not lane.store and ins.fmt.has_field("shift"):
            stmts.append(ctl.shift.eq(shift))
        return stmts


def vector_reads(ins) -> set:
    """The register fields (``"rs1"``, ``"rs2"``, ``"rd"``) whose vector registers the
    ISA instruction ``ins`` reads."""
    return {op.field for op in ins.operands.values()
            if op.kind == Kind.VREG and (op.field != "rd" or ins.reads_rd)}


def _round_mode(field):
    """The :class:`RoundMode` of a ``round`` modifier field value (reserved -> FLOOR)."""
    result = Const(RoundMode.FLOOR.value, 2)
    for value, member in _ROUND_MODES.items():
        result = Mux(field == value, member.value, result)
    return result
