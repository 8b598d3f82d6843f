"""HostPort: the host protocol engine between a byte stream and the SoC.

See :mod:`.host_protocol` for the protocol and :mod:`.host_bus` for the SoC-side bus and
control interfaces and their timing.

Operation, one frame at a time:

1. receive: hunt for the request sync byte, take the header, store the payload in a
   256 x 32 frame buffer (one EBR) and check the CRC bytewise as bytes arrive. ``rx`` is
   ready only while receiving; if no byte comes for ``timeout_cycles`` mid-frame, the
   frame is dropped silently and the port hunts for a sync byte again. A length above
   1024 is answered with ``BAD_LENGTH`` right after the header;
2. check (4 cycles, registered): command, length, space, count, address range, core
   running, in the order the protocol specifies;
3. execute: WRITE moves the buffered words to the bus word by word; START and HALT pulse
   the control outputs (HALT then waits up to ``timeout_cycles`` for the core to stop);
   STATUS and READ of the STATUS space answer from a one-cycle snapshot of
   ``control.status`` taken during the checks;
4. respond on ``tx`` (valid/ready back-pressure honoured); a READ of a memory space
   issues its bus reads while the response streams out, one read outstanding at a time
   with a one-word holding register and a bypass into the byte shifter, so a read latency
   of 1-3 cycles keeps ``tx`` at one byte per cycle (1024 bytes in about 1034 cycles).

Resources on ECP5 (default preset): one DP16KD, about 1000 LUT4 and 745 flip-flops (288
of them the status snapshot); about 120 MHz on an LFE5U-85F speed 6 out of context.

Converting a lone HostPort with ``rtlil.convert`` needs an explicit ``ports=`` list:
``bus.rdata.ready`` is the constant 1 of an ``always_ready`` stream.

Requests that fail a check have no side effects: nothing reaches the bus or the control
outputs before the CRC and every check have passed.
"""
from __future__ import annotations

from amaranth.hdl import Cat, Const, Module, Mux, Signal
from amaranth.lib import enum, stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from ..config import CoreConfig
from .host_bus import (HostBusSignature, HostControlSignature, crc8_next,
                       status_wire_value)
from .host_protocol import (ACCESS_HEADER_BYTES, IDENTITY_BYTES, MAX_PAYLOAD,
                            REQUEST_SYNC, RESPONSE_SYNC, STATUS_BYTES, Command, Identity,
                            Space, Status, needs_halt, space_bytes)

__all__ = ["HostPort"]


class _Source(enum.Enum, shape=2):
    """Where the response payload bytes come from."""
    NONE = 0
    IDENTITY = 1
    SNAPSHOT = 2
    BUS = 3


