"""``spikevec inspect``: summarise a program image.

Usage: ``spikevec inspect IMAGE [--json]``. Prints the target configuration, code and
memory sizes, the memory map, the fixed-point formats, the instruction count, the
estimated cycles per timestep and the labels a runtime needs (``--json``: the image's
descriptors as JSON, without the program words).
"""
from __future__ import annotations

import json


def register(subparsers) -> None:
    p = subparsers.add_parser("inspect", help="summarise a program image (.svimg)",
                              description=__doc__.split("\n\n")[1])
    p.add_argument("image", help="a .svimg file written by 'spikevec compile'")
    p.add_argument("--json", action="store_true", help="print the descriptors as JSON")
    p.set_defaults(func=run_command)


def run_command(args) -> int:
    from ..compiler.image import Image
    image = Image.load(args.image)
    if args.json:
        d = image.to_dict()
        d.pop("program")
        print(json.dumps(d, indent=1))
    else:
        print(image.summary())
    return 0
