"""Host protocol helpers (pure Python) and the HostPort RTL against the Python model.

The RTL tests put a fake SoC behind the bus: a :class:`HostPortModel` used as storage
(its memories and :class:`ModelCore`), answering requests with random ``ready`` and a
random 1-3 cycle read latency, and pulses that start/halt its core. Every response is
compared with a second, independent :class:`HostPortModel` fed the same frames.
"""
from __future__ import annotations

import random

import pytest
from amaranth.sim import Simulator
from hypothesis import given, settings, strategies as st

from spikevec.hw.config import ConfigMismatch, preset
from spikevec.hw.rtl.enums import TrapCause
from spikevec.hw.rtl.host_model import HostPortModel
from spikevec.hw.rtl.host_port import HostPort
from spikevec.hw.rtl.host_protocol import (
    MAX_PAYLOAD, REQUEST_SYNC, RESPONSE_SYNC, Command, CoreStatus, Identity, ProtocolError,
    Response, Space, Status, crc8, decode_request, decode_response, encode_frame, encode_request,
    encode_response, needs_halt, space_bytes, split_frame)

CFG = preset("tiny")
TIMEOUT = 64
MEMORY_SPACES = [s for s in Space if s != Space.STATUS]


# Pure-Python protocol helpers ------------------------------------------------------------
def test_crc8_smbus_known_answer_and_residue():
    assert crc8(b"123456789") == 0xF4                  # CRC-8/SMBUS check value
    assert crc8(b"") == 0 and crc8(b"\x00") == 0
    body = b"\x03\x07\x04\x00abcd"
    assert crc8(body + bytes([crc8(body)])) == 0


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(list(Status)), st.integers(0, 255), st.binary(max_size=MAX_PAYLOAD))
def test_response_round_trip(status, seq, payload):
    frame = encode_response(status, seq, payload)
    assert frame[0] == RESPONSE_SYNC and len(frame) == len(payload) + 6
    r = decode_response(frame)
    assert (r.status, r.seq, r.payload) == (status, seq, payload)
    assert split_frame(b"\x00\x11" + frame + b"\x5a") == (frame, b"\x5a")


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 255), st.sampled_from(MEMORY_SPACES), st.integers(0, 2**32 - 1),
       st.binary(max_size=64))
def test_request_round_trip(seq, space, address, data):
    frame = encode_request(Command.WRITE, seq, space=space, address=address, data=data)
    request = decode_request(frame)
    assert (request.command, request.seq) == (Command.WRITE.value, seq)
    header = bytes([space.value, 0, 0, 0]) + address.to_bytes(4, "little")
    assert request.payload == header + data


def test_decode_errors_name_the_problem():
    good = encode_response(Status.OK, 5, b"\x01\x02\x03\x04")
    with pytest.raises(ProtocolError, match="sync byte"):
        decode_response(b"\x00" + good[1:])
    with pytest.raises(ProtocolError, match="CRC"):
        decode_response(good[:-1] + bytes([good[-1] ^ 1]))
    with pytest.raises(ProtocolError, match="truncated"):
        decode_response(good[:-2])
    with pytest.raises(ProtocolError, match="status byte"):
        decode_response(encode_frame(RESPONSE_SYNC, 0x77, 1))
    with pytest.raises(ValueError, match="exceeds"):
        encode_frame(REQUEST_SYNC, 1, 0, bytes(MAX_PAYLOAD + 1))
    with pytest.raises(ProtocolError, match="OK|BUSY"):
        decode_response(encode_response(Status.BUSY, 1)).expect_ok()


def test_identity_and_status_records():
    ident = Identity.from_config(CFG)
    raw = ident.to_bytes()
    assert len(raw) == 40 and raw[:4] == b"SVEC" and Identity.from_bytes(raw) == ident
    ident.check(CFG)
    with pytest.raises(ConfigMismatch, match="fingerprint"):
        ident.check(preset("default"))
    status = CoreStatus(True, False, 3, 8, 12, 0xDEADBEEF, 4, 2**40 + 1, 2**33 + 7)
    assert CoreStatus.from_bytes(status.to_bytes()) == status
    assert space_bytes(CFG, Space.LMEM) == CFG.lanes * CFG.lane_mem_bytes


