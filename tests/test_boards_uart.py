"""UartTx / UartRx in the Amaranth simulator at several clock and baud rates (including
3 Mbaud), with line waveforms timed in real seconds (not in clock cycles), so baud rate
rounding is exercised; plus framing errors, glitches, overrun and baud_divisor limits."""
import pytest
from amaranth.hdl import Module
from amaranth.lib import wiring
from amaranth.sim import Simulator

from spikevec.hw.boards.uart_rx import UartRx
from spikevec.hw.boards.uart_tx import UartTx, baud_divisor

# (clock Hz, baud): the board combinations plus a slow classic rate.
RATES = [(100_000_000, 3_000_000), (75_000_000, 3_000_000), (24_000_000, 3_000_000),
         (48_000_000, 1_000_000), (12_000_000, 115_200)]
PAYLOAD = [0x00, 0xFF, 0xA5, 0x5A, 0x01, 0x80, 0x3C]


def frame_bits(byte, stop=1):
    return [0] + [(byte >> i) & 1 for i in range(8)] + [stop]


async def drive_line(ctx, line, frames, bit_s, gap_s=0.0):
    """Drive ``line`` with ``frames`` (lists of bits), each bit ``bit_s`` seconds."""
    ctx.set(line, 1)
    await ctx.delay(3 * bit_s)
    for bits in frames:
        for bit in bits:
            ctx.set(line, bit)
            await ctx.delay(bit_s)
        ctx.set(line, 1)
        await ctx.delay(gap_s + bit_s / 4)


def run_rx(clock_hz, baud, frames, *, line_baud=None, ready=True):
    """Feed ``frames`` to a UartRx at ``line_baud`` (default ``baud``); return the bytes
    received and the numbers of framing-error and overrun pulses."""
    dut = UartRx(baud_divisor(clock_hz, baud))
    got, events = [], {"framing": 0, "overrun": 0}
    bit_s = 1 / (line_baud or baud)
    duration = (len(frames) + 4) * 10.5 * bit_s

    async def line(ctx):
        await drive_line(ctx, dut.rx, frames, bit_s)

    async def sink(ctx):
        ctx.set(dut.data.ready, int(ready))
        cycles = int(duration * clock_hz)
        for _ in range(cycles):
            await ctx.tick()
            if ctx.get(dut.data.valid) and ctx.get(dut.data.ready):
                got.append(ctx.get(dut.data.payload))
            events["framing"] += ctx.get(dut.framing_error)
            events["overrun"] += ctx.get(dut.overrun)
        if not ready:
            got.append(ctx.get(dut.data.payload) if ctx.get(dut.data.valid) else None)

    sim = Simulator(dut)
    sim.add_clock(1 / clock_hz)
    sim.add_testbench(line, background=True)
    sim.add_testbench(sink)
    sim.run()
    return got, events


@pytest.mark.parametrize("clock_hz,baud", RATES)
def test_tx_frames_and_bit_timing(clock_hz, baud):
    divisor = baud_divisor(clock_hz, baud)
    dut = UartTx(divisor)
    samples = []

    async def source(ctx):
        for byte in PAYLOAD:
            ctx.set(dut.data.payload, byte)
            ctx.set(dut.data.valid, 1)
            await ctx.tick().until(dut.data.ready)
        ctx.set(dut.data.valid, 0)

    async def monitor(ctx):
        for _ in range((len(PAYLOAD) * 10 + 3) * divisor):
            await ctx.tick()
            samples.append(ctx.get(dut.tx))

    sim = Simulator(dut)
    sim.add_clock(1 / clock_hz)
    sim.add_testbench(source, background=True)
    sim.add_testbench(monitor)
    sim.run()
    start = samples.index(0)
    assert all(samples[:start]), "the line must idle high before the first frame"
    line = samples[start:start + len(PAYLOAD) * 10 * divisor]
    bits = [line[i * divisor:(i + 1) * divisor] for i in range(len(PAYLOAD) * 10)]
    assert all(len(set(b)) == 1 for b in bits), "every bit lasts exactly divisor cycles"
    expected = [bit for byte in PAYLOAD for bit in frame_bits(byte)]
    assert [b[0] for b in bits] == expected
    assert all(samples[start + len(line):]), "the line idles high after the last stop bit"


@pytest.mark.parametrize("clock_hz,baud", RATES)
def test_rx_receives_bytes(clock_hz, baud):
    got, events = run_rx(clock_hz, baud, [frame_bits(b) for b in PAYLOAD])
    assert got == PAYLOAD
    assert events == {"framing": 0, "overrun": 0}


