"""The instruction decoder, generated from the instruction table.

For every :class:`~spikevec.hw.isa.Instr` in :data:`~spikevec.hw.isa.INSTRUCTIONS` the
decoder builds one match signal from the entry's ``mask``/``match`` pair and one legality
signal from its reserved values (modifier fields outside ``Modifier.suffixes``, ``UImm``
operands above ``hi``, ``Lane`` operands not below ``config.lanes``). Every other output
is an OR over the match signals of the entries that have a property, so the decoder holds
no opcode or funct number of its own: change the table and the decoder follows.

Register fields and immediates are read through ``amaranth.lib.data.View`` of the format
layouts in :mod:`spikevec.hw.isa.formats`; scattered immediates are reassembled from
``Format.imm`` pieces.
"""
from __future__ import annotations

from amaranth.hdl import Cat, Const, Module, Mux, signed
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from ..config import CoreConfig
from ..isa import CSRS, FORMATS, INSTRUCTIONS, Kind
from .enums import Fmt, Op, TimingClass, op_of, timing_member

__all__ = ["Decoder", "REGISTER_FIELDS", "csr_operand"]

REGISTER_FIELDS = ("rd", "rs1", "rs2")


def _register_field_geometry(name: str) -> tuple[int, int]:
    """``(offset, width)`` of a register field; every format that has it must agree."""
    places = {(fmt.offset(name), fmt.width(name))
              for fmt in FORMATS.values() if fmt.has_field(name)}
    if len(places) != 1:
        raise AssertionError(f"The formats place register field {name} at different "
                             f"positions {sorted(places)}; the decoder needs one position.")
    return places.pop()


def csr_operand(ins):
    """The ``Csr`` operand of a table entry, or ``None`` if it has none."""
    for op in ins.operands.values():
        if op.kind == Kind.CSR:
            return op
    return None


def _reads_field(ins, field: str) -> bool:
    """Whether ``ins`` reads the scalar register named by layout field ``field``."""
    return any(op.kind == Kind.XREG and op.field == field and name != "rd"
               for name, op in ins.operands.items())