def test_model_checks_in_the_specified_order():
    model = HostPortModel(CFG)
    bad_space_and_count = encode_request(Command.READ, 1, space=9, address=2, count=3)
    assert decode_response(model.handle(bad_space_and_count)).status == Status.BAD_SPACE
    ro = encode_request(Command.WRITE, 2, space=Space.STATUS, address=1, data=b"x")
    assert decode_response(model.handle(ro)).status == Status.READ_ONLY
    model.core.start(0)
    busy = encode_request(Command.WRITE, 3, space=Space.IMEM, address=4, data=b"abcd")
    assert decode_response(model.handle(busy)).status == Status.BUSY
    late = encode_request(Command.WRITE, 4, space=Space.IMEM, address=2**20, data=b"abcd")
    assert decode_response(model.handle(late)).status == Status.BAD_ADDRESS
    ok = encode_request(Command.WRITE, 5, space=Space.DMEM, address=4, data=b"abcd")
    assert decode_response(model.handle(ok)) == Response(Status.OK, 5, b"")
    assert model.memories[Space.DMEM][4:8] == b"abcd"


# Simulation harness ----------------------------------------------------------------------
class Bench:
    """A HostPort, a fake SoC behind it and the expected-response model."""

    def __init__(self, seed=0, soc_ready=0.6, max_latency=3):
        self.rng = random.Random(seed)
        self.dut = HostPort(CFG, timeout_cycles=TIMEOUT)
        self.soc = HostPortModel(CFG)           # the SoC's storage and core
        self.model = HostPortModel(CFG)         # the expected behaviour
        self.soc_ready, self.max_latency = soc_ready, max_latency
        self.bus_writes = self.bus_reads = self.starts = self.halts = 0
        self.violations = []

    async def soc_process(self, ctx):
        dut, rng = self.dut, self.rng
        req, rdata, ctl = dut.bus.req, dut.bus.rdata, dut.control
        pending, cycle, halt_at, shown = [], 0, None, None
        while True:
            status = self.soc.core.status
            if status != shown:
                for name in ("running", "halted", "pc", "trap_pc", "trap_word", "trap_addr",
                             "cycles", "instret"):
                    ctx.set(getattr(ctl.status, name), int(getattr(status, name)))
                ctx.set(ctl.status.cause, TrapCause(status.cause))
                shown = status
            ready = rng.random() < self.soc_ready
            ctx.set(req.ready, ready)
            due = pending and pending[0][0] <= cycle
            ctx.set(rdata.valid, bool(due))
            if due:
                ctx.set(rdata.payload, pending.pop(0)[1])
            _, _, valid, payload, start, pc, halt = await ctx.tick().sample(
                req.valid, req.payload, ctl.start, ctl.start_pc, ctl.halt)
            cycle += 1
            if valid and ready:
                space, byte = Space(payload.space), payload.addr * 4
                if space == Space.STATUS or byte + 4 > space_bytes(CFG, space):
                    self.violations.append(f"bad access {space} {byte}")
                elif needs_halt(space) and status.running:
                    self.violations.append(f"{space} accessed while running")
                elif payload.we:
                    self.bus_writes += 1
                    self.soc.write(space, byte, payload.wdata.to_bytes(4, "little"))
                else:
                    self.bus_reads += 1
                    last = pending[-1][0] if pending else cycle
                    when = max(last + 1, cycle + rng.randint(1, self.max_latency) - 1)
                    word = int.from_bytes(self.soc.read(space, byte, 4), "little")
                    pending.append((when, word))
            if start:
                self.starts += 1
                self.soc.core.start(pc)
            if halt:
                self.halts += 1
                halt_at = cycle + rng.randint(0, 5)
            if halt_at is not None and cycle >= halt_at:
                self.soc.core.halt()
                halt_at = None

    async def send(self, ctx, data, gap=0.0):
        rx = self.dut.rx
        for byte in data:
            while self.rng.random() < gap:
                ctx.set(rx.valid, 0)
                await ctx.tick()
            ctx.set(rx.valid, 1)
            ctx.set(rx.payload, byte)
            await ctx.tick().until(rx.ready)
        ctx.set(rx.valid, 0)

    async def receive(self, ctx, ready=1.0, limit=20000):
        tx, buffer = self.dut.tx, b""
        for self.receive_cycles in range(1, limit + 1):
            take = self.rng.random() < ready
            ctx.set(tx.ready, take)
            _, _, valid, byte = await ctx.tick().sample(tx.valid, tx.payload)
            if take and valid:
                buffer += bytes([byte])
                frame, rest = split_frame(buffer)
                if frame:
                    ctx.set(tx.ready, 0)
                    assert rest == b"" and buffer[0] == RESPONSE_SYNC, buffer.hex()
                    return frame
        raise AssertionError(f"No response within {limit} cycles (got {buffer.hex()}).")

    async def transact(self, ctx, frame, gap=0.0, ready=1.0, expect=None):
        """Send ``frame``, check the response against the model, return it decoded."""
        want = self.model.handle(frame)
        await self.send(ctx, frame, gap)
        got = await self.receive(ctx, ready)
        assert got == want, (f"request {frame[:16].hex()}: got {decode_response(got)}, "
                             f"expected {decode_response(want)}")
        response = decode_response(got)
        if expect is not None:
            assert response.status == expect, response
        return response

    async def quiet(self, ctx, cycles):
        """No response bytes may appear for ``cycles`` cycles."""
        for _ in range(cycles):
            _, _, valid = await ctx.tick().sample(self.dut.tx.valid)
            assert not valid, "the port sent bytes without a request"

    def run(self, body):
        sim = Simulator(self.dut)
        sim.add_clock(1e-8)
        sim.add_testbench(self.soc_process, background=True)

        async def main(ctx):
            await body(ctx)
            assert not self.violations, self.violations
            for space in MEMORY_SPACES:
                assert self.soc.memories[space] == self.model.memories[space], space
            assert self.soc.core.status == self.model.core.status

        sim.add_testbench(main)
        sim.run()


