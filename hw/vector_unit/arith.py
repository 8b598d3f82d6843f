"""Shared fixed-point building blocks of the vector lanes (no components here).

Every lane element is a 16-bit two's-complement integer. The functions below build
combinational Amaranth expressions for the arithmetic that ``spikevec.hw.isa.table``
defines in prose, so that the lane ALU and the lane multiplier compute it identically:

* :func:`wrap16` -- the low 16 bits of an exact (wider) result, as ``signed(16)``;
* :func:`saturate16` -- the exact result clamped to ``[-32768, 32767]``;
* :func:`rounding_bias` -- what the rounding right shift ``rshift(x, s, mode)`` adds to
  ``x`` before the arithmetic shift: ``0`` (floor), ``2^(s-1)`` (round half up) or the
  top ``s`` bits of the lane generator output ``r >> (16 - s)`` (stochastic); ``0``
  whenever ``s = 0``, so every mode returns ``x`` unchanged for a zero shift;
* :class:`RoundMode` -- the rounding-mode selector shared by the ALU and multiplier;
* :func:`shift_left`, :func:`shift_right` -- ``value << amount`` and ``value >> amount``
  for a variable ``amount``, built from multiplexers (see :func:`shift_left` for why).

Nothing here knows instruction encodings: the decoder maps instruction modifiers onto
:class:`RoundMode` members by name.
"""
from __future__ import annotations

from amaranth.hdl import Const, Mux, Value, signed
from amaranth.lib import enum

__all__ = ["RoundMode", "ELEMENT", "INT16_MIN", "INT16_MAX",
           "wrap16", "saturate16", "saturate_or_wrap16", "rounding_bias", "shift_left",
           "shift_right"]

ELEMENT = signed(16)
INT16_MIN, INT16_MAX = -32768, 32767


class RoundMode(enum.Enum, shape=2):
    """How the rounding right shift by ``s`` bits treats the discarded bits.

    ``FLOOR``: plain arithmetic shift (rounds towards minus infinity).
    ``HALF_UP``: add ``2^(s-1)`` first (round to nearest, ties upwards).
    ``STOCHASTIC``: add ``r >> (16 - s)`` first, the top ``s`` bits of the lane's
    16-bit Xoroshiro32++ output ``r`` (unbiased on average).
    The fourth encoding of the 2-bit shape is unused; the units treat it as ``FLOOR``.
    """
    FLOOR = 0
    HALF_UP = 1
    STOCHASTIC = 2


def _barrel(value, amount, shift) -> Value:
    """``len(amount)`` stages of 2:1 multiplexers, stage ``k`` applying
    ``shift(value, 2**k)`` (a constant shift) when bit ``k`` of ``amount`` is set."""
    value, amount = Value.cast(value), Value.cast(amount)
    assert not amount.shape().signed, "a variable shift needs an unsigned amount"
    for k in range(len(amount)):
        value = Mux(amount[k], shift(value, 1 << k), value)
    return value


def shift_left(value, amount) -> Value:
    """``value << amount`` (same shape: ``len(value) + 2**len(amount) - 1`` bits, signed
    if ``value`` is) for an unsigned variable ``amount``, as ``len(amount)`` stages of
    2:1 multiplexers, each shifting by a constant ``2**k`` when bit ``k`` is set.

    This is the logarithmic shifter Yosys would build for a ``$shl`` cell anyway, but it
    leaves no ``$shl`` cell in the netlist: Yosys's ``share`` pass tries every pair of
    shifters whose results feed multiplexers, with a SAT problem per pair, so the 96 such
    shifters of a 32-lane unit (three per lane) cost 7,073 SAT problems and 491 s of a
    764 s synthesis while sharing none (lanes all work at once). Every variable shift of
    the lanes uses this or :func:`shift_right`."""
    return _barrel(value, amount, Value.shift_left)


def shift_right(value, amount) -> Value:
    """``value >> amount`` (same shape as ``value``; arithmetic if ``value`` is signed)
    for an unsigned variable ``amount``, as :func:`shift_left` builds it."""
    return _barrel(value, amount, Value.shift_right)


def wrap16(x) -> Value:
    """The low 16 bits of ``x`` reinterpreted as a signed 16-bit value."""
    return Value.cast(x)[:16].as_signed()


def saturate16(x) -> Value:
    """``x`` (signed, any width >= 16) clamped to ``[-32768, 32767]`` as ``signed(16)``.

    Overflow is detected without a magnitude comparator: ``x`` fits in 16 bits exactly
    when its bits ``[15:]`` are all equal to its sign bit.
    """
    x = Value.cast(x)
    assert x.shape().signed, "saturate16 needs a signed operand"
    if len(x) <= 16:
        return x.as_signed()
    upper = x[15:]
    fits = upper.all() | ~upper.any()
    clamp = Mux(x[-1], Const(INT16_MIN, ELEMENT), Const(INT16_MAX, ELEMENT))
    return Mux(fits, x[:16], clamp).as_signed()


def saturate_or_wrap16(x, sat) -> Value:
    """``saturate16(x)`` when the 1-bit ``sat`` is high, else ``wrap16(x)``."""
    x = Value.cast(x)
    if len(x) <= 16:
        return x.as_signed()
    upper = x[15:]
    fits = upper.all() | ~upper.any()
    clamp = Mux(x[-1], Const(INT16_MIN, ELEMENT), Const(INT16_MAX, ELEMENT))
    return Mux(Value.cast(sat) & ~fits, clamp, x[:16]).as_signed()


def rounding_bias(shift, mode, r) -> Value:
    """What ``rshift(x, shift, mode)`` adds to ``x`` before shifting, as ``unsigned(15)``.

    ``shift`` is ``unsigned(4)`` (0..15), ``mode`` a :class:`RoundMode` value, ``r`` the
    16-bit generator output (only :attr:`RoundMode.STOCHASTIC` uses it). The result is
    always ``< 2^shift`` and is ``0`` for ``shift = 0`` in every mode.
    """
    shift = Value.cast(shift)
    r = Value.cast(r)
    assert len(shift) == 4 and len(r) == 16
    # 2^(shift-1): a one shifted to position `shift`, then dropped by one place.
    half = shift_left(Const(1, 1), shift)[1:16]
    # r >> (16 - shift) == (r << shift) >> 16 (the top `shift` bits of r), 0 for shift 0.
    random = shift_left(r.as_unsigned(), shift)[16:31]
    return Mux(mode == RoundMode.HALF_UP, half,
               Mux(mode == RoundMode.STOCHASTIC, random, Const(0, 15)))
