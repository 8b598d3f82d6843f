"""Code generation: memory layout, the timestep loop, spike propagation, neuron updates.

:class:`CodeGen` turns a :class:`~.model.Network` with a :class:`~.fixedpoint.FormatPlan`
into a :class:`~spikevec.sw.asm.Program` plus its memory map and I/O descriptors.

Two code paths. **Resident** (every population's chunks together need at most
:data:`RESIDENT_MAX` accumulators): the accumulators live in fixed vector registers for
the whole run, every spike source is propagated once, right after its spikes are known,
through fused weight rows into all its targets (:mod:`.codegen_prop`), and qualifying
models start each step from a pre-decayed accumulator (:mod:`.predecay`). **Group**
(larger networks): per population, groups of <= 16 chunks get their accumulators
cleared, every incoming projection scanned, and updated; delayed projections read a
copy of the previous step's spike masks.

Program structure and labels (in the image's symbol table; a benchmark attributes the
cycles of a step to phases by the pc ranges between consecutive ``__phase_*`` labels)::

    __start                 generator seeds, t (s0) = 0, ring slot (s2) = 0; resident:
                            initial accumulators (bias, or E(state) + bias)
    __step                  s1 = header.n_steps; if t >= s1: __done (host entry point);
                            waits for input records and an output slot, then s1 = the
                            step limit (:mod:`.codegen_step`)
    __step_body             the loop comes back here while t < s1
    __phase_input           read each input's record (count + uint16 indices; count
                            0xFFFFFFFF = wrap); resident: propagate the input spikes
    __phase_record_<pop>    pinned constants, output-ring pointers (recording set-up)
    __phase_update_<pop>    the neuron update (chunks interleaved K at a time), spike
                            masks and recorded variables to the output ring
    __phase_prop_<pop>      resident: this step's spikes of <pop> into all its targets
                            (recurrent and next-layer rows fused)
    __phase_group_<pop>_<g> group path: accumulators, then propagation of every
                            projection into chunks g.. (record/update labels get _<g>)
    __phase_step            t += 1 (or at the step's start, codegen_input),
                            header.steps_done = t, advance the ring slot, loop
    __limit                 t reached the limit: __done at n_steps, else __wait_limit
    __step_end              end of the step code
    __done                  ecall; a host may raise n_steps and resume at __step
    __wait_input_<src>, __wait_limit, __wait_output
                            out-of-line wait loops (the pc stays inside while the core
                            waits); each adds the cycles it spent to header.wait_cycles

Scalar registers: s0 t, s1 the step limit, s2 ring slot, sp/gp vector/scalar spill bases
(no spills, resident: a population's row step and base); t1 = ring capacity (run-long
registers from the second pass: :func:`~.codegen_update.assign_spare`); t0-t6, a6, a7, ra, tp and
preloaded mask words (a0 ..) during propagation; a0-a3 chunk pointers (resident: a0
carried across updates and steps), a4 mask word, a5 spike buffer, s3-s11 ring pointers
during updates; t0-t6, a6, a7, ra, tp the update's masks (resident, one chunk per word:
a register of each mask's own from ``vtlt`` to the propagation). Registers a first pass
leaves unused hold run constants (:func:`~.codegen_update.assign_spare`; one left over:
header.n_steps, for the last step's state stores, :func:`~.codegen_update.run_constants`).
Vector registers: accumulators at the top (v(32-A) .. v31), resident: the running maxima of
``max`` readouts right below them (loaded at ``__step``, stored at ``__done``) when
they fit; pinned constants from v0 (resident: every population's, loaded once before
``__step``), temporaries between.
"""
from __future__ import annotations

import numpy as np

from ..asm import ProgramBuilder
from .expr import CompileError
from .fixedpoint import fmt_name, quantise
from .layout import HEADER, MAGIC, MemoryMap
from .codegen_prop import alloc_fused_rows, alloc_weights, emit_group, emit_mask_propagation
from .codegen_input import emit_list_propagation, read_record
from .codegen_step import emit_entry, emit_step_end
from .lower import lower_population
from .model import SpikeInput

