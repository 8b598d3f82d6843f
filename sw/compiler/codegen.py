"""Code generation: memory layout, the timestep loop, spike propagation, neuron updates.

:class:`CodeGen` turns a :class:`~.model.Network` with a :class:`~.fixedpoint.FormatPlan`
into a :class:`~spikevec.sw.asm.Program` plus its memory map and I/O descriptors.

Program structure (labels in the image's symbol table)::

    __start   seed the lane generators, clear t (s0) and the ring slot (s2)
    __step    s1 = header.n_steps; if t >= s1 go to __done
              __wait_input_<src>: spin while in_written == t      (streaming only)
              __wait_output:      spin while t - out_consumed == ring capacity
              read each input's record (count + uint16 indices; count 0xFFFFFFFF = wrap)
              copy spike masks that feed delayed projections (cur -> prev)
              for each population, for each group of <= 16 chunks of 'lanes' neurons:
                  accumulators = bias (or 0)
                  for each incoming projection, for each spike j:   (event driven)
                      one vlacc8/vlacc per chunk of the group from weight row j
                  neuron update, chunks interleaved K at a time, state in vector memory;
                  spike masks to data memory (+ output ring), recorded variables to
                  their vector-memory ring, running-max readouts
              t += 1; header.steps_done = t; advance the ring slot; jump to __step
    __done    ecall; a host may raise n_steps and resume at __step

Spike indices come from the 32-bit masks of the previous layer via ``ctz`` and
clear-lowest-bit (``w & (w - 1)``), or from the input list; either way 6 scalar
instructions per spike (about 7 cycles) plus one vlacc per 32 synapses.

Scalar registers: s0 t, s1 n_steps, s2 ring slot, sp vector spill base, gp scalar spill
base; t0-t6, a6, a7 propagation; a0-a3 chunk pointers, a4 mask word, a5 spike buffer,
s3-s11 ring pointers during updates; t0-t6, a6, a7, ra, tp the update's mask registers.
Vector registers: accumulators v(32-G) .. v31, the rest temporaries and pinned constants.
"""
from __future__ import annotations

import numpy as np

from ..asm import ProgramBuilder
from .expr import CompileError
from .fixedpoint import fmt_name, quantise
from .layout import HEADER, MAGIC, MemoryMap
from .lower import lower_population
from .model import SpikeInput
from .regalloc import allocate, pressure

__all__ = ["CodeGen", "MAX_GROUP"]

MAX_GROUP = 16
XPOOL = ["t0", "t1", "t2", "t3", "t4", "t5", "t6", "a6", "a7", "ra", "tp"]
RINGREGS = ["s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11"]
CHUNKREGS = ["a0", "a1", "a2", "a3"]


