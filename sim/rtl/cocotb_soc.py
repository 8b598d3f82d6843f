"""cocotb module: run one program on the :class:`~spikevec.hw.rtl.soc.Soc` through its host
protocol byte streams (used by ``spikevec sim`` and the lockstep tests).

Started by :func:`spikevec.sim.rtl.soc_sim.run_program`; the DUT is a ``Soc`` build.
Params (``$SPIKEVEC_PARAMS``):

* ``program``: path of a ``.svp`` program file (``Program.save``);
* ``max_cycles``: clock cycles the program may run (default 10 million);
* ``lockstep``: also monitor the retire ports every cycle and record the write streams
  (the only per-cycle Python; without it Python runs per host byte while loading and
  reading back, and only every few thousand cycles while the core runs);
* ``poll_cycles``: first STATUS poll interval (doubles up to 65536; default 64).

Records: ``identity`` (fingerprint), ``status`` (:class:`CoreStatus` fields after the
run), ``timed_out``, ``x`` (32 ints), ``v`` (32 lists of signed lanes), ``run_clock_cycles``
(clock cycles from START until the host saw the core stopped), ``run_wall_seconds``,
``load_wall_seconds``; with ``lockstep`` also ``retire``: ``{"x": [[pc, rd, value]...],
"mem": [[pc, word_addr, byte_en, data]...], "v": [[pc, reg, value]...], "vmem": [[pc,
addr, value]...], "lmem": [[pc, lanes, addr, value]...], "rng": [[pc, s0, s1]...]}``
(vector values as unsigned integers, lane 0 in the low 16 bits).
"""
from __future__ import annotations

import dataclasses
import time

import cocotb
from cocotb.triggers import ReadOnly, RisingEdge

from spikevec.hw.rtl.host_protocol import Space
from spikevec.sim.rtl.cocotb_support import cycles, params, record, reset, start_clock
from spikevec.sim.rtl.soc_client import AsyncSocClient
from spikevec.sw.asm.program import Program

DEFAULT_MAX_CYCLES = 10_000_000
MAX_POLL = 65536


class StreamTransport:
    """The SoC's ``rx``/``tx`` byte streams as an async transport (one coroutine step per
    byte; the core may run meanwhile)."""

    def __init__(self, dut, clock):
        self.dut, self.edge = dut, RisingEdge(clock.signal)
        dut.rx__valid.value = 0
        dut.rx__payload.value = 0
        dut.tx__ready.value = 0

    async def send(self, data: bytes) -> None:
        dut = self.dut
        for byte in data:
            dut.rx__valid.value = 1
            dut.rx__payload.value = byte
            while True:
                await ReadOnly()
                taken = int(dut.rx__ready.value)
                await self.edge
                if taken:
                    break
        dut.rx__valid.value = 0

    async def receive(self, n: int, max_idle: int = 1_000_000) -> bytes:
        dut, out, idle = self.dut, bytearray(), 0
        dut.tx__ready.value = 1
        while len(out) < n:
            await ReadOnly()
            if int(dut.tx__valid.value):
                out.append(int(dut.tx__payload.value))
                idle = 0
            else:
                idle += 1
                if idle > max_idle:
                    raise TimeoutError(f"The SoC sent no response byte for {max_idle} "
                                       f"cycles after {len(out)} of {n} bytes.")
            await self.edge
        dut.tx__ready.value = 0
        return bytes(out)


