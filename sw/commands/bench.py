"""``spikevec bench``: measured speed against FeNN, Loihi and the CPU.

Usage: ``spikevec bench [NAME ...] [--quick] [--json] [--out DIR] [--build-report PATH]
[--no-rtl] [--steps N] [--phase-steps N] [--markdown PATH] [--plot PATH]
[--render JSON] [--device 25F|85F]``.

Runs the suites NAME (default all: shd, micro, cpu, tools, rounding; see
:mod:`spikevec.sw.bench`; ``cores``, open RV32I cores built with the same ECP5 flow on
the ``--device``, runs only when named and needs ``pip install 'spikevec[compare]'``),
prints a table (``--json``: the result JSON instead) and
writes ``bench.json`` and ``phases.png`` into ``--out`` (default
``~/.cache/spikevec/bench``). ``--quick`` is the CI size (50 SHD steps, a short RTL run).
The board's fmax and build time come from the ULX3S-85F build report (``--build-report``;
the build itself is never started here). The full run is ``spikevec bench``;
``--render`` re-draws the table, Markdown and plot of a saved ``bench.json``.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

DEFAULT_OUT = "~/.cache/spikevec/bench"


def register(subparsers) -> None:
    from ..bench import OPTIONAL_SUITES, SUITES
    p = subparsers.add_parser("bench", help="measured speed against FeNN, Loihi and the CPU",
                              description=__doc__.split("\n\n")[1])
    p.add_argument("names", nargs="*", metavar="NAME",
                   help=f"suites to run (default all): {', '.join(SUITES)}; only when "
                        f"named: {', '.join(OPTIONAL_SUITES)}")
    p.add_argument("--quick", action="store_true",
                   help="reduced CI run: 50 SHD timesteps, short RTL and tool runs")
    p.add_argument("--json", action="store_true", help="print the result JSON, not a table")
    p.add_argument("--out", default=DEFAULT_OUT,
                   help=f"folder for bench.json and phases.png (default {DEFAULT_OUT})")
    p.add_argument("--build-report", metavar="PATH",
                   help="JSON report of 'spikevec build --board ulx3s-85f --json' (default: "
                        "its default output location)")
    p.add_argument("--no-rtl", action="store_true", help="skip the RTL simulation runs")
    p.add_argument("--steps", type=int, help="SHD timesteps (default 1170; 50 with --quick)")
    p.add_argument("--phase-steps", type=int,
                   help="timesteps of the per-pc phase split (default: all)")
    p.add_argument("--markdown", metavar="PATH", help="also write the README results snippet")
    p.add_argument("--plot", metavar="PATH", help="also save the phase plot here")
    p.add_argument("--render", metavar="JSON",
                   help="measure nothing: print and write the table, Markdown and plot of "
                        "an earlier bench.json")
    p.add_argument("--device", choices=("25F", "85F"), default="25F",
                   help="ECP5 device (LFE5U-25F or -85F, speed 6) of the cores suite "
                        "(default 25F)")
    p.set_defaults(func=run_command)


def run_command(args) -> int:
    from ..bench import Options, run
    from ..bench.report import markdown, plot_phases, table, validate
    for what in ("steps", "phase_steps"):
        v = getattr(args, what)
        if v is not None and v <= 0:
            raise ValueError(f"--{what.replace('_', '-')} {v} is not a positive number of "
                             "timesteps; give at least 1.")
    out = Path(args.out).expanduser()
    out.mkdir(parents=True, exist_ok=True)
    if args.render:
        res = json.loads(Path(args.render).read_text())
        if res.get("schema") != "spikevec-bench":
            raise ValueError(f"{args.render} is not a spikevec bench result (no 'schema': "
                             "'spikevec-bench'); give a bench.json written by spikevec bench.")
    else:
        opt = Options(quick=args.quick, steps=args.steps, phase_steps=args.phase_steps,
                      rtl=not args.no_rtl, build_report=args.build_report,
                      device=args.device)
        res = run(args.names, opt, progress=lambda m: print(m, file=sys.stderr, flush=True))
        (out / "bench.json").write_text(json.dumps(res, indent=1))
    problems = validate(res)
    plots = [Path(p) for p in (args.plot,) if p]
    if "shd" in res["suites"]:
        plots.append(out / "phases.png")
        for p in plots:
            plot_phases(res, p)
    if args.markdown:
        command = "spikevec bench" + (" --quick" if res["quick"] else "") + \
            "".join(f" {n}" for n in args.names)
        if list(res["suites"]) == ["cores"]:
            from ..bench.open_cores import markdown as cores_markdown
            command += f" --device {res['suites']['cores']['device'].rsplit('-', 1)[1]}"
            Path(args.markdown).write_text(cores_markdown(res["suites"]["cores"], res["date"],
                                                          res["machine"], command))
        else:
            Path(args.markdown).write_text(markdown(res, command))
    if args.json:
        print(json.dumps(res, indent=1))
    else:
        print(table(res))
        print(f"wrote {out / 'bench.json'}" + (f" and {out / 'phases.png'}"
                                                if "shd" in res["suites"] else ""))
    for p in problems:
        print(f"spikevec bench: inconsistent result: {p}", file=sys.stderr)
    return 1 if problems else 0
