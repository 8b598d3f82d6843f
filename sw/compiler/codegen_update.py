"""Code generation of the neuron update of one group of chunks (see :mod:`.codegen`).

The allocated chunk IR (:mod:`.regalloc`) is instantiated once per chunk. Chunks are
processed in batches of ``K`` (chosen by :func:`regplan` so that ``K`` copies of the IR
fit the free vector registers): copy ``k`` of a batch gets its own temporaries, mask
registers, chunk pointer and spill slots, and the ``K`` copies are interleaved
instruction by instruction. That is the scheduler: consecutive instructions belong to
independent chunks, so a result (2 cycles for vector ALU ops, 3 for loads) is ready by
the time its user issues, and scalar mask work fills vector slots. With ``K`` = 1 the
chunk's own IR is list-scheduled first (:func:`~.regalloc.schedule`).

Register mapping of copy ``k``: IR slot ``("v", j)`` -> ``v[npin + k*nv + j]``,
``("x", j)`` -> ``XPOOL[k*nx + j]`` (a spike mask, resident path: a register of its
chunk's own, see :func:`_mask_registers`), pinned constant ``("k", i)`` -> ``v[i]``
(loaded by ``vlui`` once per group, or, resident, once per run: :func:`global_pins`),
``("acc",)`` -> the chunk's accumulator. Memory references resolve against the chunk
pointer (``a0`` .. ``a3``), the spill bases (``sp``, ``gp``) and the ring pointers
(``s3`` .., with the ring's address in the offsets when it fits). Spike masks are written as 32-bit words of 32
neurons (several chunks per word when lanes < 32; the last chunk's unused lanes are
cleared) to the population's spike buffer and, if recorded, to its output ring slot.
"""
from __future__ import annotations

from .codegen import CHUNKREGS, MAX_GROUP, RINGREGS, XPOOL
from .expr import CompileError
from .codegen_step import emit_sync_stores
from .regalloc import allocate, pressure, schedule

__all__ = ["emit_update", "global_pins", "regplan", "run_constants", "long_constants",
           "chunk_pointer_after_step", "assign_spare"]


