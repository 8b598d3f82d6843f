"""The scalar register file: 32 x 32 bits, two read ports and two write ports.

Two synchronous read ports (one cycle latency, transparent for both write ports, so a
value written in a cycle is read back by an address presented in the same cycle) and
two write ports: ``w`` (the pipeline's write-back) and ``late`` (results that arrive
after write-back: ``vtst*``/``vextract``, whose value the vector lanes compute behind
the core). Writes to ``x0`` are dropped, so ``x0`` always reads 0 (the memories start
zeroed). If both ports write the same register in the same cycle, ``w`` wins (it
belongs to the younger instruction).

Implementation: one bank per write port (``banks``: ``lib.memory.Memory``, asynchronous
reads: distributed RAM on ECP5) and a live-value table (``lvt``: one flip-flop per
register naming the bank written last). Each read port registers both banks' words
(each through its own port's write bypass) and, found alongside, which of them is live,
so the read data leaves flip-flops at the start of the next cycle; the final choice is
``rdata``, or the caller's (the core folds it into its operand multiplexer).
"""
from __future__ import annotations

from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import memory, wiring
from amaranth.lib.wiring import In, Out

__all__ = ["RegisterFile"]


class RegisterFile(wiring.Component):
    """32 scalar registers of 32 bits.

    Ports:

    * ``raddr1``, ``raddr2`` (in, 5): read addresses, sampled at the clock edge;
    * for each read port ``k`` (1, 2), the register addressed in the previous cycle,
      including a write to it in that cycle by either port (read-after-write
      transparent), is ``Mux(late<k>, rdata<k>_late, rdata<k>_w)`` of the registered
      outputs ``rdata<k>_w`` (the write-back bank's word), ``rdata<k>_late`` (the late
      bank's) and ``late<k>`` (the late bank's is live); ``rdata1`` (out, 32) is that
      choice made for port 1 (for the host; the core makes it in its operand
      multiplexer);
    * ``waddr`` (in, 5), ``wdata`` (in, 32), ``we`` (in): the write-back port;
    * ``late_addr`` (in, 5), ``late_data`` (in, 32), ``late_we`` (in): the late port,
      ignored for a register ``w`` writes in the same cycle.

    Simulations read and set registers with :meth:`sim_get` and :meth:`sim_set`.
    """

    def __init__(self):
        super().__init__({
            "raddr1": In(5), "raddr2": In(5),
            "rdata1": Out(32),
            "rdata1_w": Out(32), "rdata2_w": Out(32),
            "rdata1_late": Out(32), "rdata2_late": Out(32), "late1": Out(1), "late2": Out(1),
            "waddr": In(5), "wdata": In(32), "we": In(1),
            "late_addr": In(5), "late_data": In(32), "late_we": In(1),
        })
        self.banks = tuple(memory.Memory(shape=32, depth=32, init=[]) for _ in range(2))
        self.lvt = Signal(32)

    def sim_get(self, ctx, index: int) -> int:
        """Register ``index`` (simulation only)."""
        return ctx.get(self.banks[(ctx.get(self.lvt) >> index) & 1].data[index])

    def sim_set(self, ctx, index: int, value: int) -> None:
        """Set register ``index`` (simulation only; ``x0`` stays 0)."""
        for bank in self.banks:
            ctx.set(bank.data[index], value if index else 0)

    def elaborate(self, platform):
        m = Module()
        m.submodules.bank_w = self.banks[0]
        m.submodules.bank_late = self.banks[1]
        we = self.we & (self.waddr != 0)
        late_we = self.late_we & (self.late_addr != 0) & ~(we & (self.waddr == self.late_addr))
        writes = ((we, self.waddr, self.wdata), (late_we, self.late_addr, self.late_data))
        for bank, (en, addr, value) in zip(self.banks, writes):
            port = bank.write_port()
            m.d.comb += [port.addr.eq(addr), port.data.eq(value), port.en.eq(en)]
        for r in range(1, 32):
            with m.If(we & (self.waddr == r)):
                m.d.sync += self.lvt[r].eq(0)
            with m.Elif(late_we & (self.late_addr == r)):
                m.d.sync += self.lvt[r].eq(1)
        for k, raddr in ((1, self.raddr1), (2, self.raddr2)):
            reads = []
            for bank in self.banks:
                read = bank.read_port(domain="comb")
                m.d.comb += read.addr.eq(raddr)
                reads.append(read.data)
            hit_w, hit_late = we & (self.waddr == raddr), late_we & (self.late_addr == raddr)
            word_w, word_late = (getattr(self, f"rdata{k}{x}") for x in ("_w", "_late"))
            live = getattr(self, f"late{k}")
            m.d.sync += [word_w.eq(Mux(hit_w, self.wdata, reads[0])),
                         word_late.eq(Mux(hit_late, self.late_data, reads[1])),
                         live.eq(~hit_w & (hit_late | self.lvt.bit_select(raddr, 1)))]
        m.d.comb += self.rdata1.eq(Mux(self.late1, self.rdata1_late, self.rdata1_w))
        return m
