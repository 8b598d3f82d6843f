"""Lockstep runs: one program on the golden model and on the RTL SoC, compared.

:func:`check_program` runs ``program`` on :class:`~spikevec.sim.iss.Machine` with a trace
and on the RTL (``sim.rtl.soc_sim.run_program(lockstep=True)``, which records the retire
ports every cycle), then :func:`compare_run` compares the write streams per kind
(:mod:`.compare`) and the final state (exit reason, pc, instret, cycle count, x registers,
and v registers when the core has a vector unit). The result's :meth:`LockstepResult.report`
is readable text; ``ok`` is True when nothing differs.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .compare import Divergence, first_divergence, golden_streams, rtl_streams

__all__ = ["LockstepResult", "check_program", "compare_run", "golden_run"]


@dataclass
class LockstepResult:
    program: object
    golden: object                     # sim.iss.RunResult (with trace)
    rtl: object                        # sim.rtl.soc_sim.SocRun
    divergence: Divergence | None
    state_mismatches: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.divergence is None and not self.state_mismatches

    @property
    def instructions(self) -> int:
        return self.golden.instret

    def report(self) -> str:
        if self.ok:
            return (f"Lockstep OK: {self.golden.instret} instructions, "
                    f"{self.golden.cycles} cycles, {len(self.golden.trace)} writes agree.")
        parts = []
        if self.divergence is not None:
            parts.append(self.divergence.report())
        if self.state_mismatches:
            parts.append("Final state differs: " + "; ".join(self.state_mismatches) + ".")
        return "\n".join(parts)


def golden_run(program, max_instructions: int = 10_000_000):
    """The golden model's traced run of ``program``."""
    from ..iss import Machine
    machine = Machine(program.config)
    machine.load_program(program)
    return machine, machine.run(max_instructions=max_instructions, trace=True)


def compare_run(program, golden, machine, rtl, vector_unit: bool = False) -> LockstepResult:
    """Compare a golden ``RunResult`` (with trace) and final ``machine`` with an RTL
    ``SocRun`` recorded with ``lockstep=True``."""
    from ..rtl.soc_sim import exit_reason_of
    config = program.config
    data = rtl.data
    divergence = first_divergence(program, golden_streams(golden.trace),
                                  rtl_streams(data.get("retire", {}), config.lanes))
    mismatches = []
    status = data["status"]
    reason = exit_reason_of(status, config, bool(data.get("timed_out")))
    checks = [("exit reason", golden.exit_reason, reason),
              ("pc", golden.pc, status["trap_pc"]),
              ("instret", golden.instret, status["instret"]),
              ("cycles", golden.cycles, status["cycles"])]
    if data.get("x") is not None:
        for i in range(32):
            checks.append((f"x{i}", int(machine.x[i]), data["x"][i]))
        if vector_unit:
            for i in range(32):
                checks.append((f"v{i}", machine.v[i].astype(int).tolist(), data["v"][i]))
    for what, expected, actual in checks:
        if expected != actual:
            fmt = (lambda v: f"0x{v:x}") if isinstance(expected, int) and what != "exit reason" \
                else repr
            mismatches.append(f"{what}: golden {fmt(expected)}, RTL {fmt(actual)}")
    return LockstepResult(program, golden, rtl, divergence, mismatches)


def check_program(program, *, max_cycles: int | None = None,
                  vector_unit: bool = False) -> LockstepResult:
    """Run ``program`` on both models and compare (see the module docstring)."""
    from ..rtl.soc_sim import run_program
    machine, golden = golden_run(program)
    if max_cycles is None:
        max_cycles = 4 * golden.cycles + 10_000
    rtl = run_program(program, max_cycles=max_cycles, lockstep=True)
    return compare_run(program, golden, machine, rtl, vector_unit)
