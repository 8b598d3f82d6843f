"""Lockstep harness for the RTL ``Core`` (scalar core + vector unit) against the golden
model: run many programs on one simulated core, each from a given initial state, and
compare final state, counters, exit and the retire-port writes with ``Machine``.

A *case* is a dict: ``words`` (instruction words) or ``text`` (assembly), and optionally
``x`` (32 ints), ``v`` (32 x lanes ints), ``vmem`` (bytes from address 0), ``lmem``
(lanes x elements ints), ``dmem`` (bytes from 0). The generator state is whatever the
previous program left (read from the RTL and given to the model), so programs seed it
themselves when they care.
"""
from __future__ import annotations

import numpy as np
from amaranth.sim import Simulator

from spikevec.hw.config import CoreConfig
from spikevec.hw.rtl.core import Core
from spikevec.hw.rtl.host_router import DRAIN_CYCLES
from spikevec.sim.iss import Machine
from spikevec.sw.asm import assemble

MAX_CYCLES = 20000
STORE_NAMES = ("vstore", "vstorel")

#: Small configurations that keep the simulation quick.
TINY8 = CoreConfig(lanes=8, imem_bytes=4096, dmem_bytes=1024, vmem_bytes=2048,
                   lane_mem_bytes=128, name="test8")
TINY32 = CoreConfig(lanes=32, imem_bytes=4096, dmem_bytes=1024, vmem_bytes=4096,
                    lane_mem_bytes=64, name="test32")


def _pack(values, width=16):
    out = 0
    for i, val in enumerate(values):
        out |= (int(val) & ((1 << width) - 1)) << (width * i)
    return out


def _unpack(word, count, signed=True, width=16):
    vals = [(word >> (width * i)) & ((1 << width) - 1) for i in range(count)]
    if signed:
        vals = [v - (1 << width) if v >> (width - 1) else v for v in vals]
    return vals


def words_of(case, config):
    if "words" in case:
        return list(case["words"])
    return list(assemble(case["text"], config).text)


class Lockstep:
    """One simulated :class:`Core` for ``config`` that runs cases in sequence."""

    def __init__(self, config: CoreConfig):
        self.config = config
        self.core = Core(config)

    def run(self, cases):
        cfg, core = self.config, self.core
        scalar, vector = core.scalar, core.vector
        L = cfg.lanes
        results = []

        async def testbench(ctx):
            for case in cases:
                words = words_of(case, cfg)
                rtl = {"trace_x": [], "trace_v": []}
                init = _initial_state(case, cfg)
                for i in range(cfg.imem_words):
                    ctx.set(scalar.imem.data[i], words[i] if i < len(words) else 0)
                dmem = init["dmem"].view(np.uint32)
                for i in range(len(dmem)):
                    ctx.set(scalar.dmem.data[i], int(dmem[i]))
                for i in range(32):
                    scalar.regfile.sim_set(ctx, i, int(init["x"][i]) if i else 0)
                    vector.regfile.sim_set(ctx, i, _pack(init["v"][i]))
                vrows = init["vmem"].view(np.int16).reshape(-1, L)
                for r in range(len(vrows)):
                    vector.vmem.sim_set(ctx, r, _pack(vrows[r]))
                for i, lane in enumerate(vector.lanes):
                    for e in range(cfg.lane_mem_elements):
                        ctx.set(lane.lmem.data[e], int(init["lmem"][i, e]) & 0xFFFF)
                init["rng"] = np.array([[ctx.get(lane.s0) for lane in vector.lanes],
                                        [ctx.get(lane.s1) for lane in vector.lanes]])
                ctx.set(core.start, 1)
                await ctx.tick()
                ctx.set(core.start, 0)
                halted_at = None
                for cycle in range(MAX_CYCLES):
                    _sample(ctx, core, L, rtl)
                    await ctx.tick()
                    if halted_at is None and ctx.get(core.status.halted):
                        halted_at = cycle
                    if halted_at is not None and cycle - halted_at >= DRAIN_CYCLES:
                        break
                else:
                    raise AssertionError("The core did not halt within "
                                         f"{MAX_CYCLES} cycles.")
                st = core.status
                rtl.update({
                    "cause": ctx.get(st.cause).name, "trap_pc": ctx.get(st.trap_pc),
                    "trap_addr": ctx.get(st.trap_addr), "cycles": ctx.get(st.cycles),
                    "instret": ctx.get(st.instret),
                    "x": [scalar.regfile.sim_get(ctx, i) if i else 0 for i in range(32)],
                    "v": [_unpack(vector.regfile.sim_get(ctx, i), L) for i in range(32)],
                    "vmem": [_unpack(vector.vmem.sim_get(ctx, r), L)
                             for r in range(len(vrows))],
                    "lmem": [[_unpack(ctx.get(lane.lmem.data[e]), 1)[0]
                              for e in range(cfg.lane_mem_elements)] for lane in vector.lanes],
                    "dmem": [ctx.get(scalar.dmem.data[i]) for i in range(len(dmem))],
                    "rng": [[ctx.get(lane.s0) for lane in vector.lanes],
                            [ctx.get(lane.s1) for lane in vector.lanes]],
                })
                results.append((words, init, rtl))

        sim = Simulator(core)
        sim.add_clock(1e-8)
        sim.add_testbench(testbench)
        sim.run()
        return results


