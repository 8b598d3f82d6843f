"""Compare the golden model's write-back trace with the RTL's retire records.

The streams are compared per kind (x-register writes in order, data-memory writes in
order, v-register writes, vector-memory writes, lane-memory writes, generator seeds), so
the relative timing of scalar and vector write-back in the pipeline does not matter.
Among the kinds that diverge, the divergence of the earliest instruction (lowest golden
``instret``) is reported: :func:`first_divergence` returns a :class:`Divergence` whose
:meth:`Divergence.report` names the pc, the disassembly, the instret, what was written
(expected and actual) and the instructions executed just before.

RTL records are the lists recorded by ``sim/rtl/cocotb_soc.py`` (``retire``):
``x: [pc, rd, value]``, ``mem: [pc, word_addr, byte_en, data]``, ``v: [pc, reg, value]``,
``vmem: [pc, addr, value]``, ``lmem: [pc, lanes_mask, addrs, values]``,
``rng: [pc, s0, s1]`` (vectors as unsigned integers, lane 0 in the low 16 bits).
"""
from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Write", "Divergence", "golden_streams", "rtl_streams", "first_divergence",
           "KINDS"]

KINDS = ("x", "mem", "v", "vmem", "lmem", "rng")
_KIND_TEXT = {"x": "x-register writes", "mem": "data-memory stores",
              "v": "v-register writes", "vmem": "vector-memory stores",
              "lmem": "lane-memory stores", "rng": "generator seeds (vseed)"}


@dataclass(frozen=True)
class Write:
    """One architectural write, normalised for comparison. ``key`` is what must agree:
    the writing instruction's pc, the place, the value, the size and the lane."""
    kind: str
    pc: int
    where: int
    value: object
    size: int = 0
    lane: int = -1
    instret: int | None = None        # known for golden writes only

    @property
    def key(self):
        return (self.pc, self.where, self.value, self.size, self.lane)

    def describe(self) -> str:
        if self.kind == "x":
            return f"x{self.where} = 0x{self.value:08x}"
        if self.kind == "mem":
            return f"dmem[0x{self.where:x}] ({self.size} bytes) = 0x{self.value:x}"
        if self.kind == "v":
            return f"v{self.where} = {list(self.value)}"
        if self.kind == "vmem":
            return f"vmem[0x{self.where:x}] = {list(self.value)}"
        if self.kind == "lmem":
            return f"lane {self.lane} lmem[{self.where}] = {self.value}"
        return f"rng s{self.where} = {list(self.value)}"


def _s16(value: int) -> int:
    value &= 0xFFFF
    return value - 0x10000 if value & 0x8000 else value


def _lanes(value: int, lanes: int, signed: bool = True) -> tuple:
    return tuple((_s16 if signed else (lambda v: v & 0xFFFF))(value >> (16 * i))
                 for i in range(lanes))


def golden_streams(trace) -> dict[str, list[Write]]:
    """Per-kind lists of the golden model's :class:`TraceRecord` writes."""
    out = {k: [] for k in KINDS}
    for r in trace:
        value = tuple(r.value) if isinstance(r.value, (list, tuple)) else int(r.value)
        size = r.size if r.kind == "mem" else 0
        lane = r.lane if r.kind == "lmem" else -1
        out[r.kind].append(Write(r.kind, r.pc, r.where, value, size, lane, r.instret))
    return out


def rtl_streams(retire: dict, lanes: int) -> dict[str, list[Write]]:
    """Per-kind lists of the RTL's retire records (see the module docstring)."""
    out = {k: [] for k in KINDS}
    for pc, rd, value in retire.get("x", ()):
        out["x"].append(Write("x", pc, rd, value))
    for pc, word, byte_en, data in retire.get("mem", ()):
        lo = (byte_en & -byte_en).bit_length() - 1 if byte_en else 0
        size = bin(byte_en).count("1")
        value = (data >> (8 * lo)) & ((1 << (8 * size)) - 1)
        out["mem"].append(Write("mem", pc, 4 * word + lo, value, size))
    for pc, reg, value in retire.get("v", ()):
        out["v"].append(Write("v", pc, reg, _lanes(value, lanes)))
    for pc, addr, value in retire.get("vmem", ()):
        out["vmem"].append(Write("vmem", pc, addr, _lanes(value, lanes)))
    for pc, mask, addrs, values in retire.get("lmem", ()):
        for i in range(lanes):
            if mask >> i & 1:
                out["lmem"].append(Write("lmem", pc, _s16(addrs >> (16 * i)),
                                         _s16(values >> (16 * i)), 0, i))
    for pc, s0, s1 in retire.get("rng", ()):
        out["rng"].append(Write("rng", pc, 0, _lanes(s0, lanes, signed=False)))
        out["rng"].append(Write("rng", pc, 1, _lanes(s1, lanes, signed=False)))
    return out


