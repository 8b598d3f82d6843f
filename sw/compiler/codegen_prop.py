"""Fused spike propagation for the resident code path of :mod:`.codegen`.

In the *resident* path every population's input accumulators live in vector registers
for the whole run, so a spike source is propagated once, right after its spikes are
known, into every population it projects to:

* all outgoing projections of one source share one weight matrix with **fused rows**
  (``rows.<source>``): row ``j`` is the concatenation, over the target populations, of
  the weights from ``j`` to each target chunk (``lanes`` int8 or ``lanes`` int16 per
  chunk). One spike costs one ``vlacc8``/``vlacc`` per target chunk plus the scalar
  overhead below; a hidden layer's recurrent row and its readout row are one row;
* a projection onto a population that is updated later in the step delivers the spike
  in this step, one onto the source itself or an earlier population delivers it in the
  next step (the target's accumulator has already been consumed and reset): exactly the
  ``delayed`` semantics of :mod:`.reference`, without copying spike buffers;
* the first spike input's matrix is placed at vector address 0, so with power-of-two
  rows the row address of input spike ``i`` is one ``slli``.

Input spikes: a computed jump (``jalr``, one mispredicted branch) into 32 unrolled
blocks, one per spike, counted from the batch's end: ``slli``/``mul``, the ``lhu`` of
the next index, (``add`` of a nonzero rows' base) and the vlaccs, so 2 cycles of
overhead per spike; more than 32 spikes go in batches through an out-of-line block
(``near_tails``: a loop of two spikes per iteration, 4 cycles per spike). A
population's spikes: ``ctz``, ``addi``, ``mul``/``slli``, ``and``, ``add`` per spike, no
result used before it is ready, up to four spikes per iteration. Mask words are in
registers (left there by the update, or loaded up front), the word loop is unrolled, an
empty word costs one taken branch, and from 4 words one test of all of them skips the
steps without spikes. A population's rows are **interleaved by mask word** (row ``j =
32k + b`` is physical row ``b*W + k``, ``W`` words) when the offsets reach, so word
``k``'s vlaccs differ only in their offsets (no per-word base update).

The group path of :mod:`.codegen` (one matrix per projection, scanned once per group
of chunks) is at the end of this module. Each projection also gets an alias array
``weights.<projection>`` (address of its first column, ``stride`` = fused row bytes,
``interleave``): :func:`~.build.effective_network` and the image see its weights.
"""
from __future__ import annotations

import numpy as np

from .model import SpikeInput

__all__ = ["alloc_fused_rows", "emit_mask_propagation",
           "alloc_weights", "emit_group", "emit_group_propagation", "PRELOAD_REGS"]

SKIP_WORDS = 4          # from this many mask words, test them all for zero first
PRELOAD_REGS = ["a0", "a1", "a2", "a3", "a4", "a5", "a7", "ra", "tp", "s3", "s4", "s5",
                "s6", "s7", "s8", "s9", "s10", "s11"]


def alloc_fused_rows(cg, pre) -> None:
    """Allocate the fused weight rows of every projection leaving ``pre``; record the
    per-spike vlacc list in ``cg.fused[pre.name]``."""
    projs = [pr for pr in cg.net.projections if pr.pre is pre]
    if not projs:
        return
    unit = cg.L if cg.bits == 8 else cg.vb
    dtype = np.int8 if cg.bits == 8 else np.int16
    per = unit // np.dtype(dtype).itemsize           # elements per chunk
    cols = sum(cg.C[pr.post.name] for pr in projs)
    # a population's rows are interleaved by mask word: row j = 32k + b is physical row
    # b*W + k, so word k's rows are k rows further and reached by vlacc offsets alone
    W = 0 if isinstance(pre, SpikeInput) else cg.W[pre.name]
    inter = W if W > 1 and W * cols <= 128 else 0
    order = np.arange(pre.size)
    if inter:
        order = (order % 32) * W + order // 32
    w = np.zeros((32 * W if inter else pre.size, cols * per), dtype)
    accs, col = [], 0
    for pr in projs:
        pf = cg.plan.projs[pr.name]
        w[order, col * per: col * per + pr.post.size] = pf.w_q
        for c in range(cg.C[pr.post.name]):
            accs.append(dict(vd=cg.acc_reg(pr.post, c), off=(col + c) * unit, shift=pf.shift))
        pr_col = col
        col += cg.C[pr.post.name]
        pf.row_bytes = cols * unit
        pf.column = pr_col * unit
    name = f"rows.{pre.name}"
    addr = cg.mm.alloc(name, "vmem", w.shape, np.dtype(dtype).name, align=cg.vb, data=w,
                       role="fused weight rows [pre, concatenated targets]")
    for pr in projs:
        pf = cg.plan.projs[pr.name]
        cg.mm.alias(f"weights.{pr.name}", "vmem", addr + pf.column,
                    (pre.size, cg.C[pr.post.name] * per), np.dtype(dtype).name,
                    stride=pf.row_bytes, role=f"weights (columns of {name})",
                    fmt=f"int{cg.bits}<<{pf.shift} (unit {pf.scale:.4g})", interleave=inter)
    cg.fused[pre.name] = (addr, cols * unit, accs, inter)