@pytest.mark.parametrize("skew", [-0.02, 0.02])
def test_rx_tolerates_host_baud_skew(skew):
    clock_hz, baud = 100_000_000, 3_000_000
    got, _ = run_rx(clock_hz, baud, [frame_bits(b) for b in PAYLOAD],
                    line_baud=baud * (1 + skew))
    assert got == PAYLOAD


@pytest.mark.parametrize("clock_hz,baud", [(100_000_000, 3_000_000), (48_000_000, 1_000_000)])
def test_rx_framing_error_drops_byte_and_recovers(clock_hz, baud):
    frames = [frame_bits(0x11), frame_bits(0x22, stop=0), frame_bits(0x33)]
    got, events = run_rx(clock_hz, baud, frames)
    assert got == [0x11, 0x33]
    assert events["framing"] == 1


def test_rx_break_gives_one_framing_error_not_zero_bytes():
    clock_hz, baud = 24_000_000, 3_000_000
    got, events = run_rx(clock_hz, baud, [[0] * 40, frame_bits(0x42)])
    assert got == [0x42]
    assert events["framing"] == 1


def test_rx_ignores_glitch_shorter_than_half_a_bit():
    clock_hz, baud = 100_000_000, 3_000_000
    glitch = [0] * 1 + [1] * 3       # at 4x the baud rate: a quarter-bit low pulse
    got, events = run_rx(clock_hz, baud, [], line_baud=baud)
    assert got == [] and events["framing"] == 0
    dut_bits = 1 / (4 * baud)
    dut = UartRx(baud_divisor(clock_hz, baud))
    seen = []

    async def line(ctx):
        await drive_line(ctx, dut.rx, [glitch], dut_bits)
        await drive_line(ctx, dut.rx, [frame_bits(0x5A)], 1 / baud)

    async def sink(ctx):
        ctx.set(dut.data.ready, 1)
        for _ in range(int(15 / baud * clock_hz)):
            await ctx.tick()
            if ctx.get(dut.data.valid):
                seen.append(ctx.get(dut.data.payload))

    sim = Simulator(dut)
    sim.add_clock(1 / clock_hz)
    sim.add_testbench(line, background=True)
    sim.add_testbench(sink)
    sim.run()
    assert seen == [0x5A]


def test_rx_overrun_keeps_first_byte():
    got, events = run_rx(48_000_000, 1_000_000, [frame_bits(0x77), frame_bits(0x88)],
                         ready=False)
    assert got == [0x77]
    assert events["overrun"] == 1


def test_tx_to_rx_loopback_at_3_mbaud():
    divisor = baud_divisor(75_000_000, 3_000_000)

    class Loop(wiring.Component):
        def __init__(self):
            self.tx, self.rx = UartTx(divisor), UartRx(divisor)
            super().__init__({})

        def elaborate(self, platform):
            m = Module()
            m.submodules.tx, m.submodules.rx = self.tx, self.rx
            m.d.comb += self.rx.rx.eq(self.tx.tx)
            return m

    dut = Loop()
    got = []

    async def source(ctx):
        for byte in range(256):
            ctx.set(dut.tx.data.payload, byte)
            ctx.set(dut.tx.data.valid, 1)
            await ctx.tick().until(dut.tx.data.ready)
        ctx.set(dut.tx.data.valid, 0)

    async def sink(ctx):
        ctx.set(dut.rx.data.ready, 1)
        for _ in range(260 * 10 * divisor):
            await ctx.tick()
            if ctx.get(dut.rx.data.valid):
                got.append(ctx.get(dut.rx.data.payload))

    sim = Simulator(dut)
    sim.add_clock(1 / 75e6)
    sim.add_testbench(source, background=True)
    sim.add_testbench(sink)
    sim.run()
    assert got == list(range(256))


@pytest.mark.parametrize("clock_hz,baud,message", [
    (10_000_000, 3_000_000, "at least 4 clock cycles"),
    (40_000_000, 3_000_000, "off by"),
    (0, 115_200, "positive"),
])
def test_baud_divisor_rejects_unusable_rates(clock_hz, baud, message):
    with pytest.raises(ValueError, match=message):
        baud_divisor(clock_hz, baud)


def test_uart_rejects_bad_divisor():
    with pytest.raises(ValueError, match="divisor"):
        UartTx(2)
    with pytest.raises(ValueError, match="divisor"):
        UartRx(3.5)
