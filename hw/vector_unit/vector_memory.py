"""Vector memory: one row per vector, a core port and a host port usable at the same time.

The memory is split into columns, one per relay group of :data:`~.relay.GROUP` lanes
(64 bits), each its own memory with its own core-port address and write enable. As one
512-bit-wide memory (32 lanes, ULX3S-85F, commit 8438d00) a single address register
drove all 128 of its block RAMs across the chip: 22.2 ns of routing to the farthest, the
critical path of the build (43.5 MHz). Now the vector unit sends each column's row and
store through the relay of its lanes' group (:class:`~.relay.FanOut`), so each address
register drives the 16 block RAMs of one column, next to the lanes that use its data.
"""
from amaranth.hdl import Cat, Const, Module, Mux, Signal
from amaranth.lib import data, memory, wiring
from amaranth.lib.wiring import In, Out

from ..config import CoreConfig
from ..rtl.signatures import HostMemorySignature
from .relay import GROUP

__all__ = ["VectorMemory", "undoable_store", "undo_due"]


def undo_due(m, *, changed, cancel, dropped):
    """High in the cycle after a change (``changed``: made in EX before the core's
    verdict) that must be undone: its instruction faulted (``cancel``, due one cycle
    after issue) or the core squashed it as it changed (``dropped``, same cycle)."""
    changed1, dropped1 = Signal(), Signal()
    m.d.sync += [changed1.eq(changed), dropped1.eq(dropped)]
    return changed1 & (cancel | dropped1)


def undoable_store(m, *, addr, store, data, rdata, cancel, dropped):
    """A core port whose stores write at once and are undone if the instruction faults
    or is squashed.

    ``addr``/``store``/``data``: the access of the instruction in EX (``store`` leaves
    out the core's late squash); ``dropped``: the core squashes that instruction in
    this cycle; ``rdata``: the port's read data (latency 1, read every cycle, old data
    when it writes); ``cancel``: the instruction of the cycle before faulted (due one
    cycle after issue). Returns ``(port_addr, port_data, port_write, rdata_q)``: what
    drives the port (one address for its read and write), and ``rdata`` registered raw
    (block-RAM outputs are slow on ECP5).

    A cancelled or dropped store is undone two cycles after it wrote: the old data its
    own access read is written back (``restore``). The core issues nothing then (it
    has stopped at the fault, or refetches after a squash), so nothing else uses the
    port. At most two stores are undone, in consecutive cycles: a faulting one and the
    squashed one behind it. The younger is then undone second, which is wrong if both
    wrote the same address (the younger's old data is the older's new data), so it is
    skipped then: the older's undo alone restores that address."""
    restore = Signal()
    addr1, addr2 = Signal.like(addr, name="addr1"), Signal.like(addr, name="addr2")
    rdata_q = Signal.like(rdata, name="rdata_q")
    undo = undo_due(m, changed=store, cancel=cancel, dropped=dropped)
    m.d.sync += [addr1.eq(addr), addr2.eq(addr1),
                 restore.eq(undo & ~(restore & (addr1 == addr2))), rdata_q.eq(rdata)]
    return Mux(restore, addr2, addr), Mux(restore, rdata_q, data), restore | store, rdata_q


