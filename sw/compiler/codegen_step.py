"""The timestep loop of :mod:`.codegen`: entry, step limit, end of step, wait loops and
input records.

**Entry.** ``__step`` (``__start`` falls into it; a host resumes there after ``ecall``)
loads s1 = header.n_steps and ends at ``__done`` when t (s0) has reached it. Otherwise
it waits for each input's record of step t (``__wait_input_<src>``) and for a free
output slot (``__wait_output``), then sets s1 to the **step limit**::

    s1 = min(n_steps, in_written.<src> for every input, out_consumed + ring capacity,
             the step whose output slot is 0 again)

Every step below the limit can run without looking at the header (its input records are
written and its output slot is free; both only grow while the core runs), so the end of a
step is t += 1, header.steps_done = t, the ring slot s2 += 1 and one loop branch
``bltu s0, s1, __step_body``: no header loads, wait tests or ring-wrap test per step.
When t reaches the limit, ``__limit`` re-reads n_steps: at n_steps the run ends
(``__done``), by the same instructions whether or not a host streams; at the ring's end
(s2 = capacity) ``__limit_wrap`` sets s2 = 0 and a new limit, the same in every run;
otherwise ``__wait_limit`` computes a new limit, spinning while it is still t (the host
is behind), and goes on. (``__step`` also restarts s2 at the ring's end.) With exactly
one output stream whose slot bytes are a power of two, s2 counts bytes (``cg.slot_scale``)
and is that stream's ring register itself (no address arithmetic in the update).

**Wait accounting.** header.wait_cycles gets every cycle the core spends because a host
is behind: each entry wait loop adds its ``rdcycle`` window plus :data:`WAIT_OVERHEAD`,
and a pass through ``__wait_limit`` adds all its cycles (its window, which starts at
``__limit``, plus :data:`LIMIT_OVERHEAD`: the loop branch's misprediction and the tail
after the window; a host falling behind right at a ring wrap enters it from
``__limit_wrap`` the same way). So cycles - wait_cycles equals the cycles of a run whose
host wrote every record before the start and whose output ring held every step (a pass
through ``__wait_limit`` happens only when a host streams).

**State stores** (:func:`emit_sync_stores`): a state that lives in its accumulator
register for the whole run (a pre-decayed membrane) is written to its memory block only
in the run's last step, through an out-of-line block; one not-taken branch per batch of
chunks per step instead of a store per chunk.

Input records: :mod:`.codegen_input`.
"""
from __future__ import annotations

from .codegen_input import record_register
from .layout import HEADER

__all__ = ["emit_entry", "emit_step_end", "emit_tails", "emit_sync_stores", "WAIT_OVERHEAD",
           "LIMIT_OVERHEAD"]

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


def emit_entry(cg) -> list:
    """``__step`` up to ``__step_body``; returns the wait loops to emit (see module doc)."""
    b = cg.b
    b.label("__step")                   # entry (and resume) point
    b.lw(rd="s1", rs1="zero", imm=N_STEPS)
    if cg.nreg:                         # (emit_sync_stores)
        b.mv(rd=cg.nreg, rs="s1")
    b.li(cg.rreg, cg.R)
    if cg.xrec:         # the first input's record pointers (codegen_input)
        b.lw(rd=cg.yrec, rs1="zero", imm=_ctl(cg, cg.inputs[0]) + 4)
        b.lw(rd=cg.xrec, rs1="zero", imm=_ctl(cg, cg.inputs[0]) + 8)
    for reg, addr in _maxima(cg):       # running maxima kept in registers
        b.li("t0", addr)
        b.vload(vd=reg, rs1="t0", imm=0)
    b.bgeu(rs1="s0", rs2="s1", off="__done")
    b.li("t3", cg.R * cg.slot_scale)        # a run that ended at the ring's end
    b.bne(rs1="s2", rs2="t3", off="__entry_slot")
    b.li("s2", 0)
    b.label("__entry_slot")
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
    b.li("t4", cg.R * cg.slot_scale)
    b.sub(rd="t4", rs1="t4", rs2="s2")
    if cg.slot_scale > 1:
        b.srli(rd="t4", rs1="t4", shamt=cg.slot_scale.bit_length() - 1)
    b.add(rd="t4", rs1="t4", rs2="s0")      # the step at the ring's end
    b.emit("minu", rd=dst, rs1=dst, rs2="t4")
    b.add(rd="t3", rs1="t3", rs2=cg.rreg)
    b.emit("minu", rd=dst, rs1=dst, rs2="t3")


