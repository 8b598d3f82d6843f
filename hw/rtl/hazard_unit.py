"""The scalar core's hazard logic: operand forwarding selects and operand waits.

For the instruction that will be in EX in the next cycle - the one entering from ID,
or the one held in EX (``hold``) - the unit finds where each of its two source
registers comes from and how many cycles it must wait, from the writers ahead of it:

* ``ex``: the instruction now in EX (it will be in MEM),
* ``mem``: the one now in MEM (it will be in WB),
* ``wb``: the one now in WB,
* ``late``: a ``vtst*``/``vextract`` in L1 to L(k-1), ``k`` = :data:`LATE_STAGES` (in
  Lk its value arrives from the vector unit and is written through the register file's
  late port).

Each writer is a :class:`Writer` record. Latencies (identical to
:data:`spikevec.hw.isa.TIMING`, checked by :func:`check_cycle_model`): ALU results 1
(forwarded from MEM), ``mul`` and the counts 2 (``late``: forwarded from WB), loads 3
(``load``: through the register file), ``vtst*``/``vextract`` 2 + :data:`LATE_STAGES`
(``xlate``: forwarded from Lk only). A reader waits latency - 1 cycles behind a
producer in EX, latency - 2 behind one in MEM, latency - 3 behind one in WB, latency
- 3 - j behind one in Lj; a producer whose register a younger instruction writes again
is shadowed (the reader gets, and waits for, the younger value only). The youngest
writer wins; ``x0`` is never forwarded nor waited for.

Outputs: ``src1``/``src2`` (the next EX instruction's source registers, for the register
file's read addresses), ``fwd1``/``fwd2`` (registered, one-hot: MEM, WB, Lk, register
file - :data:`FORWARD_SOURCES`), ``wait`` (combinational, cycles, :data:`WAIT_BITS`
wide), ``wb_write`` (WB writes the register file now) and ``late_keep`` (bit ``j``: the
late write now in L(j+1) is still live in L(j+2) in the next cycle; a write-back of the
same register in WB, younger and written first, cancels it).
"""

import operator
from functools import reduce

from amaranth.hdl import Cat, Module, Mux, Signal
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from ..isa import TIMING, Timing

__all__ = ["HazardUnit", "Writer", "LATE_STAGES", "WAIT_BITS", "FORWARD_SOURCES",
           "check_cycle_model"]

#: Stages after WB that carry a ``vtst*``/``vextract`` to its late register write (L1 to
#: Lk; the value arrives in the last): the table's VTOX latency less EX and MEM.
LATE_STAGES = TIMING.latency_of(Timing.VTOX) - 2
assert LATE_STAGES >= 2, ("The scalar core needs a VTOX latency of 4 or more (it forwards "
                          "late values from L2 on).")
#: Width of the operand wait (the longest: a reader right behind a ``vtst*``).
WAIT_BITS = (LATE_STAGES + 1).bit_length()
#: The one-hot order of ``fwd1``/``fwd2``.
FORWARD_SOURCES = ("mem", "wb", "late", "regfile")


