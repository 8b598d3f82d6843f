"""UartRx: 8N1 UART receiver producing a byte stream.

Ports: ``rx`` (``In(1, init=1)``): the serial line (asynchronous; synchronised inside);
``data`` (``Out(stream.Signature(8))``): received bytes; ``framing_error`` (``Out(1)``):
one-cycle pulse when a frame's stop bit reads 0 (the byte is dropped);
``overrun`` (``Out(1)``): one-cycle pulse when a byte arrives while the previous one
still waits in ``data`` (the new byte is dropped).

Contract: a start bit is a falling edge that is still low half a bit later (shorter
glitches are ignored); bits are sampled in the middle, ``divisor`` cycles apart. After a
framing error the receiver waits for the line to be high again (a break condition does
not produce a stream of zero bytes). The host protocol keeps at most one request in
flight, so a one-byte buffer is enough: the Soc back-pressures only between requests.
"""
from __future__ import annotations

from amaranth.hdl import Cat, Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.cdc import FFSynchronizer
from amaranth.lib.wiring import In, Out

from .uart_tx import check_divisor

__all__ = ["UartRx"]


class UartRx(wiring.Component):
    """8N1 receiver; ``divisor`` clock cycles per bit (see the module docstring)."""

    def __init__(self, divisor: int):
        self._MustUse__silence = True       # no "never used" warning if we raise
        check_divisor(divisor, "UartRx")
        self._MustUse__silence = False
        self.divisor = divisor
        super().__init__({"rx": In(1, init=1), "data": Out(stream.Signature(8)),
                          "framing_error": Out(1), "overrun": Out(1)})

    def elaborate(self, platform):
        m = Module()
        line = Signal(init=1)
        m.submodules.sync_rx = FFSynchronizer(self.rx, line, init=1)

        timer = Signal(range(self.divisor))
        bits = Signal(range(9))
        shift = Signal(8)

        with m.If(self.data.ready):
            m.d.sync += self.data.valid.eq(0)
        m.d.sync += [self.framing_error.eq(0), self.overrun.eq(0)]

        with m.FSM():
            with m.State("IDLE"):
                with m.If(~line):
                    m.d.sync += timer.eq(self.divisor // 2 - 1)
                    m.next = "START"
            with m.State("START"):
                with m.If(timer != 0):
                    m.d.sync += timer.eq(timer - 1)
                with m.Elif(line):
                    m.next = "IDLE"                     # a glitch, not a start bit
                with m.Else():
                    m.d.sync += [timer.eq(self.divisor - 1), bits.eq(8)]
                    m.next = "DATA"
            with m.State("DATA"):
                with m.If(timer != 0):
                    m.d.sync += timer.eq(timer - 1)
                with m.Else():
                    m.d.sync += [timer.eq(self.divisor - 1), shift.eq(Cat(shift[1:], line)),
                                 bits.eq(bits - 1)]
                    with m.If(bits == 1):
                        m.next = "STOP"
            with m.State("STOP"):
                with m.If(timer != 0):
                    m.d.sync += timer.eq(timer - 1)
                with m.Elif(~line):
                    m.d.sync += self.framing_error.eq(1)
                    m.next = "BREAK"
                with m.Else():
                    with m.If(self.data.valid & ~self.data.ready):
                        m.d.sync += self.overrun.eq(1)
                    with m.Else():
                        m.d.sync += [self.data.payload.eq(shift), self.data.valid.eq(1)]
                    m.next = "IDLE"
            with m.State("BREAK"):
                with m.If(line):
                    m.next = "IDLE"
        return m

