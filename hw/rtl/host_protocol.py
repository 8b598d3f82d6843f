"""The spikevec host protocol: a byte-stream command interface into a running core.

This module is the specification, declared once as data and pure-Python helpers; the RTL
(:class:`~spikevec.hw.rtl.host_port.HostPort`), the Python device model
(:mod:`.host_model`), the host runtime and testbenches all import it. The byte stream is
the same over a UART on a board and straight into the RTL in simulation.

Frames
------
All multi-byte fields are little-endian. The host sends one request and waits for its
response before sending the next (one request outstanding): the device takes no request
bytes while it executes or answers a request (the stream is back-pressured; a UART
without flow control would lose them)::

    request : 0xA5 | command | seq | len (u16) | payload (len bytes) | crc
    response: 0x5A | status  | seq | len (u16) | payload (len bytes) | crc

* ``len`` is at most :data:`MAX_PAYLOAD` (1024) bytes in both directions;
* ``seq`` is chosen by the host (any value, usually incrementing) and echoed in the
  response, so a lost or duplicated response is detectable;
* ``crc`` is CRC-8/SMBUS (polynomial 0x07, init 0x00, not reflected, no final xor; check
  value 0xF4 for ``b"123456789"``) over every byte after the sync byte and before the crc.
  It detects every odd number of bit errors and every burst of up to 8 bits.

Resynchronisation: the device discards bytes until a request sync byte. A frame whose
bytes stop for longer than the device's inter-byte timeout (1 ms by default) is dropped
silently; a ``len`` above 1024 is answered with ``BAD_LENGTH`` at once and the device hunts
for the next sync byte. A host that sees no response, a bad response or a wrong ``seq``
waits longer than the timeout (line quiet) and resends. All commands are idempotent
except ``START`` (check ``STATUS`` before resending it).

Requests that fail a check change nothing and get an empty error response (checked in
this order): ``BAD_CRC`` (``seq`` echoed as received), ``BAD_COMMAND``, ``BAD_LENGTH``
(payload length wrong for the command, count zero, not a multiple of 4 or above 1024),
``BAD_SPACE``, ``READ_ONLY``, ``BAD_ADDRESS`` (not a multiple of 4, or the access runs past
the end of the space), ``BUSY`` (the core runs and the command needs it halted).

Commands (request payload -> response payload on ``OK``)
--------------------------------------------------------
* ``PING``: empty -> empty.
* ``IDENTIFY``: empty -> 40 bytes, :class:`Identity`: magic ``b"SVEC"``, protocol version,
  lanes, element width, vector registers, max payload, flags (bit 0: stochastic
  rounding), memory sizes, clock and the 8-byte :meth:`CoreConfig.fingerprint`.
* ``WRITE``: ``space u8, 0 u8 x3, address u32, data`` (4..1016 bytes, multiple of 4) -> empty.
* ``READ``: ``space u8, 0 u8 x3, address u32, count u16, 0 u16`` -> ``count`` bytes.
* ``START``: ``pc u32`` -> empty. Zeroes the counters and runs from ``pc`` (word aligned,
  inside instruction memory); ``BUSY`` if the core is running.
* ``HALT``: empty -> empty, sent once the core has stopped; ``BUSY`` if it did not stop
  within the timeout.
* ``STATUS``: empty -> 36 bytes, :class:`CoreStatus`, a snapshot taken in one cycle:
  ``flags u8`` (bit 0 running, bit 1 halted), ``cause u8`` (``TrapCause``; halted with
  cause NONE means stopped by ``HALT``), ``0 u16``, ``pc``, ``trap_pc``, ``trap_word``,
  ``trap_addr`` (u32 each), ``cycles``, ``instret`` (u64 each).

Address spaces
--------------
Addresses are byte offsets into the space, word aligned; data moves in 32-bit words.
Spaces marked *halted* answer ``BUSY`` while the core runs; the others may be written and
read during a run (the runtime streams spikes through ring buffers).

* ``IMEM`` (halted): instruction memory, ``imem_bytes``; ``DMEM``: scalar data memory,
  ``dmem_bytes``; ``VMEM``: vector memory, ``vmem_bytes`` (vector row ``r`` lane ``i`` at
  ``(r * lanes + i) * 2``);
* ``LMEM``: lane-local memories, element-major: element ``e`` of lane ``i`` at
  ``(e * lanes + i) * 2`` (a word holds element ``e`` of lanes ``2k`` and ``2k+1``);
  ``lanes * lane_mem_bytes`` bytes;
* ``XREG`` (halted): ``x[r]`` at ``4 * r``, 128 bytes; ``x0`` reads 0, writes to it vanish;
* ``VREG`` (halted): lane ``i`` of ``v[r]`` at ``(r * lanes + i) * 2``;
* ``STATUS``: read-only, the 36-byte :class:`CoreStatus` record (``READ`` of it is a
  window on the ``STATUS`` snapshot; ``WRITE`` answers ``READ_ONLY``).
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

from amaranth.lib import enum

from ..config import ConfigMismatch, CoreConfig

__all__ = ["REQUEST_SYNC", "RESPONSE_SYNC", "MAX_PAYLOAD", "PROTOCOL_VERSION", "MAGIC",
           "Command", "Space", "Status", "ProtocolError", "crc8", "CRC8_TABLE",
           "space_bytes", "needs_halt", "Identity", "CoreStatus", "Request", "Response",
           "encode_frame", "encode_request", "encode_response", "decode_request",
           "decode_response", "split_frame", "IDENTITY_BYTES", "STATUS_BYTES"]

REQUEST_SYNC = 0xA5
RESPONSE_SYNC = 0x5A
MAX_PAYLOAD = 1024
PROTOCOL_VERSION = 1
MAGIC = b"SVEC"
HEADER_BYTES = 5          # sync, command/status, seq, len (2)
IDENTITY_BYTES = 40
STATUS_BYTES = 36
ACCESS_HEADER_BYTES = 8   # space, 3 reserved bytes, address


class Command(enum.Enum, shape=8):
    """Request command byte."""
    PING = 0x01
    IDENTIFY = 0x02
    WRITE = 0x03
    READ = 0x04
    START = 0x05
    HALT = 0x06
    STATUS = 0x07


class Space(enum.Enum, shape=8):
    """Address space byte of ``READ``/``WRITE``."""
    IMEM = 0
    DMEM = 1
    VMEM = 2
    LMEM = 3
    XREG = 4
    VREG = 5
    STATUS = 6


class Status(enum.Enum, shape=8):
    """Response status byte."""
    OK = 0
    BAD_CRC = 1
    BAD_COMMAND = 2
    BAD_LENGTH = 3
    BAD_SPACE = 4
    BAD_ADDRESS = 5
    BUSY = 6
    READ_ONLY = 7


class ProtocolError(ValueError):
    """A byte string is not a well-formed frame (bad sync byte, length or CRC)."""


def _crc8_table():
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
        table.append(crc)
    return tuple(table)


CRC8_TABLE = _crc8_table()


def crc8(data: bytes, crc: int = 0) -> int:
    """CRC-8/SMBUS of ``data`` continuing from ``crc``. Running it over a frame body
    followed by its crc byte gives 0."""
    for byte in data:
        crc = CRC8_TABLE[crc ^ byte]
    return crc


def space_bytes(config: CoreConfig, space: Space) -> int:
    """Size in bytes of ``space`` on a core with ``config``."""
    return {Space.IMEM: config.imem_bytes, Space.DMEM: config.dmem_bytes,
            Space.VMEM: config.vmem_bytes, Space.LMEM: config.lanes * config.lane_mem_bytes,
            Space.XREG: 32 * 4, Space.VREG: config.vector_registers * config.vector_bytes,
            Space.STATUS: STATUS_BYTES}[Space(space)]


def needs_halt(space: Space) -> bool:
    """Whether accesses to ``space`` answer ``BUSY`` while the core runs."""
    return Space(space) in (Space.IMEM, Space.XREG, Space.VREG)


@dataclass(frozen=True)
class Identity:
    """The ``IDENTIFY`` payload: what the runtime checks before loading an image."""
    version: int
    lanes: int
    element_width: int
    vector_registers: int
    max_payload: int
    stochastic_rounding: bool
    imem_bytes: int
    dmem_bytes: int
    vmem_bytes: int
    lane_mem_bytes: int
    clock_hz: int
    fingerprint: str

    @classmethod
    def from_config(cls, config: CoreConfig) -> "Identity":
        return cls(PROTOCOL_VERSION, config.lanes, config.element_width,
                   config.vector_registers, MAX_PAYLOAD, config.stochastic_rounding,
                   config.imem_bytes, config.dmem_bytes, config.vmem_bytes,
                   config.lane_mem_bytes, config.clock_hz, config.fingerprint())

    def to_bytes(self) -> bytes:
        head = struct.pack("<4sBBBBHHIIIII", MAGIC, self.version, self.lanes,
                           self.element_width, self.vector_registers, self.max_payload,
                           int(self.stochastic_rounding), self.imem_bytes, self.dmem_bytes,
                           self.vmem_bytes, self.lane_mem_bytes, self.clock_hz)
        return head + bytes.fromhex(self.fingerprint)

    @classmethod
    def from_bytes(cls, data: bytes) -> "Identity":
        if len(data) != IDENTITY_BYTES or data[:4] != MAGIC:
            raise ProtocolError(f"An IDENTIFY payload is {IDENTITY_BYTES} bytes starting "
                                f"with {MAGIC!r}, but got {bytes(data[:8]).hex()}... "
                                f"({len(data)} bytes); the device is not a spikevec core.")
        f = struct.unpack("<4sBBBBHHIIIII", data[:32])
        return cls(f[1], f[2], f[3], f[4], f[5], bool(f[6] & 1), *f[7:12], data[32:].hex())

    def check(self, config: CoreConfig) -> None:
        """Raise ``ConfigMismatch`` unless the device is a core built with ``config``."""
        if self.version != PROTOCOL_VERSION:
            raise ConfigMismatch(f"The device speaks host protocol version {self.version} "
                                 f"but this software speaks {PROTOCOL_VERSION}; rebuild "
                                 f"the bitstream or update the software.")
        if self.fingerprint != config.fingerprint():
            raise ConfigMismatch(f"The device's core configuration (lanes {self.lanes}, "
                                 f"fingerprint {self.fingerprint}) differs from "
                                 f"'{config.name}' (lanes {config.lanes}, fingerprint "
                                 f"{config.fingerprint()}); use an image compiled for the "
                                 f"device or load the matching bitstream.")


@dataclass(frozen=True)
class CoreStatus:
    """The ``STATUS`` payload (also the ``STATUS`` space)."""
    running: bool = False
    halted: bool = False
    cause: int = 0
    pc: int = 0
    trap_pc: int = 0
    trap_word: int = 0
    trap_addr: int = 0
    cycles: int = 0
    instret: int = 0

    def to_bytes(self) -> bytes:
        return struct.pack("<BBHIIIIQQ", int(self.running) | int(self.halted) << 1,
                           self.cause, 0, self.pc, self.trap_pc, self.trap_word,
                           self.trap_addr, self.cycles, self.instret)

    @classmethod
    def from_bytes(cls, data: bytes) -> "CoreStatus":
        if len(data) != STATUS_BYTES:
            raise ProtocolError(f"A STATUS payload is {STATUS_BYTES} bytes, not "
                                f"{len(data)}; read the whole STATUS space.")
        flags, cause, _, *rest = struct.unpack("<BBHIIIIQQ", data)
        return cls(bool(flags & 1), bool(flags & 2), cause, *rest)


@dataclass(frozen=True)
class Request:
    command: int          # a Command value, or an unknown byte
    seq: int
    payload: bytes = b""


@dataclass(frozen=True)
class Response:
    status: Status
    seq: int
    payload: bytes = b""

    def expect_ok(self, what: str = "request") -> "Response":
        """Return ``self`` if the status is OK, else raise ``ProtocolError``."""
        if self.status != Status.OK:
            raise ProtocolError(f"The device answered the {what} (seq {self.seq}) with "
                                f"{self.status.name}; see the host protocol specification "
                                f"for what that status means.")
        return self


def encode_frame(sync: int, code: int, seq: int, payload: bytes = b"") -> bytes:
    """A raw frame with any code byte (tests use it to build malformed requests)."""
    if not 0 <= seq <= 255:
        raise ValueError(f"The sequence number {seq} does not fit a byte; use 0..255.")
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"A payload of {len(payload)} bytes exceeds the protocol limit of "
                         f"{MAX_PAYLOAD}; split the transfer into several frames.")
    code = code.value if isinstance(code, enum.Enum) else code
    body = bytes([code & 0xFF, seq]) + struct.pack("<H", len(payload)) + bytes(payload)
    return bytes([sync]) + body + bytes([crc8(body)])


def encode_request(command: Command, seq: int, *, space: Space | None = None,
                   address: int = 0, data: bytes = b"", count: int = 0,
                   pc: int = 0) -> bytes:
    """The request frame of ``command``: ``WRITE`` takes ``space, address, data``;
    ``READ`` takes ``space, address, count``; ``START`` takes ``pc``."""
    command = Command(command)
    if command in (Command.WRITE, Command.READ):
        if space is None:
            raise ValueError(f"A {command.name} request needs an address space; pass "
                             f"space= one of {[s.name for s in Space]}.")
        space = space.value if isinstance(space, Space) else space   # ints: tests
        payload = struct.pack("<BxxxI", space, address & 0xFFFFFFFF)
        payload += bytes(data) if command == Command.WRITE else struct.pack("<Hxx", count)
    elif command == Command.START:
        payload = struct.pack("<I", pc & 0xFFFFFFFF)
    else:
        payload = b""
    return encode_frame(REQUEST_SYNC, command.value, seq, payload)


def encode_response(status: Status, seq: int, payload: bytes = b"") -> bytes:
    return encode_frame(RESPONSE_SYNC, Status(status).value, seq, payload)


def _decode(data: bytes, sync: int, what: str) -> tuple[int, int, bytes]:
    data = bytes(data)
    if len(data) < HEADER_BYTES + 1:
        raise ProtocolError(f"A {what} frame is at least {HEADER_BYTES + 1} bytes but got "
                            f"{len(data)} ({data.hex()}); the frame was truncated.")
    if data[0] != sync:
        raise ProtocolError(f"A {what} frame starts with sync byte {sync:#04x}, not "
                            f"{data[0]:#04x}; resynchronise by waiting for the line to "
                            f"go quiet and resending.")
    length = data[3] | data[4] << 8
    if length > MAX_PAYLOAD or len(data) != HEADER_BYTES + length + 1:
        raise ProtocolError(f"The {what} frame declares {length} payload bytes but has "
                            f"{len(data) - HEADER_BYTES - 1}; the frame was truncated or "
                            f"corrupted, so resend the request.")
    if crc8(data[1:]) != 0:
        raise ProtocolError(f"The {what} frame's CRC {data[-1]:#04x} does not match its "
                            f"contents (expected {crc8(data[1:-1]):#04x}); the link "
                            f"corrupted it, so resend the request.")
    return data[1], data[2], data[HEADER_BYTES:-1]


def decode_response(data: bytes) -> Response:
    """Parse one complete response frame; ``ProtocolError`` on bad sync, length or CRC."""
    status, seq, payload = _decode(data, RESPONSE_SYNC, "response")
    try:
        status = Status(status)
    except ValueError:
        raise ProtocolError(f"The response status byte {status:#04x} is not a known "
                            f"status; the device speaks another protocol version.") from None
    return Response(status, seq, payload)


def decode_request(data: bytes) -> Request:
    """Parse one complete request frame; ``ProtocolError`` on bad sync, length or CRC."""
    return Request(*_decode(data, REQUEST_SYNC, "request"))


def split_frame(buffer: bytes, sync: int = RESPONSE_SYNC) -> tuple[bytes | None, bytes]:
    """Find the first frame in ``buffer``: ``(frame or None if incomplete, rest)``.
    Bytes before the first ``sync`` byte, and a sync byte whose length field exceeds
    ``MAX_PAYLOAD``, are dropped; the frame's CRC is not checked."""
    buffer = bytes(buffer)
    while True:
        start = buffer.find(bytes([sync]))
        if start < 0:
            return None, b""
        buffer = buffer[start:]
        if len(buffer) < HEADER_BYTES:
            return None, buffer
        length = buffer[3] | buffer[4] << 8
        if length <= MAX_PAYLOAD:
            break
        buffer = buffer[1:]
    end = HEADER_BYTES + length + 1
    if len(buffer) < end:
        return None, buffer
    return buffer[:end], buffer[end:]