class Writer(data.Struct):
    """An instruction ahead in the pipeline, as a possible producer of an operand."""
    valid: 1      # it is there and not squashed (``ex``: live; a held one too)
    writes: 1     # it writes ``x[rd]``
    rd: 5
    late: 1       # ``mul`` or a count: latency 2
    load: 1       # latency 3
    xlate: 1      # ``vtst*``/``vextract``: its value arrives in the last late stage


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
    and ``late_valid``/``late_rd`` (element ``j``: the late write in L(j+1), for L1 to
    L(k-1); ``late_valid`` is never set for ``x0``). The wait is computed for the ID
    instruction (it applies when it enters EX); the forwarding selects for whichever
    instruction ``hold`` names.
    """

    def __init__(self):
        pending = LATE_STAGES - 1
        super().__init__({
            "hold": In(1),
            "id_rs1": In(5), "id_rs2": In(5), "id_reads_rs1": In(1), "id_reads_rs2": In(1),
            "ex_rs1": In(5), "ex_rs2": In(5),
            "ex": In(Writer), "mem": In(Writer), "wb": In(Writer),
            "late_valid": In(pending), "late_rd": In(data.ArrayLayout(5, pending)),
            "src1": Out(5), "src2": Out(5),
            "fwd1": Out(len(FORWARD_SOURCES)), "fwd2": Out(len(FORWARD_SOURCES)),
            "wait": Out(WAIT_BITS), "wb_write": Out(1), "late_keep": Out(pending),
        })

    def elaborate(self, platform):
        m = Module()
        ex, mem, wb = self.ex, self.mem, self.wb
        pending = [(self.late_valid[j], self.late_rd[j]) for j in range(LATE_STAGES - 1)]
        m.d.comb += [self.src1.eq(Mux(self.hold, self.ex_rs1, self.id_rs1)),
                     self.src2.eq(Mux(self.hold, self.ex_rs2, self.id_rs2))]
        # Forwarding: a ``vtst*``/``vextract`` only from the last late stage (readers wait
        # for it; the unit's result register is valid from then).
        from_ex = ex.valid & ex.writes & ~ex.xlate & ~self.hold
        from_mem = mem.valid & mem.writes & ~mem.xlate
        m.d.comb += self.wb_write.eq(wb.valid & wb.writes & ~wb.xlate)
        m.d.comb += self.late_keep.eq(Cat(valid & ~(self.wb_write & (wb.rd == rd))
                                          for valid, rd in pending))
        late_next, last_rd = self.late_keep[-1], pending[-1][1]
        for fwd, src in ((self.fwd1, self.src1), (self.fwd2, self.src2)):
            hit_ex = from_ex & (ex.rd == src) & (src != 0)
            hit_mem = from_mem & (mem.rd == src) & (src != 0)
            hit_late = late_next & (last_rd == src)
            m.d.sync += fwd.eq(Cat(hit_ex, ~hit_ex & hit_mem, ~hit_ex & ~hit_mem & hit_late,
                                   ~hit_ex & ~hit_mem & ~hit_late))

        # Waits of the instruction entering EX from ID: ``xlate`` behind a ``vtst*`` in
        # stage s (EX 0, MEM 1, WB 2, Lj 2 + j) is latency - 1 - s.
        def reads(reg):
            return ((self.id_reads_rs1 & (self.id_rs1 == reg)) |
                    (self.id_reads_rs2 & (self.id_rs2 == reg)))

        # ``writers``: the producers younger than the stage being looked at; one of them
        # writing the same register shadows it.
        vtox_wait = 1 + LATE_STAGES     # behind a ``vtst*`` in EX: latency - 1
        writers = [(ex.valid & ex.writes, ex.rd)]

        def shadowed(rd):
            return _or(writes & (reg == rd) for writes, reg in writers)

        waits = [Mux(ex.valid & (ex.rd != 0) & reads(ex.rd),
                     Mux(ex.xlate, vtox_wait, Mux(ex.load, 2, Mux(ex.late, 1, 0))), 0),
                 Mux(mem.valid & (mem.rd != 0) & reads(mem.rd) & ~shadowed(mem.rd),
                     Mux(mem.xlate, vtox_wait - 1, Mux(mem.load, 1, 0)), 0)]
        writers.append((mem.valid & mem.writes, mem.rd))
        waits.append(Mux(wb.valid & wb.xlate & (wb.rd != 0) & reads(wb.rd) & ~shadowed(wb.rd),
                         vtox_wait - 2, 0))
        writers.append((wb.valid & wb.writes, wb.rd))
        for j, (valid, rd) in enumerate(pending):       # L(j+1)
            if vtox_wait - 3 - j > 0:
                waits.append(Mux(valid & reads(rd) & ~shadowed(rd), vtox_wait - 3 - j, 0))
            writers.append((valid, rd))
        m.d.comb += self.wait.eq(reduce(_max, waits))
        return m


def _or(values):
    return reduce(operator.or_, values)


def _max(x, y):
    return Mux(x > y, x, y)
