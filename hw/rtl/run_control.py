"""The scalar core's run control: whether it runs, why it stopped, and its counters.

``start``, while the core is not running, starts it (``running`` from the next cycle)
with the counters cleared (``cycles`` at ``-PIPELINE_FILL``, ``instret`` 0) and the
status of the last stop cleared (``halted`` 0, cause ``NONE``, trap fields 0). While the
core runs, one of these happens at each clock edge, the first that applies:

* ``fault`` (an instruction in MEM that fired in EX, and was counted there, faults): the
  core stops with ``halted``, cause ``fault_cause`` and ``trap_pc``/``trap_word``/
  ``trap_addr`` from the ``fault_*`` inputs; the instruction is uncounted (``cycles`` and
  ``instret`` less 1);
* ``trap`` (the instruction in EX traps: ``ecall``/``ebreak``, an illegal instruction, a
  fetch fault, a ``halt``): the core stops with ``halted``, cause ``trap_cause``,
  ``trap_pc``/``trap_word`` from the ``trap_*`` inputs and, for FETCH_FAULT and ILLEGAL,
  ``trap_addr`` the pc (otherwise it keeps 0); ``trap_retiring`` counts it (1 cycle and
  1 instruction);
* otherwise ``cycles`` counts the cycle and ``instret`` the instruction that ``fire``
  says retires in EX.

``status`` (:class:`StatusSignature`) gives all of it, registered (``running`` also
serves the core); ``csr_value`` is the counter half that ``csr_sel`` (one-hot, in
:data:`~spikevec.hw.isa.CSRS` order) selects, for the CSR read in EX (combinational).
"""
from __future__ import annotations

from functools import reduce
from operator import or_

from amaranth.hdl import Const, Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..isa import CSRS
from .enums import TrapCause
from .signatures import StatusSignature

__all__ = ["RunControl", "PIPELINE_FILL"]

# Cycles between ``start`` and the first instruction reaching EX, minus one: the cycle
# counter starts this far below zero so that it counts cycle-model cycles.
PIPELINE_FILL = 3


class RunControl(wiring.Component):
    """Run state, stop status and the ``cycle``/``instret`` counters (module docstring).

    Inputs: ``start``; ``fire`` (EX retires an instruction); ``fault`` with
    ``fault_cause``, ``fault_pc``, ``fault_word``, ``fault_addr`` (MEM); ``trap`` with
    ``trap_cause``, ``trap_pc``, ``trap_word``, ``trap_retiring`` (EX); ``csr_sel``.
    Outputs: ``status``, ``csr_value``.
    """

    def __init__(self):
        super().__init__({
            "start": In(1), "fire": In(1),
            "fault": In(1), "fault_cause": In(TrapCause), "fault_pc": In(32),
            "fault_word": In(32), "fault_addr": In(32),
            "trap": In(1), "trap_cause": In(TrapCause), "trap_pc": In(32),
            "trap_word": In(32), "trap_retiring": In(1),
            "csr_sel": In(len(CSRS)), "csr_value": Out(32),
            "status": Out(StatusSignature()),
        })

    def elaborate(self, platform):
        m = Module()
        status = self.status
        running, cycles, instret = status.running, status.cycles, status.instret
        sources = {"cycle": cycles[:32], "cycleh": cycles[32:],
                   "instret": instret[:32], "instreth": instret[32:]}
        m.d.comb += self.csr_value.eq(reduce(or_, (self.csr_sel[i].replicate(32) &
                                                   sources[name]
                                                   for i, name in enumerate(CSRS))))
        with m.If(~running):
            with m.If(self.start):
                m.d.sync += [
                    running.eq(1), status.halted.eq(0), status.cause.eq(TrapCause.NONE),
                    cycles.eq(Const(-PIPELINE_FILL, 64)),
                    instret.eq(0),
                    status.trap_pc.eq(0), status.trap_word.eq(0), status.trap_addr.eq(0),
                ]
        with m.Elif(self.fault):
            # The faulting instruction fired in EX (counted) and is in MEM: uncount it.
            m.d.sync += [
                running.eq(0), status.halted.eq(1), status.cause.eq(self.fault_cause),
                status.trap_pc.eq(self.fault_pc), status.trap_word.eq(self.fault_word),
                status.trap_addr.eq(self.fault_addr),
                cycles.eq(cycles - 1), instret.eq(instret - 1),
            ]
        with m.Elif(self.trap):
            cause, retiring = self.trap_cause, self.trap_retiring
            m.d.sync += [
                running.eq(0), status.halted.eq(1), status.cause.eq(cause),
                status.trap_pc.eq(self.trap_pc), status.trap_word.eq(self.trap_word),
                cycles.eq(cycles + retiring), instret.eq(instret + retiring),
            ]
            with m.If((cause == TrapCause.FETCH_FAULT) | (cause == TrapCause.ILLEGAL)):
                m.d.sync += status.trap_addr.eq(self.trap_pc)
        with m.Else():
            m.d.sync += [cycles.eq(cycles + 1), instret.eq(instret + self.fire)]
        return m
