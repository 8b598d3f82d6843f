"""``delayed``: a value carried through a chain of plain registers.

Used where a pipeline keeps a record alongside an instruction for a fixed number of
cycles (the scalar core's retire records, the vector unit's late controls). The
registers have no enable and no reset, so the chain advances every cycle, also while
the core is stopped (pipelines drain).
"""
from amaranth.hdl import Signal, Value

__all__ = ["delayed"]


def delayed(m, value, cycles: int, name: str) -> Value:
    """``value`` delayed by ``cycles`` registers added to ``m``'s sync domain, named
    ``{name}_d1`` up (``cycles`` = 0 returns ``value`` itself, as a ``Value``)."""
    value = Value.cast(value)
    for k in range(cycles):
        reg = Signal(len(value), name=f"{name}_d{k + 1}")
        m.d.sync += reg.eq(value)
        value = reg
    return value