class CodeGen:
    """Generate the program for ``net`` with formats ``plan`` on ``config``."""

    def __init__(self, net, plan, config, ring_steps=None, input_ring_bytes=None, seed=1,
                 weight_bits=8):
        self.net, self.plan, self.cfg = net, plan, config
        self.L, self.vb = config.lanes, config.vector_bytes
        self.bits, self.seed = weight_bits, seed
        self.pops = list(net.populations.values())
        self.inputs = [s for s in net.sources.values() if isinstance(s, SpikeInput)]
        for s in net.sources.values():
            if not isinstance(s, SpikeInput):
                raise CompileError(f"The source {s.name!r} is a {type(s).__name__}, which the "
                                   "code generator does not support yet; feed its spikes as a "
                                   "spike input instead.")
        self.C = {p.name: -(-p.size // self.L) for p in self.pops}
        self.W = {p.name: -(-p.size // 32) for p in self.pops}
        self.mm = MemoryMap(config)
        self.b = ProgramBuilder(config, "<codegen>")
        self.ring_steps, self.input_ring_bytes = ring_steps, input_ring_bytes
        self.stats = {"per_spike": {}, "per_word": {}, "loop_instructions": 0}

    # ---- layout --------------------------------------------------------------------------
    def layout(self):
        mm, net, L = self.mm, self.net, self.L
        mm.alloc("header", "dmem", len(HEADER), "uint32", role="header",
                 data=np.array([0, 0, 0, MAGIC], np.uint32))
        for s in self.inputs:
            mm.alloc(f"in_ctl.{s.name}", "dmem", 3, "uint32", role="input control")
        self.delayed_src = {pr.pre.name for pr in net.projections if pr.delayed}
        for p in self.pops:
            if p.spiking:
                mm.alloc(f"spikes.{p.name}", "dmem", self.W[p.name], "uint32", role="spike buffer")
                if p.name in self.delayed_src:
                    mm.alloc(f"spikes_prev.{p.name}", "dmem", self.W[p.name], "uint32",
                             role="spike buffer (previous step)")
        mm.alloc("xspill", "dmem", 32, "uint32", role="scalar spill area")
        rng = np.random.default_rng(self.seed)
        mm.alloc("seeds", "vmem", (2, L), "int16", align=self.vb, role="generator seeds",
                 data=rng.integers(1, 32767, (2, L)).astype(np.int16))
        for pr in net.projections:
            self._alloc_weights(pr)
        self.records = {p.name: [v for (n, v) in net.records if n == p.name and v != "spikes"]
                        for p in self.pops}
        for r in net.readouts.values():
            if r.mode == "mean" and r.var not in self.records[r.population.name]:
                self.records[r.population.name].append(r.var)
        self.lowered, self.blocks = {}, {}
        for p in self.pops:
            rmax = [(r.name, r.var) for r in net.readouts.values()
                    if r.population is p and r.mode == "max"]
            low = lower_population(p, self.plan.pops[p.name], self.plan, net,
                                   self.records[p.name], rmax)
            self.lowered[p.name] = low
            self._alloc_block(p, low, rmax)
        self.spill_vectors = 0
        self.alloc_plan = {p.name: self._regplan(p) for p in self.pops}
        mm.alloc("vspill", "vmem", (max(1, self.spill_vectors), L), "int16", align=self.vb,
                 role="vector spill area")
        self._alloc_rings()

    def _alloc_weights(self, pr):
        pf = self.plan.projs[pr.name]
        C = self.C[pr.post.name]
        if self.bits == 8:
            rowb, dtype = C * self.L, np.int8
        else:
            rowb, dtype = C * self.vb, np.int16
        w = np.zeros((pr.pre.size, rowb // np.dtype(dtype).itemsize), dtype)
        w[:, :pr.post.size] = pf.w_q
        mm_name = f"weights.{pr.name}"
        self.mm.alloc(mm_name, "vmem", w.shape, np.dtype(dtype).name, align=self.vb, data=w,
                      fmt=f"int{self.bits}<<{pf.shift} (unit {pf.scale:.4g})", role="weights")
        pf.row_bytes = rowb

    def _alloc_block(self, p, low, rmax):
        """Per chunk: state vectors, constant arrays, running maxima, bias."""
        pf, L, C = self.plan.pops[p.name], self.L, self.C[p.name]
        rows, off = [], {}
        for var in p.model.states:
            off[("state", var)] = len(rows)
            rows.append(quantise(np.pad(p.init[var], (0, C * L - p.size)), pf.state[var]))
        for i, (_, frac, arr) in enumerate(low.carrays):
            off[("carr", i)] = len(rows)
            rows.append(quantise(np.pad(np.broadcast_to(arr, (p.size,)), (0, C * L - p.size)), frac))
        for name, _ in rmax:
            off[("rmax", name)] = len(rows)
            rows.append(np.full(C * L, -32768))
        if pf.bias_q is not None:
            off[("bias",)] = len(rows)
            rows.append(np.pad(pf.bias_q, (0, C * L - p.size)))
        data = np.stack(rows).reshape(len(rows), C, L).transpose(1, 0, 2).astype(np.int16)
        fmts = ",".join(f"{v}:{fmt_name(pf.state[v])}" for v in p.model.states)
        addr = self.mm.alloc(f"pop.{p.name}", "vmem", data.shape, "int16", align=self.vb,
                             data=data, fmt=fmts, role="population state [chunk, row, lane]")
        self.blocks[p.name] = (addr, len(rows) * self.vb, {k: v * self.vb for k, v in off.items()})

    def _regplan(self, p):
        low, C = self.lowered[p.name], self.C[p.name]
        G = min(C, MAX_GROUP)
        avail = 32 - G
        pv, px = pressure(low.ins)
        nk = len(low.consts)
        K = next((k for k in (4, 2, 1) if k * pv + nk <= avail and k <= G), 1)
        npin = nk if K * pv + nk <= avail else max(0, min(nk, avail - max(pv, 3)))
        nv = (avail - npin) // K
        nx = len(XPOOL) // K
        al = allocate(low.ins, low.consts, {("k", i) for i in range(npin)}, nv, nx)
        self.spill_vectors = max(self.spill_vectors, K * al.v_spills)
        return dict(G=G, K=K, npin=npin, nv=nv, nx=nx, alloc=al, pressure=(pv, px))

    def _alloc_rings(self):
        mm, L = self.mm, self.L
        spk = [p for p in self.pops if (p.name, "spikes") in self.net.records]
        dm_step = sum(4 * self.W[p.name] for p in spk)
        vm_step = sum(self.C[p.name] * self.vb * len(self.records[p.name]) for p in self.pops)
        R = self.ring_steps
        if R is None:
            R = 1024
            if dm_step:
                R = min(R, (mm.free("dmem") // 2 - 64) // dm_step)
            if vm_step:
                R = min(R, (mm.free("vmem") - 64) // vm_step)
        if R < 1:
            raise CompileError("There is no room for even one step of output ring after the "
                               f"model's arrays ({mm.free('dmem')} bytes of data memory and "
                               f"{mm.free('vmem')} of vector memory left); record fewer "
                               "variables or use a configuration with more memory.")
        self.R = int(R)
        for p in spk:
            mm.alloc(f"out.{p.name}.spikes", "dmem", (self.R, self.W[p.name]), "uint32",
                     role="output ring: spike masks [slot, word]")
        for p in self.pops:
            pf = self.plan.pops[p.name]
            for var in self.records[p.name]:
                mm.alloc(f"out.{p.name}.{var}", "vmem", (self.R, self.C[p.name], L), "int16",
                         align=self.vb, fmt=fmt_name(pf.state[var]),
                         role="output ring: variable [slot, chunk, lane]")
        if self.inputs:
            nb = self.input_ring_bytes or ((mm.free("dmem") - 8 * len(self.inputs))
                                           // len(self.inputs)) & ~3
            for s in self.inputs:
                a = mm.alloc(f"in.{s.name}", "dmem", nb // 4, "uint32",
                             role="input ring: records [count, uint16 indices..., pad]")
                mm.alloc(f"in_guard.{s.name}", "dmem", 2, "uint32", role="guard")
                ctl = mm[f"in_ctl.{s.name}"].address
                mm.write("dmem", ctl + 4, np.array([a, a], np.uint32))

    # ---- code ----------------------------------------------------------------------------
    def generate(self):
        self.layout()
        b, mm = self.b, self.mm
        b.data_bytes(mm.initial("dmem"))
        if mm.inited["vmem"]:
            b.vdata_bytes(mm.initial("vmem"))
        b.section("text")
        b.label("__start")
        b.li("sp", mm["vspill"].address)
        b.li("gp", mm["xspill"].address)
        b.li("t0", mm["seeds"].address)
        b.vload(vd=0, rs1="t0", imm=0)
        b.vload(vd=1, rs1="t0", imm=self.vb)
        b.vseed(vs1=0, vs2=1)
        b.li("s0", 0)
        b.li("s2", 0)
        b.label("__step")
        b.lw(rd="s1", rs1="zero", imm=0)
        b.bgeu(rs1="s0", rs2="s1", off="__done")
        for s in self.inputs:
            ctl = mm[f"in_ctl.{s.name}"].address
            b.label(f"__wait_input_{s.name}")
            b.lw(rd="t0", rs1="zero", imm=ctl)
            b.bgeu(rs1="s0", rs2="t0", off=f"__wait_input_{s.name}")
        b.li("t1", self.R)
        b.label("__wait_output")
        b.lw(rd="t0", rs1="zero", imm=8)
        b.sub(rd="t0", rs1="s0", rs2="t0")
        b.bgeu(rs1="t0", rs2="t1", off="__wait_output")
        for s in self.inputs:
            self._read_record(s)
        for name in self.delayed_src:
            a, pa = mm[f"spikes.{name}"].address, mm[f"spikes_prev.{name}"].address
            b.li("t1", a)
            b.li("t2", pa)
            for k in range(self.W[name]):
                b.lw(rd="t0", rs1="t1", imm=4 * k)
                b.sw(rs2="t0", rs1="t2", imm=4 * k)
        for p in self.pops:
            for g in range(0, self.C[p.name], self.alloc_plan[p.name]["G"]):
                self._group(p, g)
        b.addi(rd="s0", rs1="s0", imm=1)
        b.sw(rs2="s0", rs1="zero", imm=4)
        b.addi(rd="s2", rs1="s2", imm=1)
        b.li("t0", self.R)
        b.bne(rs1="s2", rs2="t0", off="__slot_ok")
        b.li("s2", 0)
        b.label("__slot_ok")
        b.jal(rd="zero", off="__step")
        b.label("__done")
        b.ecall()
        b.jal(rd="zero", off="__step")
        return b.build()

    def _read_record(self, s):
        b, ctl = self.b, self.mm[f"in_ctl.{s.name}"].address
        b.lw(rd="t1", rs1="zero", imm=ctl + 4)
        b.lw(rd="t2", rs1="t1", imm=0)
        b.li("t3", -1)
        b.bne(rs1="t2", rs2="t3", off=f"__rec_ok_{s.name}")
        b.li("t1", self.mm[f"in.{s.name}"].address)
        b.lw(rd="t2", rs1="t1", imm=0)
        b.label(f"__rec_ok_{s.name}")
        b.sw(rs2="t1", rs1="zero", imm=ctl + 8)
        b.slli(rd="t3", rs1="t2", shamt=1)
        b.add(rd="t3", rs1="t3", rs2="t1")
        b.addi(rd="t3", rs1="t3", imm=7)
        b.andi(rd="t3", rs1="t3", imm=-4)
        b.sw(rs2="t3", rs1="zero", imm=ctl + 4)

    def _acc(self, c_local, G):
        return 32 - G + c_local

    def _group(self, p, g0):
        b, rp = self.b, self.alloc_plan[p.name]
        G, n = rp["G"], min(rp["G"], self.C[p.name] - g0)
        base, blk, off = self.blocks[p.name]
        for c in range(n):
            if ("bias",) in off:
                b.li("t0", base + (g0 + c) * blk + off[("bias",)])
                b.vload(vd=self._acc(c, G), rs1="t0", imm=0)
            else:
                b.vzero(vd=self._acc(c, G))
        for pr in self.net.inputs_to(p):
            self._propagate(pr, g0, n, G)
        self._update(p, g0, n, G)

    def _propagate(self, pr, g0, n, G):
        b, mm, pf = self.b, self.mm, self.plan.projs[pr.name]
        lab = f"__p{len(b.symbols)}"
        unit = self.L if self.bits == 8 else self.vb
        op = "vlacc8" if self.bits == 8 else "vlacc"
        wbase = mm[f"weights.{pr.name}"].address + g0 * unit
        b.li("t5", wbase)
        b.li("t6", pf.row_bytes)
        accs = [dict(vd=self._acc(c, G), off=c * unit, rs1="t1", shift=pf.shift) for c in range(n)]
        self.stats["per_spike"][f"{pr.name}@{g0}"] = 7 + n
        if isinstance(pr.pre, SpikeInput):
            ctl = mm[f"in_ctl.{pr.pre.name}"].address
            b.lw(rd="t4", rs1="zero", imm=ctl + 8)
            b.lw(rd="t3", rs1="t4", imm=0)
            b.addi(rd="t4", rs1="t4", imm=4)
            b.beq(rs1="t3", rs2="zero", off=lab + "_end")
            b.lhu(rd="t0", rs1="t4", imm=0)
            b.label(lab + "_loop")
            start = b.here()
            b.mul(rd="t1", rs1="t0", rs2="t6")
            b.lhu(rd="t0", rs1="t4", imm=2)
            b.addi(rd="t4", rs1="t4", imm=2)
            b.add(rd="t1", rs1="t1", rs2="t5")
            b.addi(rd="t3", rs1="t3", imm=-1)
            for a in accs:
                b.emit(op, **a)
            b.bne(rs1="t3", rs2="zero", off=lab + "_loop")
            self.stats["loop_instructions"] += (b.here() - start) // 4
            b.label(lab + "_end")
            return
        buf = f"spikes_prev.{pr.pre.name}" if pr.delayed else f"spikes.{pr.pre.name}"
        a = mm[buf].address
        b.li("t4", a)
        b.li("a7", a + 4 * self.W[pr.pre.name])
        b.li("a6", 32 * pf.row_bytes)
        b.label(lab + "_word")
        b.lw(rd="t3", rs1="t4", imm=0)
        b.addi(rd="t4", rs1="t4", imm=4)
        b.beq(rs1="t3", rs2="zero", off=lab + "_next")
        b.label(lab + "_spike")
        start = b.here()
        b.ctz(rd="t0", rs1="t3")
        b.addi(rd="t2", rs1="t3", imm=-1)
        b.mul(rd="t1", rs1="t0", rs2="t6")
        b.emit("and", rd="t3", rs1="t3", rs2="t2")
        b.add(rd="t1", rs1="t1", rs2="t5")
        for acc in accs:
            b.emit(op, **acc)
        b.bne(rs1="t3", rs2="zero", off=lab + "_spike")
        self.stats["loop_instructions"] += (b.here() - start) // 4
        self.stats["per_word"][f"{pr.name}@{g0}"] = self.W[pr.pre.name]
        b.label(lab + "_next")
        b.add(rd="t5", rs1="t5", rs2="a6")
        b.bne(rs1="t4", rs2="a7", off=lab + "_word")

    def _update(self, p, g0, n, G):
        from .codegen_update import emit_update
        emit_update(self, p, g0, n, G)
