"""The timestep loop of :mod:`.codegen`: entry, step limit, end of step, wait loops and
input records.

**Entry.** ``__step`` (``__start`` falls into it; a host resumes there after ``ecall``)
loads s1 = header.n_steps and ends at ``__done`` when t (s0) has reached it. Otherwise
it waits for each input's record of step t (``__wait_input_<src>``) and for a free
output slot (``__wait_output``), then sets s1 to the **step limit**::

    s1 = min(n_steps, in_written.<src> for every input, out_consumed + ring capacity)

Every step below the limit can run without looking at the header (its input records are
written and its output slot is free; both only grow while the core runs), so the end of a
step is t += 1, header.steps_done = t, the ring slot and one loop branch
``bltu s0, s1, __step_body``: no header loads or wait tests per step. When t reaches the
limit, ``__limit`` re-reads n_steps: at n_steps the run ends (``__done``), by the same
instructions whether or not a host streams; before it, ``__wait_limit`` computes a new
limit, spinning while it is still t (the host is behind), and goes on.

**Wait accounting.** header.wait_cycles gets every cycle the core spends because a host
is behind: each entry wait loop adds its ``rdcycle`` window plus :data:`WAIT_OVERHEAD`,
and a pass through ``__wait_limit`` adds all its cycles (its window, which starts at
``__limit``, plus :data:`LIMIT_OVERHEAD`: the loop branch's misprediction and the tail
after the window). So cycles - wait_cycles equals the cycles of a run whose host wrote
every record before the start and whose output ring held every step (a pass through
``__wait_limit`` happens only when a host streams).

**Input records** (protocol in :mod:`.layout`): :func:`read_record` (group path and
inputs without fused rows) reads a record's count and moves in_rptr;
:func:`emit_list_propagation` (resident path) also propagates its spikes through the
fused rows (:mod:`.codegen_prop`): a computed jump (``jalr``, one mispredicted branch)
into :data:`UNROLL` unrolled blocks, one per spike, counted from the batch's end, so per
spike only ``slli``/``mul``, the ``lhu`` of the next index and the vlaccs; larger
records go in batches through ``__in_<src>_big``/``_more``. When the second pass of
:mod:`.build` leaves a register for it (``cg.xrec``, :func:`~.codegen_update.assign_spare`),
the first input's in_rptr lives in that register for the whole run: loaded at
``__step``, stored at ``__done``, advanced in the register each step; the wrap marker
(count 0xFFFFFFFF) then shares the test for large records.
"""
from __future__ import annotations

from .codegen_prop import _row_address, _vlaccs
from .layout import HEADER

__all__ = ["emit_entry", "emit_step_end", "emit_tails", "read_record",
           "emit_list_propagation", "unrolled_block_bytes", "UNROLL", "WAIT_OVERHEAD",
           "LIMIT_OVERHEAD"]

UNROLL = 32           # unrolled input blocks (spikes per computed jump)
WAIT_OVERHEAD = 12    # wait cycles outside the rdcycle window: 3 (taken forward branch) + 9 (tail, jal)
LIMIT_OVERHEAD = 11   # __wait_limit: 2 (bltu not taken instead of taken) + 9 (tail, jal)
N_STEPS = 4 * HEADER.index("n_steps")
STEPS_DONE = 4 * HEADER.index("steps_done")
OUT_CONSUMED = 4 * HEADER.index("out_consumed")
WAIT_CYCLES = 4 * HEADER.index("wait_cycles")


def _ctl(cg, s) -> int:
    return cg.mm[f"in_ctl.{s.name}"].address


def _maxima(cg) -> list:
    """(register, vector-memory row) of every running maximum kept in a register."""
    out = []
    for (pop, name, c), reg in cg.rmax_regs.items():
        base, blk, off = cg.blocks[pop]
        out.append((reg, base + c * blk + off[("rmax", name)]))
    return out


def record_register(cg, s) -> str:
    """The register holding input ``s``'s record address in its input phase."""
    if cg.resident and not cg.near_tails and s.name in cg.fused:
        return cg.xrec if cg.xrec and s is cg.inputs[0] else "a6"
    return "t1"


