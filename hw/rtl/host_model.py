"""A pure-Python model of a device behind the host protocol (no RTL, no simulator).

:class:`HostPortModel` answers request frames exactly as :class:`.host_port.HostPort`
with a SoC behind it would: same checks in the same order, same statuses, same payloads.
Tests use it as the golden reference for the RTL; the runtime can use it as a fake device.
The core is a :class:`ModelCore` that does not execute instructions: ``START`` makes it
run, ``HALT`` stops it with deterministic counter values.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field, replace

from ..config import CoreConfig
from .host_protocol import (ACCESS_HEADER_BYTES, MAX_PAYLOAD, REQUEST_SYNC, Command,
                            CoreStatus, Identity, ProtocolError, Request, Space, Status,
                            crc8, decode_request, encode_response, needs_halt, space_bytes)

__all__ = ["ModelCore", "HostPortModel", "check_request"]


@dataclass
class ModelCore:
    """Core control and status without execution.

    * :meth:`start` zeroes the counters and runs from ``pc``;
    * :meth:`halt` stops a running core (unless ``stops_on_halt`` is false) and sets the
      counters to ``cycles = 1000 + pc``, ``instret = 500 + pc // 4``, cause 0 (NONE:
      stopped by the host);
    * :meth:`trap` stops it as the program would (``cause``, trap pc/word/address).
    """
    status: CoreStatus = field(default_factory=CoreStatus)
    stops_on_halt: bool = True

    def start(self, pc: int) -> None:
        self.status = CoreStatus(running=True, pc=pc)

    def halt(self) -> None:
        s = self.status
        if s.running and self.stops_on_halt:
            self.status = replace(s, running=False, halted=True, cause=0,
                                  cycles=1000 + s.pc, instret=500 + s.pc // 4)

    def trap(self, cause: int, trap_pc: int, trap_word: int, trap_addr: int,
             cycles: int, instret: int) -> None:
        self.status = replace(self.status, running=False, halted=True, cause=cause,
                              pc=trap_pc, trap_pc=trap_pc, trap_word=trap_word,
                              trap_addr=trap_addr, cycles=cycles, instret=instret)


def _access_fields(request: Request):
    """``(space, address, count)`` of a READ/WRITE payload of a valid length."""
    space, address = struct.unpack_from("<BxxxI", request.payload)
    if request.command == Command.READ.value:
        count = struct.unpack_from("<H", request.payload, ACCESS_HEADER_BYTES)[0]
    else:
        count = len(request.payload) - ACCESS_HEADER_BYTES
    return space, address, count


def check_request(config: CoreConfig, request: Request, running: bool) -> Status:
    """The status a request with a good CRC gets, by the specification's check order."""
    try:
        command = Command(request.command)
    except ValueError:
        return Status.BAD_COMMAND
    n = len(request.payload)
    want = {Command.READ: n == ACCESS_HEADER_BYTES + 4, Command.START: n == 4,
            Command.WRITE: n >= ACCESS_HEADER_BYTES}.get(command, n == 0)
    if not want:
        return Status.BAD_LENGTH
    if command == Command.START:
        pc = struct.unpack("<I", request.payload)[0]
        if pc % 4 or pc >= config.imem_bytes:
            return Status.BAD_ADDRESS
        return Status.BUSY if running else Status.OK
    if command not in (Command.READ, Command.WRITE):
        return Status.OK
    space, address, count = _access_fields(request)
    try:
        space = Space(space)
    except ValueError:
        return Status.BAD_SPACE
    if command == Command.WRITE and space == Space.STATUS:
        return Status.READ_ONLY
    if count == 0 or count % 4 or count > MAX_PAYLOAD:
        return Status.BAD_LENGTH
    if address % 4 or address + count > space_bytes(config, space):
        return Status.BAD_ADDRESS
    if running and needs_halt(space):
        return Status.BUSY
    return Status.OK


class HostPortModel:
    """The device model: ``memories[space]`` are bytearrays, ``core`` a :class:`ModelCore`.

    :meth:`handle` takes one complete request frame and returns the response frame.
    """

    def __init__(self, config: CoreConfig, core: ModelCore | None = None):
        self.config = config
        self.core = core if core is not None else ModelCore()
        self.memories = {space: bytearray(space_bytes(config, space))
                         for space in Space if space != Space.STATUS}

    def read(self, space: Space, address: int, count: int) -> bytes:
        if space == Space.STATUS:
            return self.core.status.to_bytes()[address:address + count]
        data = bytearray(self.memories[space][address:address + count])
        if space == Space.XREG and address == 0:
            data[0:4] = bytes(4)
        return bytes(data)

    def write(self, space: Space, address: int, data: bytes) -> None:
        self.memories[space][address:address + len(data)] = data
        if space == Space.XREG:
            self.memories[space][0:4] = bytes(4)

    def handle(self, frame: bytes) -> bytes:
        frame = bytes(frame)
        if len(frame) < 5 or frame[0] != REQUEST_SYNC:
            raise ProtocolError(f"The model takes one whole request frame starting with "
                                f"{REQUEST_SYNC:#04x}; got {frame[:8].hex()}.")
        length = frame[3] | frame[4] << 8
        if length > MAX_PAYLOAD:
            return encode_response(Status.BAD_LENGTH, frame[2])
        if len(frame) != length + 6 or crc8(frame[1:]) != 0:
            return encode_response(Status.BAD_CRC, frame[2])
        request = decode_request(frame)
        status = check_request(self.config, request, self.core.status.running)
        if status != Status.OK:
            return encode_response(status, request.seq)
        payload = self.execute(request)
        if request.command == Command.HALT.value and self.core.status.running:
            return encode_response(Status.BUSY, request.seq)     # did not stop in time
        return encode_response(Status.OK, request.seq, payload)

    def execute(self, request: Request) -> bytes:
        """Perform a checked request; return the response payload."""
        command = Command(request.command)
        if command == Command.IDENTIFY:
            return Identity.from_config(self.config).to_bytes()
        if command == Command.STATUS:
            return self.core.status.to_bytes()
        if command == Command.START:
            self.core.start(struct.unpack("<I", request.payload)[0])
        elif command == Command.HALT:
            self.core.halt()
        elif command in (Command.READ, Command.WRITE):
            space, address, count = _access_fields(request)
            if command == Command.READ:
                return self.read(Space(space), address, count)
            self.write(Space(space), address, request.payload[ACCESS_HEADER_BYTES:])
        return b""

