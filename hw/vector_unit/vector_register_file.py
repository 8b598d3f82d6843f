"""The vector register file: 32 registers of ``lanes`` x 16 bits, two read ports, one
write port, and host access while the core is stopped."""
from amaranth.hdl import Module, Mux
from amaranth.lib import data, memory, wiring
from amaranth.lib.wiring import In, Out

from .lane_copy import lane_copy
from .relay import GROUP

__all__ = ["VectorRegisterFile", "REGISTERS"]

REGISTERS = 32


class VectorRegisterFile(wiring.Component):
    """32 registers of ``16 * lanes`` bits (lane ``i`` in bits ``16 i`` up), two read
    ports and one write port (no instruction reads three vector registers: the vector
    unit reads ``vd`` through port A). Stored as one ``lib.memory.Memory`` per lane
    (``mems[i]``: 32 rows of 16 bits; :meth:`sim_get`/:meth:`sim_set` read and write
    whole registers in simulation).

    Core ports:

    * ``raddr_a``/``raddr_b`` (in, 5) -> ``rdata_a``/``rdata_b`` (out, ``16 * lanes``):
      the register addressed in the previous cycle (latency 1), transparent: a write in
      that cycle to the same register shows its new value. The vector unit addresses
      them from the look-ahead (ID) register fields, so the data is ready when the
      instruction reaches EX. Port A is also the host's read port.
    * ``waddr_next`` (in, 5), ``we_next`` (in): the write of the next cycle, whose data
      is ``wdata`` (in, ``16 * lanes``) then; the whole register is written at the end
      of that cycle.

    Host access (the vector unit's :class:`~.host_group.HostGroup` of each group of
    :data:`~.relay.GROUP` lanes drives it): ``host_reg[g]`` (in, 5) is the register the
    host addresses in group ``g``'s lanes, ``host_we[i]`` (in) writes ``host_wdata[i]``
    (in, 16) to lane ``i``'s element of it (at the end of the next cycle, which no read
    can tell); its value shows on ``rdata_a`` (the host's read port) in the next cycle.
    Honoured only while ``host_enable`` (in) is high (the core stopped): it then owns
    read port A, and the write port in cycles without a core write (the core's wins:
    the last results of a stopped program land during the first
    ``host_router.DRAIN_CYCLES`` cycles after the stop, before the SoC lets the host in).

    Every lane registers its own copy of the addresses and enables
    (:func:`~.lane_copy.lane_copy`) and reads its memory asynchronously through them, so
    ``synth_ecp5`` maps each lane's memory to distributed RAM (one copy per read port)
    and no address flip-flop drives the whole file: at 32 lanes such a net spans the
    chip (23 ns of routing measured on the ULX3S-85F). Reading through registered
    addresses after a write at the end of the previous cycle is what makes the ports
    transparent, with no bypass logic.
    """

    def __init__(self, lanes: int):
        self.lanes = lanes
        width = 16 * lanes
        super().__init__({
            "raddr_a": In(data.ArrayLayout(5, lanes)), "raddr_b": In(data.ArrayLayout(5, lanes)),
            "rdata_a": Out(width), "rdata_b": Out(width),
            "waddr_next": In(data.ArrayLayout(5, lanes)), "we_next": In(data.ArrayLayout(1, lanes)), "wdata": In(width),
            "host_enable": In(1),
            "host_reg": In(data.ArrayLayout(5, -(-lanes // GROUP))),
            "host_we": In(data.ArrayLayout(1, lanes)),
            "host_wdata": In(data.ArrayLayout(16, lanes)),
        })
        self.mems = [memory.Memory(shape=16, depth=REGISTERS, init=[]) for _ in range(lanes)]

    def sim_get(self, ctx, index: int) -> int:
        """Register ``index`` as one ``16 * lanes``-bit integer (simulation only)."""
        return sum(ctx.get(mem.data[index]) << (16 * i) for i, mem in enumerate(self.mems))

    def sim_set(self, ctx, index: int, value: int) -> None:
        """Set register ``index`` from one ``16 * lanes``-bit integer (simulation only)."""
        for i, mem in enumerate(self.mems):
            ctx.set(mem.data[index], (value >> (16 * i)) & 0xFFFF)

    def elaborate(self, platform):
        m = Module()
        for i, mem in enumerate(self.mems):
            m.submodules[f"mem{i}"] = mem

            def copy(value, shape, name):
                return lane_copy(m, platform, value, shape, f"lane{i}_{name}")
            host_reg = self.host_reg[i // GROUP]
            read_a = Mux(self.host_enable, host_reg, self.raddr_a[i])
            addr_a, addr_b = copy(read_a, 5, "raddr_a"), copy(self.raddr_b[i], 5, "raddr_b")
            we, waddr = copy(self.we_next[i], 1, "we"), copy(self.waddr_next[i], 5, "waddr")
            host_on = copy(self.host_enable, 1, "host_on")
            host_we = copy(self.host_we[i], 1, "host_we")
            host_addr = copy(host_reg, 5, "host_addr")
            host_data = copy(self.host_wdata[i], 16, "host_data")
            write = mem.write_port()
            port_a, port_b = mem.read_port(domain="comb"), mem.read_port(domain="comb")
            m.d.comb += [
                port_a.addr.eq(addr_a), port_b.addr.eq(addr_b),
                self.rdata_a[16 * i:16 * (i + 1)].eq(port_a.data),
                self.rdata_b[16 * i:16 * (i + 1)].eq(port_b.data),
            ]
            core = we | ~host_on
            m.d.comb += [write.addr.eq(Mux(core, waddr, host_addr)),
                         write.data.eq(Mux(core, self.wdata[16 * i:16 * (i + 1)],
                                           host_data)),
                         write.en.eq(Mux(core, we, host_we))]
        return m
