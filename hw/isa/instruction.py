"""The :class:`Instr` record: one row of the instruction table, with its encoding logic.

Every instruction is a format, a major opcode, fixed field values, operands and
modifiers. From those alone this module derives the decode ``(mask, match)`` pair, the
legality check of reserved field values, and field-level encoding and decoding. Layout
fields that no operand or modifier uses are fixed (zero unless ``fixed`` says otherwise),
except fields listed in ``ignore``, which are don't-care on decode.

This module imports nothing of spikevec outside ``spikevec.hw.isa``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .formats import Format, field_value, sign_extend
from .operands import Kind, Operand

__all__ = ["Instr", "EncodingError", "Timing"]


class EncodingError(ValueError):
    """An operand value does not fit the instruction's encoding."""


class Timing:
    """Timing classes of the cycle model (see :data:`spikevec.hw.isa.table.TIMING`)."""
    ALU = "alu"
    MUL = "mul"
    COUNT = "count"      # Zbb bit counts (clz, ctz, cpop): computed after EX
    LOAD = "load"
    STORE = "store"
    BRANCH = "branch"
    JUMP = "jump"
    SYSTEM = "system"
    VALU = "valu"
    VMUL = "vmul"        # vector multiplier results: vmul and the shifts (one more cycle)
    VTOX = "vtox"        # vector unit result written to a scalar register
    VLOAD = "vload"
    VACC = "vacc"        # fused load-accumulate
    VSTORE = "vstore"


