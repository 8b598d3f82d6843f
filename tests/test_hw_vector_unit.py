"""The vector unit's parts and ports: the decoder map, the host ports of vector memory,
lane memories (both while the core runs) and vector registers (while stopped). Faults
after stalls (cycle count = the issue cycle, exact) are in ``test_hw_core_vector``."""
from __future__ import annotations

import random

from amaranth.sim import Simulator

from spikevec.hw.isa import INSTRUCTIONS, TIMING
from spikevec.hw.vector_unit.scoreboard import MAX_WAIT
from spikevec.hw.vector_unit.vector_decoder import LANE_MAP, vector_instructions
from spikevec.sim.iss import Machine
from spikevec.sw.asm import assemble
from vector_core_harness import TINY8, Lockstep


def test_decoder_maps_exactly_the_table():
    assert set(LANE_MAP) == {ins.name for ins in INSTRUCTIONS if ins.is_vector}
    assert len(vector_instructions()) == len(LANE_MAP)
    assert MAX_WAIT == TIMING.latency_of("vacc") - 1 == 3     # the longest: VACC, 4


def test_no_numbers_for_opcodes_in_the_vector_unit():
    import pathlib
    import re
    root = pathlib.Path(__file__).resolve().parents[1] / "hw" / "vector_unit"
    for path in root.glob("*.py"):
        text = path.read_text()
        assert not re.search(r"0b[01]{7}\b", text), path


def test_lanes_have_no_variable_shift_cells():
    """Every variable shift of a lane is a multiplexer barrel (arith.shift_left /
    shift_right): Yosys's ``share`` pass compares every pair of shift cells that feed
    multiplexers with a SAT problem, 7,073 of them (491 s) in the 32-lane build, and
    never shares two lanes' shifters. Shifts by constants leave no such cell."""
    import re
    from amaranth.back import rtlil
    from spikevec.hw.vector_unit.vector_lane import VectorLane
    text = rtlil.convert(VectorLane(TINY8))
    cells = re.findall(r"cell \$(?:shl|shr|sshl|sshr|shift|shiftx) (\S+)\n(.*?)\n  end",
                       text, re.S)
    assert cells, "expected the generator's shifts by constants"
    variable = [name for name, body in cells
                if not re.search(r"connect \\B \d+'[01]+\n", body + "\n")]
    assert variable == [], variable


def _word(values):
    return (values[0] & 0xFFFF) | ((values[1] & 0xFFFF) << 16)


def test_host_ports_while_running_and_stopped():
    cfg = TINY8
    L, half = cfg.lanes, cfg.lanes // 2
    rnd = random.Random(3)
    row0 = [rnd.randint(-32768, 32767) for _ in range(L)]
    v4 = [rnd.randint(-1000, 1000) for _ in range(L)]
    lane_vals = [rnd.randint(-32768, 32767) for _ in range(L)]    # element 5 of each lane
    stream_row = [rnd.randint(-32768, 32767) for _ in range(L)]   # written while running
    text = """
        li t0, 40
    loop:
        addi t0, t0, -1
        bne t0, zero, loop
        vload v1, 0(zero)
        vlui v6, 5
        vloadl v2, 0(v6)
        vadd v3, v1, v4
        vadd v3, v3, v2
        vstore v3, 32(zero)
        vload v7, 48(zero)
        ecall
    """
    words = assemble(text, cfg).text
    core = Lockstep(cfg).core
    seen = {}

    async def host_write(ctx, port, addr, data):
        ctx.set(port.addr, addr)
        ctx.set(port.wdata, data & 0xFFFFFFFF)
        ctx.set(port.we, 1)
        await ctx.tick()
        ctx.set(port.we, 0)

    async def host_read(ctx, port, addr):
        ctx.set(port.addr, addr)
        ctx.set(port.we, 0)
        await ctx.tick().repeat(port.signature.latency)      # 3 for VMEM/LMEM, else 1
        return ctx.get(port.rdata)

    async def testbench(ctx):
        for i, w in enumerate(words):
            ctx.set(core.scalar.imem.data[i], w)
        for k in range(half):
            await host_write(ctx, core.vmem_host, k, _word(row0[2 * k:2 * k + 2]))
            await host_write(ctx, core.vreg_host, 4 * half + k, _word(v4[2 * k:2 * k + 2]))
            await host_write(ctx, core.lmem_host, 5 * half + k, _word(lane_vals[2 * k:]))
        seen["vmem0"] = [await host_read(ctx, core.vmem_host, k) for k in range(half)]
        seen["vreg4"] = [await host_read(ctx, core.vreg_host, 4 * half + k)
                         for k in range(half)]
        ctx.set(core.start, 1)
        await ctx.tick()
        ctx.set(core.start, 0)
        for k in range(half):                       # stream row 3 while the loop runs
            await host_write(ctx, core.vmem_host, 3 * half + k, _word(stream_row[2 * k:]))
        seen["running_after_stream"] = ctx.get(core.status.running)
        seen["vmem3"] = [await host_read(ctx, core.vmem_host, 3 * half + k)
                         for k in range(half)]
        seen["lmem5"] = [await host_read(ctx, core.lmem_host, 5 * half + k)
                         for k in range(half)]
        while not ctx.get(core.status.halted):
            await ctx.tick()
        await ctx.tick().repeat(3)
        seen["vreg3"] = [await host_read(ctx, core.vreg_host, 3 * half + k)
                         for k in range(half)]
        seen["vreg7"] = [await host_read(ctx, core.vreg_host, 7 * half + k)
                         for k in range(half)]
        seen["vmem2"] = [await host_read(ctx, core.vmem_host, 2 * half + k)
                         for k in range(half)]
        seen["cause"] = ctx.get(core.status.cause).name

    sim = Simulator(core)
    sim.add_clock(1e-8)
    sim.add_testbench(testbench)
    sim.run()

    words_of = lambda vals: [_word(vals[2 * k:2 * k + 2]) for k in range(half)]
    assert seen["cause"] == "ECALL"
    assert seen["running_after_stream"] == 1, "the stream should overlap the run"
    assert seen["vmem0"] == words_of(row0) and seen["vreg4"] == words_of(v4)
    assert seen["vmem3"] == words_of(stream_row)
    assert seen["lmem5"] == words_of(lane_vals)
    m = Machine(cfg)
    m.set_imem(words)
    m.vmem[:2 * L].view("<i2")[:] = row0
    m.vmem[48:48 + 2 * L].view("<i2")[:] = stream_row
    m.v[4] = v4
    m.lmem[:, 5] = lane_vals
    assert m.run().exit_reason == "ecall"
    assert seen["vreg3"] == words_of(m.v[3].tolist())
    assert seen["vreg7"] == words_of(stream_row)
    assert seen["vmem2"] == words_of(m.vmem[32:32 + 2 * L].view("<i2").tolist())
