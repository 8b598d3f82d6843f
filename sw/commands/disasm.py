"""``spikevec disasm FILE [--config PRESET]``: list a program as assembly text.

``FILE`` is a program saved by ``spikevec asm`` (``.svp``; it names its own core
configuration) or a raw binary of little-endian 32-bit instruction words (``.bin``,
disassembled for ``--config``). The listing re-assembles to the same program.
"""
from __future__ import annotations

from pathlib import Path

from ...hw.config import PRESETS, preset
from ..asm import Program, disassemble


def register(subparsers) -> None:
    p = subparsers.add_parser("disasm", help="disassemble a program (.svp) or raw .bin",
                              description=__doc__.split("\n\n")[0])
    p.add_argument("file", help="program (.svp) or raw little-endian words (.bin)")
    p.add_argument("--config", default="default", choices=list(PRESETS),
                   help="core configuration for raw binaries (default: %(default)s)")
    p.set_defaults(func=run)


def load_any(path: Path, config_name: str) -> Program:
    """Load ``path`` as a saved program, or as raw words if it is not JSON."""
    raw = path.read_bytes()
    if path.suffix != ".bin" and raw.lstrip().startswith(b"{"):
        return Program.load(path)
    if len(raw) % 4:
        raise ValueError(f"{path} holds {len(raw)} bytes, which is not a whole number of "
                         "32-bit words; a raw binary must contain little-endian words only.")
    words = [int.from_bytes(raw[i:i + 4], "little") for i in range(0, len(raw), 4)]
    return Program(config=preset(config_name), text=words)


def run(args) -> int:
    print(disassemble(load_any(Path(args.file), args.config)), end="")
    return 0
