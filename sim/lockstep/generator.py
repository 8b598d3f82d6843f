"""Constrained-random programs for lockstep verification of the RTL against the golden model.

:func:`generate(seed, config, length, mix)` returns a :class:`~spikevec.sw.asm.Program`
that always terminates with ``ecall`` without faulting. The same seed, configuration,
length and mix give the same program (Python's ``random.Random(seed)`` only).

What is generated (every encoding comes from the instruction table, ``Instr.encode``):

* scalar RV32I register/immediate ALU instructions, ``lui``/``auipc``, ``mul``, the Zbb
  subset, ``fence`` and counter CSR reads (``csrrs``/``csrrc`` with ``x0``,
  ``csrrsi``/``csrrci`` with 0: the forms that only read);
* loads and stores of every width within the first ``data_bytes`` of data memory,
  naturally aligned, from a base register (``x29``) or ``x0``;
* forward branches and jumps (``jal``, ``auipc`` + ``jalr``) over 1-4 instructions, and
  bounded loops (counter ``x28`` from 1-5 down to 0, body without control flow);
* with ``mix.vector > 0``: vector ALU, immediate, shift, multiply (every rounding mode),
  compare, ``vsel``, ``vfill``/``vextract``, ``vrng``/``vseed``/``vrds*``, ``vandadd``,
  vector-memory loads/stores/accumulates at legal aligned addresses (``x0`` base), and
  lane-local loads/stores through ``v31``, which holds small lane addresses and is never
  overwritten.

Source registers favour recently written ones, so forwarding and interlocks are stressed.
Reserved registers: ``x28`` (loop counter), ``x29`` (data base), ``x30`` (jump base),
``v31`` (lane addresses).
"""
from __future__ import annotations

import random
from dataclasses import dataclass, fields

from ...hw.config import CoreConfig
from ...hw.isa import BY_NAME, CSRS

__all__ = ["Mix", "generate", "SCALAR_MIX", "VECTOR_MIX"]

LOOP, BASE, JBASE = 28, 29, 30
FREE_X = tuple(range(1, 28))
LANE_ADDR_V = 31
FREE_V = tuple(range(0, 31))

_ALU_R = ("add", "sub", "sll", "slt", "sltu", "xor", "srl", "sra", "or", "and",
          "min", "minu", "max", "maxu")
_ALU_I = ("addi", "slti", "sltiu", "xori", "ori", "andi")
_SHIFT_I = ("slli", "srli", "srai")
_ZBB = ("clz", "ctz", "cpop", "sext.b", "sext.h")
_LOADS = {"lb": 1, "lbu": 1, "lh": 2, "lhu": 2, "lw": 4}
_STORES = {"sb": 1, "sh": 2, "sw": 4}
_BRANCHES = ("beq", "bne", "blt", "bge", "bltu", "bgeu")
_V_RRR = ("vadd", "vsll", "vsub", "vand", "vmul", "vsra", "vor", "vxor", "vmin", "vmax",
          "vsrl")
_V_SHIFT_I = ("vslli", "vsrai", "vsrli")
_V_TEST = ("vteq", "vtne", "vtlt", "vtge")


@dataclass(frozen=True)
class Mix:
    """Relative weights of instruction groups (0 disables a group)."""
    alu: int = 30
    alu_imm: int = 25
    upper: int = 4
    mul: int = 6
    zbb: int = 6
    csr: int = 3
    load: int = 12
    store: int = 10
    branch: int = 6
    jump: int = 3
    loop: int = 2
    vector: int = 0

    def __post_init__(self):
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, int) or value < 0:
                raise ValueError(f"Mix.{f.name} = {value!r} is not a weight; give an "
                                 f"integer >= 0.")
        if not any(getattr(self, f.name) for f in fields(self)):
            raise ValueError("Every Mix weight is 0; enable at least one group.")


SCALAR_MIX = Mix()
VECTOR_MIX = Mix(vector=40)


