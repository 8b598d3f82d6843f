"""A lane's own copy of a control register that every lane holds: synthesis must not
merge the copies.

The vector unit's control (the instruction in EX, the operand bypass selects, the load
stage's control, the result select) is the same for every lane. Registered once in the
unit, each bit is one flip-flop driving all lanes; at 32 lanes that net spans the chip
and its routing alone takes a clock period (15 ns measured on the ULX3S-85F). So each
lane registers its own copy from the value the unit computes in the cycle before.

Yosys merges flip-flops whose inputs are identical (``opt_merge``; a ``keep`` attribute
on the wire does not stop it), which would undo the copies. On ECP5 each bit is
therefore an explicit ``TRELLIS_FF`` instance, which Yosys leaves alone; anywhere else
(simulation, Verilator, other FPGA families) it is an ordinary ``sync`` register. The
copies have no reset (they sample their input every cycle; nothing depends on their
value in the first cycle after a reset).
"""
from amaranth.hdl import ClockSignal, Const, Instance, Signal, Value

__all__ = ["lane_copy"]


def _is_ecp5(platform) -> bool:
    return getattr(platform, "family", None) == "ecp5"


def lane_copy(m, platform, value, shape, name: str) -> Signal:
    """A register of ``shape`` that samples ``value`` at every clock edge (``value``
    delayed by one cycle), built so that synthesis keeps it apart from identical copies
    in other lanes when ``platform`` is an ECP5 (see the module docstring)."""
    q = Signal(shape, name=name)
    if not _is_ecp5(platform):
        m.d.sync += q.eq(value)
        return q
    d, out = Value.cast(value), Value.cast(q)
    for i in range(len(out)):
        m.submodules[f"{name}_ff{i}"] = Instance(
            "TRELLIS_FF", p_GSR="DISABLED", p_CEMUX="1", p_CLKMUX="CLK", p_LSRMUX="LSR",
            p_REGSET="RESET", p_SRMODE="LSR_OVER_CE", i_CLK=ClockSignal(),
            i_DI=d[i] if i < len(d) else Const(0), i_LSR=Const(0), i_CE=Const(1),
            o_Q=out[i])
    return q
