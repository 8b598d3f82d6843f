"""One lane's random number generator: Xoroshiro32++ on two 16-bit state halves."""

from amaranth.hdl import Cat, Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

__all__ = ["LaneRng", "xoroshiro32pp_output", "xoroshiro32pp_next"]

ROTATE_OUTPUT = 9
ROTATE_S0, SHIFT_S1, ROTATE_S1 = 13, 5, 10


def _rotl16(x, k):
    """Rotate a 16-bit value left by the constant ``k``."""
    return Cat(x[16 - k:16], x[:16 - k])


def xoroshiro32pp_output(s0, s1):
    """``rotl(s0 + s1, 9) + s0`` (mod 2^16): the output of the state ``(s0, s1)``."""
    return (_rotl16((s0 + s1)[:16], ROTATE_OUTPUT) + s0)[:16]


def xoroshiro32pp_next(s0, s1):
    """The state after one step: ``t = s1 ^ s0; s0' = rotl(s0, 13) ^ t ^ (t << 5);
    s1' = rotl(t, 10)`` (all 16 bits). Returns ``(s0', s1')``."""
    t = (s1 ^ s0)[:16]
    n0 = (_rotl16(s0, ROTATE_S0) ^ t ^ (t << SHIFT_S1)[:16])[:16]
    n1 = _rotl16(t, ROTATE_S1)
    return n0, n1


class LaneRng(wiring.Component):
    """Xoroshiro32++ generator of one vector lane (constants 13, 5, 10; output rotate 9).

    State: two 16-bit halves ``s0``, ``s1``, reset to the constructor's ``reset_s0`` and
    ``reset_s1`` (default 0: an all-zero state stays zero until software seeds it, as
    ``vseed`` documents).

    Ports (all in the ``sync`` domain):

    * ``step`` (in, 1): advance the state by one step at the next clock edge.
    * ``write_s0`` / ``write_s1`` (in, 1) with ``seed_s0`` / ``seed_s1`` (in, 16): replace
      that half at the next clock edge (``vseed`` asserts both, per-half loads one). A
      write has priority over ``step``: in a cycle with any write the state does not
      step, a half that is not written keeps its value.
    * ``undo`` (in, 1): put back, at the next clock edge, the state from before the
      step or write of the previous cycle (its instruction was squashed or faulted
      after it changed the state); wins over ``step`` and the writes, which are then
      dropped too (they belong to a younger instruction the core also squashed).
    * ``r`` (out, 16, unsigned): the generator output of the *current* state,
      ``rotl(s0 + s1, 9) + s0``. Latency 0: valid in the same cycle as ``s0``/``s1``,
      i.e. the value an instruction that steps in this cycle must use (the table's
      "``r`` is computed from the state before the step"). It is a pure function of
      the state; with ``registered_output=True`` (default) it is kept in its own
      register, computed from the next state, so that consumers see a flip-flop output
      instead of two 16-bit adders in series (same values, same cycle; 16 more FFs).
    * ``s0`` / ``s1`` (out, 16, unsigned): state readback (``vrds0`` / ``vrds1``).
    """

    step: In(1)
    undo: In(1)
    write_s0: In(1)
    write_s1: In(1)
    seed_s0: In(16)
    seed_s1: In(16)
    r: Out(16)
    s0: Out(16)
    s1: Out(16)

    def __init__(self, *, reset_s0: int = 0, reset_s1: int = 0,
                 registered_output: bool = True):
        for name, v in (("reset_s0", reset_s0), ("reset_s1", reset_s1)):
            if not isinstance(v, int) or not 0 <= v <= 0xFFFF:
                self._MustUse__silence = True   # no "never used" warning for a reject
                raise ValueError(f"LaneRng {name} = {v!r} must be an int in 0..65535")
        self._reset = (reset_s0, reset_s1)
        self._registered_output = registered_output
        super().__init__()

    def elaborate(self, platform):
        m = Module()
        reset_s0, reset_s1 = self._reset
        state_s0 = Signal(16, init=reset_s0)
        state_s1 = Signal(16, init=reset_s1)
        m.d.comb += [self.s0.eq(state_s0), self.s1.eq(state_s1)]

        stepped_s0, stepped_s1 = xoroshiro32pp_next(state_s0, state_s1)
        next_s0 = Signal(16)
        next_s1 = Signal(16)
        prev_s0, prev_s1 = Signal(16), Signal(16)      # the state before the last change
        changes = self.write_s0 | self.write_s1 | self.step
        with m.If(~self.undo & changes):
            m.d.sync += [prev_s0.eq(state_s0), prev_s1.eq(state_s1)]
        with m.If(self.undo):
            m.d.comb += [next_s0.eq(prev_s0), next_s1.eq(prev_s1)]
        with m.Elif(self.write_s0 | self.write_s1):
            m.d.comb += [
                next_s0.eq(Mux(self.write_s0, self.seed_s0, state_s0)),
                next_s1.eq(Mux(self.write_s1, self.seed_s1, state_s1)),
            ]
        with m.Elif(self.step):
            m.d.comb += [next_s0.eq(stepped_s0), next_s1.eq(stepped_s1)]
        with m.Else():
            m.d.comb += [next_s0.eq(state_s0), next_s1.eq(state_s1)]
        m.d.sync += [state_s0.eq(next_s0), state_s1.eq(next_s1)]

        if self._registered_output:
            init_r = _output_int(reset_s0, reset_s1)
            r_reg = Signal(16, init=init_r)
            m.d.sync += r_reg.eq(xoroshiro32pp_output(next_s0, next_s1))
            m.d.comb += self.r.eq(r_reg)
        else:
            m.d.comb += self.r.eq(xoroshiro32pp_output(state_s0, state_s1))
        return m


def _output_int(s0: int, s1: int) -> int:
    """Python value of :func:`xoroshiro32pp_output` for the reset state."""
    v = (s0 + s1) & 0xFFFF
    v = ((v << ROTATE_OUTPUT) | (v >> (16 - ROTATE_OUTPUT))) & 0xFFFF
    return (v + s0) & 0xFFFF