class _Gen:
    def __init__(self, rng: random.Random, config: CoreConfig, mix: Mix, data_bytes: int):
        self.rng, self.config, self.mix = rng, config, mix
        self.data_bytes = data_bytes
        self.words: list[int] = []
        self.recent: list[int] = []
        self.recent_v: list[int] = []
        self.groups = [f.name for f in fields(mix) if getattr(mix, f.name)]
        self.weights = [getattr(mix, g) for g in self.groups]

    # Helpers ---------------------------------------------------------------------------
    def emit(self, name, mods=None, **ops):
        self.words.append(BY_NAME[name].encode(self.config, mods, **ops))

    def src(self) -> int:
        r = self.rng
        if self.recent and r.random() < 0.5:
            return r.choice(self.recent[-3:])
        return r.choice((0,) + FREE_X) if r.random() < 0.1 else r.choice(FREE_X)

    def dst(self) -> int:
        rd = self.rng.choice(FREE_X)
        self.recent = (self.recent + [rd])[-6:]
        return rd

    def vsrc(self) -> int:
        r = self.rng
        if self.recent_v and r.random() < 0.5:
            return r.choice(self.recent_v[-3:])
        return r.choice(FREE_V)

    def vdst(self) -> int:
        vd = self.rng.choice(FREE_V)
        self.recent_v = (self.recent_v + [vd])[-6:]
        return vd

    def li(self, rd, value):
        value &= 0xFFFFFFFF
        lo = value & 0xFFF
        lo = lo - 0x1000 if lo & 0x800 else lo
        hi = ((value - lo) >> 12) & 0xFFFFF
        self.emit("lui", rd=rd, imm=hi)
        self.emit("addi", rd=rd, rs1=rd, imm=lo)

    def interesting(self) -> int:
        r = self.rng
        return r.choice((0, 1, 0xFFFFFFFF, 0x7FFFFFFF, 0x80000000, r.getrandbits(32),
                         r.getrandbits(32), r.randrange(-64, 64) & 0xFFFFFFFF,
                         r.getrandbits(16), r.getrandbits(8)))

    # Prologue --------------------------------------------------------------------------
    def prologue(self):
        r = self.rng
        for rd in FREE_X:
            if r.random() < 0.7:
                self.li(rd, self.interesting())
        base = r.randrange(256, self.data_bytes - 256 + 1, 4)
        self.li(BASE, base)
        if self.mix.vector:
            for vd in range(0, 31, 3):
                self.emit("vlui", vd=vd, imm=r.randrange(-32768, 32768))
            for vd in range(1, 31, 3):
                self.emit("vrng", vd=vd)          # lanes differ (unseeded: zeros)
            self.li(1, r.getrandbits(32))
            self.emit("vfill", vd=2, rs1=1)
            limit = max(1, self.config.lane_mem_elements - 64)
            self.emit("vlui", vd=LANE_ADDR_V, imm=r.randrange(0, min(limit, 32767)))
            self.emit("vseed", vs1=0, vs2=2)

    # Simple (straight-line) instructions -----------------------------------------------
    def simple(self, group=None):
        r = self.rng
        group = group or r.choices(self.groups, self.weights)[0]
        if group in ("branch", "jump", "loop"):
            group = "alu"
        if group == "alu":
            self.emit(r.choice(_ALU_R), rs1=self.src(), rs2=self.src(), rd=self.dst())
        elif group == "alu_imm":
            if r.random() < 0.3:
                self.emit(r.choice(_SHIFT_I), rs1=self.src(), shamt=r.randrange(32),
                          rd=self.dst())
            else:
                self.emit(r.choice(_ALU_I), rs1=self.src(), imm=r.randrange(-2048, 2048),
                          rd=self.dst())
        elif group == "upper":
            name = r.choice(("lui", "auipc"))
            self.emit(name, rd=self.dst(), imm=r.getrandbits(20))
        elif group == "mul":
            self.emit("mul", rs1=self.src(), rs2=self.src(), rd=self.dst())
        elif group == "zbb":
            if r.random() < 0.1:
                self.emit("fence")
            else:
                self.emit(r.choice(_ZBB), rs1=self.src(), rd=self.dst())
        elif group == "csr":
            csr = CSRS[r.choice(list(CSRS))]
            name = r.choice(("csrrs", "csrrc", "csrrsi", "csrrci"))
            src = {"rs1": 0} if name in ("csrrs", "csrrc") else {"uimm": 0}
            self.emit(name, rd=self.dst(), csr=csr, **src)
        elif group == "load":
            name = r.choice(list(_LOADS))
            rs1, imm = self.address(_LOADS[name])
            self.emit(name, rd=self.dst(), rs1=rs1, imm=imm)
        elif group == "store":
            name = r.choice(list(_STORES))
            rs1, imm = self.address(_STORES[name])
            self.emit(name, rs2=self.src(), rs1=rs1, imm=imm)
        elif group == "vector":
            self.vector()
        else:                                       # pragma: no cover
            raise AssertionError(group)

    def address(self, size):
        r = self.rng
        if r.random() < 0.2:
            return 0, r.randrange(0, min(2048, self.data_bytes), size)
        return BASE, r.randrange(-256, 256, size)

    def vector(self):
        r, cfg = self.rng, self.config
        kind = r.choices(("rrr", "imm", "shift", "test", "sel", "move", "rng", "mem",
                          "lane"), (30, 8, 8, 6, 4, 8, 5, 12, 5))[0]
        if kind == "rrr":
            name = r.choice(_V_RRR)
            mods = {m.name: r.choice(m.values()) for m in BY_NAME[name].modifiers}
            ops = dict(vs1=self.vsrc(), vs2=self.vsrc())
            if name == "vmul":
                ops["shift"] = r.randrange(16)
            self.emit(name, mods, vd=self.vdst(), **ops)
        elif kind == "imm":
            name = r.choice(("vaddi", "vaddi.sat"))
            self.emit(name, vd=self.vdst(), vs1=self.vsrc(), imm=r.randrange(-2048, 2048))
        elif kind == "shift":
            name = r.choice(_V_SHIFT_I)
            mods = {m.name: r.choice(m.values()) for m in BY_NAME[name].modifiers}
            self.emit(name, mods, vd=self.vdst(), vs1=self.vsrc(), shamt=r.randrange(16))
        elif kind == "test":
            self.emit(r.choice(_V_TEST), rd=self.dst(), vs1=self.vsrc(), vs2=self.vsrc())
        elif kind == "sel":
            self.emit("vsel", vd=self.vdst(), rs1=self.src(), vs2=self.vsrc())
        elif kind == "move":
            choice = r.random()
            if choice < 0.4:
                self.emit("vfill", vd=self.vdst(), rs1=self.src())
            elif choice < 0.7:
                self.emit("vextract", rd=self.dst(), vs1=self.vsrc(),
                          lane=r.randrange(cfg.lanes))
            elif choice < 0.85:
                self.emit("vlui", vd=self.vdst(), imm=r.randrange(-32768, 32768))
            else:
                self.emit("vandadd", vd=self.vdst(), vs1=self.vsrc(), rs2=self.src(),
                          n=r.randrange(16))
        elif kind == "rng":
            name = r.choice(("vrng", "vrds0", "vrds1", "vseed"))
            if name == "vseed":
                self.emit(name, vs1=self.vsrc(), vs2=self.vsrc())
            else:
                self.emit(name, vd=self.vdst())
        elif kind == "mem":
            vb = cfg.vector_bytes
            top = min(2048, cfg.vmem_bytes)
            name = r.choice(("vload", "vstore", "vlacc", "vlacc8", "vload8"))
            if name in ("vload", "vstore"):
                imm = r.randrange(0, top - vb + 1, vb)
                if name == "vload":
                    self.emit(name, vd=self.vdst(), rs1=0, imm=imm)
                else:
                    self.emit(name, vs2=self.vsrc(), rs1=0, imm=imm)
            else:
                scale = vb if name == "vlacc" else cfg.lanes
                size = vb if name == "vlacc" else cfg.lanes
                hi = min(127 * scale, cfg.vmem_bytes - size)
                off = r.randrange(0, hi + 1, scale)
                self.emit(name, vd=self.vdst(), off=off, rs1=0, shift=r.randrange(16))
        else:                                        # lane-local through v31
            imm = r.randrange(-8, 32)
            if r.random() < 0.5:
                self.emit("vloadl", vd=self.vdst(), vs1=LANE_ADDR_V, imm=imm)
            else:
                self.emit("vstorel", vs2=self.vsrc(), vs1=LANE_ADDR_V, imm=imm)

    # Control flow ----------------------------------------------------------------------
    def forward_branch(self):
        r = self.rng
        k = r.randrange(1, 5)
        self.emit(r.choice(_BRANCHES), rs1=self.src(), rs2=self.src(), off=4 * (k + 1))
        for _ in range(k):
            self.simple()

    def jump(self):
        r = self.rng
        k = r.randrange(1, 5)
        if r.random() < 0.5:
            self.emit("jal", rd=self.dst() if r.random() < 0.7 else 0, off=4 * (k + 1))
        else:
            self.emit("auipc", rd=JBASE, imm=0)
            self.emit("jalr", rd=self.dst() if r.random() < 0.7 else 0, rs1=JBASE,
                      imm=8 + 4 * k + (r.random() < 0.3))   # bit 0 is ignored
        for _ in range(k):
            self.simple()

    def loop(self):
        r = self.rng
        self.emit("addi", rd=LOOP, rs1=0, imm=r.randrange(1, 6))
        body = r.randrange(1, 6)
        for _ in range(body):
            self.simple()
        self.emit("addi", rd=LOOP, rs1=LOOP, imm=-1)
        self.emit("bne", rs1=LOOP, rs2=0, off=-4 * (body + 1))

    def body(self, length):
        target = len(self.words) + length
        while len(self.words) < target:
            group = self.rng.choices(self.groups, self.weights)[0]
            if group == "branch":
                self.forward_branch()
            elif group == "jump":
                self.jump()
            elif group == "loop":
                self.loop()
            else:
                self.simple(group)


