"""``spikevec iss``: run a program on the golden model and print its final state.

Usage: ``spikevec iss PROGRAM [--json] [--config PRESET] [--max-instructions N]
[--trace]``. PROGRAM is a ``.svp`` program file (``Program.save``) or an assembly ``.s``
file, assembled for ``--config`` (default: the preset named by the program, else
``default``). Exit status: 0 when the program ends with ``ecall``, 3 for any other stop
(ebreak, fault, instruction limit), 1 for unusable input.
"""
from __future__ import annotations

import json
import os

from ...hw.config import PRESETS, preset

DEFAULT_MAX_INSTRUCTIONS = 100_000_000
EXIT_NOT_ECALL = 3


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "iss", help="run a program on the golden model (instruction-set simulator)",
        description=__doc__.split("\n\n")[1])
    p.add_argument("program", help="a .svp program file or a .s assembly file")
    p.add_argument("--json", action="store_true",
                   help="print the final state as one JSON object")
    p.add_argument("--config", choices=sorted(PRESETS), default=None,
                   help="core configuration preset (default: the program's own, else "
                        "'default')")
    p.add_argument("--max-instructions", type=int, default=DEFAULT_MAX_INSTRUCTIONS,
                   metavar="N", help="stop after N instructions (default %(default)s; "
                                     "0 means no limit)")
    p.add_argument("--trace", action="store_true",
                   help="print the write-back trace (in the JSON as 'trace')")
    p.set_defaults(func=run_command)


def load_any(path: str, config_name: str | None):
    """Return ``(program, config)`` for a ``.svp`` or ``.s`` file."""
    from ..asm.program import Program
    if not os.path.exists(path):
        raise FileNotFoundError(f"Program file {path!r} does not exist; give the path of a "
                                f".svp or .s file.")
    if path.endswith(".s") or path.endswith(".S"):
        try:
            from ..asm import assemble       # lazily: only needed for assembly input
        except ImportError as e:
            raise ValueError(f"Cannot assemble {path!r}: the assembler is not available "
                             f"({e}); run a .svp program file instead.") from None
        config = preset(config_name or "default")
        with open(path) as f:
            return assemble(f.read(), config, path), config
    if not path.endswith(".svp"):
        raise ValueError(f"Cannot tell what {path!r} is; give a .svp program file or a .s "
                         f"assembly file.")
    program = Program.load(path)
    if config_name is None:
        config = program.config
    else:
        config = preset(config_name)
        config.check_compatible(program.config, "program")
    return program, config


def run_command(args) -> int:
    from ...sim.iss import Machine
    program, config = load_any(args.program, args.config)
    machine = Machine(config)
    machine.load_program(program)
    limit = args.max_instructions or None
    result = machine.run(max_instructions=limit, trace=args.trace)
    if args.json:
        state = machine.state_dict()
        if args.trace:
            state["trace"] = [rec._asdict() for rec in result.trace]
        print(json.dumps(state))
    else:
        if args.trace:
            for rec in result.trace:
                print(f"{rec.instret:>8} 0x{rec.pc:08x}  {rec.describe()}")
        print(machine.format_state())
    return 0 if result.ok else EXIT_NOT_ECALL
