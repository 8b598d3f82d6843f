"""Verilator lint of the SoC's Verilog: the waivers beyond :data:`.lint.AMARANTH_WAIVERS`.

Every waiver names the construct and why it is harmless. They fall in two groups:

* artefacts of how Amaranth 0.5 (through Yosys ``write_verilog``) writes any design:
  port aliases, case statements, reductions, word selects and operand widths;
* ports of :class:`~spikevec.hw.rtl.soc_scalar_core.SocScalarCore` (the scalar-only
  core, ``Soc(config, core=SocScalarCore(config))``) that it deliberately leaves unused
  (no vector unit): applied only when that core is linted;
* :data:`OWNER_WAIVERS`: warnings inside other owners' modules (decoder, ALU, load/store
  unit, host port), each explained and reported to the owner rather than fixed here.

``soc_lint(config)`` lints a fresh conversion of ``Soc(config)`` and returns the
remaining warnings (an empty list: clean).
"""
from __future__ import annotations

import re

from .lint import AMARANTH_WAIVERS, Waiver

__all__ = ["SOC_WAIVERS", "SCALAR_CORE_WAIVERS", "OWNER_WAIVERS", "soc_lint",
           "alias_names"]

_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"

SOC_WAIVERS = AMARANTH_WAIVERS + (
    Waiver("UNUSEDSIGNAL", rf"{_IDENT}\$\d+|\$signal(\$\d+)?",
           "Yosys numbers the copies it makes of a signal that crosses a module boundary "
           "or is sliced ('status__cycles$41', unnamed Signal()s '$signal$N'); the copy "
           "that feeds the logic is used, the alias Verilator reports is not. Only "
           "'$N'-suffixed and unnamed names are covered, never a plain signal name."),
    Waiver("CASEINCOMPLETE", r"Case values incompletely covered \(example pattern "
                             r"0x[0-9a-fA-F]+\)",
           "Amaranth writes every m.Switch / m.FSM as a Verilog case inside a process that "
           "first assigns each target its default (comb) or its current value (sync), so "
           "uncovered values keep that assignment: no latch can be inferred. Only the "
           "case-coverage message is covered."),
    Waiver("WIDTHTRUNC", r"Logical operator LOGNOT expects 1 bit on the LHS, but LHS's "
                         r"(VARREF '[^']+'|SEL|REPLICATE) generates \d+ bits\.",
           "Yosys writes Amaranth's 'x == 0' / '~x.any()' on a multi-bit value as '!x', "
           "which Verilog defines as 'x == 0': the same function, not a truncation."),
    Waiver("WIDTHTRUNC", r"Operator ASSIGNW expects \d+ bits on the Assign RHS, but Assign "
                         r"RHS's SHIFTR generates \d+ bits\.",
           "Amaranth's word_select/bit_select with a variable index is written as a right "
           "shift of the whole value assigned to the narrow target; taking the low bits "
           "is the operation itself."),
    Waiver("WIDTHEXPAND", r"Operator (ADD|SUB|MUL|EQ|NEQ|GT|GTE|LT|LTE|GTS|GTES|LTS|LTES|"
                          r"SHIFTL|SHIFTR|AND|OR|XOR) expects \d+ bits on the (LHS|RHS), but (LHS|RHS)'s "
                          r"(VARREF '[^']+'|SEL|SIGNED|EXTEND|CONCAT) generates \d+ bits\.",
           "Amaranth widens the operands of arithmetic and comparisons to the result "
           "width (zero-extending unsigned and sign-extending signed values, written with "
           "$signed()); Yosys leaves the widening to Verilog's context rules, which do "
           "exactly that. Unsigned/signed mixes are made explicit by Amaranth first."),
)

#: Ports SocScalarCore leaves unused on purpose (see its module docstring).
SCALAR_CORE_WAIVERS = (
    Waiver("UNUSEDSIGNAL", r"(vmem|lmem|vreg)(_host)?__(addr|wdata|we|rdata)",
           "The scalar-only core SocScalarCore has no vector unit (VMEM/LMEM/VREG read 0 "
           "and ignore writes); the router still drives these ports, as for Core."),
    Waiver("UNUSEDSIGNAL", r"vector_retire__\w+",
           "SocScalarCore's vector retire port is constant 0 (no vector unit)."),
    Waiver("UNUSEDSIGNAL", r"(issue|vector)__(id_valid|id_word)",
           "The null vector unit ignores the look-ahead (ID word) of the issue port."),
)