def emit_step_end(cg, a0_loop, waits) -> None:
    """``__phase_step`` (t += 1, steps_done, ring slot, the loop branch), ``__limit``
    and, unless near, the tails."""
    b = cg.b
    b.label("__phase_step")
    if cg.resident and a0_loop is not None and cg.a0 != a0_loop:
        b.li("a0", a0_loop)
    if not cg.s0_early:                 # (else at the step's start, codegen_input)
        b.addi(rd="s0", rs1="s0", imm=1)
    b.sw(rs2="s0", rs1="zero", imm=STEPS_DONE)
    b.addi(rd="s2", rs1="s2", imm=cg.slot_scale)
    b.bltu(rs1="s0", rs2="s1", off="__step_body")
    b.label("__limit")                  # t = the limit: the end, a wrap, or a new limit
    b.rdcycle(rd="t2")
    b.lw(rd="t5", rs1="zero", imm=N_STEPS)
    b.bgeu(rs1="s0", rs2="t5", off="__limit_end")
    b.li("t3", cg.R * cg.slot_scale)
    b.beq(rs1="s2", rs2="t3", off="__limit_wrap")
    b.jal(rd="zero", off="__wait_limit")
    b.label("__limit_wrap")             # the output ring's end (compute, in every run)
    b.li("s2", 0)
    if cg.rreg == "t1":
        b.li("t1", cg.R)
    b.lw(rd="s1", rs1="zero", imm=N_STEPS)
    _limit(cg, "s1")
    b.bltu(rs1="s0", rs2="s1", off="__step_body")
    b.rdcycle(rd="t2")                  # the host is behind: as from __limit
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
        b.andi(rd="t0", rs1=cg.yrec, imm=-4)
        b.sw(rs2="t0", rs1="zero", imm=_ctl(cg, cg.inputs[0]) + 4)
        b.sw(rs2=cg.xrec, rs1="zero", imm=_ctl(cg, cg.inputs[0]) + 8)
    for reg, addr in _maxima(cg):
        b.li("t0", addr)
        b.vstore(vs2=reg, rs1="t0", imm=0)
    b.ecall()
    b.jal(rd="zero", off="__step")
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
    _count_wait(b, LIMIT_OVERHEAD, "__step_body")


def _count_wait(b, overhead, resume) -> None:
    """header.wait_cycles += (rdcycle - t2) + ``overhead``; then jump to ``resume``."""
    b.rdcycle(rd="t4")
    b.sub(rd="t4", rs1="t4", rs2="t2")
    b.lw(rd="t5", rs1="zero", imm=WAIT_CYCLES)
    b.addi(rd="t4", rs1="t4", imm=overhead)
    b.add(rd="t5", rs1="t5", rs2="t4")
    b.sw(rs2="t5", rs1="zero", imm=WAIT_CYCLES)
    b.jal(rd="zero", off=resume)


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
    _count_wait(b, WAIT_OVERHEAD, resume)


def emit_sync_stores(cg, label, stores) -> None:
    """The ``vstore`` of a state that stays in its accumulator register for the whole run
    (``sync`` in the IR, see :class:`~.lower.Ins`), for a batch of chunks of the update
    (:mod:`.codegen_update`), ``stores`` =
    ``[(vector register, base register, offset)]``: instead of one store per chunk and
    step, one branch per batch and step, taken only in the run's last step (t, s0,
    already counts this step: ``cg.s0_early``; ``cg.nreg`` holds header.n_steps, loaded
    at ``__step``), to an out-of-line block that stores every chunk and jumps back. So
    the state in memory is current when the core stops (``__done``), as a host reads it
    after a run; while the core runs or waits for the host, the memory copy may be older
    (nothing on the core reads it). The detour happens once per run whatever the host
    does, so the run's compute cycles stay independent of the host (module doc)."""
    b = cg.b
    b.beq(rs1="s0", rs2=cg.nreg, off=label)     # not taken (1 cycle) but in that step
    b.label(label + "_back")        # (``__phase_update_``: the benchmark's phase split)

    def block():
        b.label(label)
        for vs, rs, imm in stores:
            b.vstore(vs2=vs, rs1=rs, imm=imm)
        b.jal(rd="zero", off=label + "_back")
    cg.outlines.append(block)
