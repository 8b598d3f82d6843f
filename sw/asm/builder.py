"""The program builder: layout, symbols, pseudo expansion, fixups and encoding.

Both the text assembler (:func:`spikevec.sw.asm.assemble`) and the compiler use a
:class:`ProgramBuilder`. Emitting lays the program out at once (pass 1): every statement
has a fixed size when emitted, labels get final addresses, and operands stay
:class:`Expr` trees. :meth:`ProgramBuilder.build` (pass 2) evaluates them and encodes
every instruction through ``Instr.encode`` of the instruction table.

Operand values accepted by :meth:`emit`: registers as numbers or names (``5``, ``"t0"``,
``"v3"``); immediates as ints, symbol names or :class:`Expr`; branch and jump targets as
label names or absolute addresses (GNU semantics: the operand is the target, not the
offset). Modifiers are keyword arguments by name (``round=2, sat=1``) or mnemonic
suffixes (``"vmul.rs.sat"``).

Contract: errors are collected with their source locations (for the builder: the
caller's file and line) and :meth:`build` raises one :class:`AsmError` listing them all.
"""
from __future__ import annotations

import difflib
import os
import sys
from dataclasses import dataclass

from ...hw.isa import EncodingError, Instr, Kind
from ...hw.isa.formats import sign_extend
from ...hw.isa.pseudo import IMM32, CONDITIONS, Pseudo
from ...hw.isa.table import BY_NAME
from .expr import Const, Expr, Func, Sym, Undefined
from .lexer import AsmError, Loc
from .program import Program
from .syntax import MnemonicError, register_number, resolve_mnemonic

__all__ = ["ProgramBuilder", "SECTIONS"]

SECTIONS = ("text", "data", "vdata")
_HERE = os.path.dirname(os.path.abspath(__file__))
_REGISTER_KINDS = (Kind.XREG, Kind.VREG)


@dataclass
class _Item:
    """One instruction word of the text section (``ins`` None: a raw ``.word``)."""
    pc: int
    dot: int
    ins: Instr | None
    mods: dict
    values: dict
    loc: Loc | None
    source: str


@dataclass
class _DataFixup:
    section: str
    offset: int
    size: int
    expr: Expr
    loc: Loc | None


class _Env:
    """Symbol lookup for expression evaluation (``dot`` set per statement)."""

    def __init__(self, builder):
        self.builder, self.dot, self._busy = builder, 0, set()

    def lookup(self, name):
        b = self.builder
        if name in b.symbols:
            return b.symbols[name][1]
        if name in b.equates and name not in self._busy:
            self._busy.add(name)
            try:
                return b.equates[name].eval(self)
            finally:
                self._busy.discard(name)
        return None


