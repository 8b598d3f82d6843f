"""The vector register scoreboard: stalls that reproduce the table's cycle model exactly."""
from amaranth.hdl import Array, Module, Mux, Signal
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from ..isa import INSTRUCTIONS, TIMING

__all__ = ["Sources", "Scoreboard", "MAX_WAIT"]

#: The longest wait a reader can see: the largest latency of an instruction that writes a
#: vector register, minus one.
MAX_WAIT = max(TIMING.latency_of(ins.timing) for ins in INSTRUCTIONS if ins.writes == "v") - 1
#: The longest wait for the lanes' answer.
MAX_LANE_WAIT = TIMING.max_lane_wait


class Sources(data.Struct):
    """The vector registers an instruction reads (``reads_*``: whether it reads them)."""
    vs1: 5
    vs2: 5
    vd: 5
    reads_vs1: 1
    reads_vs2: 1
    reads_vd: 1
    lane_wait: range(TIMING.max_lane_wait + 1)


class Scoreboard(wiring.Component):
    """Per-register countdowns implementing :class:`~spikevec.hw.isa.table.CycleModel`
    for vector registers: a register written by an instruction issued in cycle ``t`` with
    latency ``L`` is ready for a reader issuing in cycle ``t + L``.

    Inputs, every cycle:

    * ``issue`` (1), ``writes`` (1), ``vd`` (5), ``latency``: the instruction in EX
      issues in this cycle and writes ``v[vd]`` with this latency;
    * ``next_id``, ``next_ex`` (:class:`Sources`), ``advance`` (1): the registers read
      by the two candidates for EX in the next cycle, the ID instruction (taken when
      ``advance``, the core moves it on) and the EX instruction (kept otherwise: held,
      waiting or squashed, it does no harm). Both are looked up and ``advance`` meets
      only the last multiplexer (it comes from the core's hold logic, itself fed by
      ``stall``).

    ``issue`` must be high only for instructions that really issue (not for squashed
    ones, nor while the core holds ``valid`` low): then ``counts`` equals the cycle
    model's scoreboard in every cycle.

    Output, a register (valid in the cycle the ``next`` instruction is in EX):

    * ``stall``: it must wait: some register it reads is not ready, or it asks the lanes
      (``lane_wait`` > 0) and has not yet spent ``lane_wait`` cycles in EX with its
      registers ready (``ready_cycles`` counts them; the lanes run behind the core, so
      their answer comes that much later);

    ``counts`` (32 x 2 bits) holds, per register, how many more cycles a reader must
    wait; the golden model's ``ready`` cycle minus the current cycle.
    """

    def __init__(self):
        self.width = max(1, MAX_WAIT.bit_length())
        super().__init__({
            "issue": In(1), "writes": In(1), "vd": In(5),
            "latency": In(range(1, MAX_WAIT + 2)),
            "next_id": In(Sources), "next_ex": In(Sources), "advance": In(1),
            "stall": Out(1),
        })
        self.counts = [Signal(self.width, name=f"count_v{r}") for r in range(32)]
        self.ready_cycles = Signal(range(MAX_LANE_WAIT + 1))

    def elaborate(self, platform):
        m = Module()
        later = []          # per register: still not ready next cycle if nothing starts
        for r, count in enumerate(self.counts):
            decayed = Mux(count != 0, count - 1, 0)
            start = self.issue & self.writes & (self.vd == r)
            m.d.sync += count.eq(Mux(start, self.latency - 1, decayed))
            later.append(count > 1)
        # A register read next cycle waits if the instruction issuing now starts it with
        # latency > 1, else if its count is still above 1. ``issue`` (late: it holds the
        # core's squash) and ``advance`` meet only the last multiplexers.
        table = Array(later)

        def waits(src):
            terms = [reads & Mux(self.issue & self.writes & (self.vd == reg),
                                 self.latency > 1, table[reg])
                     for reads, reg in ((src.reads_vs1, src.vs1), (src.reads_vs2, src.vs2),
                                        (src.reads_vd, src.vd))]
            return terms[0] | terms[1] | terms[2]
        # The lanes' answer: an instruction that asks them waits until it has spent
        # ``lane_wait`` cycles in EX with its registers ready. ``operands`` is the register
        # part of ``stall``; ``ready_cycles`` counts the EX instruction's ready cycles.
        operands = Signal()
        held = Mux(self.ready_cycles == MAX_LANE_WAIT, MAX_LANE_WAIT,
                   self.ready_cycles + ~operands)
        id_waits, ex_waits = waits(self.next_id), waits(self.next_ex)
        m.d.sync += [
            operands.eq(Mux(self.advance, id_waits, ex_waits)),
            self.ready_cycles.eq(Mux(self.advance, 0, held)),
            self.stall.eq(Mux(self.advance, id_waits | (self.next_id.lane_wait != 0),
                              ex_waits | (held < self.next_ex.lane_wait))),
        ]
        return m