class VectorMemory(wiring.Component):
    """``config.vmem_vectors`` rows of ``16 * lanes`` bits (lane ``i``'s element in bits
    ``16 i`` up: row ``r`` holds vector-memory bytes ``r * vector_bytes`` up, little
    endian), stored as :attr:`columns` column memories: ``mems[c]`` is a
    ``lib.memory.Memory`` of the same rows holding lanes ``GROUP c`` to
    ``GROUP (c + 1) - 1`` (all lanes if there are fewer than :data:`~.relay.GROUP`).
    :meth:`sim_get`/:meth:`sim_set` read and write whole rows in simulation. Two
    independent ports, so the host can stream data while the core runs (each column
    maps onto true-dual-port block RAM):

    * core port: ``row[c]`` and ``write[c]`` (in) address and write column ``c`` (the
      vector unit gives every column the same values, each from its own register).
      ``rdata`` (out, the columns concatenated: the whole row when all ``row[c]``
      agree) shows what was addressed in the previous cycle (latency 1; read every
      cycle: a read enable would put a hold multiplexer behind the block RAMs);
      ``write[c]`` writes column ``c`` of ``wdata`` (in) to ``row[c]`` at the end of the
      cycle (a read in that cycle returns the old data).
    * ``host[c]`` (:class:`HostMemorySignature`, ``2 * vmem_vectors`` words, latency 1):
      column ``c``'s host port; word ``a`` is lanes ``GROUP c + 2 (a % 2)`` and the next
      of row ``a // 2`` (the vector unit's :class:`~.host_group.HostGroup` of the column
      drives it), at any time. A read of a row that the other port writes in the same
      cycle returns the new data (the read ports are transparent across ports, which
      ECP5 block RAM needs Yosys to add a small bypass for; old-data semantics would force
      the memory into flip-flops).
    """

    def __init__(self, config: CoreConfig):
        self.config = config
        #: Lanes per column, and the number of columns.
        self.column_lanes = min(GROUP, config.lanes)
        self.columns = config.lanes // self.column_lanes
        if self.columns * self.column_lanes != config.lanes:
            raise ValueError(f"{config.lanes} lanes do not split into columns of "
                             f"{self.column_lanes} lanes; use a multiple of {GROUP}.")
        rows = range(config.vmem_vectors)
        super().__init__({
            "row": In(data.ArrayLayout(rows, self.columns)),
            "write": In(data.ArrayLayout(1, self.columns)),
            "wdata": In(16 * config.lanes), "rdata": Out(16 * config.lanes),
            "host": Out(HostMemorySignature(config.vmem_vectors * self.column_lanes // 2))
            .array(self.columns),
        })
        self.mems = [memory.Memory(shape=16 * self.column_lanes, depth=config.vmem_vectors,
                                   init=[]) for _ in range(self.columns)]

    def sim_get(self, ctx, row: int) -> int:
        """Row ``row`` as one ``16 * lanes``-bit integer (simulation only)."""
        width = 16 * self.column_lanes
        return sum(ctx.get(mem.data[row]) << (width * c) for c, mem in enumerate(self.mems))

    def sim_set(self, ctx, row: int, value: int) -> None:
        """Set row ``row`` from one ``16 * lanes``-bit integer (simulation only)."""
        width = 16 * self.column_lanes
        for c, mem in enumerate(self.mems):
            ctx.set(mem.data[row], (value >> (width * c)) & ((1 << width) - 1))

    def elaborate(self, platform):
        m = Module()
        column_words = self.column_lanes // 2      # host words per column row
        word_bits = (column_words - 1).bit_length()
        width = 16 * self.column_lanes
        for c, mem in enumerate(self.mems):
            m.submodules[f"mem{c}"] = mem
            # Each read port sees the other port's write of the same cycle (transparent):
            # ECP5 block RAM cannot return old data across ports, so without this Yosys
            # builds the memory from flip-flops.
            core_write = mem.write_port()
            host_write = mem.write_port(granularity=32)
            core_read = mem.read_port(transparent_for=(host_write,))
            host_read = mem.read_port(transparent_for=(core_write, host_write))
            m.d.comb += [
                core_read.addr.eq(self.row[c]), core_read.en.eq(1),
                core_write.addr.eq(self.row[c]), core_write.en.eq(self.write[c]),
                core_write.data.eq(self.wdata[width * c:width * (c + 1)]),
                self.rdata[width * c:width * (c + 1)].eq(core_read.data),
                ]
            host = self.host[c]
            row, word = host.addr[word_bits:], host.addr[:word_bits]
            word_q = Signal(len(word), name=f"host_word_q{c}")
            m.d.sync += word_q.eq(word)
            m.d.comb += [
                host_read.addr.eq(row), host_write.addr.eq(row),
                host_write.data.eq(host.wdata.replicate(column_words)),
                host_write.en.eq(host.we.replicate(column_words)
                                 & (Const(1, column_words) << word)[:column_words]),
                host.rdata.eq(host_read.data.word_select(word_q, 32)),
            ]
        return m