__all__ = ["CodeGen", "MAX_GROUP"]

MAX_GROUP = 16
RESIDENT_MAX = 16     # accumulator registers the resident path may keep for a whole run
XPOOL = ["t0", "t1", "t2", "t3", "t4", "t5", "t6", "a6", "a7", "ra", "tp"]
RINGREGS = ["s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11"]
CHUNKREGS = ["a0", "a1", "a2", "a3"]


class CodeGen:
    """Generate the program for ``net`` with formats ``plan`` on ``config``."""

    def __init__(self, net, plan, config, ring_steps=None, input_ring_bytes=None, seed=1,
                 weight_bits=8, near_tails=False, spare=()):
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
        unit = self.L if weight_bits == 8 else self.vb
        self.total_acc = sum(self.C.values())
        out_chunks = [sum(self.C[pr.post.name] for pr in net.projections if pr.pre is src)
                      for src in list(net.sources.values()) + self.pops]
        self.resident = (self.total_acc <= RESIDENT_MAX
                         and all(c * unit <= 127 * unit for c in out_chunks))
        self.fused, self.tails, self.near_tails = {}, [], near_tails
        self.spike_reg = {}     # population -> (register, offset) of its spike ring slot
        self.outlines = []      # emitters of out-of-line blocks (placed with the tails)
        self.mask_regs = {}     # population -> registers holding its mask words (resident)
        self.pins = []          # resident: constants kept in v0.. for the whole run
        self.prop_regs = {}     # population -> registers holding its row base and step
        self.a0 = None          # the known value of a0 (chunk pointer) where code is emitted
        self.spare, self.rreg, self.spare_used = list(spare), "t1", []  # (assign_spare)
        self.nreg = None        # a run-long copy of header.n_steps (run_constants)
        self.ptr_regs, self.in_regs = {}, None      # run-long pointers, input constants
        self.xrec = self.yrec = None    # run-long record pointers of the first input
        self.s0_early = False           # t += 1 at the step's start (both: codegen_input)

    # ---- layout --------------------------------------------------------------------------
    def layout(self):
        mm, net, L = self.mm, self.net, self.L
        mm.alloc("header", "dmem", len(HEADER), "uint32", role="header",
                 data=np.array([0, 0, 0, MAGIC, 0], np.uint32))
        for s in self.inputs:
            mm.alloc(f"in_ctl.{s.name}", "dmem", 3, "uint32", role="input control")
        self.delayed_src = set() if self.resident else \
            {pr.pre.name for pr in net.projections if pr.delayed}
        for p in self.pops:
            if p.spiking:
                mm.alloc(f"spikes.{p.name}", "dmem", self.W[p.name], "uint32", role="spike buffer")
                if p.name in self.delayed_src:
                    mm.alloc(f"spikes_prev.{p.name}", "dmem", self.W[p.name], "uint32",
                             role="spike buffer (previous step)")
        mm.alloc("xspill", "dmem", 32, "uint32", role="scalar spill area")
        if self.resident:       # the first input's rows at address 0 (see codegen_prop)
            for src in self.inputs + self.pops:
                alloc_fused_rows(self, src)
        rng = np.random.default_rng(self.seed)
        mm.alloc("seeds", "vmem", (2, L), "int16", align=self.vb, role="generator seeds",
                 data=rng.integers(1, 32767, (2, L)).astype(np.int16))
        if not self.resident:
            for pr in net.projections:
                alloc_weights(self, pr)
        self.records = {p.name: [v for (n, v) in net.records if n == p.name and v != "spikes"]
                        for p in self.pops}
        for r in net.readouts.values():
            if r.mode == "mean" and r.var not in self.records[r.population.name]:
                self.records[r.population.name].append(r.var)
        self.lowered, self.blocks, self.acc_init = {}, {}, {}
        maxima = {p.name: [(r.name, r.var) for r in net.readouts.values()
                           if r.population is p and r.mode == "max"] for p in self.pops}
        n_rmx = sum(len(maxima[p.name]) * self.C[p.name] for p in self.pops)
        # resident: running maxima in registers below the accumulators (codegen_step)
        self.rmax_regs = {}
        if self.resident and n_rmx and self.total_acc + n_rmx <= RESIDENT_MAX:
            r = 32 - self.total_acc - n_rmx
            for p in self.pops:
                for name, _ in maxima[p.name]:
                    for c in range(self.C[p.name]):
                        self.rmax_regs[(p.name, name, c)], r = r, r + 1
        for p in self.pops:
            rmax = maxima[p.name]
            low, init = lower_population(p, self.plan.pops[p.name], self.plan, net,
                                         self.records[p.name], rmax, self.resident,
                                         rmax_regs=bool(self.rmax_regs))
            self.lowered[p.name] = low
            if init is not None:
                self.acc_init[p.name] = init
            self._alloc_block(p, low, rmax)
        from .codegen_update import global_pins, regplan
        self.spill_vectors = 0
        self.pins = global_pins(self)
        self.alloc_plan = {p.name: regplan(self, p) for p in self.pops}
        self.init_plan = {p.name: regplan(self, p, self.acc_init[p.name])
                          for p in self.pops if p.name in self.acc_init}
        mm.alloc("vspill", "vmem", (max(1, self.spill_vectors), L), "int16", align=self.vb,
                 role="vector spill area")
        self._alloc_rings()

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

    def acc_reg(self, pop, c, g0=0, G=None):
        """The vector register of chunk ``c``'s accumulator (resident: fixed for the run;
        else ``v(32-G) ..`` for the group starting at chunk ``g0``)."""
        if self.resident:
            first = 32 - self.total_acc
            return first + sum(self.C[p.name] for p in self.pops[:self.pops.index(pop)]) + c
        return 32 - G + (c - g0)

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
        streams = [a for n, a in mm.arrays.items() if n.startswith("out.")]
        stride = streams[0].nbytes // self.R if len(streams) == 1 else 0
        self.slot_scale = stride if stride and stride & (stride - 1) == 0 else 1
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
        a0_loop = None
        if self.resident:
            for p in self.pops:
                self._reset_accs(p)
            for i, c in enumerate(self.pins):
                b.vlui(vd=i, imm=c)
            from .codegen_update import run_constants
            a0_loop = self.a0 = run_constants(self)     # a0 at the top of every step
        waits = emit_entry(self)
        b.label("__phase_input")
        for s in self.inputs:
            if not (self.resident and emit_list_propagation(self, s)):
                read_record(self, s)
        if self.resident:
            for p in self.pops:
                self._update(p, 0, self.C[p.name], self.C[p.name])
                b.label(f"__phase_prop_{p.name}")
                emit_mask_propagation(self, p)
        else:
            for name in self.delayed_src:
                a, pa = mm[f"spikes.{name}"].address, mm[f"spikes_prev.{name}"].address
                b.li("t1", a)
                b.li("t2", pa)
                for k in range(self.W[name]):
                    b.lw(rd="t0", rs1="t1", imm=4 * k)
                    b.sw(rs2="t0", rs1="t2", imm=4 * k)
            for p in self.pops:
                for g in range(0, self.C[p.name], self.alloc_plan[p.name]["G"]):
                    emit_group(self, p, g)
        emit_step_end(self, a0_loop, waits)
        return b.build()

    def _reset_accs(self, p):
        """Resident path: the accumulators of ``p`` = its bias (or 0), or the
        pre-decayed initial state (:mod:`.predecay`)."""
        b = self.b
        if p.name in self.acc_init:
            from .codegen_update import emit_update
            emit_update(self, p, 0, self.C[p.name], self.C[p.name], init=True)
            return
        base, blk, off = self.blocks[p.name]
        for c in range(self.C[p.name]):
            if ("bias",) in off:
                b.li("t0", base + c * blk + off[("bias",)])
                b.vload(vd=self.acc_reg(p, c), rs1="t0", imm=0)
            else:
                b.vzero(vd=self.acc_reg(p, c))

    def _update(self, p, g0, n, G):
        from .codegen_update import emit_update
        emit_update(self, p, g0, n, G)