def _row_address(b, rd, idx, rowb, tmp_rowb):
    """rd = idx * rowb: one slli for a power of two, else a mul by register tmp_rowb."""
    if rowb & (rowb - 1) == 0:
        b.slli(rd=rd, rs1=idx, shamt=rowb.bit_length() - 1)
    else:
        b.mul(rd=rd, rs1=idx, rs2=tmp_rowb)


def _vlaccs(cg, accs, rs1):
    for a in accs:
        cg.b.emit("vlacc8" if cg.bits == 8 else "vlacc", rs1=rs1, **a)


def emit_mask_propagation(cg, pop) -> None:
    """Propagate this step's spikes of ``pop`` through its fused rows: read from its
    spike buffer, or from its output ring slot when its spikes are recorded (the update
    then stores the masks only there)."""
    if pop.name not in cg.fused:
        return
    b, (addr, rowb, accs, inter) = cg.b, cg.fused[pop.name]
    W = cg.W[pop.name]
    step = rowb * (inter or 1)                  # bytes between the rows of bits b, b+1
    lab = f"__pr_{pop.name}"
    regs = cg.mask_regs.get(pop.name)      # the update left the words in registers
    if regs and W >= SKIP_WORDS:        # no spike at all (often, in bursty activity):
        b.emit("or", rd="t0", rs1=regs[0], rs2=regs[1])     # one taken branch instead
        for r in regs[2:]:                                  # of one per word
            b.emit("or", rd="t0", rs1="t0", rs2=r)
        b.beq(rs1="t0", rs2="zero", off=f"{lab}_done")
    elif regs:
        pass
    elif pop.name in cg.spike_reg:      # recorded: this step's output ring slot
        reg, start = cg.spike_reg[pop.name]
        b.addi(rd="t4", rs1=reg, imm=start)
    else:
        b.li("t4", cg.mm[f"spikes.{pop.name}"].address)
    base, sreg = cg.prop_regs.get(pop.name, ("t5", "t6"))
    if base == "t5":
        b.li("t5", addr)
        if step & (step - 1):
            b.li("t6", step)
    if W > 1 and not inter:
        b.li("a6", 32 * rowb)
    if not regs:
        regs = PRELOAD_REGS[:W] if W <= len(PRELOAD_REGS) else None
        if regs and "a0" in regs:
            cg.a0 = None
        for k, r in enumerate(regs or ()):
            b.lw(rd=r, rs1="t4", imm=4 * k)
    n = 0
    # a word's loop exits once (a mispredicted branch); unrolling saves the loop
    # branch (2 cycles) on words with three or more spikes, where code size allows
    U = 4 if W <= 8 else 3 if W <= 16 else 2
    for k in range(W):
        w = regs[k] if regs else "t3"
        if not regs:
            b.lw(rd=w, rs1="t4", imm=4 * k)
        if k and not inter:
            b.add(rd=base, rs1=base, rs2="a6")
        word_accs = [dict(a, off=a["off"] + k * rowb) for a in accs] if inter else accs
        b.beq(rs1=w, rs2="zero", off=f"{lab}_{k}_end")
        b.label(f"{lab}_{k}")                  # U spikes per iteration
        start = b.here()
        for u in range(U):
            b.ctz(rd="t0", rs1=w)
            b.addi(rd="t2", rs1=w, imm=-1)
            _row_address(b, "t1", "t0", step, sreg)
            b.emit("and", rd=w, rs1=w, rs2="t2")
            b.add(rd="t1", rs1="t1", rs2=base)
            _vlaccs(cg, word_accs, "t1")
            if u < U - 1:
                b.beq(rs1=w, rs2="zero", off=f"{lab}_{k}_end")
        b.bne(rs1=w, rs2="zero", off=f"{lab}_{k}")
        n = (b.here() - start) // 4
        cg.stats["loop_instructions"] += n
        b.label(f"{lab}_{k}_end")
    b.label(f"{lab}_done")
    cg.stats["per_spike"][f"{pop.name}*"] = (n + 2) / U
    cg.stats["per_word"][f"{pop.name}*"] = W


