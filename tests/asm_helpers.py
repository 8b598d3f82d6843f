"""Hypothesis strategies shared by the assembler tests: legal operands of any table
instruction, derived from the table's own operand declarations."""
from __future__ import annotations

import re

from hypothesis import strategies as st

from spikevec.hw.config import CoreConfig
from spikevec.hw.isa import Kind

CONFIGS = {lanes: CoreConfig(lanes=lanes, vmem_bytes=64 * 1024, name=f"test{lanes}")
           for lanes in (8, 16, 32)}


def operand_strategy(ins, op, config):
    """Values of ``op`` as written in assembly that ``ins.encode`` accepts."""
    if op.kind in (Kind.XREG, Kind.VREG):
        return st.integers(0, 31)
    lo, hi = op.stored_range(ins.field_width(op.field))
    if op.kind == Kind.LANE:
        hi = min(hi, config.lanes - 1)
    if op.kind == Kind.PCREL:
        return st.integers(lo // 2, hi // 2).map(lambda v: 2 * v)
    scale = op.scale_for(config)
    return st.integers(lo, hi).map(lambda v: v * scale)


def instruction_strategy(ins, config):
    """``(operands, modifiers)`` dictionaries for a random legal instance of ``ins``."""
    ops = st.fixed_dictionaries({name: operand_strategy(ins, op, config)
                                 for name, op in ins.operands.items()})
    mods = st.fixed_dictionaries({m.name: st.sampled_from(m.values())
                                  for m in ins.modifiers})
    return st.tuples(ops, mods)


def random_operands(ins, config, rng):
    """Like :func:`operand_strategy` with ``random.Random``; favours range edges."""
    values = {}
    for name, op in ins.operands.items():
        if op.kind in (Kind.XREG, Kind.VREG):
            values[name] = rng.randrange(32)
            continue
        lo, hi = op.stored_range(ins.field_width(op.field))
        if op.kind == Kind.LANE:
            hi = min(hi, config.lanes - 1)
        step = 2 if op.kind == Kind.PCREL else 1
        lo, hi = -(-lo // step), hi // step
        pick = rng.choice([lo, hi, 0, 1, -1, None, None, None])
        stored = pick if pick is not None and lo <= pick <= hi else rng.randint(lo, hi)
        values[name] = stored * step * op.scale_for(config)
    return values


def gnu_text(ins, values) -> str:
    """``ins`` with ``values`` in GNU syntax written independently of the disassembler:
    ``xN`` registers, decimal numbers, branch targets as ``.+N`` / ``.-N``."""
    def render(match):
        name = match.group(1)
        op, value = ins.operands[name], values[name]
        if op.kind == Kind.XREG:
            return f"x{value}"
        if op.kind == Kind.PCREL:
            return f".+{value}" if value >= 0 else f".-{-value}"
        return str(value)
    operands = re.sub(r"{(\w+)}", render, ins.syntax)
    return f"{ins.name} {operands}".strip()
