"""Generate the ISA reference (``docs/isa.md``) from the instruction table.

Everything in the document that is a number, a bit position, an opcode or a field value
is read from :mod:`spikevec.hw.isa` (formats, operands, table); the prose here only
explains it. The generated file is committed; a test (and ``--check``) fails when it no
longer matches the table.

Usage::

    python -m spikevec.hw.isa.reference            # rewrite docs/isa.md
    python -m spikevec.hw.isa.reference --check    # exit 1 if docs/isa.md is stale
    python -m spikevec.hw.isa.reference -o FILE    # write (or check) another path

This module imports nothing of spikevec outside ``spikevec.hw.isa`` and
``spikevec.hw.config``.
"""
from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from ..config import PRESETS
from .formats import FORMATS
from .instruction import Timing
from .operands import ROUND, ROUND_NAMES, SAT, Kind
from .table import BY_NAME, CSRS, INSTRUCTIONS, OPCODES, TIMING

__all__ = ["render", "main", "run", "add_arguments", "default_path", "REGENERATE",
           "mnemonic_pattern", "encoding_pattern", "operand_ranges", "syntax"]

GROUPS = ("RV32I", "M", "Zicsr", "Zbb", "vector")
REGENERATE = "python -m spikevec.hw.isa.reference"


def default_path() -> Path:
    """``docs/isa.md`` at the repository root (found from this file's location)."""
    return Path(__file__).resolve().parents[2] / "docs" / "isa.md"


