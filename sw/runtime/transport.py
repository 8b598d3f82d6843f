"""A serial link to a board: pyserial transport and a host client that survives a bad link.

:class:`SerialTransport` opens any pyserial URL with ``serial.serial_for_url`` (a device
path such as ``/dev/ttyUSB1``, ``loop://``, ``socket://host:port``, or this package's
``svfake://`` fake board, see :mod:`.protocol_svfake`) and offers the blocking
``send``/``receive`` transport :class:`~spikevec.sim.rtl.soc_client.SocClient` needs.

:class:`RobustClient` is a ``SocClient`` whose every request is checked and retried, as
the host protocol prescribes: a response that does not arrive in time, fails its CRC,
carries another ``seq`` or says ``BAD_CRC`` (the request was corrupted) makes it wait for
the line to go quiet, drop what arrived and send the request again, up to ``retries``
times. ``START`` is the one command that is not idempotent: before resending it the client
asks ``STATUS`` whether the core already started (it runs, or its instruction counter
moved since before the first attempt). :attr:`RobustClient.faults` counts what was seen.

Contract: a request either gets its own correct response or raises - ``TimeoutError``
when the device never answered (naming the port and what to check), :class:`LinkError`
when it answered but every attempt was damaged. Spikes are never silently wrong, up to
the CRC-8's detection power (every burst of up to 8 bits, every odd number of bit errors).
"""
from __future__ import annotations

import time
from collections import Counter

from ...hw.rtl.host_protocol import (HEADER_BYTES, MAX_PAYLOAD, RESPONSE_SYNC, Command,
                                     CoreStatus, ProtocolError, Response, Status,
                                     decode_response, encode_request)
from ...sim.rtl.soc_client import SocClient

__all__ = ["SerialTransport", "RobustClient", "LinkError"]


class LinkError(OSError):
    """The device answered, but no attempt of a request came back intact."""


def _register_fake_url() -> None:
    import serial
    if "spikevec.sw.runtime" not in serial.protocol_handler_packages:
        serial.protocol_handler_packages.append("spikevec.sw.runtime")


class SerialTransport:
    """Blocking transport over a pyserial port (``url``: anything ``serial_for_url``
    opens, or an already open port object). ``timeout``: seconds to wait for the bytes
    of one response."""

    def __init__(self, url, baud: int = 115200, timeout: float = 0.5):
        if isinstance(url, str):
            import serial
            _register_fake_url()
            try:
                self.port = serial.serial_for_url(url, baudrate=baud, timeout=0.01)
            except (serial.SerialException, ValueError) as e:
                raise OSError(f"Cannot open the serial port {url!r}: {e}. Check the device "
                              "path (ls /dev/ttyUSB* /dev/ttyACM*) and your permission to "
                              "use it (group dialout).") from None
        else:
            self.port = url
        self.name, self.baud, self.timeout = str(url), baud, timeout

    def send(self, data: bytes) -> None:
        self.port.write(bytes(data))

    def receive(self, n: int) -> bytes:
        data, deadline = bytearray(), time.monotonic() + self.timeout
        while len(data) < n:
            chunk = self.port.read(n - len(data))
            data += chunk
            if not chunk and time.monotonic() > deadline:
                raise TimeoutError(f"{self.name} sent {len(data)} of {n} expected bytes "
                                   f"within {self.timeout} s.")
        return bytes(data)

    def drain(self, quiet: float) -> None:
        """Read and drop bytes until the line has been quiet for ``quiet`` seconds."""
        last = time.monotonic()
        limit = last + max(2 * self.timeout, 10 * quiet)
        while time.monotonic() - last < quiet and time.monotonic() < limit:
            if self.port.read(max(1, getattr(self.port, "in_waiting", 0) or 1)):
                last = time.monotonic()
        self.port.reset_input_buffer()

    def close(self) -> None:
        self.port.close()


class RobustClient(SocClient):
    """A :class:`SocClient` that resends damaged requests (see the module doc)."""

    def __init__(self, transport, retries: int = 6, quiet: float = 0.005,
                 port: str | None = None, baud: int | None = None):
        super().__init__(transport)
        self.retries, self.quiet = retries, quiet
        self.port = port or getattr(transport, "name", "the link")
        self.baud = baud
        self.faults = Counter()

    def _receive(self) -> Response:
        t = self.transport
        while True:                                       # hunt for the response sync
            b = t.receive(1)
            if b[0] == RESPONSE_SYNC:
                break
            self.faults["stray byte"] += 1
        head = b + t.receive(HEADER_BYTES - 1)
        length = head[3] | head[4] << 8
        if length > MAX_PAYLOAD:
            raise ProtocolError(f"A response declares {length} payload bytes.")
        return decode_response(head + t.receive(length + 1))

    def _resync(self) -> None:
        drain = getattr(self.transport, "drain", None)
        if drain is not None:
            drain(self.quiet)
        else:
            time.sleep(self.quiet)

    def _attempt(self, frame: bytes):
        """One try: the response, or the reason it failed (a string)."""
        self.transport.send(frame)
        try:
            response = self._receive()
        except TimeoutError:
            return "timeout"
        except ProtocolError:
            return "damaged response"
        if response.seq != frame[2]:
            return "wrong seq"
        if response.status == Status.BAD_CRC:
            return "damaged request"
        return response

    def _retrying(self, frame: bytes, check_started=None):
        what = Command(frame[1]).name if frame[1] in {c.value for c in Command} else "request"
        reasons = []
        for attempt in range(self.retries + 1):
            if attempt and check_started is not None and check_started():
                self.faults["START already done"] += 1
                return Response(Status.OK, frame[2])
            result = self._attempt(frame)
            if isinstance(result, Response):
                return result
            reasons.append(result)
            self.faults[result] += 1
            self._resync()
        if all(r == "timeout" for r in reasons):
            raise TimeoutError(
                f"The device on {self.port} did not answer the {what} request in "
                f"{len(reasons)} attempts. Check that the board is powered and programmed "
                f"with a spikevec bitstream, that {self.port} is its serial port"
                + (f" and that it uses {self.baud} baud" if self.baud else "") + ".")
        raise LinkError(f"Every one of {len(reasons)} attempts of the {what} request to "
                        f"{self.port} failed ({', '.join(reasons)}); the link is too noisy: "
                        "check the cable, lower the baud rate or raise retries.")

    def _status_now(self) -> CoreStatus:
        seq = (self._seq + 128) & 0xFF                   # outside the normal sequence
        frame = encode_request(Command.STATUS, seq)
        return CoreStatus.from_bytes(self._retrying(frame).expect_ok("STATUS").payload)

    def exchange(self, frame: bytes):
        """Send one request frame until its intact response arrives; return it."""
        if frame[1] != Command.START.value:
            return self._retrying(frame)
        before = self._status_now()

        def started() -> bool:
            now = self._status_now()
            return now.running or (now.instret, now.cycles) != (before.instret, before.cycles)
        return self._retrying(frame, started)

    def close(self) -> None:
        close = getattr(self.transport, "close", None)
        if close is not None:
            close()