class ProgramBuilder:
    """Build a :class:`Program` for ``config`` instruction by instruction."""

    def __init__(self, config, filename: str = "<builder>"):
        self.config, self.filename = config, filename
        self.items: list[_Item] = []
        self.memory = {"data": bytearray(), "vdata": bytearray()}
        self.fixups: list[_DataFixup] = []
        self.symbols: dict = {}            # label -> (section, address)
        self.equates: dict = {"__lanes": Const(config.lanes),
                              "__vector_bytes": Const(config.vector_bytes)}
        self.errors: list[str] = []
        self.section_name = "text"
        self._limits = {"text": config.imem_bytes, "data": config.dmem_bytes,
                        "vdata": config.vmem_bytes}
        self._overflowed: set = set()
        self._nop = BY_NAME["addi"].encode(config, rd=0, rs1=0, imm=0)

    # Errors and locations --------------------------------------------------------------
    def error(self, loc: Loc | None, sentence: str) -> None:
        self.errors.append(f"{loc or self._caller_loc()}: error: {sentence}")

    def _caller_loc(self) -> Loc:
        frame = sys._getframe(1)
        while frame and os.path.dirname(os.path.abspath(frame.f_code.co_filename)) == _HERE:
            frame = frame.f_back
        return Loc(frame.f_code.co_filename, frame.f_lineno) if frame else Loc(self.filename, 0)

    # Layout ---------------------------------------------------------------------------
    def here(self, section: str | None = None) -> int:
        """The next free address of ``section`` (default: the current one)."""
        section = section or self.section_name
        return 4 * len(self.items) if section == "text" else len(self.memory[section])

    def section(self, name: str) -> None:
        """Make ``name`` ("text", "data" or "vdata", with or without a dot) current."""
        name = name.lstrip(".")
        if name not in SECTIONS:
            raise ValueError(f"There is no section {name!r}; use one of "
                             f"{', '.join(SECTIONS)}.")
        self.section_name = name

    def _grow(self, section: str, loc) -> None:
        if self.here(section) > self._limits[section] and section not in self._overflowed:
            self._overflowed.add(section)
            self.error(loc, f"The {section} section has grown to {self.here(section)} bytes, "
                            f"more than the {self._limits[section]} bytes of memory of core "
                            f"configuration '{self.config.name}'.")

    def label(self, name: str, section: str | None = None, loc: Loc | None = None) -> int:
        """Define ``name`` at the current address of ``section``; returns the address."""
        section = section.lstrip(".") if section else self.section_name
        if name in self.symbols or name in self.equates:
            self.error(loc, f"The symbol '{name}' is already defined; choose another name.")
            return self.here(section)
        self.symbols[name] = (section, self.here(section))
        return self.here(section)

    def equ(self, name: str, value, loc: Loc | None = None) -> None:
        """Define constant ``name`` (``.equ``/``.set``; redefinition allowed)."""
        if name in self.symbols:
            self.error(loc, f"The symbol '{name}' is already a label; an .equ cannot "
                            "redefine it.")
            return
        expr = self._expr(value)
        known = expr.try_eval(self._env())
        self.equates[name] = Const(known, expr.loc) if known is not None else expr

    def _env(self, dot: int | None = None) -> _Env:
        env = _Env(self)
        env.dot = self.here() if dot is None else dot
        return env

    def align(self, boundary: int, fill: int | None = None, loc: Loc | None = None) -> None:
        """Pad the current section to a multiple of ``boundary`` bytes (a power of two).
        Text is padded with ``nop`` s (alignments below 4 do nothing there)."""
        if boundary <= 0 or boundary & (boundary - 1):
            self.error(loc, f"Alignment {boundary} is not a power of two.")
            return
        if self.section_name == "text":
            while self.here() % boundary:
                self.word(self._nop if fill is None else fill, loc)
        else:
            self.fill(-self.here() % boundary, fill or 0, loc=loc)

    def fill(self, count: int, byte: int = 0, section: str | None = None,
             loc: Loc | None = None) -> int:
        """Append ``count`` copies of ``byte`` to a data section; returns the address."""
        section = section or self.section_name
        start = self.here(section)
        if not 0 <= byte <= 255:
            self.error(loc, f"The fill value {byte} does not fit in a byte; use 0 to 255.")
        elif start + count > self._limits[section]:
            self.error(loc, f"Adding {count} bytes to the {section} section at address "
                            f"{start:#x} would exceed the {self._limits[section]} bytes of "
                            f"memory of core configuration '{self.config.name}'.")
            self._overflowed.add(section)
        else:
            self.memory[section].extend(bytes([byte]) * count)
        return start

    # Data -----------------------------------------------------------------------------
    def word(self, value, loc: Loc | None = None, source: str = ".word") -> int:
        """Append a raw 32-bit word to the text section; returns its address."""
        pc = self.here("text")
        self.items.append(_Item(pc, pc, None, {}, {"word": self._expr(value)},
                                loc or self._caller_loc(), source))
        self._grow("text", loc)
        return pc

    def put(self, size: int, values, section: str | None = None,
            loc: Loc | None = None) -> int:
        """Append little-endian ``size``-byte values (ints or Exprs) to a data section;
        returns the address of the first."""
        section = section or self.section_name
        if section == "text":
            if size != 4:
                self.error(loc, f"Only whole words can go into .text, not {size}-byte "
                                "values; use .word or switch to .data.")
                return self.here("text")
            start = self.here("text")
            for v in values:
                self.word(v, loc)
            return start
        mem, start = self.memory[section], len(self.memory[section])
        for v in values:
            self.fixups.append(_DataFixup(section, len(mem), size, self._expr(v), loc))
            mem.extend(bytes(size))
        self._grow(section, loc)
        return start

    def put_bytes(self, data: bytes, section: str | None = None, loc=None) -> int:
        return self.put(1, list(bytes(data)), section, loc)

    def _block(self, section, size, values, label, align):
        saved, self.section_name = self.section_name, section
        self.align(align)
        if label:
            self.label(label)
        address = self.put(size, values)
        self.section_name = saved
        return address

    def data_words(self, values, label: str | None = None, align: int = 4) -> int:
        """Append 32-bit words to scalar data memory; returns their address."""
        return self._block("data", 4, values, label, align)

    def data_bytes(self, data: bytes, label: str | None = None, align: int = 1) -> int:
        return self._block("data", 1, list(bytes(data)), label, align)

    def vdata_halves(self, values, label: str | None = None, align: int | None = None) -> int:
        """Append int16 elements to vector memory, vector-aligned by default."""
        return self._block("vdata", 2, values, label, align or self.config.vector_bytes)

    def vdata_bytes(self, data: bytes, label: str | None = None,
                    align: int | None = None) -> int:
        return self._block("vdata", 1, list(bytes(data)), label,
                           align or self.config.vector_bytes)

    # Instructions ---------------------------------------------------------------------
    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        mnemonic = name.rstrip("_").replace("_", ".")
        try:
            resolve_mnemonic(mnemonic)
        except MnemonicError as e:
            raise AttributeError(str(e)) from None
        return lambda **operands: self.emit(mnemonic, **operands)

    def li(self, rd, value) -> int:
        return self.emit("li", rd=rd, imm=value)

    def la(self, rd, symbol) -> int:
        return self.emit("la", rd=rd, imm=symbol)

    def emit(self, mnemonic: str, **operands) -> int:
        """Emit an instruction or pseudo-instruction; returns the address of its first
        word. Problems are recorded as errors at the caller's location."""
        loc, pc = self._caller_loc(), self.here("text")
        try:
            candidates, mods = resolve_mnemonic(mnemonic)
        except MnemonicError as e:
            self.error(loc, str(e))
            return pc
        target = next((c for c in candidates if set(c.operands) == set(operands)
                       - {m.name for m in getattr(c, "modifiers", ())}), None)
        if target is None:
            self.error(loc, f"'{mnemonic}' takes operands "
                            f"{' or '.join(str(list(c.operands)) for c in candidates)} "
                            f"but was given {sorted(operands)}.")
            return pc
        for m in getattr(target, "modifiers", ()):
            if m.name in operands:
                value = operands.pop(m.name)
                mods[m.name] = m.suffixes.get("." + str(value).lstrip("."), value)
        try:
            values = {name: self._operand(target.operands[name], v, name)
                      for name, v in operands.items()}
        except ValueError as e:
            self.error(loc, str(e))
            return pc
        source = f"{mnemonic} " + ", ".join(f"{k}={v!r}" for k, v in operands.items())
        return self.emit_parsed(target, mods, values, loc, source)

    def _operand(self, op, value, name):
        kind = op if isinstance(op, str) else op.kind
        if kind in _REGISTER_KINDS:
            number = register_number(value, kind) if isinstance(value, str) else value
            if not isinstance(number, int):
                raise ValueError(f"Operand '{name}' must be a register, not {value!r}.")
            return number
        return self._expr(value)

    @staticmethod
    def _expr(value) -> Expr:
        if isinstance(value, Expr):
            return value
        return Sym(value) if isinstance(value, str) else Const(int(value))

    def emit_parsed(self, target, mods: dict, values: dict, loc: Loc | None,
                    source: str) -> int:
        """Emit a resolved instruction or pseudo with parsed operand values (register
        numbers and Exprs); the common path of the text assembler and :meth:`emit`."""
        pc = self.here("text")
        if self.section_name != "text":
            self.error(loc, f"Instructions belong in .text, but the current section is "
                            f".{self.section_name}; add '.text' before '{source}'.")
            return pc
        if isinstance(target, Pseudo):
            for step, step_values in self._expand(target, values, pc, loc):
                self._append(BY_NAME[step.instr], step.modifiers or {}, step_values, pc,
                             loc, source)
        else:
            self._append(target, mods, values, pc, loc, source)
        return pc

    def _append(self, ins, mods, values, dot, loc, source):
        self.items.append(_Item(self.here("text"), dot, ins, mods, values, loc, source))
        self._grow("text", loc)

    def _expand(self, pseudo: Pseudo, values: dict, pc: int, loc):
        """Yield ``(step, operand values)`` of the form chosen for ``values``."""
        form = pseudo.forms[-1]
        if pseudo.operands.get("imm") == IMM32:
            known = values["imm"].try_eval(self._env(pc))
            if known is not None:
                if not -(1 << 31) <= known < (1 << 32):
                    self.error(loc, f"The value {known} of '{pseudo.name}' does not fit in "
                                    "32 bits; use -2147483648 to 4294967295.")
                    return
                values = dict(values, imm=Const(sign_extend(known, 32), loc))
                form = next(f for f in pseudo.forms if f.when is None
                            or CONDITIONS[f.when](known))
        for step in form.steps:
            out = {}
            for name, spec in step.operands.items():
                kind = BY_NAME[step.instr].operands[name].kind
                if isinstance(spec, int):
                    out[name] = spec if kind in _REGISTER_KINDS else Const(spec)
                elif spec.part:
                    out[name] = Func(spec.part, values[spec.name], loc)
                else:
                    out[name] = values[spec.name]
            yield step, out

    # Pass 2 ---------------------------------------------------------------------------
    def build(self) -> Program:
        """Resolve every expression, encode every instruction and return the Program.
        Raises :class:`AsmError` listing every error."""
        from .resolve import resolve
        return resolve(self)

    def undefined(self, exc: Undefined, loc) -> str:
        """The sentence for an undefined symbol, with close matches."""
        known = list(self.symbols) + [e for e in self.equates if not e.startswith("__")]
        close = difflib.get_close_matches(exc.name, known, n=3)
        hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        if any(register_number(exc.name, k) is not None for k in _REGISTER_KINDS):
            hint = (f" '{exc.name}' is a register, but this operand needs a value or a "
                    "label; check the operand order against the instruction's syntax.")
        return (f"The symbol '{exc.name}' is not defined; define it as a label "
                f"('{exc.name}:') or with .equ.{hint}")
