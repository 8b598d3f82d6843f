"""Host side of the spikevec host protocol as method calls, over any byte transport.

The protocol logic is written once, transport-free: each operation is a generator that
yields request frames and receives the decoded :class:`Response` of each. Two drivers run
those generators:

* :class:`SocClient` over a blocking transport (a serial port, the Python device model):
  an object with ``send(data: bytes)`` and ``receive(n: int) -> bytes`` (exactly ``n``
  bytes, or raise ``TimeoutError``);
* :class:`AsyncSocClient` over an asynchronous one (the cocotb testbench): ``async
  send(data)`` and ``async receive(n)``.

Both offer the same methods: ``ping``, ``identify``, ``write(space, address, data)``,
``read(space, address, count)``, ``start(pc=0)``, ``halt``, ``status`` and
``load_program(program)``. Transfers longer than one frame are split. Every non-OK
response raises :class:`ProtocolError` naming the request.

One request is outstanding at a time, as the protocol requires; ``seq`` increments
modulo 256 and every response's ``seq`` is checked.
"""
from __future__ import annotations

from ...hw.rtl.host_protocol import (ACCESS_HEADER_BYTES, HEADER_BYTES, MAX_PAYLOAD,
                                     Command, CoreStatus, Identity, ProtocolError, Space,
                                     decode_response, encode_request)

__all__ = ["SocClient", "AsyncSocClient", "MAX_WRITE", "MAX_READ", "Transport",
           "AsyncTransport", "ProtocolError"]

#: Data bytes per WRITE frame (the payload also holds the 8-byte access header).
MAX_WRITE = MAX_PAYLOAD - ACCESS_HEADER_BYTES
#: Data bytes per READ response.
MAX_READ = MAX_PAYLOAD


class Transport:
    """Blocking byte transport (duck-typed; subclassing is optional)."""

    def send(self, data: bytes) -> None:
        raise NotImplementedError

    def receive(self, n: int) -> bytes:
        raise NotImplementedError


class AsyncTransport:
    """Asynchronous byte transport (duck-typed; subclassing is optional)."""

    async def send(self, data: bytes) -> None:
        raise NotImplementedError

    async def receive(self, n: int) -> bytes:
        raise NotImplementedError


def _pad(data: bytes) -> bytes:
    return bytes(data) + bytes(-len(data) % 4)


class _Operations:
    """The transport-free operations (generators: yield a frame, get a Response)."""

    def __init__(self):
        self._seq = 0

    def _request(self, command, what, **fields):
        seq = self._seq
        self._seq = (self._seq + 1) & 0xFF
        response = yield encode_request(command, seq, **fields)
        if response.seq != seq:
            raise ProtocolError(f"The response to the {what} carries seq {response.seq} "
                                f"but the request had seq {seq}; a response was lost or "
                                f"duplicated, so wait for the line to go quiet and resend.")
        return response.expect_ok(what).payload

    def op_ping(self):
        yield from self._request(Command.PING, "PING")

    def op_identify(self):
        return Identity.from_bytes((yield from self._request(Command.IDENTIFY, "IDENTIFY")))

    def op_write(self, space, address, data):
        data = bytes(data)
        if len(data) % 4 or address % 4:
            raise ValueError(f"Host writes move whole 32-bit words: address {address:#x} "
                             f"and length {len(data)} must be multiples of 4; pad the data.")
        for offset in range(0, len(data), MAX_WRITE):
            chunk = data[offset:offset + MAX_WRITE]
            yield from self._request(
                Command.WRITE, f"WRITE of {len(chunk)} bytes to {Space(space).name} "
                f"{address + offset:#x}", space=Space(space), address=address + offset,
                data=chunk)

    def op_read(self, space, address, count):
        if count % 4 or address % 4:
            raise ValueError(f"Host reads move whole 32-bit words: address {address:#x} "
                             f"and count {count} must be multiples of 4.")
        out = bytearray()
        for offset in range(0, count, MAX_READ):
            n = min(MAX_READ, count - offset)
            out += yield from self._request(
                Command.READ, f"READ of {n} bytes from {Space(space).name} "
                f"{address + offset:#x}", space=Space(space), address=address + offset,
                count=n)
        return bytes(out)

    def op_start(self, pc=0):
        yield from self._request(Command.START, f"START at pc {pc:#x}", pc=pc)

    def op_halt(self):
        yield from self._request(Command.HALT, "HALT")

    def op_status(self):
        return CoreStatus.from_bytes((yield from self._request(Command.STATUS, "STATUS")))

    def op_load_program(self, program):
        """Write text to IMEM, data to DMEM and vdata to VMEM (empty parts are skipped)."""
        text = b"".join(int(w & 0xFFFFFFFF).to_bytes(4, "little") for w in program.text)
        for space, blob in ((Space.IMEM, text), (Space.DMEM, program.data),
                            (Space.VMEM, program.vdata)):
            if blob:
                yield from self.op_write(space, 0, _pad(blob))


_METHODS = ("ping", "identify", "write", "read", "start", "halt", "status", "load_program")


class SocClient(_Operations):
    """Blocking client: ``SocClient(transport).status()`` etc. (see the module docstring)."""

    def __init__(self, transport):
        super().__init__()
        self.transport = transport

    def exchange(self, frame: bytes):
        """Send one request frame and return the decoded response."""
        self.transport.send(frame)
        head = self.transport.receive(HEADER_BYTES)
        rest = self.transport.receive((head[3] | head[4] << 8) + 1)
        return decode_response(head + rest)

    def _drive(self, gen):
        try:
            frame = next(gen)
            while True:
                frame = gen.send(self.exchange(frame))
        except StopIteration as stop:
            return stop.value


class AsyncSocClient(_Operations):
    """Asynchronous client: ``await AsyncSocClient(transport).status()`` etc."""

    def __init__(self, transport):
        super().__init__()
        self.transport = transport

    async def exchange(self, frame: bytes):
        await self.transport.send(frame)
        head = await self.transport.receive(HEADER_BYTES)
        rest = await self.transport.receive((head[3] | head[4] << 8) + 1)
        return decode_response(head + rest)

    async def _drive(self, gen):
        try:
            frame = next(gen)
            while True:
                frame = gen.send(await self.exchange(frame))
        except StopIteration as stop:
            return stop.value


def _bind(cls, name):
    op = getattr(_Operations, f"op_{name}")
    if cls is SocClient:
        def method(self, *args, **kwargs):
            return self._drive(op(self, *args, **kwargs))
    else:
        async def method(self, *args, **kwargs):
            return await self._drive(op(self, *args, **kwargs))
    method.__name__ = name
    method.__doc__ = op.__doc__
    setattr(cls, name, method)


for _cls in (SocClient, AsyncSocClient):
    for _name in _METHODS:
        _bind(_cls, _name)
