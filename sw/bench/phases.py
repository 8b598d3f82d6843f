"""Cycles of a compiled program attributed to the phases of a timestep, by pc.

:class:`CountingMachine` is a golden-model :class:`~spikevec.sim.iss.Machine` whose
:meth:`~CountingMachine.run` executes one instruction at a time and adds each
instruction's cycles (the counter's increase, so stalls count where they happen) to its
pc. It runs the same code with the same cycle model as a normal run, so the per-pc
cycles always sum to the run's cycle count; it is only slower (about 15,000
instructions/s instead of millions). Pass it to :func:`~spikevec.sw.compiler.run_iss`
as ``machine=``.

:func:`phase_map` turns the image's text symbols into pc ranges: each label starts a
range that ends at the next label, and the label's name gives the range's phase:

* ``propagation``: delivering spikes through weights (spike loops, mask scans);
* ``update``: neuron updates, spike masks, recorded variables, readouts;
* ``overhead``: the step loop, input records, the output ring, start-up, ``ecall``
  and the host-wait checks (a run through :func:`run_iss` never waits, so they cost
  one pass per step).

Labels of the code generator (sw/compiler/codegen.py): ``__phase_...`` names containing
``prop`` are propagation, ``update``/``neuron``/``record``/``output`` update, any other
``__phase_`` name (``__phase_input``: reading the input record, ``__phase_step``: the
end of the step) overhead; the spike loops ``__in_<src>_*`` and ``__pr_<pop>_*`` are
propagation; every other label (``__step``, the wait loops, ``__done`` ...) overhead.
Images without ``__phase_`` labels (older code generators) have the loops
``__pN_loop``/``__pN_spike``/``__pN_word`` (propagation) and ``__pN_end``/``__pN_next``
(taken as update); :func:`phase_map` then reports ``exact=False``, because the few
set-up instructions of each propagation loop count as update there.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from ...sim.iss import Machine

__all__ = ["CountingMachine", "PhaseMap", "phase_map", "PHASES", "split"]

PHASES = ("propagation", "update", "overhead")

_PROPAGATION = re.compile(r"__(in_|pr_)|__p\d+_(loop|spike|word)\Z")
_OLD_UPDATE = re.compile(r"__p\d+_(end|next)\Z")


class CountingMachine(Machine):
    """A :class:`Machine` that counts cycles per pc (``pc_cycles``, one int per
    instruction word) and instructions per pc (``pc_count``) across every run."""

    def __init__(self, config):
        super().__init__(config)
        self.pc_cycles = np.zeros(config.imem_words, dtype=np.int64)
        self.pc_count = np.zeros(config.imem_words, dtype=np.int64)

    def run(self, max_instructions=None, trace=False, check=False):
        """Like :meth:`Machine.run` (``trace`` is not supported), one step at a time."""
        if trace:
            raise ValueError("CountingMachine.run cannot trace; use a plain Machine for "
                             "write-back traces.")
        executed = 0
        while True:
            pc, before = self.pc, self.cycles
            result = self.step()
            word = pc // 4
            if 0 <= word < len(self.pc_cycles):
                self.pc_cycles[word] += self.cycles - before
                self.pc_count[word] += 1
            executed += 1
            if result.exit_reason != "running":
                break
            if max_instructions is not None and executed >= max_instructions:
                result.exit_reason = "max_instructions"
                break
        if check and not result.ok:
            from ...sim.iss import MachineFault
            raise MachineFault(result)
        return result


@dataclass
class PhaseMap:
    """pc ranges of a program: ``starts`` (byte addresses, ascending), their ``labels``
    and ``phases``; ``exact`` says whether the code generator's phase labels were used."""
    starts: list
    labels: list
    phases: list
    exact: bool

    def phase_of_word(self, words: int) -> np.ndarray:
        """The index into :data:`PHASES` of each instruction word 0 .. ``words``-1."""
        out = np.full(words, PHASES.index("overhead"), dtype=np.int64)
        for i, start in enumerate(self.starts):
            end = self.starts[i + 1] if i + 1 < len(self.starts) else 4 * words
            out[start // 4:end // 4] = PHASES.index(self.phases[i])
        return out


def _classify(name: str) -> str:
    low = name.lower()
    if low.startswith("__phase"):
        if "prop" in low:
            return "propagation"
        if any(k in low for k in ("update", "neuron", "record", "output")):
            return "update"
        return "overhead"
    if _PROPAGATION.match(name):
        return "propagation"
    if _OLD_UPDATE.match(name):
        return "update"
    return "overhead"


def phase_map(program) -> PhaseMap:
    """The :class:`PhaseMap` of ``program`` (a :class:`~spikevec.sw.asm.Program`)."""
    # where labels share an address the range goes to the last one: a __phase_ label
    text = sorted(((addr, name) for name, (section, addr) in program.symbols.items()
                   if section == "text"), key=lambda a: (a[0], a[1].startswith("__phase"), a[1]))
    exact = any(name.startswith("__phase") for _, name in text)
    return PhaseMap([a for a, _ in text], [n for _, n in text],
                    [_classify(n) for _, n in text], exact)


def split(machine: CountingMachine, program) -> dict:
    """Cycles and instructions per phase (``{"propagation": {...}, ...}``) and per
    label range, from a :class:`CountingMachine` that ran ``program``."""
    pm = phase_map(program)
    words = len(machine.pc_cycles)
    which = pm.phase_of_word(words)
    phases = {p: {"cycles": int(machine.pc_cycles[which == i].sum()),
                  "instructions": int(machine.pc_count[which == i].sum())}
              for i, p in enumerate(PHASES)}
    labels = {}
    for i, (start, name) in enumerate(zip(pm.starts, pm.labels)):
        end = pm.starts[i + 1] // 4 if i + 1 < len(pm.starts) else words
        c = int(machine.pc_cycles[start // 4:end].sum())
        if c:
            labels[name] = {"phase": pm.phases[i], "cycles": c}
    return {"phases": phases, "labels": labels, "exact_labels": pm.exact}
