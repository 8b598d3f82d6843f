"""Pre-decoding: instruction words -> flat int64 rows the numba kernel executes.

Every word is decoded once, generically, through the instruction table:
:func:`spikevec.hw.isa.find` picks the entry, :meth:`Instr.legal` rejects reserved field
values, :meth:`Instr.decode` gives the operand values as written (scaled, sign-extended)
and the modifier values. Each operand lands in the code column named by its field
(:data:`.ops.FIELD_COLUMN`; immediates in ``C_IMM``), each modifier in its column. Nothing
here knows a bit position or an opcode number.

Contract of :func:`predecode`: returns ``code`` with one row per word (``code[k, C_OP]``
is the instruction's index in ``INSTRUCTIONS``, or ``OP_ILLEGAL``); :func:`decode_word`
also returns, for an illegal word, a sentence saying why.
"""
from __future__ import annotations

import numpy as np

from ...hw.isa import CSRS, INSTRUCTIONS, TIMING, Kind, find
from . import ops as O

_INDEX = {id(ins): i for i, ins in enumerate(INSTRUCTIONS)}
_CSR_NAMES = {num: name for name, num in CSRS.items()}


def decode_word(word: int, config):
    """Decode one word. Returns ``(row, reason)``: ``row`` is a list of ``N_COLS`` ints,
    ``reason`` is ``None`` for a legal instruction, else a sentence."""
    row = [0] * O.N_COLS
    row[O.C_OP] = O.OP_ILLEGAL
    ins = find(word)
    if ins is None:
        return row, "no instruction of the table has this encoding"
    if not ins.legal(word, config):
        return row, (f"it matches {ins.name} but uses a reserved field value (a modifier "
                     f"value not in the table, a lane >= {config.lanes}, or a shift > 15)")
    values, mods = ins.decode(word, config)
    if ins.group == "Zicsr":
        reason = _csr_problem(ins, values)
        if reason:
            return row, reason
    row[O.C_OP] = _INDEX[id(ins)]
    sources, dest = [], O.NO_REG
    for name, op in ins.operands.items():
        value = values[name]
        row[O.FIELD_COLUMN.get(op.field, O.C_IMM)] = value
        if op.kind not in (Kind.XREG, Kind.VREG) or (op.kind == Kind.XREG and value == 0):
            continue                       # x0 is always ready and never written
        reg = value + (O.REG_V if op.kind == Kind.VREG else 0)
        if op.field == "rd":
            dest = reg
        if op.field != "rd" or ins.reads_rd:
            sources.append(reg)
    for mname, value in mods.items():
        row[O.MODIFIER_COLUMN[mname]] = value
    row[O.C_VECTOR] = (O.VC_SCALAR if not ins.is_vector else
                       O.VC_ARITH if ins.name in O.ARITH_OPS else O.VC_OTHER)
    for column, reg in zip(O.SOURCE_COLUMNS, sources + [O.NO_REG] * 3):
        row[column] = reg
    row[O.C_DEST] = dest
    row[O.C_LATENCY] = TIMING.latency_of(ins.timing)
    row[O.C_WAIT] = TIMING.lane_wait(ins.lane_answer)
    row[O.C_WRITES] = O.WRITES_CODE[ins.writes]
    row[O.C_TIMING] = O.TIMING_CODE[ins.timing]
    return row, None


def _csr_problem(ins, values) -> str | None:
    csr = values["csr"]
    if csr not in _CSR_NAMES:
        return (f"CSR 0x{csr:03x} does not exist; the readable CSRs are "
                + ", ".join(f"{n} (0x{v:03x})" for n, v in CSRS.items()))
    source = next(v for n, v in values.items() if n not in ("rd", "csr"))
    if ins.name not in O.CSR_READ_FORMS or source != 0:
        return (f"{ins.name} writes CSR {_CSR_NAMES[csr]}, which is a read-only counter; "
                f"read it with csrrs rd, {_CSR_NAMES[csr]}, x0 (csrr)")
    return None


def predecode(words, config, n_rows: int | None = None) -> np.ndarray:
    """Pre-decode ``words`` into a ``(n_rows, N_COLS)`` int64 array (``n_rows`` defaults
    to ``len(words)``; rows past the words decode word 0, which is illegal). The reason
    an illegal word is illegal comes from :func:`decode_word` again, when it traps."""
    words = [int(w) & 0xFFFFFFFF for w in words]
    n_rows = len(words) if n_rows is None else n_rows
    if len(words) > n_rows:
        raise ValueError(f"The program has {len(words)} instruction words but instruction "
                         f"memory holds {n_rows}; shorten it or use a configuration with "
                         f"a larger imem_bytes.")
    cache: dict = {}
    code = np.empty((n_rows, O.N_COLS), dtype=np.int64)
    for k, word in enumerate(words):
        if word not in cache:
            cache[word] = decode_word(word, config)[0]
        code[k] = cache[word]
    code[len(words):] = decode_word(0, config)[0]
    return code


def mnemonic(word: int, config) -> str:
    """The mnemonic of ``word`` with modifier suffixes, or ``'(illegal)'``."""
    ins = find(word)
    if ins is None:
        return "(illegal)"
    try:
        return ins.mnemonic(ins.modifier_values(word))
    except Exception:                        # reserved modifier values
        return ins.name
