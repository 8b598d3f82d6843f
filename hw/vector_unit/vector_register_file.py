"""The vector register file: 32 registers of ``lanes`` x 16 bits, two read ports, one
write port, and host access while the core is stopped."""
from amaranth.hdl import Const, Module, Mux, Signal
from amaranth.lib import memory, wiring
from amaranth.lib.wiring import In, Out

from ..rtl.signatures import HostMemorySignature

__all__ = ["VectorRegisterFile", "REGISTERS"]

REGISTERS = 32


class VectorRegisterFile(wiring.Component):
    """``mem`` (``lib.memory.Memory``, 32 rows of ``16 * lanes`` bits, lane ``i`` in bits
    ``16 i`` up) with two synchronous read ports and one write port (no instruction
    reads three vector registers: the vector unit reads ``vd`` through port A).

    Core ports:

    * ``raddr_a``/``raddr_b`` (in, 5) -> ``rdata_a``/``rdata_b`` (out, ``16 * lanes``):
      the register addressed in the previous cycle (latency 1), transparent: a write in
      that cycle to the same register shows its new value. The vector unit addresses
      them from the look-ahead (ID) register fields, so the data is ready when the
      instruction reaches EX. Port A is also the host's read port.
    * ``waddr`` (in, 5), ``wdata`` (in, ``16 * lanes``), ``we`` (in): write a whole
      register at the end of the cycle.

    Host port ``host`` (:class:`HostMemorySignature`, ``16 * lanes`` words): word ``a``
    is lanes ``2k`` (bits 0-15) and ``2k + 1`` (bits 16-31) of register ``a // (lanes/2)``
    with ``k = a % (lanes/2)``; ``rdata`` is the word addressed in the previous cycle,
    ``we`` writes ``wdata``. Honoured only while ``host_enable`` (in) is high (the core
    stopped): it then owns read port A, and the write port in cycles without a core write
    (``we`` wins: the last results of a stopped program land during the first 4 cycles
    after the stop, before the SoC lets the host in).

    Every port is a plain ``lib.memory`` port with no logic in front beyond the host
    multiplexer, so ``synth_ecp5`` maps the file to distributed RAM (one copy per read
    port) with the read registers in flip-flops.
    """

    def __init__(self, lanes: int):
        self.lanes = lanes
        width = 16 * lanes
        self.words_per_register = lanes // 2
        super().__init__({
            "raddr_a": In(5), "raddr_b": In(5),
            "rdata_a": Out(width), "rdata_b": Out(width),
            "waddr": In(5), "wdata": In(width), "we": In(1),
            "host_enable": In(1),
            "host": Out(HostMemorySignature(REGISTERS * self.words_per_register)),
        })
        self.mem = memory.Memory(shape=width, depth=REGISTERS, init=[])

    def elaborate(self, platform):
        m = Module()
        m.submodules.mem = self.mem
        words = self.words_per_register
        word_bits = (words - 1).bit_length()
        write = self.mem.write_port(granularity=32)
        ports = [self.mem.read_port(transparent_for=(write,)) for _ in range(2)]
        host = self.host
        host_reg, host_word = host.addr[word_bits:], host.addr[:word_bits]
        host_word_q = Signal(max(1, word_bits))
        m.d.sync += host_word_q.eq(host_word)

        read_a, read_b = ports
        m.d.comb += [
            read_a.addr.eq(Mux(self.host_enable, host_reg, self.raddr_a)),
            read_b.addr.eq(self.raddr_b),
            self.rdata_a.eq(read_a.data), self.rdata_b.eq(read_b.data),
            host.rdata.eq(read_a.data.word_select(host_word_q, 32) if words > 1
                          else read_a.data[:32]),
        ]
        with m.If(self.we | ~self.host_enable):
            m.d.comb += [write.addr.eq(self.waddr), write.data.eq(self.wdata),
                         write.en.eq(self.we.replicate(words))]
        with m.Else():
            m.d.comb += [write.addr.eq(host_reg), write.data.eq(host.wdata.replicate(words)),
                         write.en.eq(host.we.replicate(words) &
                                     (Const(1, words) << host_word)[:words])]
        return m