def emit_update(cg, p, g0: int, n: int, G: int, init: bool = False) -> None:
    """Emit the update of chunks ``g0 .. g0+n-1`` of population ``p`` (group size G);
    ``init``: instead, the code that sets its pre-decayed accumulators at ``__start``
    (:mod:`.predecay`; the IR and plan in ``cg.acc_init`` / ``cg.init_plan``)."""
    b = cg.b
    rp, low = (cg.init_plan, cg.acc_init) if init else (cg.alloc_plan, cg.lowered)
    rp, low = rp[p.name], low[p.name]
    K, npin, nv, nx, al = rp["K"], rp["npin"], rp["nv"], rp["nx"], rp["alloc"]
    pins = rp.get("pins")       # resident: constants pinned for the whole run (codegen)
    base, blk, off = cg.blocks[p.name]
    vb, L, C, W = cg.vb, cg.L, cg.C[p.name], cg.W[p.name]
    if not init:
        b.label(f"__phase_record_{p.name}" + (f"_{g0}" if g0 else ""))
    if pins is None:
        for i in range(npin):
            b.vlui(vd=i, imm=low.consts[i])
    streams = [] if init else [f"out.{p.name}.{v}" for v in cg.records[p.name]]
    spk_rec = not init and (p.name, "spikes") in cg.net.records
    if len(streams) + spk_rec > len(RINGREGS):
        raise CompileError(f"Population {p.name!r} records {len(streams) + spk_rec} streams; "
                           f"at most {len(RINGREGS)} are supported per population.")
    ring = {}
    for j, name in enumerate(streams + ([f"out.{p.name}.spikes"] if spk_rec else [])):
        arr = cg.mm[name]
        stride = arr.nbytes // cg.R
        extra = g0 * vb if arr.space == "vmem" else 0
        reg, start = RINGREGS[j], arr.address + extra
        near = start + stride <= 2047       # the start fits the stores' offsets
        if near and stride == cg.slot_scale:    # s2 counts this ring's bytes
            ring[name] = ("s2", start)
            continue
        if not near:
            b.li("t0", start)
        if stride == cg.slot_scale:
            b.mv(rd=reg, rs="s2")
        elif stride & (stride - 1) == 0:
            b.slli(rd=reg, rs1="s2", shamt=stride.bit_length() - 1)
        else:
            b.li(reg, stride)
            b.mul(rd=reg, rs1="s2", rs2=reg)
        if not near:
            b.add(rd=reg, rs1=reg, rs2="t0")
        ring[name] = (reg, start if near else 0)    # slot address = reg + offset
    # resident path with recorded spikes: the ring slot is the spike buffer
    ring_only = cg.resident and spk_rec
    if ring_only:
        cg.spike_reg[p.name] = ring[f"out.{p.name}.spikes"]
    elif p.spiking and not init:
        b.li("a5", cg.mm[f"spikes.{p.name}"].address)
    if not init:
        b.label(f"__phase_update_{p.name}" + (f"_{g0}" if g0 else ""))
    spill_v, spill_x = al.v_spills, al.x_spills
    if K * spill_v * vb > 2047 or K * spill_x * 4 > 2047:
        raise CompileError(f"Population {p.name!r}: the neuron update needs "
                           f"{K * spill_v} vector spill slots, more than the spill area "
                           "reaches; simplify the model's update expressions.")

    # one chunk pointer with immediate offsets when the batch's blocks are in reach
    one_base = K * blk <= 2048
    masks = _mask_registers(cg, p, al, len(ring), one_base, ring_only) if not init else None

    def vreg(val, k, c):
        if val[0] == "v":
            return npin + k * nv + val[1]
        if val[0] == "k":
            return val[1] if pins is None else pins[val[1]]
        if val[0] == "acc":
            return cg.acc_reg(p, c, g0, G)
        if val[0] == "rmx":
            return cg.rmax_regs[(p.name, val[1], c)]
        raise AssertionError(val)

    def xreg(val, k, c=None, at=None):
        if masks and val == masks[0] and masks[1] <= at < masks[2]:
            return masks[3][c]
        return XPOOL[k * nx + val[1]]

    ptr = None if init else cg.ptr_regs.get(p.name)  # a run-long pointer to block g0
    P, batch = ptr or CHUNKREGS[0], [0]

    def mem(ref, k):
        if ref[0] == "spill":
            return "sp", (k * spill_v + ref[1]) * vb
        if ref[0] == "xspill":
            return "gp", (k * spill_x + ref[1]) * 4
        if one_base:
            return P, (batch[0] + k) * blk + off[ref]
        return CHUNKREGS[k], off[ref] - bias

    def emit(ins, k, c, at):
        op, d, s, a = ins.op, ins.dst, ins.srcs, ins.attrs
        V = lambda v: vreg(v, k, c)
        X = lambda v: xreg(v, k, c, at)
        if op == "vload":
            r, imm = mem(a["mem"], k)
            b.vload(vd=V(d), rs1=r, imm=imm)
        elif op == "vstore":
            r, imm = mem(a["mem"], k)
            b.vstore(vs2=V(s[0]), rs1=r, imm=imm)
        elif op == "lw":
            r, imm = mem(a["mem"], k)
            b.lw(rd=X(d), rs1=r, imm=imm)
        elif op == "sw":
            r, imm = mem(a["mem"], k)
            b.sw(rs2=X(s[0]), rs1=r, imm=imm)
        elif op == "vmul":
            b.emit("vmul", vd=V(d), vs1=V(s[0]), vs2=V(s[1]), shift=a["shift"],
                   round=a["round"], sat=a["sat"])
        elif op in ("vadd", "vsub"):
            b.emit(op, vd=V(d), vs1=V(s[0]), vs2=V(s[1]), sat=a.get("sat", 1))
        elif op in ("vmin", "vmax"):
            b.emit(op, vd=V(d), vs1=V(s[0]), vs2=V(s[1]))
        elif op == "vaddi":
            b.emit("vaddi.sat" if a.get("sat") else "vaddi", vd=V(d), vs1=V(s[0]), imm=a["imm"])
        elif op == "vsrai":
            b.emit("vsrai", vd=V(d), vs1=V(s[0]), shamt=a["shamt"], round=a["round"])
        elif op == "vslli":
            b.emit("vslli", vd=V(d), vs1=V(s[0]), shamt=a["shamt"], sat=1)
        elif op in ("vtlt", "vtge", "vteq", "vtne"):
            b.emit(op, rd=X(d), vs1=V(s[0]), vs2=V(s[1]))
        elif op in ("and", "or"):
            b.emit(op, rd=X(d), rs1=X(s[0]), rs2=X(s[1]))
        elif op == "xori":
            b.xori(rd=X(d), rs1=X(s[0]), imm=a["imm"])
        elif op == "vsel":
            b.vsel(vd=V(d), rs1=X(s[1]), vs2=V(s[2]))
        elif op == "vlui":
            b.vlui(vd=V(d), imm=a["imm"])
        elif op == "vmv":
            b.emit("vmv", vd=V(d), vs=V(s[0]))
        elif op == "record":
            reg, start = ring[f"out.{p.name}.{a['var']}"]
            b.vstore(vs2=V(s[0]), rs1=reg, imm=start + (c - g0) * vb)
        elif op == "mask_out":
            mask_out(X(s[0]), c)
        else:
            raise AssertionError(op)

    def mask_out(m, c):
        if c == C - 1 and p.size % L:
            keep = p.size - c * L
            b.slli(rd=m, rs1=m, shamt=32 - keep)
            b.srli(rd=m, rs1=m, shamt=32 - keep)
        word, bit = (c * L) // 32, (c * L) % 32
        last = (c + 1) * L % 32 == 0 or c == C - 1
        if L == 32:
            src = m
        else:
            if bit == 0:
                b.mv(rd="a4", rs=m)
            else:
                b.slli(rd=m, rs1=m, shamt=bit)
                b.emit("or", rd="a4", rs1="a4", rs2=m)
            src = "a4"
        if last:
            if not ring_only:
                b.sw(rs2=src, rs1="a5", imm=4 * word)
            if spk_rec:
                reg, start = ring[f"out.{p.name}.spikes"]
                b.sw(rs2=src, rs1=reg, imm=start + 4 * word)

    bias = 0 if blk <= 2048 else 2048           # pointer into the block's middle
    if blk > 4096:
        raise CompileError(f"Population {p.name!r}: one chunk's state block needs {blk} "
                           "bytes (state variables, constant arrays, readouts), more than "
                           "the 4096 that 12-bit offsets reach; use fewer state variables "
                           "or per-neuron parameters.")
    # a register-resident state is stored only in the run's last step (emit_sync_stores)
    sync_ok = not init and cg.resident and cg.s0_early and cg.nreg is not None
    early = _early_mask(al, masks)
    for start in range(g0, g0 + n, K):
        chunks = list(range(start, min(start + K, g0 + n)))
        following = list(range(start + K, min(start + 2 * K, g0 + n)))
        if ptr:
            batch[0] = start - g0
        elif one_base and start > g0:
            b.addi(rd=CHUNKREGS[0], rs1=CHUNKREGS[0], imm=K * blk)
        elif one_base:
            target = base + start * blk
            if cg.a0 is not None and -2048 <= target - cg.a0 < 2048:
                if target != cg.a0:     # a0 still points into the previous block
                    b.addi(rd=CHUNKREGS[0], rs1=CHUNKREGS[0], imm=target - cg.a0)
            else:
                b.li(CHUNKREGS[0], target)
        else:
            for k, c in enumerate(chunks):
                b.li(CHUNKREGS[k], base + c * blk + bias)
        if not ptr:
            cg.a0 = base + start * blk + (0 if one_base else bias)
        for at, ins in enumerate(al.ins):
            if sync_ok and len(chunks) > 1 and ins.op == "vstore" and ins.attrs.get("sync"):
                emit_sync_stores(cg, f"__phase_update_{p.name}_sync_{start}_{at}",
                             [(vreg(ins.srcs[0], k, c),) + mem(ins.attrs["mem"], k)
                              for k, c in enumerate(chunks)])
                continue
            if at == early and start > g0:
                continue        # issued with the previous batch
            for k, c in enumerate(chunks):
                emit(ins, k, c, at)
            if at == early:     # the next batch's masks, while these wait for theirs
                for k, c in enumerate(following):
                    emit(ins, k, c, at)
        if cg.resident and not low.pre_decay:   # the next step's input starts at the bias
            for k, c in enumerate(chunks):
                if ("bias",) in off:
                    b.vload(vd=cg.acc_reg(p, c), rs1=mem(("bias",), k)[0],
                            imm=mem(("bias",), k)[1])
                else:
                    b.vzero(vd=cg.acc_reg(p, c))


