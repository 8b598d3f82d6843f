"""The scalar core's hazard logic: operand forwarding selects and operand waits.

For the instruction that will be in EX in the next cycle - the one entering from ID,
or the one held in EX (``hold``) - the unit finds where each of its two source
registers comes from and how many cycles it must wait, from the writers ahead of it:

* ``ex``: the instruction now in EX (it will be in MEM),
* ``mem``: the one now in MEM (it will be in WB),
* ``wb``: the one now in WB,
* ``l1``: a ``vtst*``/``vextract`` in L1 (it will be in L2, where its value arrives
  from the vector unit and is written through the register file's late port).

Each writer is a :class:`Writer` record. Latencies (identical to
:data:`spikevec.hw.isa.TIMING`, checked by :func:`check_cycle_model`): ALU results 1
(forwarded from MEM), ``mul`` and the counts 2 (``late``: forwarded from WB), loads 3
(``load``: through the register file), ``vtst*``/``vextract`` 2 + :data:`LATE_STAGES`
(``xlate``: forwarded from L2 only). A reader waits latency - 1 cycles behind a
producer in EX, latency - 2 behind one in MEM, latency - 3 behind one in WB; a producer
whose register a younger instruction writes again is shadowed (the reader gets, and
waits for, the younger value only). The youngest writer wins; ``x0`` is never
forwarded nor waited for.

Outputs: ``src1``/``src2`` (the next EX instruction's source registers, for the register
file's read addresses), ``fwd1``/``fwd2`` (registered, one-hot: MEM, WB, L2, register
file - :data:`FORWARD_SOURCES`), ``wait`` (combinational, cycles), ``wb_write`` (WB
writes the register file now) and ``late_next`` (L2 holds a live late write in the next
cycle: a write-back of the same register in WB cancels it).
"""

from amaranth.hdl import Cat, Module, Mux, Signal
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from ..isa import TIMING, Timing

__all__ = ["HazardUnit", "Writer", "LATE_STAGES", "FORWARD_SOURCES", "check_cycle_model"]

#: Stages after WB that carry a ``vtst*``/``vextract`` to its late register write (L1, L2).
LATE_STAGES = 2
#: The one-hot order of ``fwd1``/``fwd2``.
FORWARD_SOURCES = ("mem", "wb", "late", "regfile")


class Writer(data.Struct):
    """An instruction ahead in the pipeline, as a possible producer of an operand."""
    valid: 1      # it is there and not squashed (``ex``: live; a held one too)
    writes: 1     # it writes ``x[rd]``
    rd: 5
    late: 1       # ``mul`` or a count: latency 2
    load: 1       # latency 3
    xlate: 1      # ``vtst*``/``vextract``: its value arrives in L2


def check_cycle_model(mul_latency: int) -> None:
    """Refuse a cycle model whose scalar latencies or branch costs the core does not
    implement (see the module docstring; ``mul_latency`` 0: a combinational multiplier,
    for experiments)."""
    built = {Timing.ALU: 1, Timing.LOAD: 3, Timing.COUNT: 2, Timing.MUL: 1 + mul_latency,
             Timing.JUMP: 1, Timing.VTOX: 2 + LATE_STAGES}
    for timing, latency in built.items():
        if TIMING.latency_of(timing) != latency and not (timing == Timing.MUL and
                                                        mul_latency == 0):
            raise ValueError(f"The cycle model gives {timing} instructions latency "
                             f"{TIMING.latency_of(timing)} but the scalar core implements "
                             f"{latency}; update the core's HazardUnit.")
    if (TIMING.predicted_penalty, TIMING.mispredict_penalty) != (1, 3):
        raise ValueError("The scalar core redirects predicted-taken branches from ID (+1) "
                         "and mispredictions from MEM (+3); the cycle model asks for "
                         f"+{TIMING.predicted_penalty}/+{TIMING.mispredict_penalty}.")


