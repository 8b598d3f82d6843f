"""Plain-Python reference semantics of the vector lane operations, for tests only.

Written from the prose in ``spikevec.hw.isa.table`` and deliberately independent of the
golden model (``spikevec.sim``) and the RTL: both are checked against these functions,
one lane value at a time, with no numpy and no shared helpers.
"""
from __future__ import annotations

INT16_MIN, INT16_MAX = -32768, 32767
EDGE_VALUES = (-32768, -32767, -2, -1, 0, 1, 2, 32766, 32767)


def wrap16(x: int) -> int:
    x &= 0xFFFF
    return x - 0x10000 if x & 0x8000 else x


def sat16(x: int) -> int:
    return max(INT16_MIN, min(INT16_MAX, x))


def rotl16(x: int, k: int) -> int:
    x &= 0xFFFF
    return ((x << k) | (x >> (16 - k))) & 0xFFFF


class Xoroshiro32pp:
    """One lane's generator: Xoroshiro32++ with constants 13, 5, 10 and rotation 9."""

    def __init__(self, s0: int, s1: int):
        self.s0, self.s1 = s0 & 0xFFFF, s1 & 0xFFFF

    def peek(self) -> int:
        """The 16-bit output of the current state (unsigned)."""
        return (rotl16((self.s0 + self.s1) & 0xFFFF, 9) + self.s0) & 0xFFFF

    def step(self) -> int:
        """Return the output of the current state, then advance one step."""
        out = self.peek()
        s0, s1 = self.s0, self.s1
        s1 ^= s0
        self.s0 = rotl16(s0, 13) ^ s1 ^ ((s1 << 5) & 0xFFFF)
        self.s1 = rotl16(s1, 10)
        return out


def rshift(x: int, s: int, mode: str, r: int = 0) -> int:
    """Rounding arithmetic right shift. ``mode`` is floor, half_up or stochastic; ``r``
    is the lane generator's 16-bit output (only stochastic uses it, top ``s`` bits)."""
    if s == 0:
        return x
    if mode == "floor":
        return x >> s
    if mode == "half_up":
        return (x + (1 << (s - 1))) >> s
    if mode == "stochastic":
        return (x + (r >> (16 - s))) >> s
    raise ValueError(mode)


def vadd(a, b, sat=False):
    return sat16(a + b) if sat else wrap16(a + b)


def vsub(a, b, sat=False):
    return sat16(a - b) if sat else wrap16(a - b)


def vmul(a, b, shift, mode="floor", sat=False, r=0):
    v = rshift(a * b, shift, mode, r)
    return sat16(v) if sat else wrap16(v)


def vsll(a, s, sat=False):
    return sat16(a << s) if sat else wrap16(a << s)


def vsrl(a, s):
    return wrap16((a & 0xFFFF) >> s)


def vmin(a, b):
    return a if a < b else b


def vmax(a, b):
    return a if a > b else b


def vandadd(a, n, x):
    return wrap16((a & ((1 << n) - 1)) + x)


def acc_weight(acc, w, shift):
    """Fused load-accumulate: ``sat(acc + (w << shift))`` for a 16- or 8-bit weight."""
    return sat16(acc + (w << shift))


def compare_mask(a_lanes, b_lanes, op):
    """The scalar mask of a vector compare: bit i set when lane i compares true."""
    ops = {"eq": lambda a, b: a == b, "ne": lambda a, b: a != b,
           "lt": lambda a, b: a < b, "ge": lambda a, b: a >= b}
    return sum(1 << i for i, (a, b) in enumerate(zip(a_lanes, b_lanes)) if ops[op](a, b))
