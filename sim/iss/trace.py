"""Write-back trace records and trace comparison (for lockstep checks against the RTL).

A trace is a list of :class:`TraceRecord`, one per architectural write, in program
order. ``kind`` says what was written:

===========  =====================  =========================================  ==========
kind         where                  value                                      lane, size
===========  =====================  =========================================  ==========
``"x"``      register number 1..31  new value, unsigned 32-bit int             -1, 4
``"v"``      register number        tuple of the lanes' new values (signed)    -1, 2*lanes
``"mem"``    byte address (dmem)    stored value, unsigned, ``size`` bytes     -1, 1/2/4
``"vmem"``   byte address (vmem)    tuple of the stored lane values (signed)   -1, 2*lanes
``"lmem"``   element address        stored value (signed), one record per      lane, 2
                                    enabled lane, in lane order
``"rng"``    0 (s0) or 1 (s1)       tuple of the lanes' new state halves       -1, 2*lanes
                                    (unsigned); written by ``vseed`` only
===========  =====================  =========================================  ==========

``pc`` is the address of the writing instruction and ``instret`` its index among retired
instructions (0 for the first instruction executed). Writes to x0 are not recorded;
generator steps by stochastic instructions and ``vrng`` are not recorded (they show in
the values they produce).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .ops import (T_INSTRET, T_KIND, T_LANE, T_LANES, T_PC, T_SIZE, T_VALUE, T_WHERE, TK_RNG,
                  TK_V, TK_VMEM, TRACE_KIND_NAMES)

__all__ = ["TraceRecord", "TRACE_KINDS", "rows_to_records", "compare_traces",
           "first_divergence"]

TRACE_KINDS = tuple(TRACE_KIND_NAMES.values())
_VECTOR_KINDS = (TK_V, TK_VMEM, TK_RNG)


class TraceRecord(NamedTuple):
    """One architectural write. See the module docstring for the meaning per kind."""
    instret: int
    pc: int
    kind: str
    where: int
    value: object
    lane: int = -1
    size: int = 0

    def describe(self) -> str:
        """A one-line human description, e.g. ``x5 = 0x0000002a``."""
        if self.kind == "x":
            return f"x{self.where} = 0x{self.value:08x}"
        if self.kind == "v":
            return f"v{self.where} = {list(self.value)}"
        if self.kind == "mem":
            return f"dmem[0x{self.where:x}] ({self.size} bytes) = 0x{self.value:x}"
        if self.kind == "vmem":
            return f"vmem[0x{self.where:x}] = {list(self.value)}"
        if self.kind == "lmem":
            return f"lane {self.lane} lmem[{self.where}] = {self.value}"
        return f"rng s{self.where} = {list(self.value)}"


def rows_to_records(rows: np.ndarray, lanes: int) -> list:
    """Convert kernel trace rows (``T_*`` columns) to :class:`TraceRecord` objects."""
    out = []
    for row in rows.tolist():
        kind = row[T_KIND]
        if kind in _VECTOR_KINDS:
            value = tuple(row[T_LANES:T_LANES + lanes])
        else:
            value = row[T_VALUE]
        out.append(TraceRecord(row[T_INSTRET], row[T_PC], TRACE_KIND_NAMES[kind],
                               row[T_WHERE], value, row[T_LANE], row[T_SIZE]))
    return out


def _key(rec) -> tuple:
    r = TraceRecord(*rec) if not isinstance(rec, TraceRecord) else rec
    value = tuple(r.value) if isinstance(r.value, (list, tuple)) else r.value
    return (r.instret, r.pc, r.kind, r.where, value, r.lane)


def first_divergence(expected, actual):
    """Index of the first record that differs (or where one trace ends), or ``None`` if
    the traces are equal. Records may be :class:`TraceRecord` or plain tuples in the
    same field order (e.g. produced by an RTL simulation); ``size`` is not compared."""
    for i, (e, a) in enumerate(zip(expected, actual)):
        if _key(e) != _key(a):
            return i
    if len(expected) != len(actual):
        return min(len(expected), len(actual))
    return None


def compare_traces(expected, actual, context: int = 3) -> str | None:
    """``None`` if the traces agree, else a readable report of the first divergence:
    its pc and instret, the expected and actual records, and up to ``context`` agreeing
    records before it."""
    i = first_divergence(expected, actual)
    if i is None:
        return None
    expected = [TraceRecord(*r) for r in expected]
    actual = [TraceRecord(*r) for r in actual]
    ref = expected[i] if i < len(expected) else actual[i]
    lines = [f"Traces diverge at write #{i} (instruction at pc 0x{ref.pc:08x}, "
             f"instret {ref.instret}):"]
    for j in range(max(0, i - context), i):
        r = expected[j]
        lines.append(f"  ok       #{j} pc 0x{r.pc:08x} instret {r.instret}: {r.describe()}")
    for label, trace in (("expected", expected), ("actual  ", actual)):
        if i < len(trace):
            r = trace[i]
            lines.append(f"  {label} #{i} pc 0x{r.pc:08x} instret {r.instret}: "
                         f"{r.describe()}")
        else:
            lines.append(f"  {label} #{i}: (trace ends after {len(trace)} writes)")
    return "\n".join(lines)
