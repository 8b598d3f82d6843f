"""``spikevec build``: make a bitstream for a board with the open FPGA flow from PyPI.

Usage: ``spikevec build --board NAME [--lanes N] [--json] [--out DIR] [--seed N]
[--router router1|router2] [--placer heap|static] [--pnr-target MHZ]``, or
``spikevec build --list``. Runs yowasp Yosys, nextpnr and the packer (no system tools;
install the ``boards`` extra), shows progress, and writes the bitstream and
``report.spikevec.json`` (resources against the device's totals, achieved fmax of the
core clock, requested clock, timing met) into ``--out`` (default ``build/NAME``).
Exit status: 0 when built and timing is met at the board's requested clock, 3 when
built but timing is not met (the bitstream is still written), 1 when the design does
not fit or a tool fails.
"""
from __future__ import annotations

import json
import os
import sys

EXIT_TIMING_NOT_MET = 3


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "build", help="build a board bitstream with the open flow (yowasp tools)",
        description=__doc__.split("\n\n")[1])
    p.add_argument("--board", help="board name (see --list)")
    p.add_argument("--lanes", type=int, default=None, metavar="N",
                   help="vector lanes (8, 16 or 32; default: the board's configuration)")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="output directory (default build/BOARD)")
    p.add_argument("--seed", type=int, default=1, help="nextpnr placement seed")
    from ...hw.boards.flow import PLACERS, ROUTERS
    p.add_argument("--router", choices=ROUTERS, default=None,
                   help="nextpnr router: router1 (higher fmax) or router2 (about twice "
                   "as fast; routes the 32-lane 85F design). Default: router1 up to 16 "
                   "lanes, router2 for 32")
    p.add_argument("--placer", choices=PLACERS, default=None,
                   help="nextpnr placer: heap or static (spreads cells by density, for "
                   "congested designs). Default: heap up to 16 lanes, static for 32")
    p.add_argument("--pnr-target", type=float, default=None, metavar="MHZ",
                   help="core clock nextpnr places and routes for (default: the board's "
                   "requested clock); the bitstream still runs at the requested clock")
    p.add_argument("--json", action="store_true",
                   help="print the report as JSON on stdout (progress goes to stderr)")
    p.add_argument("--list", action="store_true", help="list the boards and exit")
    p.set_defaults(func=run_command)


def list_boards() -> str:
    from ...hw.boards.catalog import BOARDS, board_config
    lines = [f"{'board':16s} {'device':14s} {'clock':>8s} {'baud':>9s} lanes  UART"]
    for b in BOARDS.values():
        config = board_config(b)
        lines.append(f"{b.name:16s} {b.device:14s} {b.clock_hz / 1e6:6g}MHz "
                     f"{b.baud:9d} {config.lanes:5d}  {b.uart_note}")
    return "\n".join(lines)


def run_command(args) -> int:
    if args.list:
        print(list_boards())
        return 0
    if not args.board:
        raise ValueError("No board given; name one with --board NAME (spikevec build "
                         "--list shows them).")
    from ...hw.boards.catalog import board, board_config
    from ...hw.boards.flow import build_board
    b = board(args.board)
    config = board_config(b, args.lanes)
    out = args.out or os.path.join("build", b.name)
    stream = sys.stderr if args.json else sys.stdout

    def progress(message):
        print(message, file=stream, flush=True)

    try:
        report = build_board(b, config, out, seed=args.seed, router=args.router,
                             placer=args.placer, pnr_target_mhz=args.pnr_target,
                             progress=progress)
    except ImportError as error:
        raise OSError(str(error)) from None
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print(report.summary())
    if not report.timing_met:
        print(f"spikevec build: timing NOT met: the core clock reaches "
              f"{report.fmax_mhz:.1f} MHz, below the requested {report.requested_mhz:g} "
              f"MHz; the bitstream may not work reliably.", file=sys.stderr)
        return EXIT_TIMING_NOT_MET
    return 0


def main(argv=None) -> int:
    """``python -m spikevec.sw.commands.build ...``: the same command without the
    ``spikevec`` front end (CI uses it)."""
    import argparse
    parser = argparse.ArgumentParser(prog="spikevec-build")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["build", *(sys.argv[1:] if argv is None else argv)])
    try:
        return args.func(args)
    except (ValueError, OSError) as error:
        print(f"spikevec build: error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