def emit_entry(cg) -> list:
    """``__step`` up to ``__step_body``; returns the wait loops to emit (see module doc)."""
    b = cg.b
    b.label("__step")                   # entry (and resume) point
    b.lw(rd="s1", rs1="zero", imm=N_STEPS)
    b.li(cg.rreg, cg.R)
    if cg.xrec:
        b.lw(rd=cg.xrec, rs1="zero", imm=_ctl(cg, cg.inputs[0]) + 4)
    for reg, addr in _maxima(cg):       # running maxima kept in registers
        b.li("t0", addr)
        b.vload(vd=reg, rs1="t0", imm=0)
    b.bgeu(rs1="s0", rs2="s1", off="__done")
    cg.tails = [(f"__rec_wrap_{s.name}", f"__rec_ok_{s.name}", cg.mm[f"in.{s.name}"].address,
                 record_register(cg, s)) for s in cg.inputs]
    waits = []
    for s in cg.inputs:
        b.lw(rd="t0", rs1="zero", imm=_ctl(cg, s))
        b.bgeu(rs1="s0", rs2="t0", off=f"__wait_input_{s.name}")
        b.label(f"__resume_input_{s.name}")
        waits.append((f"__wait_input_{s.name}", f"__resume_input_{s.name}", _ctl(cg, s)))
    b.lw(rd="t3", rs1="zero", imm=OUT_CONSUMED)
    b.sub(rd="t3", rs1="s0", rs2="t3")
    b.bgeu(rs1="t3", rs2=cg.rreg, off="__wait_output")
    b.label("__resume_output")
    waits.append(("__wait_output", "__resume_output", None))
    _limit(cg, "s1")
    if cg.near_tails:   # long step body: keep __done and the waits in branch reach
        b.jal(rd="zero", off="__step_body")
        emit_tails(cg, waits)
    b.label("__step_body")              # the loop comes back here
    return waits


def _limit(cg, dst) -> None:
    """dst = min(dst, every input's in_written, out_consumed + ring capacity)."""
    b = cg.b
    for s in cg.inputs:
        b.lw(rd="t0", rs1="zero", imm=_ctl(cg, s))
        b.emit("minu", rd=dst, rs1=dst, rs2="t0")
    b.lw(rd="t3", rs1="zero", imm=OUT_CONSUMED)
    b.add(rd="t3", rs1="t3", rs2=cg.rreg)
    b.emit("minu", rd=dst, rs1=dst, rs2="t3")


def emit_step_end(cg, a0_loop, waits) -> None:
    """``__phase_step`` (t += 1, steps_done, ring slot, the loop branch), ``__limit``
    and, unless near, the tails."""
    b = cg.b
    b.label("__phase_step")
    if cg.resident and a0_loop is not None and cg.a0 != a0_loop:
        b.li("a0", a0_loop)
    b.addi(rd="s0", rs1="s0", imm=1)
    b.sw(rs2="s0", rs1="zero", imm=STEPS_DONE)
    b.addi(rd="s2", rs1="s2", imm=1)
    if cg.rreg == "t1":
        b.li("t1", cg.R)
    b.beq(rs1="s2", rs2=cg.rreg, off="__slot_wrap")    # rare: out of line
    b.label("__slot_ok")
    b.bltu(rs1="s0", rs2="s1", off="__step_body")
    b.label("__limit")                  # t = the limit: the end, or a new limit
    b.rdcycle(rd="t2")
    b.lw(rd="t5", rs1="zero", imm=N_STEPS)
    b.bgeu(rs1="s0", rs2="t5", off="__limit_end")
    b.jal(rd="zero", off="__wait_limit")
    b.label("__limit_end")
    b.jal(rd="zero", off="__done")
    b.label("__step_end")
    if not cg.near_tails:
        emit_tails(cg, waits)


def emit_tails(cg, waits) -> None:
    """``__done``, the wait loops, the ring-wrap blocks, out of the step's path."""
    b = cg.b
    b.label("__done")
    if cg.xrec:
        b.sw(rs2=cg.xrec, rs1="zero", imm=_ctl(cg, cg.inputs[0]) + 4)
    for reg, addr in _maxima(cg):
        b.li("t0", addr)
        b.vstore(vs2=reg, rs1="t0", imm=0)
    b.ecall()
    b.jal(rd="zero", off="__step")
    b.label("__slot_wrap")
    b.li("s2", 0)
    b.jal(rd="zero", off="__slot_ok")
    for label, resume, ctl in waits:
        if ctl is None:                 # between the input and output waits
            _wait_limit(cg)
        _wait_loop(cg, label, resume, ctl)
    for emit in cg.outlines:
        emit()
    for label, resume, ring, reg in cg.tails:   # input ring wrap: restart at its start
        b.label(label)
        b.li(reg, ring)
        b.lw(rd="t2", rs1=reg, imm=0)
        b.jal(rd="zero", off=resume)