class HazardUnit(wiring.Component):
    """Forwarding selects and operand waits of the scalar core (module docstring).

    Inputs: ``hold`` (EX keeps its instruction), ``id_rs1``/``id_rs2`` and
    ``id_reads_rs1``/``id_reads_rs2`` (the decoder's, for the ID instruction),
    ``ex_rs1``/``ex_rs2`` (the EX instruction's), ``ex``, ``mem``, ``wb`` (:class:`Writer`)
    and ``l1_valid``/``l1_rd``. The wait is computed for the ID instruction (it applies
    when it enters EX); the forwarding selects for whichever instruction ``hold`` names.
    """

    def __init__(self):
        super().__init__({
            "hold": In(1),
            "id_rs1": In(5), "id_rs2": In(5), "id_reads_rs1": In(1), "id_reads_rs2": In(1),
            "ex_rs1": In(5), "ex_rs2": In(5),
            "ex": In(Writer), "mem": In(Writer), "wb": In(Writer),
            "l1_valid": In(1), "l1_rd": In(5),
            "src1": Out(5), "src2": Out(5),
            "fwd1": Out(len(FORWARD_SOURCES)), "fwd2": Out(len(FORWARD_SOURCES)),
            "wait": Out(2), "wb_write": Out(1), "late_next": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        ex, mem, wb = self.ex, self.mem, self.wb
        m.d.comb += [self.src1.eq(Mux(self.hold, self.ex_rs1, self.id_rs1)),
                     self.src2.eq(Mux(self.hold, self.ex_rs2, self.id_rs2))]
        # Forwarding: a ``vtst*``/``vextract`` only from L2 (readers wait for it; the
        # unit's result register is valid from then).
        from_ex = ex.valid & ex.writes & ~ex.xlate & ~self.hold
        from_mem = mem.valid & mem.writes & ~mem.xlate
        m.d.comb += [
            self.wb_write.eq(wb.valid & wb.writes & ~wb.xlate),
            self.late_next.eq(self.l1_valid & ~(self.wb_write & (wb.rd == self.l1_rd))),
        ]
        for fwd, src in ((self.fwd1, self.src1), (self.fwd2, self.src2)):
            hit_ex = from_ex & (ex.rd == src) & (src != 0)
            hit_mem = from_mem & (mem.rd == src) & (src != 0)
            hit_late = self.late_next & (self.l1_rd == src)
            m.d.sync += fwd.eq(Cat(hit_ex, ~hit_ex & hit_mem, ~hit_ex & ~hit_mem & hit_late,
                                   ~hit_ex & ~hit_mem & ~hit_late))

        # Waits of the instruction entering EX from ID.
        def reads(reg):
            return ((self.id_reads_rs1 & (self.id_rs1 == reg)) |
                    (self.id_reads_rs2 & (self.id_rs2 == reg)))

        from_ex_wait = Mux(ex.valid & (ex.rd != 0) & reads(ex.rd),
                           Mux(ex.xlate, 3, Mux(ex.load, 2, Mux(ex.late, 1, 0))), 0)
        ex_writes = ex.valid & ex.writes
        shadowed_mem = ex_writes & (ex.rd == mem.rd)
        shadowed_wb = (ex_writes & (ex.rd == wb.rd)) | (mem.valid & mem.writes &
                                                        (mem.rd == wb.rd))
        from_mem_wait = Mux(mem.valid & (mem.rd != 0) & reads(mem.rd) & ~shadowed_mem,
                            Mux(mem.xlate, 2, Mux(mem.load, 1, 0)), 0)
        from_wb_wait = wb.valid & wb.xlate & (wb.rd != 0) & reads(wb.rd) & ~shadowed_wb
        m.d.comb += self.wait.eq(_max(_max(from_ex_wait, from_mem_wait), from_wb_wait))
        return m


def _max(x, y):
    return Mux(x > y, x, y)