def _mask_registers(cg, p, al, streams, one_base, ring_only):
    """Resident path, one chunk per mask word: give each chunk's spike mask its own
    scalar register (one the update leaves alone) from the ``vtlt`` that makes it to its
    last use, so :func:`~.codegen_prop.emit_mask_propagation` finds the words in
    registers instead of reloading them. Returns ``(slot, first, end, registers)`` (the
    IR slot renamed in instructions ``first .. end-1``) or None; records the registers in
    ``cg.mask_regs``."""
    if not (cg.resident and cg.L == 32 and p.spiking and p.name in cg.fused):
        return None
    outs = [i for i, ins in enumerate(al.ins) if ins.op == "mask_out"]
    if len(outs) != 1:
        return None
    slot = al.ins[outs[0]].srcs[0]
    defs = [i for i, ins in enumerate(al.ins) if ins.dst == slot]
    first = max((i for i in defs if i < outs[0]), default=None)
    if first is None or al.ins[first].op not in ("vtlt", "vtge", "vteq", "vtne"):
        return None
    end = min((i for i in defs if i > outs[0]), default=len(al.ins))
    free = list(RINGREGS[streams:]) + (list(CHUNKREGS[1:]) if one_base else [])
    free += ["a4"] + (["a5"] if ring_only else [])
    if len(free) < cg.C[p.name]:
        return None
    regs = free[:cg.C[p.name]]
    cg.mask_regs[p.name] = regs
    return slot, first, end, regs


