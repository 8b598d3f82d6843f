"""A tiny demonstration design for the RTL-simulation infrastructure (tests, benchmarks).

:class:`LfsrCounter` counts enabled cycles up to ``limit`` and steps a 32-bit Galois LFSR
(taps ``0x80200003``, i.e. x^32 + x^22 + x^2 + x + 1) on the same cycles; ``done`` goes
high (registered) once ``count == limit`` and both then hold. ``limit`` is an input, so one
build serves every run length. :func:`lfsr_model` is the bit-exact Python reference.
"""

from amaranth.hdl import Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

__all__ = ["LfsrCounter", "lfsr_model", "LFSR_TAPS", "LFSR_SEED"]

LFSR_TAPS = 0x80200003
LFSR_SEED = 0xACE1_2468


def lfsr_step(state: int) -> int:
    """One step of the Galois LFSR (shift right, XOR taps if the dropped bit was 1)."""
    return (state >> 1) ^ (LFSR_TAPS if state & 1 else 0)


def lfsr_model(steps: int, state: int = LFSR_SEED) -> int:
    """LFSR state after ``steps`` steps from ``state``."""
    for _ in range(steps):
        state = lfsr_step(state)
    return state


class LfsrCounter(wiring.Component):
    """Ports: ``en``, ``limit[32]`` in; ``count[32]``, ``lfsr[32]``, ``done`` out.

    Synchronous reset (``rst``) restores ``count = 0`` and ``lfsr = LFSR_SEED``.
    """

    en: In(1)
    limit: In(32)
    count: Out(32)
    lfsr: Out(32, init=LFSR_SEED)
    done: Out(1)

    def elaborate(self, platform):
        m = Module()
        m.d.sync += self.done.eq(self.count == self.limit)
        with m.If(self.en & (self.count != self.limit)):
            m.d.sync += [
                self.count.eq(self.count + 1),
                self.lfsr.eq((self.lfsr >> 1) ^ (self.lfsr[0].replicate(32) & LFSR_TAPS)),
            ]
        return m
