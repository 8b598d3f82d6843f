"""Checks, at elaboration, that the ISA table asks of the vector unit only what it
implements (:func:`check_table`). Each raises ``AssertionError`` naming the instruction
and what to change."""
from ..isa import TIMING, Timing
from ..isa.operands import ROUND
from .vector_decoder import LANE_MAP, MemKind, XSource, vector_instructions, vector_reads

__all__ = ["check_table"]


def check_table() -> None:
    """Run every check below."""
    _check_two_reads()
    _check_generators_never_fault()
    _check_lane_answers()


def _check_two_reads() -> None:
    """The register file has two read ports, A (vs1, or vd) and B (vs2): no instruction
    of the ISA table may read both vs1 and vd."""
    for ins in vector_instructions():
        if {"rs1", "rd"} <= vector_reads(ins):
            raise AssertionError(f"The vector instruction {ins.name!r} reads vs1 and vd, "
                                 "but the register file reads vd through vs1's port A; "
                                 "give VectorRegisterFile a third read port for it.")


def _check_generators_never_fault() -> None:
    """No instruction of the ISA table both changes the generators (steps them, seeds
    them, or may round stochastically) and accesses memory: such an instruction never
    faults, so the lanes undo a generator change only when the core squashes it (see
    VectorLane)."""
    for ins in vector_instructions():
        lane = LANE_MAP[ins.name]
        changes = lane.step or lane.seed or any(mod.name == ROUND.name
                                                for mod in ins.modifiers)
        if changes and lane.mem != MemKind.NONE:
            raise AssertionError(
                f"The vector instruction {ins.name!r} changes the generators and accesses "
                "memory, so it may fault after changing them, but VectorLane undoes a "
                "generator change only on a squash; add the fault to its rng undo.")


def _check_lane_answers() -> None:
    """The table marks exactly the instructions that need the lanes' answer
    (``lane_answer``: ``"value"`` for an ``x_result``, ``"address"`` for a lane-memory
    address that may fault), and its timing is what the unit implements: a value is
    delivered ``lane_delay + 3`` cycles after issue (the lanes' delay, their answer
    register, the groups' :class:`~.answer_group.AnswerGroup` register, the unit's
    ``x_result`` register) with no wait at issue; an address check
    waits the lanes' delay, their answer register and the unit's register of the lanes'
    flags."""
    wants = {"value": 0, "address": TIMING.lane_delay + 2}
    for answer, wait in wants.items():
        if TIMING.lane_wait(answer) != wait:
            raise AssertionError(f"The cycle model makes a lane {answer} wait "
                                 f"{TIMING.lane_wait(answer)} cycles with the lanes "
                                 f"{TIMING.lane_delay} behind, but the unit delivers it "
                                 f"after {wait}; change the Scoreboard or the table.")
    if TIMING.latency_of(Timing.VTOX) != TIMING.lane_delay + 3:
        raise AssertionError(f"The cycle model gives vtox results latency "
                             f"{TIMING.latency_of(Timing.VTOX)}, but the unit delivers them "
                             f"{TIMING.lane_delay + 3} cycles after issue; change the table.")
    for ins in vector_instructions():
        lane = LANE_MAP[ins.name]
        answer = ("value" if lane.x != XSource.NONE else
                  "address" if lane.mem == MemKind.LANE else "")
        if answer != ins.lane_answer:
            raise AssertionError(f"The vector instruction {ins.name!r} waits for the lanes' "
                                 f"{answer or 'nothing'} but the table sets lane_answer="
                                 f"{ins.lane_answer!r}; fix its entry in hw/isa/table.py.")
