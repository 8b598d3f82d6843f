"""``svfake://`` - a fake spikevec board behind a serial port that damages frames.

pyserial opens ``serial.serial_for_url("svfake://?config=lanes8&corrupt=0.05&seed=1")``
through this module once ``spikevec.sw.runtime`` is in ``serial.protocol_handler_packages``
(:class:`~.transport.SerialTransport` registers it). The far end is a
:class:`~.fake_device.FakeSoc` (the golden model behind the host protocol). Options:

* ``config``: core configuration preset (default ``default``);
* ``drop`` / ``corrupt`` / ``delay``: probability per frame, in either direction, of
  losing one byte, XOR-ing one byte with a random non-zero value (a burst the CRC
  always catches), or holding a response back for ``delay_s`` seconds (default 0.3);
* ``direction``: ``both`` (default), ``request`` or ``response``: which frames to damage;
* ``dead=1``: the device never answers; ``seed``: the fault generator's seed;
* ``slice``: instructions the core executes per request (default 2000).

:attr:`Serial.injected` counts the faults injected, so a test can check that each was
detected. Like a real device, the fake drops a partial request when its bytes stop for
longer than 1 ms (the host waits for a quiet line before resending).
"""
from __future__ import annotations

import random
import time
from collections import Counter
from urllib.parse import parse_qs, urlparse

from serial.serialutil import PortNotOpenError, SerialBase, SerialException, Timeout

from ...hw.rtl.host_protocol import REQUEST_SYNC, split_frame
from .fake_device import FakeSoc

__all__ = ["Serial"]

INTER_BYTE_TIMEOUT = 0.001


class Serial(SerialBase):
    """The pyserial port object of an ``svfake://`` URL (see the module doc)."""

    def open(self):
        if self._port is None:
            raise SerialException("Port must be configured before it can be used.")
        opts = self._parse(self.portstr)
        self.device = FakeSoc(opts.get("config", "default"), int(opts.get("slice", 2000)))
        self.rates = {k: float(opts.get(k, 0)) for k in ("drop", "corrupt", "delay")}
        self.delay_s = float(opts.get("delay_s", 0.3))
        self.direction = opts.get("direction", "both")
        self.dead = opts.get("dead", "0") == "1"
        self.rng = random.Random(int(opts.get("seed", 0)))
        self.injected = Counter()
        self._rx, self._last_rx = b"", 0.0
        self._out = []                  # (release time, bytes) in order
        self.is_open = True

    @staticmethod
    def _parse(url: str) -> dict:
        parts = urlparse(url)
        if parts.scheme != "svfake":
            raise SerialException(f"{url!r} is not an svfake:// URL.")
        return {k: v[0] for k, v in parse_qs(parts.query).items()}

    def close(self):
        self.is_open = False

    def _reconfigure_port(self):
        pass

    def _damage(self, frame: bytes, direction: str) -> bytes:
        if self.direction not in ("both", direction):
            return frame
        data = bytearray(frame)
        if self.rng.random() < self.rates["drop"]:
            del data[self.rng.randrange(len(data))]
            self.injected[f"drop {direction}"] += 1
        if self.rng.random() < self.rates["corrupt"]:
            data[self.rng.randrange(len(data))] ^= self.rng.randrange(1, 256)
            self.injected[f"corrupt {direction}"] += 1
        return bytes(data)

    def write(self, data):
        if not self.is_open:
            raise PortNotOpenError()
        now = time.monotonic()
        if now - self._last_rx > INTER_BYTE_TIMEOUT:
            self._rx = b""              # the device dropped the stalled partial frame
        self._last_rx = now
        self._rx += self._damage(bytes(data), "request")
        while not self.dead:
            frame, rest = split_frame(self._rx, REQUEST_SYNC)
            if frame is None:
                self._rx = rest
                break
            self._rx = rest
            response = self._damage(self.device.handle(frame), "response")
            release = now
            if self.direction in ("both", "response") and self.rng.random() < self.rates["delay"]:
                release += self.delay_s
                self.injected["delay response"] += 1
            self._out.append((release, response))
        return len(data)

    def _ready(self) -> int:
        now, n = time.monotonic(), 0
        for release, chunk in self._out:
            if release > now:
                break
            n += len(chunk)
        return n

    @property
    def in_waiting(self):
        return self._ready()

    def read(self, size=1):
        if not self.is_open:
            raise PortNotOpenError()
        timeout = Timeout(self._timeout)
        while self._ready() < size and not timeout.expired():
            time.sleep(0.0005)
        n = min(size, self._ready())
        out = bytearray()
        while len(out) < n:
            release, chunk = self._out[0]
            take = chunk[:n - len(out)]
            out += take
            if len(take) == len(chunk):
                self._out.pop(0)
            else:
                self._out[0] = (release, chunk[len(take):])
        return bytes(out)

    def reset_input_buffer(self):
        now = time.monotonic()
        self._out = [(r, c) for r, c in self._out if r > now]

    def reset_output_buffer(self):
        pass

    @property
    def out_waiting(self):
        return 0
