"""``spikevec compile``: compile a network to a program image.

Usage: ``spikevec compile MODEL -o OUT.svimg [--config PRESET] [--calibrate FILE.npy]
[--weights 8|16] [--format POP.VAR=sI.F ...] [--dt DT] [--rounding MODE]
[--fast-decay]``. MODEL is a
``.nir`` file (``--dt`` gives the timestep if the graph has none) or a Python file that
defines ``network`` (a :class:`spikevec.sw.compiler.Network`). ``--calibrate`` is a
``.npy`` array of sample input spikes [T, C] or [B, T, C] for the format calibration.
Prints the format report and a summary; exit status 0 on success, 1 on unusable input.
"""
from __future__ import annotations

import os
import runpy

from ...hw.config import PRESETS


def register(subparsers) -> None:
    p = subparsers.add_parser("compile", help="compile a network (.nir or .py) to an image",
                              description=__doc__.split("\n\n")[1])
    p.add_argument("model", help="a .nir file or a .py file defining `network`")
    p.add_argument("-o", "--output", required=True, help="the image file to write (.svimg)")
    p.add_argument("--config", choices=sorted(PRESETS), default="default")
    p.add_argument("--calibrate", metavar="FILE.npy", default=None)
    p.add_argument("--weights", type=int, choices=(8, 16), default=8)
    p.add_argument("--format", action="append", default=[], metavar="POP.VAR=sI.F",
                   help="override a variable's format (repeatable)")
    p.add_argument("--dt", type=float, default=None, help="timestep for NIR graphs")
    p.add_argument("--rounding", choices=("stochastic", "nearest", "floor"), default=None)
    p.add_argument("--fast-decay", action="store_true",
                   help="one vmul per decay (16-bit constant) instead of the precise "
                        "two-step decay: 2 instructions fewer per decay and chunk")
    p.set_defaults(func=run_command)


def load_model(path: str, dt: float | None = None):
    """The :class:`Network` in a .nir file or a Python file defining ``network``."""
    from ..compiler import Network, from_nir
    if not os.path.exists(path):
        raise FileNotFoundError(f"Model file {path!r} does not exist; give a .nir file or a "
                                "Python file defining `network`.")
    if path.endswith(".nir"):
        return from_nir(path, dt=dt)
    if path.endswith(".py"):
        net = runpy.run_path(path).get("network")
        if not isinstance(net, Network):
            raise ValueError(f"{path!r} does not define a variable `network` holding a "
                             "spikevec Network; add `network = Network(...)` to it.")
        return net
    raise ValueError(f"Cannot tell what {path!r} is; give a .nir file or a .py file.")


def run_command(args) -> int:
    import numpy as np

    from ..compiler.build import compile_network
    net = load_model(args.model, args.dt)
    formats = {}
    for item in args.format:
        if "=" not in item:
            raise ValueError(f"--format {item!r} is not POP.VAR=sI.F; write e.g. "
                             "--format hid.v=s5.10.")
        k, v = item.split("=", 1)
        formats[k.strip()] = v.strip()
    calib = np.load(args.calibrate) if args.calibrate else None
    image = compile_network(net, args.config, formats=formats, calibrate=calib,
                            weights=args.weights, rounding=args.rounding,
                            precise_decay=not args.fast_decay)
    image.save(args.output)
    print(image.report)
    print(f"wrote {args.output}: {len(image.program.text)} instructions, estimated "
          f"{image.stats['estimated_cycles']:.0f} cycles per timestep")
    return 0
