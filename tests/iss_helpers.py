"""Shared helpers for the golden-model tests: build programs from the instruction table
(no assembler needed) and run them on a :class:`spikevec.sim.iss.Machine`."""
from __future__ import annotations

import functools

from spikevec.hw.config import preset
from spikevec.hw.isa import BY_NAME
from spikevec.sim.iss import Machine

LANE_PRESETS = ("lanes8", "lanes16", "default")       # 8, 16 and 32 lanes
ROUND = {"floor": 0, "half_up": 1, "stochastic": 2}   # reference mode -> modifier value


def enc(config, name, mods=None, **operands) -> int:
    """Encode one instruction through the table."""
    return BY_NAME[name].encode(config, mods, **operands)


def program(config, *instrs) -> list:
    """Words of ``instrs`` (tuples ``(name, mods, operands)`` or ``(name, operands)``)
    followed by ``ecall``."""
    words = []
    for item in instrs:
        if isinstance(item, int):
            words.append(item)
            continue
        name, *rest = item
        mods = rest[0] if len(rest) == 2 else None
        ops = rest[-1] if rest else {}
        words.append(enc(config, name, mods, **ops))
    words.append(enc(config, "ecall"))
    return words


@functools.lru_cache(maxsize=None)
def _machine(name: str) -> Machine:
    return Machine(preset(name))


def machine(name: str = "default", words=None) -> Machine:
    """A (cached, reset) machine of preset ``name`` with ``words`` loaded and memories
    cleared."""
    m = _machine(name)
    m.reset()
    m.dmem[:] = 0
    m.vmem[:] = 0
    m.lmem[:] = 0
    if words is not None:
        m.imem[:] = 0
        m.set_imem(words)
    return m


def rerun(m: Machine, **kw):
    """Run ``m`` from pc 0 keeping registers and memories; counters restart at 0."""
    m.restart(0)
    return m.run(**kw)