def _early_mask(al, masks):
    """The index in ``al.ins`` of the spike-mask comparison that the next batch may issue
    with this one, or None. A ``vt*`` result has latency ``lane_delay + 3`` (5), more than
    a batch of ``K`` = 4 copies covers, and the mask's first user follows the batch's
    comparisons. The next batch's comparisons fill that gap when they are safe to issue
    early: the mask has its own register per chunk (:func:`_mask_registers`), the
    comparison reads only pinned constants and the chunk's accumulator, and nothing
    before it in the chunk's IR writes the accumulator."""
    if masks is None:
        return None
    first = masks[1]
    ins = al.ins[first]
    if not all(src[0] in ("k", "acc") for src in ins.srcs):
        return None
    if any(earlier.dst == ("acc",) for earlier in al.ins[:first]):
        return None
    return first


def global_pins(cg) -> list:
    """Resident path: the distinct update constants of every population, kept in
    ``v0 ..`` for the whole run (loaded once before ``__step``), when they fit
    beside four interleaved copies of each update (else, [] and each update loads
    its own constants every step)."""
    if not cg.resident:
        return []
    pins = []
    for p in cg.pops:
        for c in cg.lowered[p.name].consts:
            if c not in pins:
                pins.append(c)
    avail = 32 - cg.total_acc - len(pins)
    for p in cg.pops:
        pv, _ = pressure(cg.lowered[p.name].ins)
        if min(4, cg.C[p.name]) * max(pv, 3) > avail:
            return []
    return pins


def regplan(cg, p, low=None) -> dict:
    """The register plan of ``p``'s update (of its pre-decay init code when ``low`` is
    given): group size ``G``, interleaved copies ``K``, pinned constants, vector and
    scalar slots per copy and the allocated IR (see the module doc)."""
    low, C = low or cg.lowered[p.name], cg.C[p.name]
    G = C if cg.resident else min(C, MAX_GROUP)
    avail = 32 - (cg.total_acc + len(cg.rmax_regs) if cg.resident else G)
    pv, px = pressure(low.ins)
    nk = len(low.consts)
    if cg.pins and low is cg.lowered[p.name]:
        npin = len(cg.pins)
        K = next(k for k in (4, 2, 1) if k * max(pv, 3) + npin <= avail and k <= G)
        nv, nx = (avail - npin) // K, len(XPOOL) // K
        al = allocate(low.ins, low.consts, {("k", i) for i in range(nk)}, nv, nx)
        if K == 1:      # nothing to interleave with: schedule the chunk's own code
            al2 = allocate(schedule(low.ins), low.consts, {("k", i) for i in range(nk)},
                           nv, nx)
            if (al2.v_spills, al2.x_spills) <= (al.v_spills, al.x_spills):
                al = al2
        cg.spill_vectors = max(cg.spill_vectors, K * al.v_spills)
        return dict(G=G, K=K, npin=npin, nv=nv, nx=nx, alloc=al, pressure=(pv, px),
                    pins=[cg.pins.index(c) for c in low.consts])
    K = next((k for k in (4, 2, 1) if k * pv + nk <= avail and k <= G), 1)
    npin = nk if K * pv + nk <= avail else max(0, min(nk, avail - max(pv, 3)))
    nv = (avail - npin) // K
    nx = len(XPOOL) // K
    al = allocate(low.ins, low.consts, {("k", i) for i in range(npin)}, nv, nx)
    cg.spill_vectors = max(cg.spill_vectors, K * al.v_spills)
    return dict(G=G, K=K, npin=npin, nv=nv, nx=nx, alloc=al, pressure=(pv, px))