def _initial_state(case, cfg):
    L, E = cfg.lanes, cfg.lane_mem_elements
    x = np.zeros(32, dtype=np.uint32)
    x[:len(case.get("x", []))] = np.array(case.get("x", []), dtype=np.int64) & 0xFFFFFFFF
    x[0] = 0
    v = np.zeros((32, L), dtype=np.int16)
    if "v" in case:
        v[:] = np.array(case["v"], dtype=np.int64).astype(np.int16)
    vmem = np.zeros(cfg.vmem_bytes, dtype=np.uint8)
    data = bytes(case.get("vmem", b""))
    vmem[:len(data)] = np.frombuffer(data, dtype=np.uint8)
    lmem = np.zeros((L, E), dtype=np.int16)
    if "lmem" in case:
        lmem[:] = np.array(case["lmem"], dtype=np.int64).astype(np.int16)
    dmem = np.zeros(cfg.dmem_bytes, dtype=np.uint8)
    data = bytes(case.get("dmem", b""))
    dmem[:len(data)] = np.frombuffer(data, dtype=np.uint8)
    return {"x": x, "v": v, "vmem": vmem, "lmem": lmem, "dmem": dmem}


def _sample(ctx, core, L, rtl):
    """Record this cycle's retire-port writes as golden-trace-like tuples
    ``(pc, kind, where, value, lane)``."""
    r, vr = core.retire, core.vector_retire
    if ctx.get(r.x_valid):
        rtl["trace_x"].append((ctx.get(r.x_pc), "x", ctx.get(r.x_rd), ctx.get(r.x_value), -1))
    if ctx.get(r.mem_valid):
        rtl["trace_x"].append((ctx.get(r.mem_pc), "mem", ctx.get(r.mem_word_addr),
                               (ctx.get(r.mem_byte_en), ctx.get(r.mem_data)), -1))
    out = rtl["trace_v"]
    if ctx.get(vr.v_valid):
        out.append((ctx.get(vr.v_pc), "v", ctx.get(vr.v_reg),
                    tuple(_unpack(ctx.get(vr.v_value), L)), -1))
    if ctx.get(vr.vmem_valid):
        out.append((ctx.get(vr.vmem_pc), "vmem", ctx.get(vr.vmem_addr),
                    tuple(_unpack(ctx.get(vr.vmem_value), L)), -1))
    if ctx.get(vr.lmem_valid):
        pc, lanes = ctx.get(vr.lmem_pc), ctx.get(vr.lmem_lanes)
        addrs = _unpack(ctx.get(vr.lmem_addr), L, signed=False)
        vals = _unpack(ctx.get(vr.lmem_value), L)
        for i in range(L):
            if lanes >> i & 1:
                out.append((pc, "lmem", addrs[i], vals[i], i))
    if ctx.get(vr.rng_valid):
        pc = ctx.get(vr.rng_pc)
        out.append((pc, "rng", 0, tuple(_unpack(ctx.get(vr.rng_s0), L, signed=False)), -1))
        out.append((pc, "rng", 1, tuple(_unpack(ctx.get(vr.rng_s1), L, signed=False)), -1))