def _cell(text) -> str:
    """Text safe inside a Markdown table cell."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def _code(text) -> str:
    return "`" + str(text).replace("|", "\\|") + "`" if text != "" else ""


def _table(header, rows) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return out + [""]


# Derived views of one instruction ------------------------------------------------------
def mnemonic_pattern(ins) -> str:
    """The mnemonic with its optional suffixes, e.g. ``vmul[.rn|.rs][.sat]``."""
    text = ins.name
    for m in ins.modifiers:
        opts = [s for s in m.suffixes if s]
        text += "[" + "|".join(opts) + "]"
    return text


def _field_labels(ins) -> dict:
    """Layout field -> assembly label for fields that hold operands or modifiers."""
    labels = {}
    for name, op in ins.operands.items():
        if op.field == "imm":
            for p in ins.fmt.imm:
                hi = p.imm_lo + ins.fmt.width(p.field) - 1
                labels[p.field] = f"{name}[{hi}:{p.imm_lo}]" if hi != p.imm_lo \
                    else f"{name}[{hi}]"
        else:
            labels[op.field] = name
    for m in ins.modifiers:
        labels[m.field] = m.name
    return labels


def encoding_pattern(ins) -> str:
    """Bit pattern, most significant field first: fixed bits from ``(mask, match)``,
    operand and modifier names elsewhere, ``-`` for bits ignored on decode."""
    labels = _field_labels(ins)
    parts = []
    for name, offset, width in reversed(ins.fmt.fields()):
        fmask = ((1 << width) - 1) << offset
        if ins.mask & fmask == fmask:
            parts.append(format((ins.match & fmask) >> offset, f"0{width}b"))
        elif ins.mask & fmask:
            parts.append("".join(
                str((ins.match >> b) & 1) if (ins.mask >> b) & 1 else "?"
                for b in range(offset + width - 1, offset - 1, -1)))
        else:
            parts.append(labels.get(name, "-" * width))
    return " ".join(parts)


def operand_ranges(ins) -> str:
    """The legal values of each non-register operand, as text."""
    notes = []
    for name, op in ins.operands.items():
        if op.kind in (Kind.XREG, Kind.VREG):
            continue
        if op.kind == Kind.LANE:
            notes.append(f"{name}: 0 .. lanes-1")
            continue
        if op.kind == Kind.CSR:
            notes.append(f"{name}: CSR number or name")
            continue
        lo, hi = op.stored_range(ins.field_width(op.field))
        if op.kind == Kind.PCREL:
            notes.append(f"{name}: {lo} .. {hi - 1}, even")
            continue
        text = f"{name}: {lo} .. {hi}"
        if op.scale == "vector":
            text = f"{name}: ({lo} .. {hi}) x vector bytes"
        elif op.scale == "half":
            text = f"{name}: ({lo} .. {hi}) x lanes"
        elif op.scale != 1:
            text = f"{name}: ({lo} .. {hi}) x {op.scale}"
        if op.accept_unsigned:
            text += f" (or its pattern 0 .. {(1 << ins.field_width(op.field)) - 1})"
        notes.append(text)
    return "; ".join(notes)


def _plain(template: str) -> str:
    return template.replace("{", "").replace("}", "")


def syntax(ins) -> str:
    return (ins.name + " " + _plain(ins.syntax)).strip()


# Sections -----------------------------------------------------------------------------


def _intro() -> list[str]:
    rnd = {v: s or "(none)" for s, v in ROUND.suffixes.items()}
    out = [
        "# spikevec instruction set reference", "",
        "<!-- Generated from hw/isa by `python -m spikevec.hw.isa.reference`; "
        "do not edit by hand. -->", "",
        "spikevec is an RV32I core (with MUL, a Zbb subset and read-only counter CSRs) "
        "plus a vector unit of `lanes` lanes (8, 16 or 32, see hw/config.py) of 16-bit "
        "signed fixed-point elements and 32 vector registers. Vector instructions use the "
        "whole RISC-V `10` quadrant (instruction bits [1:0] = 0b10; there are no "
        "compressed instructions), major opcode `(op5 << 2) | 0b10`.", "",
        "## Conventions", "",
        "* `x[n]` is scalar register n (`x0` reads 0), `v[n]` vector register n; "
        "`vd[i]` is lane i (0 .. lanes-1) of a vector register, an int16. `imm` is "
        "sign-extended unless the table says unsigned.",
        "* `wrap(x)`: the low 16 bits of x as a two's-complement number. `sat(x)`: x "
        "clamped to [-32768, 32767]. Intermediate arithmetic is exact: nothing "
        "overflows before wrap or sat is applied.",
        "* `rshift(x, s, mode)` is the rounding arithmetic right shift by s = 0 .. 15 "
        "bits. With s = 0 every mode returns x. For s > 0:",
        f"  * {ROUND_NAMES[0]} (suffix {rnd[0]}, round = 0): `x >> s`;",
        f"  * {ROUND_NAMES[1]} (suffix `{rnd[1]}`, round = 1): `(x + 2^(s-1)) >> s`;",
        f"  * {ROUND_NAMES[2]} (suffix `{rnd[2]}`, round = 2): `(x + (r >> (16 - s))) >> s`"
        ", where r is the lane generator's 16-bit output read as unsigned.",
        "* Stochastic rounding adds the HIGH s bits of r. FeNN adds the LOW s bits, which "
        "are the weakest bits of a xoroshiro generator (the lowest output bits have the "
        "shortest linear complexity; FeNN's own VRNG shifts right by one to avoid them). "
        "`r >> (16 - s)` is uniform on [0, 2^s), so the rounding is unbiased: the mean "
        "of the result is exactly x / 2^s.",
        "* Per-lane generator: Xoroshiro32++ with 16-bit halves s0, s1 (all arithmetic "
        "mod 2^16): `r = rotl(s0 + s1, 9) + s0; s1 ^= s0; s0 = rotl(s0, 13) ^ s1 ^ "
        "(s1 << 5); s1 = rotl(s1, 10)`. r is computed from the state before the step. "
        "Every instruction executed with stochastic rounding (whatever its shift, s = 0 "
        "included), and `vrng`, steps all lanes once. `vseed` sets the state (an all-zero state stays zero); `vrds0` and "
        "`vrds1` read it without stepping.",
        "* Vector memory is byte addressed; `vload`, `vstore` and `vlacc` move one "
        "vector (lanes x 2 bytes) at an address that is a multiple of the vector size, "
        "`vlacc8` and `vload8` half a vector (lanes bytes, one int8 per lane) at a "
        "multiple of lanes. Element i is at `a + 2i` (16-bit, little endian) or `a + i` "
        "(8-bit).",
        "* Lane-local memories: each lane owns one, addressed in 16-bit elements by a "
        "per-lane address held in a vector register (`vloadl`, `vstorel`); a negative "
        "address disables the lane (loads give 0, stores are skipped).",
        "* Hazards: none are visible to software. The core interlocks, so any "
        "instruction may use the result of the one before it; the cost of doing so is "
        "in the cycle model below.",
        "* Illegal instructions and faults stop the core: a word that matches no "
        "instruction, a reserved modifier or field value, a lane number >= lanes, a "
        "write to a CSR, or a misaligned or out-of-range memory access ends the run "
        "with an exit reason instead of trapping.", "",
        "Memory sizes of the preset configurations:", ""]
    rows = [[c.name, str(c.lanes), str(c.vector_bytes), f"{c.imem_bytes // 1024} KiB",
             f"{c.dmem_bytes // 1024} KiB", f"{c.vmem_bytes // 1024} KiB",
             f"{c.lane_mem_bytes} B"] for c in PRESETS.values()]
    out += _table(["preset", "lanes", "vector bytes", "imem", "dmem", "vmem",
                   "lane memory"], rows)
    out += ["## Cycle model", "",
            " ".join(TIMING.__class__.__doc__.replace("``", "`").split()), ""]
    out += [f"`predicted_penalty` = {TIMING.predicted_penalty}, `mispredict_penalty` = "
            f"{TIMING.mispredict_penalty}: a loop-closing (backward) taken branch or a "
            f"`jal` costs {1 + TIMING.predicted_penalty} cycles, a taken forward branch, "
            f"a not-taken backward branch or a `jalr` {1 + TIMING.mispredict_penalty}, a "
            "not-taken forward branch 1. Result latency of each timing class (a reader that issues "
            "`latency - 1` or fewer cycles after the writer stalls until it is ready):", ""]
    members = {v: [i.name for i in INSTRUCTIONS if i.timing == v] for _, v in
               sorted((k, v) for k, v in vars(Timing).items() if k.isupper())}
    out += _table(["timing class", "latency", "instructions"],
                  [[f"`{c}`", str(TIMING.latency_of(c)), ", ".join(members[c])]
                   for c, _ in TIMING.latency])
    answers = {a: ", ".join(f"`{i.name}`" for i in INSTRUCTIONS if i.lane_answer == a)
               for a in ("value", "address")}
    out += [f"`lane_delay` = {TIMING.lane_delay}. The lanes compute the scalar result of "
            f"{answers['value']} (they issue without waiting; the result has latency "
            f"{TIMING.latency_of(Timing.VTOX)}). These instructions wait for the lanes' "
            f"address check and issue {TIMING.lane_wait('address')} cycles after their "
            f"operands are ready: {answers['address']}.", ""]
    out += ["## CSRs", "",
            "All CSRs are read-only counters: `csrrs`/`csrrc` with rs1 = x0 and "
            "`csrrsi`/`csrrci` with uimm = 0 read them; every form that writes is "
            "illegal.", ""]
    out += _table(["name", "number"], [[f"`{n}`", f"0x{v:03X}"] for n, v in CSRS.items()])
    return out


def _formats() -> list[str]:
    out = ["## Formats", "", "Fields from bit 31 down to bit 0.", ""]
    rows = []
    for f in FORMATS.values():
        fields = " ".join(f"{n}[{o + w - 1}:{o}]" if w > 1 else f"{n}[{o}]"
                          for n, o, w in reversed(f.fields()))
        imm = ""
        if f.imm:
            pieces = sorted(f.imm, key=lambda p: -p.imm_lo)
            imm = (f"signed {f.imm_width} bits = {{"
                   + ", ".join(p.field for p in pieces)
                   + (f", {f.imm_lsb()}'b0" if f.imm_lsb() else "") + "}")
        rows.append([f"**{f.name}**", _cell(f.doc), _code(fields), _cell(imm)])
    out += _table(["format", "use", "fields", "scattered immediate"], rows)
    out += ["## Modifiers", "",
            "Mnemonic suffixes stored in a field of the VR format. A field value not "
            "listed is reserved: the word is an illegal instruction.", ""]
    rows = []
    for m in (SAT, ROUND):
        for suffix, value in m.suffixes.items():
            meaning = ROUND_NAMES[value] if m is ROUND else ("saturate" if value else "wrap")
            rows.append([f"`{suffix}`" if suffix else "(none)", f"`{m.field}`", str(value),
                         meaning])
    out += _table(["suffix", "field", "value", "meaning"], rows)
    return out


def _instructions() -> list[str]:
    out = ["## Instructions", ""]
    for group in GROUPS:
        out += [f"### {group}", ""]
        rows = [[f"`{mnemonic_pattern(i)}`", _code(syntax(i)), _code(encoding_pattern(i)),
                 f"`{i.mask:08x}` / `{i.match:08x}`", _cell(i.semantics),
                 _cell(operand_ranges(i)), f"`{i.timing}`"]
                for i in INSTRUCTIONS if i.group == group]
        out += _table(["mnemonic", "syntax", "encoding", "mask / match", "semantics",
                       "operands", "cycles"], rows)
    return out


def _extensions() -> list[str]:
    out = ["## Extensions beyond FeNN and the cycles they save", ""]
    rows = [[f"`{i.name}`", _cell(i.why)] for i in INSTRUCTIONS if i.why]
    return out + _table(["instruction", "why"], rows)


def _opcode_map() -> list[str]:
    names = {v: k for k, v in OPCODES.items()}
    out = ["## Major opcode map", "",
           "### The `10` quadrant (vector unit)", ""]
    rows, free = [], []
    quadrant = next(i.opcode & 0b11 for i in INSTRUCTIONS if i.group == "vector")
    for op5 in range(32):
        opcode = (op5 << 2) | quadrant
        members = [i for i in INSTRUCTIONS if i.opcode == opcode]
        if not members:
            free.append(op5)
            continue
        f3 = sorted({i.get(i.match, "funct3") for i in members if i.fmt.has_field("funct3")})
        rows.append([str(op5), f"`{opcode:07b}`", names.get(opcode, "?"),
                     ", ".join(f"`{i.name}`" for i in members),
                     (", ".join(map(str, sorted(set(range(8)) - set(f3)))) or "none")
                     if f3 else "(no funct3 field)"])
    out += _table(["op5", "opcode", "class", "instructions", "free funct3"], rows)
    out += ["Free op5 values: " + ", ".join(map(str, free)) + ".", "",
            "### The `11` quadrant (scalar core)", ""]
    rows = [[f"`{op:07b}`", names[op], ", ".join(f"`{i.name}`" for i in INSTRUCTIONS
                                                 if i.opcode == op)]
            for op in sorted(v for v in OPCODES.values() if v & 0b11 == 0b11)]
    return out + _table(["opcode", "name", "instructions"], rows)


def _pseudo_module():
    """``spikevec.hw.isa.pseudo`` if it exists, else ``None`` (the section is omitted)."""
    try:
        return importlib.import_module(f"{__package__}.pseudo")
    except ModuleNotFoundError as e:
        if e.name != f"{__package__}.pseudo":
            raise
        return None


def _step_text(step) -> str:
    """One expansion step as assembly, e.g. ``addi rd, x0, imm``."""
    ins = BY_NAME[step.instr]
    values = {}
    for name, value in step.operands.items():
        if not isinstance(value, int):
            values[name] = f"%{value.part}({value.name})" if value.part else value.name
        elif ins.operands[name].kind in (Kind.XREG, Kind.VREG):
            values[name] = ("x" if ins.operands[name].kind == Kind.XREG else "v") + str(value)
        else:
            values[name] = str(value)
    return f"{ins.mnemonic(step.modifiers or {})} {ins.syntax.format(**values)}".strip()


def _pseudo() -> list[str]:
    mod = _pseudo_module()
    entries = getattr(mod, "PSEUDOS", ()) if mod else ()
    if not entries:
        return []
    rows = []
    for e in entries:
        forms = []
        for form in getattr(e, "forms", ()):
            text = "; ".join(_step_text(s) for s in form.steps)
            forms.append(f"if {form.when}: {text}" if form.when else
                         ("else: " + text if forms else text))
        rows.append([f"`{e.name}`", _code(f"{e.name} {_plain(e.syntax)}".strip()),
                     "<br>".join(_code(f) for f in forms), _cell(e.description)])
    known = {"simm12": "fits a signed 12-bit immediate",
             "lui_only": "the low 12 bits are zero"}
    conds = "; ".join(f"`{c}`: {known.get(c, 'see hw/isa/pseudo.py')}"
                      for c in getattr(mod, "CONDITIONS", {}))
    out = ["## Pseudo-instructions", "",
           "Accepted by the assembler and expanded into the real instructions shown: the "
           "first form whose condition holds for the value of `imm`, or the last form "
           "when the value is a symbol not yet defined" + (f" ({conds})" if conds else "")
           + ". `%hi`/`%lo` split a constant for lui + addi with the carry corrected.", ""]
    return out + _table(["pseudo", "syntax", "expansion", "description"], rows)


def render() -> str:
    """The whole reference document as Markdown text."""
    lines = (_intro() + _formats() + _instructions() + _pseudo() + _extensions()
             + _opcode_map())
    return "\n".join(lines).rstrip("\n") + "\n"


def run(check: bool = False, output=None, out=None, err=None) -> int:
    """Write (or with ``check`` compare) the reference at ``output`` (default
    :func:`default_path`). Returns the exit status: 1 if the check finds it stale."""
    out, err = out or sys.stdout, err or sys.stderr
    path = Path(output) if output else default_path()
    text = render()
    if check:
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            print(f"{path} is up to date.", file=out)
            return 0
        state = "does not exist" if current is None else "is out of date with hw/isa"
        opt = f" -o {path}" if output else ""
        print(f"The ISA reference {path} {state}. Regenerate it with "
              f"'{REGENERATE}{opt}' (or 'spikevec isadoc{opt}') and commit the result.",
              file=err)
        return 1
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    print(f"Wrote {path} ({len(INSTRUCTIONS)} instructions).", file=out)
    return 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``--check`` and ``-o`` options, shared with ``spikevec isadoc``."""
    parser.add_argument("--check", action="store_true",
                        help="do not write; exit 1 if the file differs from the table")
    parser.add_argument("-o", "--output", metavar="PATH", default=None,
                        help=f"file to write or check (default: {default_path()})")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m spikevec.hw.isa.reference",
                                     description="Generate the ISA reference Markdown.")
    add_arguments(parser)
    args = parser.parse_args(argv)
    return run(check=args.check, output=args.output)


if __name__ == "__main__":
    sys.exit(main())
