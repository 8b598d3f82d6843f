"""Scalar load/store unit: address checks, byte lanes and load alignment.

The scalar data memory is ``dmem_bytes / 4`` words of 32 bits with byte write enables.
This unit is combinational and has two independent halves used by two pipeline stages:

* the EX half checks the byte address of the load or store in EX (natural alignment,
  inside data memory), and for stores produces the word address, byte enables and the
  data shifted into its byte lanes;
* the load half takes the word read for a load (the read was started in EX; the core
  registers the word as it leaves the block RAM and uses this half in WB) and extracts,
  sign- or zero-extends the addressed byte, half or word.
"""
from __future__ import annotations

from amaranth.hdl import Cat, Const, Module, Mux, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..config import CoreConfig
from .enums import Op, op_of

__all__ = ["LoadStoreUnit", "ACCESS_BYTES", "SIGNED_LOADS"]

# Access size in bytes of each scalar load and store (by mnemonic).
ACCESS_BYTES = {"lb": 1, "lbu": 1, "lh": 2, "lhu": 2, "lw": 4, "sb": 1, "sh": 2, "sw": 4}
SIGNED_LOADS = ("lb", "lh")
LOADS = ("lb", "lh", "lw", "lbu", "lhu")
STORES = ("sb", "sh", "sw")


def _op_in(op, names):
    return Cat(*(op == op_of(n) for n in names)).any()


class LoadStoreUnit(wiring.Component):
    """Combinational scalar load/store unit (zero latency in both halves).

    EX-half ports:

    * ``ex_op`` (in, :data:`Op`); ``ex_base`` (in, 32): ``x[rs1]``; ``ex_offset`` (in,
      signed 32): the immediate, a sign-extended 12-bit value (I and S formats);
      ``ex_store_data`` (in, 32): ``x[rs2]``;
    * ``ex_addr`` (out, 32): the byte address ``ex_base + ex_offset``;
    * ``ex_is_load``, ``ex_is_store`` (out): the op is a scalar load / store;
    * ``ex_fault`` (out): a load or store whose address is not naturally aligned or does
      not lie inside data memory;
    * ``ex_word_addr`` (out): the data-memory word index; ``ex_byte_en`` (out, 4): byte
      write enables of a store (0 for anything else); ``ex_wdata`` (out, 32): store data in
      its byte lanes.

    Load-half ports:

    * ``mem_op`` (in, :data:`Op`), ``mem_addr_lo`` (in, 2): the load and the low
      address bits; ``mem_rdata`` (in, 32): the word read from data memory;
    * ``mem_value`` (out, 32): the loaded value, sign- or zero-extended.
    """

    def __init__(self, config: CoreConfig):
        self.config = config
        self.depth = config.dmem_bytes // 4
        super().__init__({
            "ex_op": In(Op),
            "ex_base": In(32),
            "ex_offset": In(signed(32)),
            "ex_addr": Out(32),
            "ex_store_data": In(32),
            "ex_is_load": Out(1),
            "ex_is_store": Out(1),
            "ex_fault": Out(1),
            "ex_word_addr": Out(range(self.depth)),
            "ex_byte_en": Out(4),
            "ex_wdata": Out(32),
            "mem_op": In(Op),
            "mem_addr_lo": In(2),
            "mem_rdata": In(32),
            "mem_value": Out(32),
        })

    def elaborate(self, platform):
        m = Module()
        addr, op = self.ex_addr, self.ex_op
        base, offset = self.ex_base, self.ex_offset
        m.d.comb += addr.eq(base + offset.as_unsigned())
        is_load, is_store = _op_in(op, LOADS), _op_in(op, STORES)
        size1 = _op_in(op, [n for n, s in ACCESS_BYTES.items() if s == 1])
        size2 = _op_in(op, [n for n, s in ACCESS_BYTES.items() if s == 2])
        misaligned = Mux(size1, 0, Mux(size2, addr[0], addr[:2].any()))
        size = self.config.dmem_bytes
        k = size.bit_length() - 1
        if size == 1 << k and 12 <= k < 32:
            # Power-of-two memory: the address is inside iff its bits k.. are zero. With a
            # 12-bit offset, offset[k:] is all sign bits, so that holds iff base[k:] is 0
            # or (with a carry out of the low k bits) all ones, for a positive offset, and
            # 1 or (with a carry) 0 for a negative one: the upper-bit tests run in parallel
            # with the short low carry chain instead of after a full 32-bit addition.
            carry = (base[:k] + offset[:k])[k]
            hi = base[k:]
            inside = Mux(offset[-1], Mux(carry, hi == 0, hi == 1),
                         Mux(carry, hi == (1 << (32 - k)) - 1, hi == 0))
            outside = ~inside
        else:
            outside = addr >= size
        m.d.comb += [
            self.ex_is_load.eq(is_load),
            self.ex_is_store.eq(is_store),
            self.ex_fault.eq((is_load | is_store) & (misaligned | outside)),
            self.ex_word_addr.eq(addr[2:]),
        ]
        data = self.ex_store_data
        lane = addr[:2]
        with m.If(is_store):
            with m.If(size1):
                m.d.comb += [self.ex_wdata.eq(data[:8].replicate(4)),
                             self.ex_byte_en.eq(Const(1, 4) << lane)]
            with m.Elif(size2):
                m.d.comb += [self.ex_wdata.eq(data[:16].replicate(2)),
                             self.ex_byte_en.eq(Mux(lane[1], Cat(Const(0, 2), Const(3, 2)),
                                                    Const(3, 4)))]
            with m.Else():
                m.d.comb += [self.ex_wdata.eq(data), self.ex_byte_en.eq(Const(1, 1).replicate(4))]

        word, lo = self.mem_rdata, self.mem_addr_lo
        byte = word.word_select(lo, 8)
        half = word.word_select(lo[1], 16)
        mop = self.mem_op
        with m.Switch(mop):
            with m.Case(op_of("lb")):
                m.d.comb += self.mem_value.eq(byte.as_signed())
            with m.Case(op_of("lbu")):
                m.d.comb += self.mem_value.eq(byte)
            with m.Case(op_of("lh")):
                m.d.comb += self.mem_value.eq(half.as_signed())
            with m.Case(op_of("lhu")):
                m.d.comb += self.mem_value.eq(half)
            with m.Default():
                m.d.comb += self.mem_value.eq(word)
        return m