def _wait_limit(cg) -> None:
    """A new step limit above t (spinning while there is none); all of its cycles go to
    header.wait_cycles (the window opened at ``__limit`` in t2)."""
    b = cg.b
    b.label("__wait_limit")
    if cg.rreg == "t1":
        b.li("t1", cg.R)
    b.lw(rd="t5", rs1="zero", imm=N_STEPS)
    _limit(cg, "t5")
    b.bgeu(rs1="s0", rs2="t5", off="__wait_limit")
    b.mv(rd="s1", rs="t5")
    b.rdcycle(rd="t4")
    b.sub(rd="t4", rs1="t4", rs2="t2")
    b.lw(rd="t5", rs1="zero", imm=WAIT_CYCLES)
    b.addi(rd="t4", rs1="t4", imm=LIMIT_OVERHEAD)
    b.add(rd="t5", rs1="t5", rs2="t4")
    b.sw(rs2="t5", rs1="zero", imm=WAIT_CYCLES)
    b.jal(rd="zero", off="__step_body")


def _wait_loop(cg, label, resume, ctl) -> None:
    """Spin until input ``ctl`` has a record for step s0 (or, ``ctl`` None, until the
    output ring has a free slot), adding the cycles spent to header.wait_cycles."""
    b = cg.b
    b.label(label)
    b.rdcycle(rd="t2")
    b.label(label + "_spin")
    if ctl is None:
        b.lw(rd="t3", rs1="zero", imm=OUT_CONSUMED)
        b.sub(rd="t3", rs1="s0", rs2="t3")
        b.bgeu(rs1="t3", rs2=cg.rreg, off=label + "_spin")
    else:
        b.lw(rd="t0", rs1="zero", imm=ctl)
        b.bgeu(rs1="s0", rs2="t0", off=label + "_spin")
    b.rdcycle(rd="t4")
    b.sub(rd="t4", rs1="t4", rs2="t2")
    b.lw(rd="t5", rs1="zero", imm=WAIT_CYCLES)
    b.addi(rd="t4", rs1="t4", imm=WAIT_OVERHEAD)
    b.add(rd="t5", rs1="t5", rs2="t4")
    b.sw(rs2="t5", rs1="zero", imm=WAIT_CYCLES)
    b.jal(rd="zero", off=resume)


def read_record(cg, s) -> None:
    """Consume the next record of input ``s`` (its count in t2, its address in t1)."""
    b, ctl = cg.b, _ctl(cg, s)
    b.lw(rd="t1", rs1="zero", imm=ctl + 4)
    b.lw(rd="t2", rs1="t1", imm=0)
    b.li("t3", -1)
    b.beq(rs1="t2", rs2="t3", off=f"__rec_wrap_{s.name}")   # rare: out of line
    b.label(f"__rec_ok_{s.name}")
    b.sw(rs2="t1", rs1="zero", imm=ctl + 8)
    b.slli(rd="t3", rs1="t2", shamt=1)
    b.add(rd="t3", rs1="t3", rs2="t1")
    b.addi(rd="t3", rs1="t3", imm=7)
    b.andi(rd="t3", rs1="t3", imm=-4)
    b.sw(rs2="t3", rs1="zero", imm=ctl + 4)