#: Warnings in other owners' modules, explained and reported to them (not SoC problems).
OWNER_WAIVERS = (
    Waiver("UNUSEDSIGNAL", r"fmt|op|timing",
           "Decoder outputs the scalar core does not read (format, op copy, timing "
           "class): dead outputs of hw/rtl/decoder.py, removed by synthesis; reported to "
           "the scalar-core owner."),
    Waiver("UNUSEDSIGNAL", r"target|target_plus_4",
           "ALU branch-target outputs seen unused inside the ALU/core modules while the "
           "ALU is being reworked (hw/rtl/alu.py); reported to the scalar-core owner."),
    Waiver("UNUSEDSIGNAL", r"ex_is_store",
           "LoadStoreUnit output the core does not read (hw/rtl/load_store_unit.py); "
           "reported to the scalar-core owner."),
    Waiver("UNUSEDSIGNAL", r"retire__mem_word_addr",
           "The 30-bit retire word address is driven from the narrower data-memory word "
           "address (hw/rtl/scalar_core.py): the wide copy's top bits are constant 0."),
    Waiver("UNUSEDSIGNAL", r"sum",
           "Bit 0 of the scalar ALU's adder output is not read: the only wide use is the "
           "jalr target, which clears bit 0 by definition (hw/rtl/scalar_core.py)."),
    Waiver("UNUSEDSIGNAL", r"buf_w__data",
           "HostPort's frame-buffer write data is written as a concatenation "
           "(hw/rtl/host_port.py); the memory port reads its own copy."),
)


def alias_names(text: str) -> dict[str, set[str]]:
    """Per Verilog module, the wires that are pure aliases: ``assign a = b;`` or
    ``assign a = b[i:j];`` with ``b`` a plain (possibly escaped) identifier.

    Amaranth 0.5 emits such a named wire for every signal of the design hierarchy (port
    copies in parent and child, fields of ``data.View``s as ``\\a.b``, outputs tied
    to a constant such as the null vector unit's ``stall``) so that
    waveforms show every name (also as concatenations ``assign a = { b, c[3:0], 2'h0 };``
    of such nets and constants, for records and lane vectors built with ``Cat``); the
    logic reads the original nets, so Verilator reports
    the alias as unused. An alias carries no logic of its own, so an unused alias is
    never a design problem (the net it copies is checked on its own)."""
    out, module = {}, None
    item = r"(?:\\?[A-Za-z_$][\w$.]*(?:\s*\[[0-9:]+\])?|\d+'[bhd][0-9a-fA-F]+)"
    assign = re.compile(rf"\s*assign\s+\\?(\S+)\s*=\s*({item}|\{{\s*{item}"
                        rf"(?:\s*,\s*{item})*\s*\}})\s*;")
    for line in text.splitlines():
        head = re.match(r"module\s+\\?(\S+?)[\s(]", line)
        if head:
            module = head.group(1)
            out.setdefault(module, set())
            continue
        found = assign.match(line)
        if found and module is not None:
            out[module].add(found.group(1))
    return out


def soc_lint(config, *, scalar_stand_in: bool | None = None, timeout_cycles: int = 4096,
             core=None) -> list[str]:
    """Unwaived warnings of ``Soc(config)`` (see the module docstring); UNUSEDSIGNAL
    warnings of pure alias wires (:func:`alias_names`) are waived too.
    ``scalar_stand_in`` (default: whether ``core`` is a ``SocScalarCore``) adds
    :data:`SCALAR_CORE_WAIVERS`."""
    from ...hw.rtl.soc import Soc
    from ...hw.rtl.soc_scalar_core import SocScalarCore
    from .build import verilog_text
    from .lint import lint_warnings
    if scalar_stand_in is None:
        scalar_stand_in = isinstance(core, SocScalarCore)
    waivers = SOC_WAIVERS + OWNER_WAIVERS + (SCALAR_CORE_WAIVERS if scalar_stand_in
                                             else ())
    text = verilog_text(lambda: Soc(config, timeout_cycles=timeout_cycles, core=core),
                        "soc")
    aliases = alias_names(text)
    lines = text.splitlines()
    left = []
    for w in lint_warnings(text):
        if any(v.matches(w) for v in waivers):
            continue
        if w.code == "UNUSEDSIGNAL":
            module = _module_at(lines, int(w.location.split(":")[-2]))
            if w.subject in aliases.get(module, ()):
                continue
        left.append(f"{w}  [module {module if w.code == 'UNUSEDSIGNAL' else '?'}]")
    return left


def _module_at(lines, lineno):
    for i in range(min(lineno, len(lines)) - 1, -1, -1):
        head = re.match(r"module\s+\\?(\S+?)[\s(]", lines[i])
        if head:
            return head.group(1)
    return None
