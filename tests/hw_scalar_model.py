"""A small, independent reference model of the scalar instruction set, for RTL tests only.

Written from the table's semantics strings and its cycle model (:data:`TIMING`); it does
not share code with the RTL or the golden model (``spikevec.sim``). It executes scalar
instructions only (vector instructions are no-ops that write 0 to a scalar ``rd``, like
``NullVectorUnit``) and counts cycles with the table's scoreboard (:class:`CycleModel`):
an instruction issues when the front end delivers it (``CycleModel.next_front`` of its
predecessor: static branch prediction) and every register it reads is ready (``latency``
of the writer's timing class after the writer issued); the cycle CSR reads the issue
cycle.
"""
from __future__ import annotations

from spikevec.hw.isa import CSRS, TIMING, Kind, find

MASK = 0xFFFFFFFF


def sx(value: int) -> int:
    value &= MASK
    return value - (1 << 32) if value >> 31 else value


def reads_of(word: int) -> set[int]:
    """Scalar registers an instruction word reads (by its table entry's operands)."""
    ins = find(word)
    if ins is None:
        return set()
    return {ins.get(word, op.field) for name, op in ins.operands.items()
            if op.kind == Kind.XREG and name != "rd"}


class Halt(Exception):
    def __init__(self, cause: str, addr: int = 0):
        super().__init__(cause)
        self.cause, self.addr = cause, addr


class ScalarModel:
    """State: ``x`` (32 registers), ``mem`` (bytearray data memory), ``pc``, ``cycles``,
    ``instret``; after :meth:`run`, ``cause``, ``trap_pc``, ``trap_addr``."""

    def __init__(self, config, program, data: bytes = b""):
        self.config = config
        self.ready = [0] * 32
        self.program = list(program)
        self.x = [0] * 32
        self.mem = bytearray(config.dmem_bytes)
        self.mem[:len(data)] = data
        self.pc = self.cycles = self.instret = 0
        self.cause = None
        self.trap_pc = self.trap_addr = 0

    def word_at(self, pc: int):
        if pc % 4 or pc >= self.config.imem_bytes:
            return None
        index = pc // 4
        return self.program[index] if index < len(self.program) else 0

    def run(self, max_steps: int = 100000):
        for _ in range(max_steps):
            try:
                self.step()
            except Halt as halt:
                self.cause, self.trap_pc, self.trap_addr = halt.cause, self.pc, halt.addr
                return self
        raise RuntimeError("The program did not halt.")

    def _access(self, addr: int, size: int, cause: str, issue: int) -> int:
        addr &= MASK
        if addr % size or addr + size > self.config.dmem_bytes:
            self.cycles = issue          # a fault stop reads the issue cycle (CycleModel)
            raise Halt(cause, addr)
        return addr

    def step(self):
        pc, x = self.pc, self.x
        word = self.word_at(pc)
        if word is None:
            raise Halt("FETCH_FAULT", pc)
        ins = find(word)
        if ins is None or not ins.legal(word, self.config):
            raise Halt("ILLEGAL")
        ops, _ = ins.decode(word, self.config)
        name = ins.name
        issue = max([self.cycles] + [self.ready[r] for r in reads_of(word) if r])
        if name.startswith("csr"):
            writes = name in ("csrrw", "csrrwi") or ins.get(word, "rs1") != 0
            if writes or ops["csr"] not in CSRS.values():
                raise Halt("ILLEGAL")
        if name in ("ecall", "ebreak"):
            self.cycles = issue + 1
            self.instret += 1
            raise Halt(name.upper())
        a = x[ins.get(word, "rs1")] if ins.fmt.has_field("rs1") else 0
        b = x[ins.get(word, "rs2")] if ins.fmt.has_field("rs2") else 0
        imm = ops.get("imm", 0)
        result, next_pc, taken = None, pc + 4, False
        sa, sb = sx(a), sx(b)
        alu = {
            "addi": lambda: a + imm, "slti": lambda: int(sa < imm),
            "sltiu": lambda: int(a < (imm & MASK)), "xori": lambda: a ^ imm,
            "ori": lambda: a | imm, "andi": lambda: a & imm,
            "add": lambda: a + b, "sub": lambda: a - b, "sll": lambda: a << (b & 31),
            "slt": lambda: int(sa < sb), "sltu": lambda: int(a < b), "xor": lambda: a ^ b,
            "srl": lambda: a >> (b & 31), "sra": lambda: sa >> (b & 31),
            "or": lambda: a | b, "and": lambda: a & b, "mul": lambda: a * b,
            "min": lambda: min(sa, sb), "max": lambda: max(sa, sb),
            "minu": lambda: min(a, b), "maxu": lambda: max(a, b),
            "clz": lambda: 32 - a.bit_length(),
            "ctz": lambda: ((a & -a).bit_length() - 1) if a else 32,
            "cpop": lambda: bin(a).count("1"),
            "sext.b": lambda: sx(a << 24) >> 24, "sext.h": lambda: sx(a << 16) >> 16,
            "lui": lambda: ops.get("imm", 0) << 12, "auipc": lambda: pc + (ops["imm"] << 12),
        }
        if name in alu:
            result = alu[name]()
        elif name in ("slli", "srli", "srai"):
            sh = ops["shamt"]
            result = {"slli": a << sh, "srli": a >> sh, "srai": sa >> sh}[name]
        elif name in ("jal", "jalr"):
            result = pc + 4
            next_pc = pc + ops["off"] if name == "jal" else (a + imm) & ~1
            taken = True
        elif ins.timing == "branch":
            taken = {"beq": a == b, "bne": a != b, "blt": sa < sb, "bge": sa >= sb,
                     "bltu": a < b, "bgeu": a >= b}[name]
            if taken:
                next_pc = pc + ops["off"]
        elif ins.timing == "load":
            size = {"lb": 1, "lbu": 1, "lh": 2, "lhu": 2, "lw": 4}[name]
            addr = self._access(a + imm, size, "LOAD_FAULT", issue)
            raw = int.from_bytes(self.mem[addr:addr + size], "little")
            result = sx(raw << (32 - 8 * size)) >> (32 - 8 * size) if name in ("lb", "lh") \
                else raw
        elif ins.timing == "store":
            size = {"sb": 1, "sh": 2, "sw": 4}[name]
            addr = self._access(a + imm, size, "STORE_FAULT", issue)
            self.mem[addr:addr + size] = (b & ((1 << 8 * size) - 1)).to_bytes(size, "little")
        elif name.startswith("csr"):
            counters = {"cycle": issue, "cycleh": issue >> 32,
                        "instret": self.instret, "instreth": self.instret >> 32}
            number_to_name = {v: k for k, v in CSRS.items()}
            result = counters[number_to_name[ops["csr"]]]
        elif ins.is_vector and ins.writes == "x":
            result = 0
        if result is not None and ins.get(word, "rd"):
            x[ins.get(word, "rd")] = result & MASK
            self.ready[ins.get(word, "rd")] = issue + TIMING.latency_of(ins.timing)
        self.pc = next_pc & MASK
        self.cycles = TIMING.next_front(name, ins.timing, taken, ops.get("off", 0),
                                        self.cycles, issue)
        self.instret += 1
