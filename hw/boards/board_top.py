"""BoardTop: the top level of a board bitstream. Wiring only.

::

    oscillator -> Pll -> "sync" clock (board.clock_hz), reset held until the PLL locks
    UART rx pin -> UartRx -> Soc.rx    Soc.tx -> UartTx -> UART tx pin
    Soc.running -> "running" LED, its complement -> "halted" LED, a ~1 Hz heartbeat LED

The UART runs at ``board.baud`` 8N1 with no flow control (the host protocol keeps one
request in flight, see :mod:`spikevec.hw.rtl.host_protocol`). A board reset button (the
platform's ``default_rst``), if any, resets the whole design.
"""
from __future__ import annotations

from amaranth.hdl import ClockDomain, Elaboratable, Module, Signal
from amaranth.lib import io, wiring
from amaranth.lib.cdc import ResetSynchronizer

from ..config import CoreConfig
from ..rtl.soc import Soc
from .catalog import Board
from .pll import Pll, pll_params
from .uart_rx import UartRx
from .uart_tx import UartTx, baud_divisor

__all__ = ["BoardTop"]


class BoardTop(Elaboratable):
    """Top level for ``board`` with core configuration ``config`` (whose ``clock_hz``
    must equal ``board.clock_hz``: the Soc's timeouts and IDENTIFY use it).

    ``soc`` may replace the Soc (any component with ``rx``, ``tx`` and ``running``), which
    the flow's tests use to build a small design on a real board. Raises ``ValueError``
    if the clock cannot be made or the baud rate is not reachable from it.
    """

    def __init__(self, board: Board, config: CoreConfig, *, soc=None):
        self._MustUse__silence = True       # no "never used" warning if we raise
        if config.clock_hz != board.clock_hz:
            raise ValueError(f"The core configuration's clock_hz ({config.clock_hz} Hz) "
                             f"differs from {board.name}'s core clock ({board.clock_hz} "
                             f"Hz); use board_config() to make the configuration.")
        self.board = board
        self.config = config
        self.pll_params = pll_params(board.family, board.osc_hz, board.clock_hz)
        divisor = baud_divisor(board.clock_hz, board.baud)
        self.uart_rx = UartRx(divisor)
        self.uart_tx = UartTx(divisor)
        self.soc = soc if soc is not None else Soc(config)
        self._MustUse__silence = False

    def _pin(self, m, platform, direction, resource, number=0, subsignal=None, *,
             requested):
        """An IO buffer on pin ``resource#number[.subsignal]``; returns its ``i``/``o``.
        Each resource is requested once (an RGB LED serves several LEDs)."""
        if (resource, number) not in requested:
            requested[resource, number] = platform.request(resource, number, dir="-")
        port = requested[resource, number]
        if subsignal is not None:
            port = getattr(port, subsignal)
        name = "_".join(str(p) for p in (resource, number, subsignal) if p is not None)
        m.submodules[f"pin_{name}"] = buffer = io.Buffer(direction, port)
        return buffer.i if direction == "i" else buffer.o

    def elaborate(self, platform):
        m = Module()
        board, pins = self.board, {}
        if board.family == "ice40":             # the oscillator pin feeds the PLL
            pad = platform.request(board.osc_resource, 0, dir="-")
            m.submodules.pll = pll = Pll(board.family, board.osc_hz, board.clock_hz, pad=pad)
        else:
            m.submodules.pll = pll = Pll(board.family, board.osc_hz, board.clock_hz)
            m.d.comb += pll.clk_in.eq(self._pin(m, platform, "i", board.osc_resource,
                                                requested=pins))
        m.domains.sync = sync = ClockDomain("sync")
        # No explicit constraint: nextpnr derives the core clock's from the oscillator's
        # (the platform's) and the PLL settings; an explicit one names a net that
        # synthesis renames. The flow checks the derived constraint is the requested one.
        m.d.comb += sync.clk.eq(pll.clk_out)

        reset = ~pll.locked
        if platform.default_rst is not None:
            reset = reset | self._pin(m, platform, "i", platform.default_rst, requested=pins)
        m.submodules.reset_sync = ResetSynchronizer(reset, domain="sync")

        m.submodules.uart_rx = rx = self.uart_rx
        m.submodules.uart_tx = tx = self.uart_tx
        m.submodules.soc = soc = self.soc
        m.d.comb += [rx.rx.eq(self._pin(m, platform, "i", "uart", 0, "rx", requested=pins)),
                     self._pin(m, platform, "o", "uart", 0, "tx", requested=pins).eq(tx.tx)]
        wiring.connect(m, rx.data, soc.rx)
        wiring.connect(m, soc.tx, tx.data)

        leds = board.leds
        m.d.comb += [self._pin(m, platform, "o", *leds.running, requested=pins)
                     .eq(soc.running),
                     self._pin(m, platform, "o", *leds.halted, requested=pins)
                     .eq(~soc.running)]
        if leds.heartbeat is not None:
            counter = Signal(max(board.clock_hz.bit_length(), 2))
            m.d.sync += counter.eq(counter + 1)
            m.d.comb += self._pin(m, platform, "o", *leds.heartbeat, requested=pins) \
                .eq(counter[-1])
        return m
