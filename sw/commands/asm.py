"""``spikevec asm IN.s [-o OUT.svp] [--config PRESET]``: assemble a source file.

Writes the :class:`Program` with :meth:`Program.save` (default: the input name with the
suffix ``.svp``) and prints a one-line summary. Assembly errors are printed one per line
as ``file:line:col: error: sentence`` and the exit status is 1.
"""
from __future__ import annotations

import sys
from pathlib import Path

from ...hw.config import PRESETS, preset
from ..asm import AsmError, assemble


def register(subparsers) -> None:
    p = subparsers.add_parser("asm", help="assemble a .s file into a program (.svp)",
                              description=__doc__.split("\n\n")[0])
    p.add_argument("source", help="assembly source file")
    p.add_argument("-o", "--output", help="output program file (default: SOURCE.svp)")
    p.add_argument("--config", default="default", choices=list(PRESETS),
                   help="core configuration preset (default: %(default)s)")
    p.set_defaults(func=run)


def run(args) -> int:
    config = preset(args.config)
    source = Path(args.source)
    text = source.read_text()
    try:
        program = assemble(text, config, filename=str(source))
    except AsmError as e:
        for line in e.errors:
            print(line, file=sys.stderr)
        return 1
    output = Path(args.output) if args.output else source.with_suffix(".svp")
    program.save(output)
    print(f"{source}: {len(program.text)} instructions, {len(program.data)} bytes of data, "
          f"{len(program.vdata)} bytes of vector data, {len(program.symbols)} labels, "
          f"for core '{config.name}' -> {output}")
    return 0