def emit_list_propagation(cg, src) -> bool:
    """Consume the next input record of spike input ``src`` (as
    :meth:`CodeGen._read_record` does, protocol in :mod:`.layout`) and propagate its
    spikes through the fused rows. Returns False (emitting nothing) when ``src`` feeds
    no projection."""
    if src.name not in cg.fused:
        return False
    if not cg.near_tails:
        return _emit_list_unrolled(cg, src)
    b, (addr, rowb, accs, _) = cg.b, cg.fused[src.name]
    lab = f"__in_{src.name}"
    ctl = cg.mm[f"in_ctl.{src.name}"].address
    b.lw(rd="t1", rs1="zero", imm=ctl + 4)      # record address (in_rptr)
    b.li("t3", -1)
    b.lw(rd="t2", rs1="t1", imm=0)              # spike count
    if rowb & (rowb - 1):
        b.li("t6", rowb)
    b.beq(rs1="t2", rs2="t3", off=f"__rec_wrap_{src.name}")  # rare: out of line
    b.label(f"__rec_ok_{src.name}")
    b.sw(rs2="t1", rs1="zero", imm=ctl + 8)     # in_cur
    b.slli(rd="t3", rs1="t2", shamt=1)
    b.lhu(rd="t0", rs1="t1", imm=4)             # first index
    b.addi(rd="t4", rs1="t1", imm=4)
    b.add(rd="t3", rs1="t3", rs2="t4")          # end of the indices
    b.addi(rd="t2", rs1="t3", imm=3)
    b.andi(rd="t2", rs1="t2", imm=-4)
    b.sw(rs2="t2", rs1="zero", imm=ctl + 4)     # next record, 4-byte aligned
    if addr:
        b.li("t5", addr)
    b.beq(rs1="t4", rs2="t3", off=lab + "_end")
    b.addi(rd="a6", rs1="t3", imm=2)            # a6 = end + 2: no second spike
    b.label(lab + "_loop")                      # two spikes per iteration
    start = b.here()
    _row_address(b, "t1", "t0", rowb, "t6")
    b.lhu(rd="t2", rs1="t4", imm=2)
    b.lhu(rd="t0", rs1="t4", imm=4)
    b.addi(rd="t4", rs1="t4", imm=4)
    if addr:
        b.add(rd="t1", rs1="t1", rs2="t5")
    _vlaccs(cg, accs, "t1")
    b.bgeu(rs1="t4", rs2="a6", off=lab + "_end")
    _row_address(b, "t1", "t2", rowb, "t6")
    if addr:
        b.add(rd="t1", rs1="t1", rs2="t5")
    _vlaccs(cg, accs, "t1")
    b.bltu(rs1="t4", rs2="t3", off=lab + "_loop")
    n = (b.here() - start) // 4
    cg.stats["loop_instructions"] += n
    cg.stats["per_spike"][f"{src.name}*"] = (n + 2) / 2
    b.label(lab + "_end")
    return True


def unrolled_block_bytes(cg, src) -> int:
    """Bytes of one unrolled input block of ``src`` (see :func:`_emit_list_unrolled`)."""
    addr, _, accs, _ = cg.fused[src.name]
    return 4 * (2 + bool(addr) + len(accs))