def generate(seed: int, config: CoreConfig, length: int = 1000, mix: Mix = SCALAR_MIX,
             data_bytes: int = 2048):
    """A random terminating program of about ``length`` static instructions (see the
    module docstring). ``data_bytes`` (at least 512, at most data memory) bounds the
    scalar data the program touches and is filled with random initial data."""
    from ...sw.asm.program import Program
    if not 512 <= data_bytes <= config.dmem_bytes:
        raise ValueError(f"data_bytes = {data_bytes} must lie between 512 and the data "
                         f"memory size {config.dmem_bytes}.")
    if mix.vector and config.vmem_bytes < 2 * config.vector_bytes:
        raise ValueError("The vector mix needs at least two vectors of vector memory.")
    rng = random.Random(seed)
    gen = _Gen(rng, config, mix, data_bytes)
    gen.prologue()
    gen.body(length)
    gen.emit("ecall")
    if len(gen.words) > config.imem_words:
        raise ValueError(f"The generated program has {len(gen.words)} instructions but "
                         f"instruction memory holds {config.imem_words}; lower length.")
    data = bytes(rng.getrandbits(8) for _ in range(data_bytes))
    vdata = b""
    if mix.vector:
        vdata = bytes(rng.getrandbits(8) for _ in range(min(4096, config.vmem_bytes)))
    return Program(config=config, text=gen.words, data=data, vdata=vdata)