class RetireMonitor:
    """Samples the retire ports every cycle (lockstep only)."""

    def __init__(self, dut, clock):
        self.dut, self.clock = dut, clock
        self.streams = {k: [] for k in ("x", "mem", "v", "vmem", "lmem", "rng")}
        self.stopped = False
        self.vector = hasattr(dut, "vector_retire__v_valid")

    async def run(self):
        d, s, edge = self.dut, self.streams, RisingEdge(self.clock.signal)
        vec = self.vector
        while not self.stopped:
            await edge
            await ReadOnly()
            if int(d.retire__x_valid.value):
                s["x"].append([int(d.retire__x_pc.value), int(d.retire__x_rd.value),
                               int(d.retire__x_value.value)])
            if int(d.retire__mem_valid.value):
                s["mem"].append([int(d.retire__mem_pc.value),
                                 int(d.retire__mem_word_addr.value),
                                 int(d.retire__mem_byte_en.value),
                                 int(d.retire__mem_data.value)])
            if not vec:
                continue
            if int(d.vector_retire__v_valid.value):
                s["v"].append([int(d.vector_retire__v_pc.value),
                               int(d.vector_retire__v_reg.value),
                               int(d.vector_retire__v_value.value)])
            if int(d.vector_retire__vmem_valid.value):
                s["vmem"].append([int(d.vector_retire__vmem_pc.value),
                                  int(d.vector_retire__vmem_addr.value),
                                  int(d.vector_retire__vmem_value.value)])
            if int(d.vector_retire__lmem_valid.value):
                s["lmem"].append([int(d.vector_retire__lmem_pc.value),
                                  int(d.vector_retire__lmem_lanes.value),
                                  int(d.vector_retire__lmem_addr.value),
                                  int(d.vector_retire__lmem_value.value)])
            if int(d.vector_retire__rng_valid.value):
                s["rng"].append([int(d.vector_retire__rng_pc.value),
                                 int(d.vector_retire__rng_s0.value),
                                 int(d.vector_retire__rng_s1.value)])


def _signed16(value: int) -> int:
    return value - 0x10000 if value & 0x8000 else value


@cocotb.test()
async def test_run_program(dut):
    """Load the program, start it, wait for it to stop, read the state back."""
    p = params()
    program = Program.load(p["program"])
    config = program.config
    max_cycles = int(p.get("max_cycles", DEFAULT_MAX_CYCLES))
    interval = int(p.get("poll_cycles", 64))

    clock = start_clock(dut.clk)
    transport = StreamTransport(dut, clock)
    await reset(dut, clock)
    client = AsyncSocClient(transport)

    wall = time.perf_counter()
    identity = await client.identify()
    record(identity=identity.fingerprint)
    identity.check(config)
    await client.load_program(program)
    record(load_wall_seconds=time.perf_counter() - wall)

    monitor = None
    if p.get("lockstep"):
        monitor = RetireMonitor(dut, clock)
        cocotb.start_soon(monitor.run())

    wall = time.perf_counter()
    await client.start(0)
    started = clock_now(clock)
    timed_out = False
    while True:
        status = await client.status()
        if not status.running:
            break
        if clock_now(clock) - started >= max_cycles:
            timed_out = True
            try:
                await client.halt()
            except Exception as exc:            # BUSY: the core cannot halt yet
                record(halt_error=str(exc))
            status = await client.status()
            break
        await cycles(clock, interval)
        interval = min(2 * interval, MAX_POLL)
    run_cycles = clock_now(clock) - started
    record(run_clock_cycles=run_cycles, run_wall_seconds=time.perf_counter() - wall,
           timed_out=timed_out, status=dataclasses.asdict(status))
    if monitor is not None:
        monitor.stopped = True
        record(retire=monitor.streams)
    if status.running:
        record(x=None, v=None)
        return

    xbytes = await client.read(Space.XREG, 0, 128)
    x = [int.from_bytes(xbytes[4 * i:4 * i + 4], "little") for i in range(32)]
    vbytes = await client.read(Space.VREG, 0, 32 * config.vector_bytes)
    halves = [_signed16(int.from_bytes(vbytes[2 * i:2 * i + 2], "little"))
              for i in range(32 * config.lanes)]
    v = [halves[r * config.lanes:(r + 1) * config.lanes] for r in range(32)]
    record(x=x, v=v)


def clock_now(clock) -> int:
    from spikevec.sim.rtl.cocotb_support import now_cycles
    return int(round(now_cycles(clock)))