class HostPort(wiring.Component):
    """Host protocol engine for a core with ``config``.

    Ports: ``rx`` (``In(stream.Signature(8))``, request bytes), ``tx``
    (``Out(stream.Signature(8))``, response bytes), ``bus`` (``Out(HostBusSignature)``),
    ``control`` (``Out(HostControlSignature)``).

    ``timeout_cycles`` (default: 1 ms at ``config.clock_hz``) bounds the gap between two
    bytes of a frame and the wait for the core to stop after HALT.
    """

    def __init__(self, config: CoreConfig, *, timeout_cycles: int | None = None):
        if timeout_cycles is None:
            timeout_cycles = max(16, config.clock_hz // 1000)
        if not isinstance(timeout_cycles, int) or timeout_cycles < 16:
            raise ValueError(f"HostPort timeout_cycles = {timeout_cycles!r} is too short; "
                             f"give at least 16 cycles (at least a UART byte time on a "
                             f"board, 1 ms by default).")
        self.config = config
        self.timeout_cycles = timeout_cycles
        super().__init__({
            "rx": In(stream.Signature(8)), "tx": Out(stream.Signature(8)),
            "bus": Out(HostBusSignature(config)), "control": Out(HostControlSignature()),
        })

    def elaborate(self, platform):
        m = Module()
        cfg = self.config
        rx, tx, req, rdata, ctl = self.rx, self.tx, self.bus.req, self.bus.rdata, self.control
        running = ctl.status.running
        rx_take = rx.valid & rx.ready
        tx_take = tx.valid & tx.ready

        m.submodules.buffer = buffer = Memory(shape=32, depth=MAX_PAYLOAD // 4, init=[])
        buf_w = buffer.write_port()
        buf_r = buffer.read_port()

        # Receive.
        crc = Signal(8)                                   # rx CRC, then tx CRC
        timer = Signal(range(self.timeout_cycles + 1))
        cmd, seq, len_lo = Signal(8), Signal(8), Signal(8)
        length = Signal(range(MAX_PAYLOAD + 1))
        rx_count = Signal(range(MAX_PAYLOAD + 1))
        assemble = Signal(24)                             # the word's first three bytes
        w0, w1, w2 = Signal(32), Signal(32), Signal(16)   # payload words 0, 1, 2
        word = Cat(assemble, rx.payload)
        space = w0[:8]
        # Check.
        code = Signal(Status)
        count, address, end = Signal(16), Signal(32), Signal(33)
        limit = Signal(range(max(space_bytes(cfg, s) for s in Space) + 1))
        # Execute and respond.
        resp_len = Signal(range(MAX_PAYLOAD + 1))
        source = Signal(_Source)
        src_index = Signal(range(max(IDENTITY_BYTES, STATUS_BYTES) + 1))
        tx_count = Signal(range(MAX_PAYLOAD + 1))
        snapshot = Signal(8 * STATUS_BYTES)
        identity = Const(int.from_bytes(Identity.from_config(cfg).to_bytes(), "little"),
                         8 * IDENTITY_BYTES)
        bus_addr = Signal.like(req.payload.addr)
        bus_left = Signal(range(MAX_PAYLOAD // 4 + 1))
        buf_index = Signal(range(MAX_PAYLOAD // 4))
        outstanding, hold_valid, txw_valid, word_done = Signal(), Signal(), Signal(), Signal()
        hold, tx_word = Signal(32), Signal(32)

        m.d.comb += [
            buf_w.addr.eq(rx_count[2:]), buf_w.data.eq(word),
            req.payload.space.eq(space), req.payload.addr.eq(bus_addr),
            req.payload.wdata.eq(buf_r.data), ctl.start_pc.eq(w0),
        ]

        # Bus reads for a READ response: one outstanding, one word held, one shifting out.
        m.d.comb += req.valid.eq((source == _Source.BUS) & (bus_left != 0) & ~outstanding
                                 & ~hold_valid)
        with m.If(req.valid & req.ready & ~req.payload.we):
            m.d.sync += [outstanding.eq(1), bus_addr.eq(bus_addr + 1),
                         bus_left.eq(bus_left - 1)]
        with m.If(rdata.valid):
            m.d.sync += [outstanding.eq(0), hold.eq(rdata.payload), hold_valid.eq(1)]

        # The tx CRC takes each sent byte one cycle later, from a register, so the path
        # from the byte multiplexers ends at tx.payload.
        crc_later, crc_pending, crc_byte = Signal(), Signal(), Signal(8)
        m.d.sync += [crc_pending.eq(crc_later), crc_byte.eq(tx.payload)]
        with m.If(crc_pending):
            m.d.sync += crc.eq(crc8_next(crc, crc_byte))

        def respond(status, n=0, src=_Source.NONE):
            m.d.sync += [code.eq(status), resp_len.eq(n), source.eq(src)]
            m.next = "TX_SYNC"

        def receive():
            """rx is ready; the frame is dropped after timeout_cycles without a byte."""
            m.d.comb += rx.ready.eq(1)
            with m.If(rx_take):
                m.d.sync += timer.eq(0)
            with m.Elif(timer == self.timeout_cycles - 1):
                m.next = "HUNT"
            with m.Else():
                m.d.sync += timer.eq(timer + 1)

        with m.FSM():
            with m.State("HUNT"):
                m.d.comb += rx.ready.eq(1)
                m.d.sync += [crc.eq(0), timer.eq(0), rx_count.eq(0)]
                with m.If(rx_take & (rx.payload == REQUEST_SYNC)):
                    m.next = "CMD"
            for state, target, nxt in (("CMD", cmd, "SEQ"), ("SEQ", seq, "LEN_LO"),
                                       ("LEN_LO", len_lo, "LEN_HI")):
                with m.State(state):
                    receive()
                    with m.If(rx_take):
                        m.d.sync += [target.eq(rx.payload),
                                     crc.eq(crc8_next(crc, rx.payload))]
                        m.next = nxt
            with m.State("LEN_HI"):
                receive()
                full = Cat(len_lo, rx.payload)
                with m.If(rx_take):
                    m.d.sync += [length.eq(full), crc.eq(crc8_next(crc, rx.payload))]
                    with m.If(full > MAX_PAYLOAD):
                        respond(Status.BAD_LENGTH)
                    with m.Elif(full == 0):
                        m.next = "CRC"
                    with m.Else():
                        m.next = "PAYLOAD"
            with m.State("PAYLOAD"):
                receive()
                with m.If(rx_take):
                    m.d.sync += [crc.eq(crc8_next(crc, rx.payload)),
                                 rx_count.eq(rx_count + 1),
                                 assemble.eq(Cat(assemble[8:], rx.payload))]
                    with m.If(rx_count[:2] == 3):
                        m.d.comb += buf_w.en.eq(1)
                        with m.Switch(rx_count[2:]):
                            for index, reg in ((0, w0), (1, w1), (2, w2)):
                                with m.Case(index):
                                    m.d.sync += reg.eq(word)
                    with m.If(rx_count == length - 1):
                        m.next = "CRC"
            with m.State("CRC"):
                receive()
                with m.If(rx_take):
                    with m.If(rx.payload == crc):
                        m.next = "CHECK_A"
                    with m.Else():
                        respond(Status.BAD_CRC)

            with m.State("CHECK_A"):          # operands of the range check
                m.d.sync += [address.eq(w1), count.eq(w2)]
                with m.If(cmd == Command.WRITE):
                    m.d.sync += count.eq(length - ACCESS_HEADER_BYTES)
                with m.If(cmd == Command.START):
                    m.d.sync += [address.eq(w0), count.eq(4), limit.eq(cfg.imem_bytes)]
                with m.Else():
                    with m.Switch(space):
                        for s in Space:
                            with m.Case(s):
                                m.d.sync += limit.eq(space_bytes(cfg, s))
                m.next = "CHECK_B"
            with m.State("CHECK_B"):
                m.d.sync += end.eq(address + count)
                m.next = "CHECK_C"
            with m.State("CHECK_C"):          # the specification's check order
                # Every frame samples the status record here (one state: a short
                # clock-enable path to the 288 snapshot flip-flops).
                m.d.sync += snapshot.eq(status_wire_value(ctl.status))
                self._check(m, code, cmd, length, space, count, address, end, limit,
                            running)
                m.next = "DISPATCH"
            with m.State("DISPATCH"):
                with m.If(code != Status.OK):
                    respond(code)
                with m.Else():
                    with m.Switch(cmd):
                        with m.Case(Command.IDENTIFY):
                            m.d.sync += src_index.eq(0)
                            respond(Status.OK, IDENTITY_BYTES, _Source.IDENTITY)
                        with m.Case(Command.STATUS):
                            m.d.sync += src_index.eq(0)
                            respond(Status.OK, STATUS_BYTES, _Source.SNAPSHOT)
                        with m.Case(Command.READ):
                            with m.If(space == Space.STATUS):
                                m.d.sync += src_index.eq(address)
                                respond(Status.OK, count, _Source.SNAPSHOT)
                            with m.Else():
                                m.d.sync += [bus_addr.eq(address[2:]),
                                             bus_left.eq(count[2:]), outstanding.eq(0),
                                             hold_valid.eq(0), txw_valid.eq(0)]
                                respond(Status.OK, count, _Source.BUS)
                        with m.Case(Command.WRITE):
                            m.d.comb += [buf_r.addr.eq(ACCESS_HEADER_BYTES // 4),
                                         buf_r.en.eq(1)]
                            m.d.sync += [bus_addr.eq(address[2:]), bus_left.eq(count[2:]),
                                         buf_index.eq(ACCESS_HEADER_BYTES // 4),
                                         source.eq(_Source.NONE)]
                            m.next = "WRITE_BUS"
                        with m.Case(Command.START):
                            m.d.comb += ctl.start.eq(1)
                            respond(Status.OK)
                        with m.Case(Command.HALT):
                            m.d.comb += ctl.halt.eq(1)
                            m.d.sync += timer.eq(0)
                            m.next = "HALT_WAIT"
                        with m.Default():      # PING
                            respond(Status.OK)
            with m.State("WRITE_BUS"):
                m.d.comb += [req.valid.eq(1), req.payload.we.eq(1),
                             buf_r.addr.eq(buf_index + 1), buf_r.en.eq(req.ready)]
                with m.If(req.ready):
                    m.d.sync += [buf_index.eq(buf_index + 1), bus_addr.eq(bus_addr + 1),
                                 bus_left.eq(bus_left - 1)]
                    with m.If(bus_left == 1):
                        respond(Status.OK)
            with m.State("HALT_WAIT"):
                m.d.sync += timer.eq(timer + 1)
                with m.If(~running):
                    respond(Status.OK)
                with m.Elif(timer == self.timeout_cycles - 1):
                    respond(Status.BUSY)

            header = (("TX_SYNC", RESPONSE_SYNC, "TX_STATUS"), ("TX_STATUS", code, "TX_SEQ"),
                      ("TX_SEQ", seq, "TX_LEN_LO"), ("TX_LEN_LO", resp_len[:8], "TX_LEN_HI"),
                      ("TX_LEN_HI", resp_len[8:], None))
            for state, byte, nxt in header:
                with m.State(state):
                    m.d.comb += [tx.valid.eq(1), tx.payload.eq(byte)]
                    with m.If(tx_take):
                        m.d.sync += tx_count.eq(0)
                        if state == "TX_SYNC":
                            m.d.sync += crc.eq(0)
                        else:
                            m.d.comb += crc_later.eq(1)
                        if nxt:
                            m.next = nxt
                        else:
                            with m.If(resp_len == 0):
                                m.next = "TX_CRC"
                            with m.Else():
                                m.next = "TX_DATA"
            with m.State("TX_DATA"):
                with m.Switch(source):
                    with m.Case(_Source.IDENTITY):
                        m.d.comb += [tx.valid.eq(1),
                                     tx.payload.eq(identity.word_select(src_index, 8))]
                    with m.Case(_Source.SNAPSHOT):
                        m.d.comb += [tx.valid.eq(1),
                                     tx.payload.eq(snapshot.word_select(src_index, 8))]
                    with m.Case(_Source.BUS):
                        m.d.comb += [tx.valid.eq(txw_valid), tx.payload.eq(tx_word[:8])]
                with m.If(tx_take):
                    m.d.comb += crc_later.eq(1)
                    m.d.sync += [tx_count.eq(tx_count + 1), src_index.eq(src_index + 1),
                                 tx_word.eq(tx_word >> 8)]
                    with m.If(tx_count[:2] == 3):
                        m.d.comb += word_done.eq(1)
                        m.d.sync += txw_valid.eq(0)
                    with m.If(tx_count == resp_len - 1):
                        m.next = "TX_CRC"
            with m.State("TX_CRC"):           # once the last payload byte is in the CRC
                m.d.comb += [tx.valid.eq(~crc_pending), tx.payload.eq(crc)]
                with m.If(tx_take):
                    m.d.sync += source.eq(_Source.NONE)
                    m.next = "HUNT"
        # The next word (held, or arriving now) moves into the shifter as the last byte of
        # the current one goes, so a read latency of up to 3 cycles causes no bubble.
        with m.If((~txw_valid | word_done) & (hold_valid | rdata.valid)):
            m.d.sync += [tx_word.eq(Mux(hold_valid, hold, rdata.payload)), txw_valid.eq(1),
                         hold_valid.eq(0)]
        return m

    @staticmethod
    def _check(m, code, cmd, length, space, count, address, end, limit, running):
        """Set ``code`` by the protocol's check order (all operands are registers)."""
        known = Const(0, 1)
        for c in Command:
            known = known | (cmd == c.value)
        length_ok = Signal()
        with m.Switch(cmd):
            with m.Case(Command.READ):
                m.d.comb += length_ok.eq(length == ACCESS_HEADER_BYTES + 4)
            with m.Case(Command.WRITE):
                m.d.comb += length_ok.eq(length >= ACCESS_HEADER_BYTES)
            with m.Case(Command.START):
                m.d.comb += length_ok.eq(length == 4)
            with m.Default():
                m.d.comb += length_ok.eq(length == 0)
        bad_count = (count == 0) | (count[:2] != 0) | (count > MAX_PAYLOAD)
        bad_address = (address[:2] != 0) | (end > limit)
        halt_only = Const(0, 1)
        for s in Space:
            if needs_halt(s):
                halt_only = halt_only | (space == s.value)
        status = [
            (~known, Status.BAD_COMMAND),
            (~length_ok, Status.BAD_LENGTH),
            ((cmd == Command.START) & bad_address, Status.BAD_ADDRESS),
            ((cmd == Command.START) & running, Status.BUSY),
            ((cmd != Command.READ) & (cmd != Command.WRITE), Status.OK),
            (space > max(s.value for s in Space), Status.BAD_SPACE),
            ((cmd == Command.WRITE) & (space == Space.STATUS), Status.READ_ONLY),
            (bad_count, Status.BAD_LENGTH),
            (bad_address, Status.BAD_ADDRESS),
            (halt_only & running, Status.BUSY),
        ]
        with m.If(status[0][0]):
            m.d.sync += code.eq(status[0][1])
        for condition, value in status[1:]:
            with m.Elif(condition):
                m.d.sync += code.eq(value)
        with m.Else():
            m.d.sync += code.eq(Status.OK)
