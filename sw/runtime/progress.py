"""A progress bar on stderr: tqdm when it is installed, else one plain text line.

``Progress(total, label, enabled)``: ``update(done)`` after each item, ``close()`` at the
end. Disabled bars print nothing. The plain bar redraws at most 10 times a second and
shows items done, rate and the estimated time left.
"""
from __future__ import annotations

import sys
import time

__all__ = ["Progress"]


class Progress:
    def __init__(self, total: int, label: str, enabled: bool = True, stream=None):
        self.total, self.label, self.enabled = int(total), label, enabled
        self.stream = stream or sys.stderr
        self.start = self.last = time.monotonic()
        self.tqdm = None
        if enabled:
            try:
                from tqdm import tqdm
                self.tqdm = tqdm(total=self.total, desc=label, file=self.stream)
            except ImportError:
                pass
        self.done = 0

    def update(self, done: int) -> None:
        if not self.enabled:
            return
        if self.tqdm is not None:
            self.tqdm.update(done - self.done)
        self.done = done
        now = time.monotonic()
        if self.tqdm is None and (now - self.last >= 0.1 or done == self.total):
            self.last = now
            rate = done / max(now - self.start, 1e-9)
            left = (self.total - done) / rate if rate else 0.0
            width = 30
            fill = width * done // max(self.total, 1)
            self.stream.write(f"\r{self.label} [{'#' * fill}{'.' * (width - fill)}] "
                              f"{done}/{self.total}  {rate:.2f}/s  {left:.0f} s left ")
            self.stream.flush()

    def close(self) -> None:
        if not self.enabled:
            return
        if self.tqdm is not None:
            self.tqdm.close()
        else:
            self.stream.write("\n")
            self.stream.flush()