def long_constants(cg) -> None:
    """Resident path without spills: the spill base registers (gp, sp) are free, so
    they keep the fused-row base and row step of the population with the most mask
    words for the whole run (``cg.prop_regs``; see codegen_prop)."""
    plans = list(cg.alloc_plan.values()) + list(cg.init_plan.values())
    if any(rp["alloc"].v_spills or rp["alloc"].x_spills for rp in plans):
        return
    pops = [p for p in cg.pops if p.name in cg.fused        # a fixed base:
            and (cg.fused[p.name][3] or cg.W[p.name] == 1)]  # interleaved rows
    if pops:
        p = max(pops, key=lambda q: cg.W[q.name])
        addr, rowb, _, inter = cg.fused[p.name]
        cg.b.li("gp", addr)
        cg.b.li("sp", rowb * (inter or 1))
        cg.prop_regs[p.name] = ("gp", "sp")


def chunk_pointer_after_step(cg) -> int | None:
    """The value the chunk pointer a0 has after the last population's update (as
    :func:`emit_update` leaves it), which the resident path keeps at the top of every
    step so that the first update reaches its block with one ``addi``."""
    if not cg.pops or len(cg.ptr_regs) == len(cg.pops):
        return None
    last = cg.pops[-1]
    rp, (base, blk, _) = cg.alloc_plan[last.name], cg.blocks[last.name]
    start = (cg.C[last.name] - 1) // rp["K"] * rp["K"]
    return base + start * blk + (0 if rp["K"] * blk <= 2048 or blk <= 2048 else 2048)


def assign_spare(cg) -> None:
    """Resident path, second pass of :mod:`.build`: registers the first pass never named
    (``cg.spare``) keep values for the whole run, set here at ``__start``: the ring
    capacity (``cg.rreg``), every population's chunk pointer when its whole block is in
    reach of the offsets (``cg.ptr_regs``; no pointer arithmetic in the updates) and the
    first input's unrolled-block constants (``cg.in_regs``: the unroll count and block
    size, and the blocks' end unless it surely fits the ``jalr`` offset) and its record
    pointers (``cg.xrec``: the current record, ``cg.yrec``: the record's end + 7; all in
    codegen_input)."""
    from .codegen_input import UNROLL, unrolled_block_bytes
    spare, b = list(cg.spare), cg.b
    if not (cg.resident and spare):
        return
    cg.rreg = spare.pop(0)
    cg.spare_used.append(cg.rreg)
    if len(spare) >= len(cg.pops) and all(cg.C[p.name] * cg.blocks[p.name][1] <= 2048
                                          for p in cg.pops):
        for p in cg.pops:
            cg.ptr_regs[p.name] = spare.pop(0)
            b.li(cg.ptr_regs[p.name], cg.blocks[p.name][0])
        cg.spare_used += list(cg.ptr_regs.values())
    src = cg.inputs[0] if cg.inputs else None
    if src is None or cg.near_tails or src.name not in cg.fused:
        return
    bs = unrolled_block_bytes(cg, src)
    # the blocks' end: a jalr offset (no register) if they surely end below 2048
    est = b.here() + 4 * (64 + 2 * len(cg.rmax_regs) + 8 * len(cg.inputs)) + UNROLL * bs
    n = 2 if est < 2048 else 3
    if len(spare) >= n:
        cg.in_regs = tuple(spare[:n]) + (None,) * (3 - n)
        cg.spare_used += spare[:n]
        b.li(cg.in_regs[0], UNROLL)
        b.li(cg.in_regs[1], -bs)
        if n == 3:
            b.li(cg.in_regs[2], f"__in_{src.name}_blocks_end")
        if len(spare) >= n + 2:     # the first input's record pointers (codegen_input)
            cg.xrec, cg.yrec = spare[n:n + 2]
            cg.spare_used += spare[n:n + 2]


def run_constants(cg) -> int | None:
    """Resident path, at ``__start``: the registers that keep values for the whole run
    (:func:`long_constants`, :func:`assign_spare`) and a0 = the chunk pointer every step
    starts with (:func:`chunk_pointer_after_step`), which is returned (None: unused)."""
    long_constants(cg)
    assign_spare(cg)
    left = [r for r in cg.spare if r not in cg.spare_used]
    if left:    # header.n_steps, for the last step's state stores (codegen_step.emit_sync_stores)
        cg.nreg = left[0]
        cg.spare_used.append(cg.nreg)
    a0 = chunk_pointer_after_step(cg)
    if a0 is not None:
        cg.b.li("a0", a0)
    return a0
