"""Input records of :mod:`.codegen` (protocol in :mod:`.layout`): reading a spike input's
record for the step and, on the resident path, propagating its spikes.

:func:`read_record` (group path, and inputs without fused rows) reads a record's count
word, sets in_cur and moves in_rptr past the record (4-byte aligned); a count of
0xFFFFFFFF is the wrap marker: the record is at the ring's start (out-of-line block
``__rec_wrap_<src>``, in :func:`~.codegen_step.emit_tails`).

:func:`emit_list_propagation` (resident path) also delivers the record's spikes through
the fused rows (:mod:`.codegen_prop`): a computed jump (``jalr``, one mispredicted branch)
into :data:`UNROLL` unrolled blocks, one per spike, counted from the batch's end, so per
spike only ``slli``/``mul``, the ``lhu`` of the next index and the vlaccs (the ``lhu``
feeds the next block's row address, so no load is waited for). ``near_tails`` programs
use a loop of two spikes per iteration instead.

When the second pass of :mod:`.build` leaves two registers for them (``cg.xrec``,
``cg.yrec``, see :func:`~.codegen_update.assign_spare`) the first input's record pointers
live in registers for the whole run: x = the current record (in_cur), y = its indices'
end + 7 (in_rptr = y & -4). Both are loaded at ``__step`` and stored at ``__done``, and a
step computes x = y & -4 and the new y without loading or storing either (t += 1 fills
the count's load latency, so it moves from the step's end to here: ``cg.s0_early``).
The wrap marker then shares the test for large records (``bltu`` of the count against
:data:`UNROLL`: 0xFFFFFFFF is large), and a record of more than :data:`UNROLL` spikes
takes its first spikes, four at a time, in an out-of-line loop (``__in_<src>_loop``)
and jumps into the blocks with the rest, so the blocks end in the step's path with no
further test. Without those registers the record pointer is loaded and in_cur and
in_rptr are stored every step, and large records go through the blocks in batches
(``__in_<src>_more``, one test after the blocks).

The unrolled blocks' end is the ``jalr``'s offset when it is within its reach
(otherwise it is added from a register).
"""
from __future__ import annotations

from .codegen_prop import _row_address, _vlaccs

__all__ = ["read_record", "emit_list_propagation", "unrolled_block_bytes",
           "record_register", "UNROLL"]

UNROLL = 32           # unrolled input blocks (spikes per computed jump)


def _ctl(cg, s) -> int:
    return cg.mm[f"in_ctl.{s.name}"].address


def record_register(cg, s) -> str:
    """The register holding input ``s``'s record address in its input phase."""
    if cg.resident and not cg.near_tails and s.name in cg.fused:
        return cg.xrec if cg.xrec and s is cg.inputs[0] else "a6"
    return "t1"


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
    else:                                       # y = the last record's end + 7
        b.andi(rd=x, rs1=cg.yrec, imm=-4)
    b.lw(rd="t2", rs1=rec, imm=0)               # spike count
    if x is not None:                           # t += 1 early: fills the count's load
        b.addi(rd="s0", rs1="s0", imm=1)
        cg.s0_early = True
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
    near_end = b.here() + 4 * 7 + M * bs if x is not None else 1 << 20
    near_end = near_end if near_end < 2048 else None

    def add_end():
        if near_end is not None:
            return
        if endr is None:                        # (assign_spare expected a near end)
            b.li("t5", lab + "_blocks_end")
            b.add(rd="t1", rs1="t1", rs2="t5")
        else:
            b.add(rd="t1", rs1="t1", rs2=endr)
    if x is None:
        b.sw(rs2=rec, rs1="zero", imm=ctl + 8)      # in_cur
    b.lhu(rd="t0", rs1=rec, imm=4)              # first index
    if x is None:
        b.blt(rs1="t2", rs2="zero", off=f"__rec_wrap_{src.name}")  # count -1: rare wrap
    b.slli(rd="t3", rs1="t2", shamt=1)
    b.add(rd="t3", rs1="t3", rs2=rec)           # t3: the indices' (= the batch's) end - 4
    b.mul(rd="t1", rs1="t2", rs2=bsr)           # -count * block bytes
    if x is None:
        b.addi(rd="t4", rs1="t3", imm=7)
        b.andi(rd="t4", rs1="t4", imm=-4)
        b.sw(rs2="t4", rs1="zero", imm=ctl + 4)     # next record, 4-byte aligned
    else:
        b.addi(rd=cg.yrec, rs1="t3", imm=7)     # the next record = y & -4
    add_end()
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
            add_end()
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
        add_end()
        b.jalr(rd="zero", rs1="t1", imm=0)
    cg.outlines.append(more)
    return True