def golden(cfg, words, init):
    m = Machine(cfg)
    m.set_imem(words)
    m.x[:] = init["x"]
    m.v[:] = init["v"]
    m.vmem[:] = init["vmem"]
    m.lmem[:] = init["lmem"]
    m.dmem[:] = init["dmem"]
    m.rng[:] = init["rng"]
    result = m.run(max_instructions=MAX_CYCLES, trace=True)
    return m, result


def _exit_of(rtl, words, cfg):
    from spikevec.sim.iss.predecode import mnemonic
    cause = rtl["cause"]
    if cause == "VECTOR_FAULT":
        name = mnemonic(words[rtl["trap_pc"] // 4], cfg)
        return "store_fault" if name.split(".")[0] in STORE_NAMES else "load_fault"
    return {"ECALL": "ecall", "EBREAK": "ebreak", "ILLEGAL": "illegal_instruction",
            "FETCH_FAULT": "pc_fault", "LOAD_FAULT": "load_fault",
            "STORE_FAULT": "store_fault"}[cause]


def _short(value, limit=200):
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def first_difference(what, got, want, context=3):
    """A short report of where ``got`` (RTL) and ``want`` (model) first differ: for lists,
    the first differing index with ``context`` records before it (never whole traces)."""
    if not (isinstance(got, list) and isinstance(want, list)):
        return f"{what}: rtl {_short(got)} != model {_short(want)}"
    n = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b),
             min(len(got), len(want)))
    lines = [f"{what}: first difference at index {n} (rtl has {len(got)} records, model "
             f"{len(want)})"]
    for i in range(max(0, n - context), n):
        lines.append(f"    [{i}] both : {_short(got[i])}")
    lines.append(f"    [{n}] rtl  : {_short(got[n]) if n < len(got) else '(none)'}")
    lines.append(f"    [{n}] model: {_short(want[n]) if n < len(want) else '(none)'}")
    return "\n".join(lines)


def compare(cfg, words, init, rtl, label=""):
    """Assert that the RTL run ``rtl`` equals the golden model from ``init``; return the
    golden result."""
    m, res = golden(cfg, words, init)
    L = cfg.lanes
    problems = []

    def check(what, got, want):
        if got != want:
            problems.append(first_difference(what, got, want))

    check("exit", _exit_of(rtl, words, cfg), res.exit_reason)
    check("instret", rtl["instret"], res.instret)
    check("cycles", rtl["cycles"], res.cycles)
    if res.exit_reason != "ecall":
        check("trap pc", rtl["trap_pc"], res.pc)
        if res.fault and res.fault.get("address") is not None and \
                res.exit_reason.endswith("fault"):
            check("fault address", rtl["trap_addr"], res.fault["address"] & 0xFFFFFFFF)
    check("x", rtl["x"], [int(a) for a in m.x])
    for r in range(32):
        check(f"v{r}", rtl["v"][r], m.v[r].astype(int).tolist())
    check("vmem", rtl["vmem"], m.vmem.view(np.int16).reshape(-1, L).astype(int).tolist())
    check("lmem", rtl["lmem"], m.lmem.astype(int).tolist())
    check("dmem", rtl["dmem"], m.dmem.view(np.uint32).astype(int).tolist())
    check("rng", rtl["rng"], m.rng.astype(int).tolist())
    want_v = [(t.pc, t.kind, t.where, t.value, t.lane) for t in res.trace
              if t.kind in ("v", "vmem", "lmem", "rng")]
    check("vector retire trace", rtl["trace_v"], want_v)
    want_x = [(t.pc, t.where) for t in res.trace if t.kind == "x"]
    check("x retire trace", [(pc, w) for pc, k, w, _, _ in rtl["trace_x"] if k == "x"], want_x)
    want_xv = [t.value for t in res.trace if t.kind == "x"]
    check("x retire values", [val for _, k, _, val, _ in rtl["trace_x"] if k == "x"], want_xv)
    assert not problems, f"{label}: " + "\n".join(problems[:6])
    return res
