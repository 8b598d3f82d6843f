"""The ``spikevec`` command line. Each subcommand lives in ``spikevec.sw.commands.<name>``
and provides ``register(subparsers)``, which adds its parser with ``func`` set to a
callable taking the parsed arguments and returning the exit status."""
from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS = ("asm", "disasm", "iss", "sim", "isadoc", "demo", "compile", "inspect", "run",
            "build", "program", "bench")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="spikevec", description="Toolchain for the spikevec SNN vector processor.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"spikevec.sw.commands.{name}")
        except ModuleNotFoundError as e:
            if e.name != f"spikevec.sw.commands.{name}":
                raise
            continue
        module.register(sub)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except (ValueError, OSError) as e:
        # Library code raises ValueError/OSError subclasses with full sentences.
        print(f"spikevec {args.command}: error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
