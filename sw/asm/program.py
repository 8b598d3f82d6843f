"""The assembled program: what the assembler produces and the simulators load.

A :class:`Program` holds initial contents of the core's memories plus symbols and a
source map. It is plain data; :meth:`save`/:meth:`load` use a JSON file (``.svp``) so
programs can be passed between commands (``spikevec asm`` then ``spikevec iss``).
"""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field

from ...hw.config import CoreConfig

__all__ = ["Program", "FORMAT_VERSION"]

FORMAT_VERSION = 1


@dataclass
class Program:
    """Initial memory contents of one program.

    * ``text``: instruction words, loaded at instruction address 0;
    * ``data``: scalar data memory bytes from address 0;
    * ``vdata``: vector memory bytes from vector address 0;
    * ``symbols``: label -> ``(section, address)``;
    * ``lines``: instruction address -> ``(file, line)`` of the source, for traces;
    * ``config``: the core configuration the program was assembled for.
    """
    config: CoreConfig
    text: list = field(default_factory=list)
    data: bytes = b""
    vdata: bytes = b""
    symbols: dict = field(default_factory=dict)
    lines: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        b64 = lambda b: base64.b64encode(bytes(b)).decode()
        return {"format": "spikevec-program", "version": FORMAT_VERSION,
                "config": self.config.to_dict(), "text": list(self.text),
                "data": b64(self.data), "vdata": b64(self.vdata),
                "symbols": {k: list(v) for k, v in self.symbols.items()},
                "lines": {str(k): list(v) for k, v in self.lines.items()}}

    @classmethod
    def from_dict(cls, d: dict) -> "Program":
        if d.get("format") != "spikevec-program":
            raise ValueError("This file is not a spikevec program (no 'format': "
                             "'spikevec-program' entry); assemble it with 'spikevec asm'.")
        if d.get("version") != FORMAT_VERSION:
            raise ValueError(f"Program file version {d.get('version')!r} is not supported "
                             f"(this spikevec reads version {FORMAT_VERSION}); reassemble it.")
        return cls(config=CoreConfig.from_dict(d["config"]), text=list(d["text"]),
                   data=base64.b64decode(d["data"]), vdata=base64.b64decode(d["vdata"]),
                   symbols={k: tuple(v) for k, v in d["symbols"].items()},
                   lines={int(k): tuple(v) for k, v in d["lines"].items()})

    def save(self, path) -> None:
        with open(path, "w") as f:
            json.dump(self.to_dict(), f)

    @classmethod
    def load(cls, path) -> "Program":
        with open(path) as f:
            return cls.from_dict(json.load(f))
