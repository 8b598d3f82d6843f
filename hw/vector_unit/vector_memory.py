"""Vector memory: one row per vector, a core port and a host port usable at the same time."""
from amaranth.hdl import Const, Module, Mux, Signal
from amaranth.lib import memory, wiring
from amaranth.lib.wiring import In, Out

from ..config import CoreConfig
from ..rtl.signatures import HostMemorySignature

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
    """``mem``: ``lib.memory.Memory`` of ``config.vmem_vectors`` rows of ``16 * lanes``
    bits (lane ``i``'s element in bits ``16 i`` up: row ``r`` holds vector-memory bytes
    ``r * vector_bytes`` up, little endian). Two independent ports, so the host can
    stream data while the core runs (maps onto true-dual-port block RAM):

    * core port: ``row`` (in): ``rdata`` (out, the whole row) shows the row addressed in
      the previous cycle (latency 1; read every cycle: a read enable would put a hold
      multiplexer behind the block RAMs); ``write`` (in) writes ``wdata`` (in) to ``row``
      at the end of the cycle (a read in that cycle returns the old row).
    * ``host`` (:class:`HostMemorySignature`, ``vmem_bytes / 4`` words, latency 1): word
      ``a`` is bytes ``4a`` to ``4a + 3`` (lanes ``2k`` and ``2k + 1`` of row
      ``a // (lanes/2)``, ``k = a % (lanes/2)``), at any time. A read of a row that the
      other port writes in the same cycle returns the new data (the read ports are
      transparent across ports, which ECP5 block RAM needs Yosys to add a small bypass
      for; old-data semantics would force the memory into flip-flops).
    """

    def __init__(self, config: CoreConfig):
        self.config = config
        width = 16 * config.lanes
        super().__init__({
            "row": In(range(config.vmem_vectors)), "write": In(1),
            "wdata": In(width), "rdata": Out(width),
            "host": Out(HostMemorySignature(config.vmem_bytes // 4)),
        })
        self.mem = memory.Memory(shape=width, depth=config.vmem_vectors, init=[])

    def elaborate(self, platform):
        m = Module()
        m.submodules.mem = self.mem
        words = self.config.lanes // 2
        word_bits = (words - 1).bit_length()
        # Each read port sees the other port's write of the same cycle (transparent):
        # ECP5 block RAM cannot return old data across ports, so without this Yosys
        # builds the memory from flip-flops.
        core_write = self.mem.write_port()
        host_write = self.mem.write_port(granularity=32)
        core_read = self.mem.read_port(transparent_for=(host_write,))
        host_read = self.mem.read_port(transparent_for=(core_write, host_write))
        host = self.host
        host_row, host_word = host.addr[word_bits:], host.addr[:word_bits]
        host_word_q = Signal(max(1, word_bits))
        m.d.sync += host_word_q.eq(host_word)
        m.d.comb += [
            core_read.addr.eq(self.row), core_read.en.eq(1),
            core_write.addr.eq(self.row), core_write.data.eq(self.wdata),
            core_write.en.eq(self.write),
            self.rdata.eq(core_read.data),
            host_read.addr.eq(host_row),
            host_write.addr.eq(host_row), host_write.data.eq(host.wdata.replicate(words)),
            host_write.en.eq(host.we.replicate(words) & (Const(1, words) << host_word)[:words]),
            host.rdata.eq(host_read.data.word_select(host_word_q, 32) if words > 1
                          else host_read.data[:32]),
        ]
        return m
