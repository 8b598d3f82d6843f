"""The scalar register file: 32 x 32 bits in a ``lib.memory.Memory``.

Two synchronous read ports (one cycle latency, transparent for the write port, so a value
written in a cycle is read back by an address presented in the same cycle) and one write
port. Writes to ``x0`` are dropped, so ``x0`` always reads 0 (the memory starts zeroed).

Implementation: asynchronous memory reads (distributed RAM on ECP5), an explicit write
bypass and explicit output registers, so the read data leaves flip-flops at the start of
the next cycle instead of passing through the RAM and the bypass logic then.
"""
from __future__ import annotations

from amaranth.hdl import Module, Mux
from amaranth.lib import memory, wiring
from amaranth.lib.wiring import In, Out

__all__ = ["RegisterFile"]


class RegisterFile(wiring.Component):
    """32 scalar registers of 32 bits.

    Ports:

    * ``raddr1``, ``raddr2`` (in, 5): read addresses, sampled at the clock edge;
    * ``rdata1``, ``rdata2`` (out, 32): the registers addressed in the previous cycle,
      including a write to them in that cycle (read-after-write transparent);
    * ``waddr`` (in, 5), ``wdata`` (in, 32), ``we`` (in): one write per cycle, ignored
      for ``x0``.

    ``mem`` is the underlying :class:`amaranth.lib.memory.Memory`; simulations may read
    and set its ``data`` directly.
    """

    def __init__(self):
        super().__init__({
            "raddr1": In(5), "raddr2": In(5),
            "rdata1": Out(32), "rdata2": Out(32),
            "waddr": In(5), "wdata": In(32), "we": In(1),
        })
        self.mem = memory.Memory(shape=32, depth=32, init=[])

    def elaborate(self, platform):
        m = Module()
        m.submodules.mem = self.mem
        write = self.mem.write_port()
        we = self.we & (self.waddr != 0)
        m.d.comb += [write.addr.eq(self.waddr), write.data.eq(self.wdata), write.en.eq(we)]
        for raddr, rdata in ((self.raddr1, self.rdata1), (self.raddr2, self.rdata2)):
            read = self.mem.read_port(domain="comb")
            m.d.comb += read.addr.eq(raddr)
            m.d.sync += rdata.eq(Mux(we & (self.waddr == raddr), self.wdata, read.data))
        return m
