"""HostRouter with ports of different read latencies (the vector unit's memories answer
in 3 cycles, the scalar core's in 1): every read answers exactly ``read_latency`` cycles
after it is taken with its own space's word, whatever was read before it, and a write
reaches only its own space's port."""
import random

import pytest
from amaranth.hdl import Module, Signal
from amaranth.sim import Simulator

from spikevec.hw.config import preset
from spikevec.hw.rtl.delay import delayed
from spikevec.hw.rtl.host_protocol import Space
from spikevec.hw.rtl.host_router import ROUTED_SPACES, HostRouter, port_name

LATENCIES = {Space.VMEM: 3, Space.LMEM: 3, Space.VREG: 2}


def _word(space, addr):
    """What the fake port of ``space`` answers for ``addr``."""
    return (space.value << 24 | addr * 7 + 1) & 0xFFFFFFFF


def _fake_ports(m, router):
    """Each port answers ``_word(space, addr)`` after its own latency; returns
    ``{space: signal}`` high in a cycle where that port's ``we`` is."""
    writes = {}
    for space in ROUTED_SPACES:
        port = getattr(router, port_name(space))
        answer = Signal(32, name=f"answer_{port_name(space)}")
        m.d.comb += answer.eq((space.value << 24) | (port.addr * 7 + 1))
        m.d.comb += port.rdata.eq(delayed(m, answer, router.latencies[space],
                                          f"fake_{port_name(space)}"))
        writes[space] = port.we.any()
    return writes


def test_router_answers_every_space_after_the_same_latency():
    config = preset("lanes8")
    router = HostRouter(config, latencies=LATENCIES)
    assert router.read_latency == 2 + 3
    m = Module()
    m.submodules.router = router
    writes = _fake_ports(m, router)
    rnd = random.Random(7)
    # Addresses below 32: every space has at least 32 words (XREG has exactly 32).
    requests = [(rnd.choice(ROUTED_SPACES), rnd.randrange(32), rnd.random() < 0.3)
                for _ in range(200)]
    taken, written, beats, wrote = [], [], [], []

    async def testbench(ctx):
        req, rdata = router.bus.req, router.bus.rdata
        cycle = 0

        async def step():
            nonlocal cycle
            _, _, valid, payload, *hits = await ctx.tick().sample(
                rdata.valid, rdata.payload, *(writes[s] for s in ROUTED_SPACES))
            if valid:
                beats.append((cycle, payload))
            wrote.extend((cycle, s) for s, hit in zip(ROUTED_SPACES, hits) if hit)
            cycle += 1

        for space, addr, we in requests:
            ctx.set(req.valid, 1)
            ctx.set(req.payload, {"space": space, "addr": addr, "wdata": addr, "we": we})
            (taken if not we else written).append((cycle, space, addr))
            await step()
            if rnd.random() < 0.3:                  # an idle cycle now and then
                ctx.set(req.valid, 0)
                await step()
        ctx.set(req.valid, 0)
        for _ in range(router.read_latency + 1):
            await step()

    sim = Simulator(m)
    sim.add_clock(1e-8)
    sim.add_testbench(testbench)
    sim.run()
    # sample() reports the cycle before the tick, so a beat seen at sample cycle c
    # belongs to a request taken at c - read_latency.
    want = [(c + router.read_latency, _word(s, a)) for c, s, a in taken]
    assert beats == want
    assert wrote == [(c + 1, s) for c, s, _ in written]   # the request is registered


def test_router_rejects_latency_of_a_space_it_does_not_route():
    with pytest.raises(ValueError, match="STATUS"):
        HostRouter(preset("lanes8"), latencies={Space.STATUS: 2})
