"""UartTx: 8N1 UART transmitter fed by a byte stream.

Ports: ``data`` (``In(stream.Signature(8))``): bytes to send, taken one at a time when the
line is idle; ``tx`` (``Out(1)``): the serial line, idle high; ``busy`` (``Out(1)``): a
frame is on the line.

Contract: each accepted byte goes out as one start bit (0), eight data bits LSB first and
one stop bit (1), every bit exactly ``divisor`` clock cycles long, where ``divisor`` is
:func:`baud_divisor` of the clock and the baud rate. Back-to-back bytes are sent with no
gap after the stop bit.
"""
from __future__ import annotations

from amaranth.hdl import Cat, Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

__all__ = ["UartTx", "baud_divisor", "check_divisor", "MAX_BAUD_ERROR"]

#: Largest tolerated relative difference between the wanted and the real baud rate. Both
#: ends of an 8N1 link together may drift about half a bit over ten bits; 2 % on our side
#: leaves most of that to the host's bridge.
MAX_BAUD_ERROR = 0.02
#: Fewest clock cycles per bit the receiver can sample reliably (it samples mid-bit).
MIN_DIVISOR = 4


def baud_divisor(clock_hz: int, baud: int) -> int:
    """Clock cycles per bit for ``baud`` at ``clock_hz``; raises ``ValueError`` if the
    rounding error exceeds :data:`MAX_BAUD_ERROR` or the divisor is below
    :data:`MIN_DIVISOR`."""
    if clock_hz <= 0 or baud <= 0:
        raise ValueError(f"Give positive clock and baud rates, not {clock_hz} Hz and "
                         f"{baud} baud.")
    divisor = round(clock_hz / baud)
    if divisor < MIN_DIVISOR:
        raise ValueError(f"{baud} baud needs at least {MIN_DIVISOR} clock cycles per bit, "
                         f"but a {clock_hz / 1e6:g} MHz clock gives {clock_hz / baud:.2f}; "
                         f"lower the baud rate or raise the clock.")
    error = abs(clock_hz / divisor - baud) / baud
    if error > MAX_BAUD_ERROR:
        raise ValueError(f"{baud} baud from a {clock_hz / 1e6:g} MHz clock is off by "
                         f"{error:.1%} (divisor {divisor}), more than "
                         f"{MAX_BAUD_ERROR:.0%}; choose a baud rate that divides the "
                         f"clock more evenly.")
    return divisor


def check_divisor(divisor, who: str) -> None:
    """Raise ``ValueError`` unless ``divisor`` is a usable cycles-per-bit count."""
    if not isinstance(divisor, int) or divisor < MIN_DIVISOR:
        raise ValueError(f"{who} divisor {divisor!r} is not allowed; give an integer of at "
                         f"least {MIN_DIVISOR} (use baud_divisor()).")


class UartTx(wiring.Component):
    """8N1 transmitter; ``divisor`` clock cycles per bit (see the module docstring)."""

    def __init__(self, divisor: int):
        self._MustUse__silence = True       # no "never used" warning if we raise
        check_divisor(divisor, "UartTx")
        self._MustUse__silence = False
        self.divisor = divisor
        super().__init__({"data": In(stream.Signature(8)), "tx": Out(1, init=1),
                          "busy": Out(1)})

    def elaborate(self, platform):
        m = Module()
        timer = Signal(range(self.divisor))
        shift = Signal(10)                      # stop bit, 8 data bits, start bit (LSB)
        bits_left = Signal(range(11))

        last_tick = (bits_left == 1) & (timer == 0)       # the stop bit ends now
        m.d.comb += [self.busy.eq(bits_left != 0),
                     self.data.ready.eq((bits_left == 0) | last_tick)]
        with m.If(self.data.valid & self.data.ready):
            m.d.sync += [shift.eq(Cat(0, self.data.payload, 1)), bits_left.eq(10),
                         timer.eq(self.divisor - 1), self.tx.eq(0)]
        with m.Elif(bits_left != 0):
            with m.If(timer == 0):
                m.d.sync += [timer.eq(self.divisor - 1), bits_left.eq(bits_left - 1),
                             shift.eq(shift >> 1), self.tx.eq(Mux(bits_left == 1, 1, shift[1]))]
            with m.Else():
                m.d.sync += timer.eq(timer - 1)
        return m
