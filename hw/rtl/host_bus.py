"""Interfaces between :class:`.host_port.HostPort` and the SoC, and the bytewise CRC-8.

Directions are from the host port's side: the port has ``Out(HostBusSignature(config))``
and ``Out(HostControlSignature())``; the SoC takes the flipped (``In``) signatures.

Memory bus (:class:`HostBusSignature`)
--------------------------------------
* ``req``: a ``lib.stream`` of :func:`host_request_layout` records ``space`` (:class:`Space`),
  ``addr`` (word index inside the space: the protocol's byte offset divided by 4),
  ``wdata`` (32) and ``we``. A request transfers in a cycle with ``valid & ready``; the
  payload is stable while ``valid & ~ready`` and ``valid`` never depends on ``ready``, so
  the SoC may hold ``ready`` low to arbitrate against the core for as long as it needs.
  ``space`` is never ``STATUS`` (the port serves it itself).
* ``we = 1``: write ``wdata`` to the word; nothing comes back.
* ``we = 0``: read the word; the SoC returns it as exactly one ``rdata`` beat
  (``rdata.valid`` for one cycle with the word in ``rdata.payload``) one or more cycles
  after the transfer. The port never has more than one read outstanding, so a block RAM
  port answers with ``rdata.valid`` = the registered ``req.valid & req.ready & ~we``.
* Word meaning per space (lanes ``L``, ``L/2`` words per vector): IMEM/DMEM: bytes
  ``4a..4a+3`` little-endian; VMEM: row ``a // (L/2)``, lanes ``2k`` (low half) and
  ``2k+1`` (high half) with ``k = a % (L/2)``; LMEM: element ``a // (L/2)`` of lane
  memories ``2k`` and ``2k+1``; XREG: ``x[a]`` (``x0``: reads 0, ignores writes); VREG:
  register ``a // (L/2)``, lanes ``2k`` and ``2k+1``.
* IMEM, XREG and VREG requests come only while ``status.running`` is low; DMEM, VMEM and
  LMEM requests may come at any time.

Control (:class:`HostControlSignature`)
---------------------------------------
* ``start`` (out): a one-cycle pulse: zero the counters and run from byte address
  ``start_pc`` (valid in the pulse cycle). Sent only while ``status.running`` is low.
* ``halt`` (out): a one-cycle pulse: stop the core (the SoC latches it). The port answers
  ``HALT`` once ``status.running`` is low.
* ``status`` (in, :data:`StatusLayout`): the core's status record, sampled by the port in
  one cycle for ``STATUS``: ``running``, ``halted``, ``cause`` (:class:`TrapCause`), ``pc``,
  ``trap_pc``, ``trap_word``, ``trap_addr``, ``cycles``, ``instret``.
"""
from __future__ import annotations

from amaranth.hdl import Cat, Const, Value
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from ..config import CoreConfig
from .enums import TrapCause
from .host_protocol import CRC8_TABLE, STATUS_BYTES, Space, space_bytes

__all__ = ["StatusLayout", "host_request_layout", "host_address_width", "HostBusSignature",
           "HostControlSignature", "crc8_next", "status_wire_value"]

StatusLayout = data.StructLayout({
    "running": 1, "halted": 1, "cause": TrapCause, "pc": 32, "trap_pc": 32,
    "trap_word": 32, "trap_addr": 32, "cycles": 64, "instret": 64,
})


def host_address_width(config: CoreConfig) -> int:
    """Bits of the word address: enough for the largest space of ``config``."""
    words = max(space_bytes(config, space) for space in Space) // 4
    return max(1, (words - 1).bit_length())


def host_request_layout(config: CoreConfig) -> data.StructLayout:
    return data.StructLayout({"space": Space, "addr": host_address_width(config),
                              "wdata": 32, "we": 1})


class HostBusSignature(wiring.Signature):
    """Host port -> SoC memory bus (see the module docstring for the timing)."""

    def __init__(self, config: CoreConfig):
        self.config = config
        super().__init__({
            "req": Out(stream.Signature(host_request_layout(config))),
            "rdata": In(stream.Signature(32, always_ready=True)),
        })

    def __eq__(self, other):
        return isinstance(other, HostBusSignature) and other.config == self.config

    def __hash__(self):
        return hash(self.config)


class HostControlSignature(wiring.Signature):
    """Host port -> SoC core control and status (see the module docstring)."""

    def __init__(self):
        super().__init__({
            "start": Out(1), "start_pc": Out(32), "halt": Out(1),
            "status": In(StatusLayout),
        })


def _crc8_columns() -> list[int]:
    """``columns[j]``: mask of the bits ``k`` of ``crc ^ byte`` that feed output bit ``j``
    (the CRC update is linear over GF(2), so the table of single bits defines it)."""
    return [sum(1 << k for k in range(8) if CRC8_TABLE[1 << k] >> j & 1) for j in range(8)]


_COLUMNS = _crc8_columns()


def crc8_next(crc, byte) -> Value:
    """The CRC-8/SMBUS register after shifting in ``byte``: one XOR level per output bit
    (at most 8 inputs each), the same function as :func:`.host_protocol.crc8`."""
    x = Value.cast(crc) ^ Value.cast(byte)
    bits = []
    for mask in _COLUMNS:
        terms = [x[k] for k in range(8) if mask >> k & 1]
        acc = terms[0]
        for t in terms[1:]:
            acc = acc ^ t
        bits.append(acc)
    return Cat(*bits)


def status_wire_value(status) -> Value:
    """The 36-byte ``STATUS`` payload (:class:`.host_protocol.CoreStatus` byte order) of a
    :data:`StatusLayout` view, as one little-endian value."""
    cause = Value.cast(status.cause)
    value = Cat(status.running, status.halted, Const(0, 6), cause, Const(0, 8 - len(cause)),
                Const(0, 16), status.pc, status.trap_pc, status.trap_word,
                status.trap_addr, status.cycles, status.instret)
    assert len(value) == 8 * STATUS_BYTES
    return value