@dataclass
class Divergence:
    """The first divergence: ``kind``, ``index`` in that kind's stream, the ``expected``
    and ``actual`` writes (``None`` where a stream ended), the golden ``instret`` and
    ``pc`` of the instruction, its disassembly and the instructions before it."""
    kind: str
    index: int
    expected: Write | None
    actual: Write | None
    pc: int
    instret: int | None
    disassembly: str = ""
    previous: list = field(default_factory=list)      # (instret, pc, disassembly)
    earlier_ok: list = field(default_factory=list)    # agreeing writes of the same kind

    def report(self) -> str:
        where = f"instret {self.instret}" if self.instret is not None else "instret ?"
        lines = [f"Lockstep divergence in the {_KIND_TEXT[self.kind]} (write #{self.index} "
                 f"of that kind) at pc 0x{self.pc:08x}, {where}: {self.disassembly}"]
        exp = self.expected.describe() if self.expected else "(no such write: the golden " \
                                                             "model's stream ended)"
        act = (self.actual.describe() + (f"  [by pc 0x{self.actual.pc:08x}]"
                                         if self.actual.pc != self.pc else "")
               if self.actual else "(no such write: the RTL's stream ended)")
        lines += [f"  expected: {exp}", f"  actual  : {act}"]
        if self.previous:
            lines.append("  instructions before it:")
            for instret, pc, text in self.previous:
                lines.append(f"    instret {instret:>7}  pc 0x{pc:08x}  {text}")
        if self.earlier_ok:
            lines.append(f"  last agreeing {_KIND_TEXT[self.kind]}:")
            for w in self.earlier_ok:
                lines.append(f"    pc 0x{w.pc:08x}  {w.describe()}")
        return "\n".join(lines)


def first_divergence(program, golden: dict, rtl: dict, context: int = 4):
    """The earliest :class:`Divergence` between per-kind streams (``golden_streams`` and
    ``rtl_streams`` results) of ``program``, or ``None`` if all streams agree."""
    candidates = []
    for kind in KINDS:
        g, a = golden[kind], rtl[kind]
        for i in range(max(len(g), len(a))):
            e = g[i] if i < len(g) else None
            x = a[i] if i < len(a) else None
            if e is None or x is None or e.key != x.key:
                order = e.instret if e is not None else float("inf")
                candidates.append((order, KINDS.index(kind), kind, i, e, x))
                break
    if not candidates:
        return None
    _, _, kind, i, e, x = min(candidates, key=lambda c: (c[0], c[1]))
    pc = e.pc if e is not None else x.pc
    d = Divergence(kind, i, e, x, pc, e.instret if e is not None else None,
                   earlier_ok=golden[kind][max(0, i - 2):i])
    d.disassembly, d.previous = _history(program, pc, d.instret, context)
    return d


def _history(program, pc, instret, context):
    """Disassembly at ``pc`` and the ``context`` instructions executed before ``instret``
    (by re-running the golden model up to there)."""
    from ...sw.asm import disassemble_word
    from ..iss import Machine
    config = program.config

    def text(at):
        if 0 <= at < config.imem_bytes and at % 4 == 0 and at // 4 < len(program.text):
            return disassemble_word(program.text[at // 4], at, config)
        return "(outside the program)"
    previous = []
    if instret is not None:
        machine = Machine(config)
        machine.load_program(program)
        first = max(0, instret - context)
        if first:
            machine.run(max_instructions=first)
        for n in range(first, instret):
            at = machine.pc
            previous.append((n, at, text(at)))
            if machine.step().exit_reason != "running":
                break
    return text(pc), previous
