"""``spikevec run``: run a compiled program image on input spikes, on any backend.

Usage: ``spikevec run IMAGE --input FILE [--backend iss|rtl|board] [--steps N]
[--output OUT.npz] [--json] [--vcd PATH | --fst PATH] [--trace PATH] [--port PORT]
[--baud B]``. IMAGE is a ``.svimg`` file (``spikevec compile``); FILE a ``.npy`` array of
0/1 spikes [T, C] or [B, T, C], a ``.npz`` with one such array per spike input (by
input name; a single array is taken for a single input), or NIR data (``.h5``,
``.hdf5``, ``.nird`` from ``nir.write_data``: events or boolean grids per input node,
see :mod:`spikevec.sw.runtime.nir_data`). The run streams the spikes
through the core's rings (trials of any length). Prints timesteps run, the core's cycle
count (and compute cycles when known), spike counts per population and where outputs
went; ``--output`` saves every recorded trace (``pop.var``) and readout
(``readout.name``) plus ``cycles`` to an ``.npz``. ``--vcd``/``--fst`` write the RTL
simulation's waveforms; ``--trace`` writes the golden model's write-back trace as text
(one line per architectural write: instruction count, pc, what was written).
Exit status 0 on success, 1 for unusable input or a failed run.
"""
from __future__ import annotations

import json
import os
import sys

import numpy as np


def register(subparsers) -> None:
    p = subparsers.add_parser("run", help="run a program image on input spikes "
                              "(golden model, RTL or board)",
                              description=__doc__.split("\n\n")[1])
    p.add_argument("image", help="a .svimg program image")
    p.add_argument("--input", required=False, metavar="FILE",
                   help=".npy [T, C] / [B, T, C] spikes, .npz by input name, or NIR "
                   "event data (.h5/.hdf5/.nird from nir.write_data)")
    p.add_argument("--backend", choices=("iss", "rtl", "board"), default="iss")
    p.add_argument("--steps", type=int, metavar="N", help="timesteps to run (default: "
                   "the input's length; required for an image without inputs)")
    p.add_argument("--output", metavar="OUT.npz", help="save traces and readouts here")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    waves = p.add_mutually_exclusive_group()
    waves.add_argument("--vcd", metavar="PATH", help="RTL waveforms as VCD")
    waves.add_argument("--fst", metavar="PATH", help="RTL waveforms as FST")
    p.add_argument("--trace", metavar="PATH", help="golden-model write-back trace (text)")
    p.add_argument("--port", help="serial port or pyserial URL of the board")
    p.add_argument("--baud", type=int, default=115200, help="board baud rate")
    p.set_defaults(func=run_command)


def load_inputs(path: str, image):
    """Spikes from ``.npy``/``.npz`` as the runtime takes them (array or dict)."""
    if path is None:
        return None
    if not os.path.exists(path):
        raise FileNotFoundError(f"Input file {path!r} does not exist; give a .npy or .npz "
                                "file of 0/1 spikes [T, C] or [B, T, C], or a NIR data "
                                "file.")
    if path.endswith(".npy"):
        return np.load(path)
    from ..runtime.nir_data import NIR_DATA_SUFFIXES, spikes_from_nir_data
    if path.endswith(NIR_DATA_SUFFIXES):
        return spikes_from_nir_data(path, image)
    if path.endswith(".npz"):
        with np.load(path) as z:
            arrays = {k: z[k] for k in z.files}
        names = [s["name"] for s in image.io["inputs"]]
        if len(arrays) == 1 and len(names) == 1:
            return next(iter(arrays.values()))
        return arrays
    raise ValueError(f"Cannot read spikes from {path!r}; give a .npy array, an .npz "
                     "with one array per spike input, or NIR data (.h5, .hdf5, .nird "
                     "written by nir.write_data).")


def summary(result, image) -> dict:
    """The report: timesteps, cycles, spike counts per population, readouts."""
    counts = {p: int(np.asarray(result.traces[(p, v)]).sum())
              for p, v in result.traces if v == "spikes"}
    known = [c for c in result.compute_cycles if c is not None]
    return {"image": image.name, "backend": result.backend, "config": image.config.name,
            "samples": len(result.cycles), "timesteps": result.T,
            "cycles": result.cycles, "instret": result.instret,
            "compute_cycles": result.compute_cycles if len(known) == len(result.cycles)
            else None,
            "cycles_per_step": result.cycles_per_step, "spike_counts": counts,
            "wall_seconds": round(result.wall_seconds, 3)}


def save_npz(path: str, result) -> None:
    arrays = {f"{p}.{v}": np.asarray(a) for (p, v), a in result.traces.items()}
    arrays.update({f"readout.{k}": np.asarray(a) for k, a in result.readouts.items()})
    arrays["cycles"] = np.asarray(result.cycles, np.int64)
    np.savez_compressed(path, **arrays)


def run_command(args) -> int:
    try:
        return _run(args)
    except RuntimeError as e:          # the program stopped abnormally, harness failures
        print(f"spikevec run: error: {e}", file=sys.stderr)
        return 1


def _run(args) -> int:
    from ..compiler.image import Image
    from ..runtime import open_device
    image = Image.load(args.image)
    inputs = load_inputs(args.input, image)
    if inputs is None and image.io["inputs"]:
        raise ValueError(f"The image has spike inputs {[s['name'] for s in image.io['inputs']]}; "
                         "give them with --input FILE.")
    waves = "vcd" if args.vcd else "fst" if args.fst else None
    if args.trace and args.backend != "iss":
        raise ValueError("--trace records the golden model; use --backend iss, or "
                         "--vcd/--fst for RTL waveforms.")
    with open_device(args.backend, image.config, port=args.port, baud=args.baud,
                     waves=waves, wave_path=args.vcd or args.fst,
                     trace=bool(args.trace)) as dev:
        dev.load(image)
        result = dev.run(inputs, steps=args.steps, progress=not args.json)
        trace = getattr(dev.backend, "trace", None)
    report = summary(result, image)
    if args.output:
        save_npz(args.output, result)
        report["output"] = args.output
    if waves:
        report["waves"] = args.vcd or args.fst
    if args.trace:
        with open(args.trace, "w") as f:
            for rec in trace:
                f.write(f"{rec.instret:>10} {rec.pc:#07x}  {rec.describe()}\n")
        report["trace"] = args.trace
        report["trace_records"] = len(trace)
    if args.json:
        json.dump(report, sys.stdout)
        sys.stdout.write("\n")
        return 0
    print(f"{report['samples']} sample(s) x {report['timesteps']} timesteps on the "
          f"{report['backend']} backend ({report['config']}), {report['wall_seconds']} s")
    print(f"cycles: {report['cycles']} ({report['cycles_per_step']:.1f} per step)"
          + (f"; compute cycles: {report['compute_cycles']}"
             if report["compute_cycles"] is not None else ""))
    for pop, n in report["spike_counts"].items():
        print(f"spikes {pop}: {n}")
    for key in ("output", "waves", "trace"):
        if key in report:
            print(f"{key} written to {report[key]}")
    return 0