class Decoder(wiring.Component):
    """Combinational decoder of one 32-bit instruction word (zero latency).

    Ports:

    * ``word`` (in, 32): the instruction word;
    * ``op`` (:data:`Op`): the table entry whose mask/match fits, ``Op.NONE`` if none;
    * ``fmt`` (:data:`Fmt`), ``timing`` (:data:`TimingClass`): of that entry;
    * ``illegal``: no entry fits, or the entry's :meth:`Instr.legal` is false;
    * ``csr_illegal``: a CSR instruction this core rejects although the table encodes it:
      it would write a CSR (every CSR is a read-only counter) or names an unknown CSR;
    * ``rd``, ``rs1``, ``rs2`` (5 bits): raw register fields (valid for every format that
      has them);
    * ``imm`` (signed 32): the immediate of the entry's format, sign-extended (I, S, B, J:
      assembled from ``Format.imm`` pieces; U: the upper field in place); 0 for formats
      without one (vector units read their own fields from the word);
    * ``reads_rs1``, ``reads_rs2``: the entry reads the scalar register in that field;
    * ``writes_x``: the entry writes scalar register ``rd`` (table ``writes == "x"``);
    * ``is_vector``: the entry belongs to the vector unit;
    * ``flags`` (``data.StructLayout`` of 1-bit fields, only if ``flags`` is given): for
      every ``name: mnemonics`` item of the ``flags`` argument, field ``name`` is high when
      the word matches one of those table entries (users group instructions by mnemonic,
      so the core can register one-hot controls without knowing any encoding).

    Outputs other than ``illegal`` are meaningful only when ``illegal`` is low.
    """

    def __init__(self, config: CoreConfig, flags: dict | None = None):
        self.config = config
        self.flag_groups = {name: tuple(names) for name, names in (flags or {}).items()}
        known = {ins.name for ins in INSTRUCTIONS}
        for name, names in self.flag_groups.items():
            unknown = set(names) - known
            if unknown:
                raise ValueError(f"Decoder flag {name!r} names {sorted(unknown)}, which are "
                                 f"not in the instruction table.")
        members = {}
        if self.flag_groups:
            members["flags"] = Out(data.StructLayout({n: 1 for n in self.flag_groups}))
        super().__init__({
            "word": In(32),
            "op": Out(Op),
            "fmt": Out(Fmt),
            "timing": Out(TimingClass),
            "illegal": Out(1),
            "csr_illegal": Out(1),
            "rd": Out(5),
            "rs1": Out(5),
            "rs2": Out(5),
            "imm": Out(signed(32)),
            "reads_rs1": Out(1),
            "reads_rs2": Out(1),
            "writes_x": Out(1),
            "is_vector": Out(1),
            **members,
        })

    # Helpers --------------------------------------------------------------------------
    @staticmethod
    def _assemble_imm(fmt, view):
        """The signed immediate of ``fmt`` from its ``Format.imm`` pieces, or ``None``."""
        if not fmt.imm:
            return None
        parts, position = [], 0
        for piece in sorted(fmt.imm, key=lambda p: p.imm_lo):
            if piece.imm_lo > position:
                parts.append(Const(0, piece.imm_lo - position))
            value = view[piece.field]
            parts.append(value)
            position = piece.imm_lo + len(value)
        assert position == fmt.imm_width, f"format {fmt.name} immediate has gaps at the top"
        return Cat(*parts).as_signed()

    def _legal(self, ins, view):
        """A 1-bit value: ``ins`` (assumed matching) uses no reserved field value."""
        terms = []
        for mod in ins.modifiers:
            field = view[mod.field]
            terms.append(_any(field == value for value in mod.values()))
        for op in ins.operands.values():
            if op.field == "imm":
                continue
            field = view[op.field]
            if op.kind == Kind.LANE:
                terms.append(field < self.config.lanes)
            elif op.kind == Kind.UIMM and op.hi is not None:
                terms.append(field <= op.hi)
        return _all(terms)

    def _csr_illegal(self, ins, view):
        """A 1-bit value: CSR instruction ``ins`` writes a CSR or names an unknown one."""
        number = view[csr_operand(ins).field]
        known = _any(number == value for value in CSRS.values())
        sources = [op for name, op in ins.operands.items()
                   if op.kind != Kind.CSR and name != "rd"]
        if ins.name.endswith(("rw", "rwi")):
            writes = Const(1, 1)       # csrrw/csrrwi always write
        else:
            writes = _any(view[op.field] != 0 for op in sources)   # set/clear a nonzero mask
        return ~known | writes

    # Elaboration ----------------------------------------------------------------------
    def elaborate(self, platform):
        m = Module()
        views = {name: data.View(fmt.layout, self.word) for name, fmt in FORMATS.items()}

        for name in REGISTER_FIELDS:
            offset, width = _register_field_geometry(name)
            m.d.comb += getattr(self, name).eq(self.word[offset:offset + width])

        matches, legal_terms, csr_terms = [], [], []
        groups = {"reads_rs1": [], "reads_rs2": [], "writes_x": [], "is_vector": []}
        by_fmt = {name: [] for name in FORMATS}
        by_timing = {}
        op_bits = {}
        by_name = {}
        for ins in INSTRUCTIONS:
            view = views[ins.fmt.name]
            hit = (self.word & ins.mask) == ins.match
            matches.append(hit)
            legal_terms.append(hit & self._legal(ins, view))
            if csr_operand(ins) is not None:
                csr_terms.append(hit & self._csr_illegal(ins, view))
            if _reads_field(ins, "rs1"):
                groups["reads_rs1"].append(hit)
            if _reads_field(ins, "rs2"):
                groups["reads_rs2"].append(hit)
            if ins.writes == "x":
                groups["writes_x"].append(hit)
            if ins.is_vector:
                groups["is_vector"].append(hit)
            by_fmt[ins.fmt.name].append(hit)
            by_timing.setdefault(ins.timing, []).append(hit)
            op_bits[op_of(ins).value] = hit
            by_name[ins.name] = hit

        none = ~_any(matches)
        op_bits[Op.NONE.value] = none
        m.d.comb += [
            self.illegal.eq(~_any(legal_terms)),
            self.csr_illegal.eq(_any(csr_terms)),
            self.op.as_value().eq(_one_hot_encode(op_bits, Op.as_shape().width)),
            self.fmt.as_value().eq(_one_hot_encode(
                {Fmt[name].value: _any(hits) for name, hits in by_fmt.items()},
                Fmt.as_shape().width)),
            self.timing.as_value().eq(_one_hot_encode(
                {timing_member(t).value: _any(hits) for t, hits in by_timing.items()},
                TimingClass.as_shape().width)),
        ]
        for name, hits in groups.items():
            m.d.comb += getattr(self, name).eq(_any(hits))
        for name, names in self.flag_groups.items():
            m.d.comb += getattr(self.flags, name).eq(_any(by_name[n] for n in names))

        # Immediates: one per format, selected by the matching format.
        imm_terms = []
        for name, fmt in FORMATS.items():
            value = self._assemble_imm(fmt, views[name])
            if value is None and name == "U":
                field = "imm_31_12"
                value = (views[name][field] << fmt.offset(field)).as_signed()
            if value is not None:
                imm_terms.append((_any(by_fmt[name]), value))
        imm = Const(0, signed(32))
        for hit, value in imm_terms:
            imm = Mux(hit, value, imm)
        m.d.comb += self.imm.eq(imm)
        return m


def _any(values):
    """OR of 1-bit values (0 for none)."""
    values = list(values)
    if not values:
        return Const(0, 1)
    return Cat(*values).any()


def _all(values):
    """AND of 1-bit values (1 for none)."""
    values = list(values)
    if not values:
        return Const(1, 1)
    return Cat(*values).all()


def _one_hot_encode(hits: dict, width: int):
    """Binary index of the one set bit among ``hits`` (index -> 1-bit value)."""
    bits = []
    for bit in range(width):
        bits.append(_any(hit for index, hit in hits.items() if (index >> bit) & 1))
    return Cat(*bits)