@dataclass(frozen=True, eq=False)
class Instr:
    name: str
    fmt: Format
    opcode: int
    syntax: str
    operands: dict
    semantics: str
    group: str
    timing: str
    fixed: dict = field(default_factory=dict)
    modifiers: tuple = ()
    ignore: tuple = ()
    why: str = ""          # for extensions: the cycles they save
    writes: str = ""       # "x", "v", "xmem", "vmem", "lmem", "rng" or "" (trace docs)
    reads_rd: bool = False  # the destination register is also a source (vsel, vlacc)
    uses_rng: bool = False  # needs the per-lane generators (besides the .rs modifier)
    lane_answer: str = ""  # "value" (late x result) or "address" (waits): CycleModel

    # ------------------------------------------------------------------------------
    def __post_init__(self):
        used = {o.field for o in self.operands.values()} | {m.field for m in self.modifiers}
        names = {name for name, _, _ in self.fmt.fields()}
        for f in list(used) + list(self.fixed) + list(self.ignore):
            if f != "imm" and f not in names:
                raise AssertionError(f"{self.name}: format {self.fmt.name} has no field {f}")
        fixed = {"opcode": self.opcode}
        for name in names:
            if name != "opcode" and name not in used and name not in self.ignore:
                fixed[name] = self.fixed.get(name, 0)
            elif name in self.fixed and name != "opcode":
                fixed[name] = self.fixed[name]
        if "imm" in used:
            for p in self.fmt.imm:
                fixed.pop(p.field, None)
        object.__setattr__(self, "_fixed_all", fixed)
        mask = match = 0
        for name, value in fixed.items():
            if name in self.ignore:
                continue
            mask |= self.fmt.mask(name)
            match |= value << self.fmt.offset(name)
        object.__setattr__(self, "mask", mask)
        object.__setattr__(self, "match", match)

    def __repr__(self):
        return f"<Instr {self.name}>"

    @property
    def is_vector(self) -> bool:
        return (self.opcode & 0b11) == 0b10

    # Field access ----------------------------------------------------------------------
    def get(self, word: int, fieldname: str) -> int:
        """Raw (unsigned) value of a layout field, or the signed scattered immediate."""
        if fieldname == "imm":
            return self.fmt.extract_imm(word)
        return field_value(word, self.fmt.offset(fieldname), self.fmt.width(fieldname))

    def field_width(self, fieldname: str) -> int:
        return self.fmt.imm_width if fieldname == "imm" else self.fmt.width(fieldname)

    def operand_value(self, word: int, op: Operand, config) -> int:
        """The value of operand ``op`` as written in assembly (scaled, sign-extended)."""
        raw = self.get(word, op.field)
        if op.kind == Kind.SIMM and op.field != "imm":
            raw = sign_extend(raw, self.field_width(op.field))
        return raw * op.scale_for(config)

    def matches(self, word: int) -> bool:
        return (word & self.mask) == self.match

    def legal(self, word: int, config) -> bool:
        """True if ``word`` (which :meth:`matches`) uses no reserved field value and
        nothing the configured core lacks (a core built without ``stochastic_rounding``
        has no generators: ``.rs`` and the generator instructions are illegal on it)."""
        for m in self.modifiers:
            if self.get(word, m.field) not in m.values():
                return False
        if not config.stochastic_rounding and (self.uses_rng or any(
                m.suffixes.get(".rs") == self.get(word, m.field) for m in self.modifiers)):
            return False
        for op in self.operands.values():
            value = self.get(word, op.field)
            if op.kind == Kind.LANE and value >= config.lanes:
                return False
            if op.kind == Kind.UIMM and op.hi is not None and value > op.hi:
                return False
        return True

    def modifier_values(self, word: int) -> dict:
        return {m.name: self.get(word, m.field) for m in self.modifiers}

    # Encoding --------------------------------------------------------------------------
    def encode(self, config, modifiers: dict | None = None, **values) -> int:
        """Encode this instruction. ``values`` maps operand names to numbers (register
        numbers, immediates as written); ``modifiers`` maps modifier names to values.
        Raises :class:`EncodingError` with a full sentence if a value does not fit."""
        word = 0
        for name, value in self._fixed_all.items():
            word |= value << self.fmt.offset(name)
        missing = set(self.operands) - set(values)
        extra = set(values) - set(self.operands)
        if missing or extra:
            raise EncodingError(f"{self.name} takes operands {list(self.operands)}; "
                                f"got {sorted(values)}.")
        unknown = set(modifiers or {}) - {m.name for m in self.modifiers}
        if unknown:
            raise EncodingError(f"{self.name} has no modifier {sorted(unknown)}; its "
                                f"modifiers are {[m.name for m in self.modifiers]}.")
        for name, op in self.operands.items():
            word |= self._encode_operand(name, op, int(values[name]), config)
        for m in self.modifiers:
            value = (modifiers or {}).get(m.name, 0)
            if value not in m.values():
                raise EncodingError(f"{self.name}: modifier {m.name} = {value} is reserved; "
                                    f"use one of {m.values()}.")
            word |= value << self.fmt.offset(m.field)
        return word

    def _encode_operand(self, name: str, op: Operand, value: int, config) -> int:
        width = self.field_width(op.field)
        scale = op.scale_for(config)
        if op.kind in (Kind.XREG, Kind.VREG):
            if not 0 <= value < 32:
                raise EncodingError(f"{self.name}: register number {value} for {name} is "
                                    f"out of range; use 0 to 31.")
            stored = value
        else:
            if value % scale:
                raise EncodingError(f"{self.name}: {name} = {value} must be a multiple of "
                                    f"{scale}.")
            stored = value // scale
            if op.kind == Kind.PCREL and stored % 2:
                raise EncodingError(f"{self.name}: branch offset {value} is odd; targets "
                                    f"are 2-byte aligned.")
            lo, hi = op.stored_range(width)
            if op.kind == Kind.LANE:
                hi = min(hi, config.lanes - 1)
            if op.accept_unsigned and hi < stored < (1 << width):
                stored -= 1 << width
            if not lo <= stored <= hi:
                raise EncodingError(
                    f"{self.name}: {name} = {value} is out of range; it must lie in "
                    f"[{lo * scale}, {hi * scale}]"
                    + (f" in steps of {scale}" if scale != 1 else "") + ".")
        if op.field == "imm":
            return self.fmt.insert_imm(stored)
        return (stored & ((1 << width) - 1)) << self.fmt.offset(op.field)

    def decode(self, word: int, config) -> tuple[dict, dict]:
        """Return ``(operand values as written, modifier values)`` of ``word``."""
        ops = {name: self.operand_value(word, op, config)
               for name, op in self.operands.items()}
        return ops, self.modifier_values(word)

    def mnemonic(self, mods: dict) -> str:
        """The mnemonic with its modifier suffixes, e.g. ``vmul.rs.sat``."""
        text = self.name
        for m in self.modifiers:
            for suffix, value in m.suffixes.items():
                if value == mods.get(m.name, 0):
                    text += suffix
                    break
        return text