def test_write_then_read_back_every_space():
    bench = Bench(seed=1)
    rng = bench.rng

    async def body(ctx):
        for seq, space in enumerate(MEMORY_SPACES):
            size = space_bytes(CFG, space)
            address = rng.randrange(0, min(size, 256) // 4) * 4
            data = rng.randbytes(min(32, size - address))
            await bench.transact(ctx, encode_request(Command.WRITE, seq, space=space,
                                 address=address, data=data), expect=Status.OK)
            r = await bench.transact(ctx, encode_request(Command.READ, seq + 100, space=space,
                                     address=address, count=len(data)), expect=Status.OK)
            assert r.payload == (bytes(4) + data[4:] if space == Space.XREG and address == 0
                                 else data) and r.seq == seq + 100
        last = space_bytes(CFG, Space.VMEM) - 8        # the last words of a space
        await bench.transact(ctx, encode_request(Command.WRITE, 9, space=Space.VMEM,
                             address=last, data=b"12345678"), expect=Status.OK)
    bench.run(body)


def test_ping_identify_status_start_halt():
    bench = Bench(seed=2)

    async def body(ctx):
        await bench.transact(ctx, encode_request(Command.PING, 1), expect=Status.OK)
        r = await bench.transact(ctx, encode_request(Command.IDENTIFY, 2), expect=Status.OK)
        Identity.from_bytes(r.payload).check(CFG)
        await bench.transact(ctx, encode_request(Command.START, 3, pc=0x40), expect=Status.OK)
        r = await bench.transact(ctx, encode_request(Command.STATUS, 4), expect=Status.OK)
        assert CoreStatus.from_bytes(r.payload) == CoreStatus(running=True, pc=0x40)
        await bench.transact(ctx, encode_request(Command.START, 5, pc=0), expect=Status.BUSY)
        for space in (Space.IMEM, Space.XREG, Space.VREG):     # need the core halted
            await bench.transact(ctx, encode_request(Command.READ, 6, space=space,
                                 count=4), expect=Status.BUSY)
        await bench.transact(ctx, encode_request(Command.WRITE, 7, space=Space.DMEM,
                             address=16, data=b"live"), expect=Status.OK)
        assert bench.starts == 1
        await bench.transact(ctx, encode_request(Command.HALT, 8), expect=Status.OK)
        r = await bench.transact(ctx, encode_request(Command.STATUS, 9), expect=Status.OK)
        status = CoreStatus.from_bytes(r.payload)
        assert status.halted and not status.running and status.cycles == 1000 + 0x40
        r = await bench.transact(ctx, encode_request(Command.READ, 10, space=Space.STATUS,
                                 address=20, count=16), expect=Status.OK)
        assert r.payload == status.to_bytes()[20:36]
        for core in (bench.soc.core, bench.model.core):        # the program traps itself
            core.start(8)
            core.trap(TrapCause.LOAD_FAULT.value, 0x24, 0xDEADBEEF, 0x1235, 2**33, 99)
        await ctx.tick().repeat(2)
        r = await bench.transact(ctx, encode_request(Command.STATUS, 11), expect=Status.OK)
        assert CoreStatus.from_bytes(r.payload).cause == TrapCause.LOAD_FAULT.value
        bench.soc.core.stops_on_halt = bench.model.core.stops_on_halt = False
        for core in (bench.soc.core, bench.model.core):
            core.start(0)
        await bench.transact(ctx, encode_request(Command.HALT, 12), expect=Status.BUSY)
    bench.run(body)


def test_bad_requests_have_no_side_effects():
    bench = Bench(seed=3)
    write = encode_request(Command.WRITE, 1, space=Space.DMEM, address=0, data=b"abcdefgh")
    bad = [
        write[:-1] + bytes([write[-1] ^ 0x10]),                                 # BAD_CRC
        write[:6] + bytes([write[6] ^ 1]) + write[7:],                           # BAD_CRC
        encode_request(Command.START, 2, pc=0)[:-1] + b"\x00",                   # BAD_CRC
        encode_frame(REQUEST_SYNC, 0x42, 3),                                     # BAD_COMMAND
        encode_frame(REQUEST_SYNC, Command.PING.value, 4, b"x"),                 # BAD_LENGTH
        encode_frame(REQUEST_SYNC, Command.START.value, 5, b"\x00\x00"),         # BAD_LENGTH
        encode_frame(REQUEST_SYNC, Command.WRITE.value, 6, bytes(6)),            # BAD_LENGTH
        encode_request(Command.WRITE, 7, space=9, address=0, data=bytes(4)),     # BAD_SPACE
        encode_request(Command.WRITE, 8, space=Space.STATUS, data=bytes(4)),     # READ_ONLY
        encode_request(Command.WRITE, 9, space=Space.DMEM, data=bytes(6)),       # BAD_LENGTH
        encode_request(Command.READ, 10, space=Space.DMEM, count=0),            # BAD_LENGTH
        encode_request(Command.READ, 11, space=Space.DMEM, count=MAX_PAYLOAD + 4),
        encode_request(Command.READ, 12, space=Space.DMEM, address=2, count=4),  # BAD_ADDRESS
        encode_request(Command.READ, 13, space=Space.XREG, address=124, count=8),
        encode_request(Command.WRITE, 14, space=Space.IMEM, address=CFG.imem_bytes,
                       data=bytes(4)),
        encode_request(Command.WRITE, 15, space=Space.DMEM, address=2**32 - 4,
                       data=bytes(8)),
        encode_request(Command.READ, 16, space=Space.STATUS, address=32, count=8),
        encode_request(Command.START, 17, pc=2), encode_request(Command.START, 18, pc=2**31),
    ]

    async def body(ctx):
        statuses = []
        for frame in bad:
            statuses.append((await bench.transact(ctx, frame)).status)
        assert Status.OK not in statuses and set(statuses) == set(Status) - {Status.OK,
                                                                             Status.BUSY}
        assert bench.bus_writes == bench.bus_reads == bench.starts == 0
        r = await bench.transact(ctx, encode_request(Command.READ, 20, space=Space.DMEM,
                                 count=8), expect=Status.OK)
        assert r.payload == bytes(8)
    bench.run(body)


def test_backpressure_gaps_and_resynchronisation():
    bench = Bench(seed=4, soc_ready=0.3, max_latency=6)
    rng = bench.rng

    async def body(ctx):
        data = rng.randbytes(MAX_PAYLOAD - 8)
        await bench.transact(ctx, encode_request(Command.WRITE, 1, space=Space.VMEM,
                             address=64, data=data), gap=0.3, expect=Status.OK)
        r = await bench.transact(ctx, encode_request(Command.READ, 2, space=Space.VMEM,
                                 address=64, count=MAX_PAYLOAD - 8), ready=0.3)
        assert r.payload == data
        frame = encode_request(Command.WRITE, 3, space=Space.DMEM, data=b"lost" * 4)
        await bench.send(ctx, b"\x00\x13" + frame[:9])        # noise, then a truncated frame
        await bench.quiet(ctx, TIMEOUT + 8)                   # dropped silently on timeout
        await bench.transact(ctx, encode_request(Command.PING, 4), expect=Status.OK)
        long = encode_frame(REQUEST_SYNC, Command.PING.value, 5, b"")[:3] + b"\x01\x08"
        await bench.send(ctx, long)                           # length 2049: refused at once
        r = decode_response(await bench.receive(ctx))
        assert (r.status, r.seq) == (Status.BAD_LENGTH, 5)
        await bench.transact(ctx, encode_request(Command.READ, 6, space=Space.DMEM,
                             count=16), expect=Status.OK)
        assert bench.soc.memories[Space.DMEM][:16] == bytes(16)
    bench.run(body)


def test_read_streams_at_one_byte_per_cycle():
    bench = Bench(seed=6, soc_ready=1.0, max_latency=3)

    async def body(ctx):
        await bench.transact(ctx, encode_request(Command.READ, 1, space=Space.VMEM,
                             count=MAX_PAYLOAD), expect=Status.OK)
        assert bench.receive_cycles <= MAX_PAYLOAD + 6 + 6, bench.receive_cycles
    bench.run(body)


def _random_request(rng, seq):
    kind = rng.choice(["write"] * 4 + ["read"] * 4 + ["ping", "identify", "status",
                                                     "start", "halt", "bad"])
    if kind in ("write", "read"):
        space = rng.choice(MEMORY_SPACES + [Space.STATUS] * (kind == "read"))
        size = space_bytes(CFG, space)
        count = 4 * rng.choice([1, 1, 2, 3, 8, rng.randint(1, min(size, MAX_PAYLOAD - 8) // 4)])
        address = 4 * rng.randrange(0, (size - count) // 4 + 1)
        if kind == "write":
            return encode_request(Command.WRITE, seq, space=space, address=address,
                                  data=rng.randbytes(count))
        return encode_request(Command.READ, seq, space=space, address=address, count=count)
    if kind == "start":
        return encode_request(Command.START, seq, pc=4 * rng.randrange(CFG.imem_words))
    if kind == "bad":                              # one bit flipped after the length field
        frame = bytearray(encode_request(Command.WRITE, seq, space=Space.DMEM,
                                         data=rng.randbytes(8)))
        frame[rng.choice([1, 2] + list(range(5, len(frame))))] ^= 1 << rng.randrange(8)
        return bytes(frame)
    return encode_request(Command[kind.upper()], seq)


def test_long_random_sequence_matches_the_model():
    bench = Bench(seed=5, soc_ready=0.5)
    rng = bench.rng

    async def body(ctx):
        for seq in range(160):
            frame = _random_request(rng, seq & 0xFF)
            await bench.transact(ctx, frame, gap=0.2, ready=0.7)
        assert bench.bus_writes > 100 and bench.bus_reads > 100 and bench.starts > 2
    bench.run(body)
