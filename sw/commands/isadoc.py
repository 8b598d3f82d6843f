"""``spikevec isadoc``: write or check the generated ISA reference (``docs/isa.md``).

The document is rendered from the instruction table by
:mod:`spikevec.hw.isa.reference`; this command is a thin wrapper around it, equivalent
to ``python -m spikevec.hw.isa.reference``.
"""
from __future__ import annotations

from ...hw.isa import reference


def register(subparsers) -> None:
    """Add the ``isadoc`` subcommand to the ``spikevec`` command line."""
    parser = subparsers.add_parser(
        "isadoc", help="generate the ISA reference Markdown from the instruction table",
        description="Write docs/isa.md from hw/isa, or with --check verify that it is "
                    "current (exit status 1 if it is not).")
    reference.add_arguments(parser)
    parser.set_defaults(func=run)


def run(args) -> int:
    """Write or check the reference; returns the exit status."""
    return reference.run(check=args.check, output=args.output)