# ---- the group path (accumulators per group of chunks, see codegen) -----------------

def alloc_weights(cg, pr) -> None:
    """Group path: one weight matrix per projection, rows of the target's chunks."""
    pf = cg.plan.projs[pr.name]
    C = cg.C[pr.post.name]
    if cg.bits == 8:
        rowb, dtype = C * cg.L, np.int8
    else:
        rowb, dtype = C * cg.vb, np.int16
    w = np.zeros((pr.pre.size, rowb // np.dtype(dtype).itemsize), dtype)
    w[:, :pr.post.size] = pf.w_q
    mm_name = f"weights.{pr.name}"
    cg.mm.alloc(mm_name, "vmem", w.shape, np.dtype(dtype).name, align=cg.vb, data=w,
                fmt=f"int{cg.bits}<<{pf.shift} (unit {pf.scale:.4g})", role="weights")
    pf.row_bytes = rowb


def emit_group(cg, p, g0) -> None:
    """Group path: accumulators of chunks g0.. = bias, propagation, update."""
    from .codegen_update import emit_update
    b, rp = cg.b, cg.alloc_plan[p.name]
    G, n = rp["G"], min(rp["G"], cg.C[p.name] - g0)
    base, blk, off = cg.blocks[p.name]
    b.label(f"__phase_group_{p.name}_{g0}")
    for c in range(n):
        if ("bias",) in off:
            b.li("t0", base + (g0 + c) * blk + off[("bias",)])
            b.vload(vd=cg.acc_reg(p, g0 + c, g0, G), rs1="t0", imm=0)
        else:
            b.vzero(vd=cg.acc_reg(p, g0 + c, g0, G))
    for pr in cg.net.inputs_to(p):
        emit_group_propagation(cg, pr, g0, n, G)
    emit_update(cg, p, g0, n, G)


def emit_group_propagation(cg, pr, g0, n, G) -> None:
    """Group path: scan the source's spikes (list or masks) once per group."""
    b, mm, pf = cg.b, cg.mm, cg.plan.projs[pr.name]
    lab = f"__p{len(b.symbols)}"
    unit = cg.L if cg.bits == 8 else cg.vb
    op = "vlacc8" if cg.bits == 8 else "vlacc"
    wbase = mm[f"weights.{pr.name}"].address + g0 * unit
    b.li("t5", wbase)
    b.li("t6", pf.row_bytes)
    accs = [dict(vd=cg.acc_reg(pr.post, g0 + c, g0, G), off=c * unit, rs1="t1",
                 shift=pf.shift) for c in range(n)]
    cg.stats["per_spike"][f"{pr.name}@{g0}"] = 7 + n
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
        cg.stats["loop_instructions"] += (b.here() - start) // 4
        b.label(lab + "_end")
        return
    buf = f"spikes_prev.{pr.pre.name}" if pr.delayed else f"spikes.{pr.pre.name}"
    a = mm[buf].address
    b.li("t4", a)
    b.li("a7", a + 4 * cg.W[pr.pre.name])
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
    cg.stats["loop_instructions"] += (b.here() - start) // 4
    cg.stats["per_word"][f"{pr.name}@{g0}"] = cg.W[pr.pre.name]
    b.label(lab + "_next")
    b.add(rd="t5", rs1="t5", rs2="a6")
    b.bne(rs1="t4", rs2="a7", off=lab + "_word")