def _emit_list_unrolled(cg, src) -> bool:
    """The input record's spikes through a computed jump into ``M`` unrolled blocks
    (block ``j`` = the spike ``j`` indices before the end of the batch): per spike only
    ``slli``/``mul``, the ``lhu`` of the next index and the vlaccs, no loop branch. The
    jump costs like one mispredicted branch; batches of more than ``M`` spikes come back
    through an out-of-line block (``__in_<src>_more``)."""
    b, (addr, rowb, accs, _) = cg.b, cg.fused[src.name]
    lab = f"__in_{src.name}"
    ctl = cg.mm[f"in_ctl.{src.name}"].address
    bs, M = unrolled_block_bytes(cg, src), UNROLL
    regs = cg.in_regs if src is cg.inputs[0] else None  # run-long constants (spare)
    Mr, bsr, endr = regs or ("ra", "t5", "tp")
    rec = record_register(cg, src)              # record address (in_rptr)
    x = rec if rec != "a6" else None            # in a run-long register (module doc)
    if x is None:
        b.lw(rd="a6", rs1="zero", imm=ctl + 4)
    b.lw(rd="t2", rs1=rec, imm=0)               # spike count
    b.label(f"__rec_ok_{src.name}")             # (after a wrap: rec = the ring's start)
    if rowb & (rowb - 1):
        b.li("t6", rowb)
    if addr:
        b.li("a7", addr)
    end = b.here() + 4 * 15 + M * bs            # the blocks' end if li is 1 word
    if not regs:
        b.li(Mr, M)
        b.li(bsr, -bs)
        b.li(endr, end if -2048 <= end < 2048 else lab + "_blocks_end")
    # x: the blocks' end in the jalr's offset when it reaches (no add of endr)
    near_end = b.here() + 4 * 9 + M * bs if x is not None else 1 << 20
    near_end = near_end if near_end < 2048 else None
    b.sw(rs2=rec, rs1="zero", imm=ctl + 8)      # in_cur
    b.lhu(rd="t0", rs1=rec, imm=4)              # first index
    if x is None:
        b.blt(rs1="t2", rs2="zero", off=f"__rec_wrap_{src.name}")  # count -1: rare wrap
    b.slli(rd="t3", rs1="t2", shamt=1)
    b.add(rd="t3", rs1="t3", rs2=rec)           # t3: the indices' (= the batch's) end - 4
    b.mul(rd="t1", rs1="t2", rs2=bsr)           # -count * block bytes
    b.addi(rd="t4", rs1="t3", imm=7)
    if x is None:
        b.andi(rd="t4", rs1="t4", imm=-4)
        b.sw(rs2="t4", rs1="zero", imm=ctl + 4)     # next record, 4-byte aligned
    else:
        b.andi(rd=x, rs1="t4", imm=-4)          # next record (> t3), 4-byte aligned
    if near_end is None:
        b.add(rd="t1", rs1="t1", rs2=endr)
    b.bltu(rs1=Mr, rs2="t2", off=lab + "_big")  # rare: more than M spikes (or x: a wrap)
    b.jalr(rd="zero", rs1="t1", imm=near_end or 0)  # into block `count` (from the end)
    b.label(lab + "_blocks")
    start = b.here()
    for j in range(M, 0, -1):                   # the batch's end - 4 in t3
        _row_address(b, "t1", "t0", rowb, "t6")
        b.lhu(rd="t0", rs1="t3", imm=4 - 2 * (j - 1))   # the next index (at the end: unused)
        if addr:
            b.add(rd="t1", rs1="t1", rs2="a7")
        _vlaccs(cg, accs, "t1")
    if b.here() != start + M * bs:
        raise AssertionError("unrolled input blocks have an unexpected size")
    if (not regs and -2048 <= end < 2048 and b.here() != end) or \
            (near_end is not None and b.here() != near_end):
        raise AssertionError("unrolled input blocks end at an unexpected address")
    b.label(lab + "_blocks_end")
    if x is None:
        b.bltu(rs1="t3", rs2="a6", off=lab + "_more")   # rare: a6 = the final end - 4 then
    b.label(lab + "_end")
    cg.stats["loop_instructions"] += M * bs // 4
    cg.stats["per_spike"][f"{src.name}*"] = bs // 4

    def more():
        b.label(lab + "_big")
        if x is not None:       # t3 = the end - 4, t0 = the first index, t2 = the count
            b.li("t1", -1)
            b.beq(rs1="t2", rs2="t1", off=f"__rec_wrap_{src.name}")     # the wrap marker
            b.addi(rd="t5", rs1="t2", imm=3 - M)
            b.andi(rd="t5", rs1="t5", imm=-4)   # t5: the first spikes, 4 at a time
            b.slli(rd="t1", rs1="t2", shamt=1)
            b.sub(rd="t4", rs1="t3", rs2="t1")
            b.addi(rd="t4", rs1="t4", imm=4)    # t4: the first index's address
            b.slli(rd="t1", rs1="t5", shamt=1)
            b.add(rd="a6", rs1="t4", rs2="t1")  # a6: where the loop ends
            b.sub(rd="t5", rs1="t2", rs2="t5")  # t5: the last spikes (<= M), in the blocks
            b.label(lab + "_loop")
            for u in range(4):
                _row_address(b, "t1", "t0", rowb, "t6")
                b.lhu(rd="t0", rs1="t4", imm=2 * (u + 1))
                if addr:
                    b.add(rd="t1", rs1="t1", rs2="a7")
                _vlaccs(cg, accs, "t1")
            b.addi(rd="t4", rs1="t4", imm=8)
            b.bne(rs1="t4", rs2="a6", off=lab + "_loop")
            b.mul(rd="t1", rs1="t5", rs2=bsr)
            if near_end is None:
                b.add(rd="t1", rs1="t1", rs2=endr)
            b.jalr(rd="zero", rs1="t1", imm=near_end or 0)
            return
        b.mv(rd="t1", rs="a6")                  # a6 = the record, t3 = the end - 4
        b.mv(rd="a6", rs="t3")
        b.mv(rd="t3", rs="t1")
        b.label(lab + "_more")                  # t3 + 4 = the batch's first index (in t0)
        b.sub(rd="t2", rs1="a6", rs2="t3")
        b.srli(rd="t2", rs1="t2", shamt=1)
        b.emit("minu", rd="t2", rs1="t2", rs2=Mr)       # batch size
        b.mul(rd="t1", rs1="t2", rs2=bsr)
        b.slli(rd="t2", rs1="t2", shamt=1)
        b.add(rd="t3", rs1="t3", rs2="t2")      # the batch's end
        b.add(rd="t1", rs1="t1", rs2=endr)
        b.jalr(rd="zero", rs1="t1", imm=0)
    cg.outlines.append(more)
    return True
