"""spikevec.sw.bench: the benchmark suite behind ``spikevec bench``.

Suites (:data:`SUITES`, run by :func:`run`):

* ``shd``: the SHD-shaped classifier (:mod:`.shd`): cycles per timestep and their split
  by phase, the time per timestep and per sample implied by the fmax of the ULX3S-85F
  build report, FeNN/Loihi/GPU figures as labelled citations;
* ``micro``: dense propagation and neuron-update microbenchmarks (:mod:`.micro`) against
  their physical limits;
* ``cpu``: the same SHD-shaped model in float on this machine's CPU
  (:mod:`.cpu_reference`);
* ``tools``: compile time, golden-model and RTL simulation speed, bitstream build time
  (:mod:`.tools`);
* ``rounding``: ``vmul`` rounding error per mode (:func:`.micro.rounding`).

Optional suites (:data:`OPTIONAL_SUITES`), run only when named:

* ``cores``: open RV32I cores (PicoRV32, VexRiscv, SERV) and spikevec's scalar core
  built with the same ECP5 flow (:mod:`.open_cores`; needs ``spikevec[compare]`` and
  minutes of builds).

The result is one JSON-able dict (schema ``spikevec-bench`` version
:data:`SCHEMA_VERSION`, see :mod:`.report`). Every number in it is measured in that run,
except the entries under ``citations`` and ``targets``, which say so.
"""
from __future__ import annotations

import datetime
import time

__all__ = ["SUITES", "OPTIONAL_SUITES", "SCHEMA_VERSION", "CITATIONS", "TARGETS", "Options", "run",
           "board_for_lanes"]

SCHEMA_VERSION = 1

#: Literature figures from shared/reference/fenn.md (citations, not measurements).
CITATIONS = {
    "source": "FeNN (Aizaz, Knight, Nowotny; arXiv 2506.11760) as summarised in "
              "shared/reference/fenn.md; SHD 700-256-20, 1170 steps",
    "FeNN (1 core, 164 MHz)": {"cycles_per_step": 1443, "us_per_step": 10.8,
                               "ms_per_sample": 12.6},
    "Loihi": {"us_per_step": 16.8, "ms_per_sample": 19.6},
    "Jetson Orin Nano GPU": {"us_per_step": 26.3, "ms_per_sample": 30.7},
    "Jetson Orin Nano CPU": {"us_per_step": 42.1, "ms_per_sample": 49.2},
    "Loihi 2 (about)": {"us_per_step": 2.7},
}
#: The issue's targets for the SHD-shaped model.
TARGETS = {"cycles_per_step": 300, "us_per_step_ulx3s_85f": 3.0}


class Options:
    """Run options: ``quick`` (CI size), ``steps`` (SHD timesteps; default 1170, or 50
    quick), ``phase_steps`` (steps of the per-pc phase split; default all),
    ``rtl`` (False: no RTL simulation at all), ``rtl_steps`` (steps of the SHD model's
    RTL check; default 50, or 10 quick), ``build_report`` (path of the board build report),
    ``rounding_products`` and ``device`` (``25F`` or ``85F``: the ECP5 device of the
    ``cores`` suite). ``cache`` holds what suites of one run share (the prepared
    SHD model, the board report, the compile time)."""

    def __init__(self, quick=False, steps=None, phase_steps=None, rtl=True, rtl_steps=None,
                 build_report=None, rounding_products=None, device="25F"):
        self.quick = quick
        self.steps = steps or (50 if quick else 1170)
        self.phase_steps = phase_steps
        self.rtl = rtl
        self.rtl_steps = (rtl_steps if rtl_steps is not None else (10 if quick else 50)) \
            if rtl else 0
        self.build_report = build_report
        self.rounding_products = rounding_products or (10_000 if quick else 100_000)
        self.device = device
        self.cache = {}

    def shd_model(self):
        """The prepared SHD model (input and calibrated network), made once per run."""
        if "model" not in self.cache:
            from .shd import prepare
            self.cache["model"] = prepare(self.steps)
        return self.cache["model"]

    def board(self):
        if "board" not in self.cache:
            from .tools import board_report
            self.cache["board"] = board_report(self.build_report)
        return self.cache["board"]


def board_for_lanes(board: dict, lanes: int) -> dict:
    """``board`` (a :func:`~.tools.board_report`) if its core has ``lanes`` lanes (or does
    not say), else an unavailable report whose reason names both lane counts: an fmax of
    another core must not be used for this one's time per step."""
    if not board["available"] or board.get("lanes") in (None, lanes):
        return board
    return {"available": False, "reason": (
        f"the build report {board['path']} is for a core with {board['lanes']} lanes but "
        f"the SHD model runs on {lanes} lanes; build that core with 'spikevec build --board "
        f"ulx3s-85f --json' and give its report with --build-report")}


def _shd(opt: Options) -> dict:
    from .shd import measure
    out, _ = measure(opt.shd_model(), opt.phase_steps, opt.rtl_steps)
    opt.cache["compile_seconds"] = out["compile_seconds"]
    cps = out["cycles_per_step"]
    board = opt.board()
    from ...hw.config import preset
    config = preset(out["config"])
    nominal = config.clock_hz
    board = board_for_lanes(board, config.lanes)
    timing = {"nominal_clock_hz": nominal,
              "us_per_step_at_nominal_clock": cps / nominal * 1e6,
              "note_nominal": "at the configuration's requested clock, not a measured fmax"}
    if board["available"]:
        f = board["fmax_hz"]
        timing.update({"fmax_hz": f, "fmax_source": board["path"],
                       "us_per_step": cps / f * 1e6,
                       "ms_per_sample_1170": cps * 1170 / f * 1e3,
                       "meets_time_target": cps / f * 1e6 <= TARGETS["us_per_step_ulx3s_85f"]})
    else:
        timing.update({"fmax_hz": None, "fmax_source": board["reason"],
                       "us_per_step": None, "ms_per_sample_1170": None,
                       "meets_time_target": None})
    out["timing"] = timing
    out["targets"] = dict(TARGETS)
    out["meets_cycle_target"] = cps <= TARGETS["cycles_per_step"]
    out["citations"] = CITATIONS
    out["speedup_vs_fenn_cycles"] = CITATIONS["FeNN (1 core, 164 MHz)"]["cycles_per_step"] / cps
    return out


def _micro(opt: Options) -> dict:
    from .micro import measure
    return measure(opt.quick)


def _cpu(opt: Options) -> dict:
    from .cpu_reference import measure
    m = opt.shd_model()
    return measure(m["net"], m["x"], repeats=1 if opt.quick else 3,
                   batch=4 if opt.quick else 16)


def _tools(opt: Options) -> dict:
    from ...hw.config import preset
    from ..compiler import compile_network
    from .tools import iss_speed, rtl_speed
    m = opt.shd_model()
    if "compile_seconds" not in opt.cache:
        t0 = time.perf_counter()
        compile_network(m["net"], calibrate=m["x"])
        opt.cache["compile_seconds"] = time.perf_counter() - t0
    out = {"compile_seconds": opt.cache["compile_seconds"], "compile_steps": opt.steps,
           "iss": iss_speed(preset("default"), 100_000 if opt.quick else 1_000_000,
                            20_000 if opt.quick else 200_000)}
    if opt.rtl:
        try:
            out["rtl"] = dict(rtl_speed(preset("default"), 5_000 if opt.quick else 50_000),
                              available=True)
        except Exception as e:                  # report, never hide, an RTL failure
            from .shd import failure
            out["rtl"] = {"available": False, "reason": failure("RTL run", e)}
    else:
        out["rtl"] = {"available": False, "reason": "not requested (--no-rtl)"}
    board = opt.board()
    out["bitstream"] = ({"available": True, "build_seconds": board["build_seconds"],
                         "fmax_hz": board["fmax_hz"], "report": board["path"]}
                        if board["available"] else dict(board))
    return out


def _rounding(opt: Options) -> dict:
    from .micro import rounding
    return rounding(opt.rounding_products)


#: name -> (function(Options) -> dict, one-line description)
SUITES = {
    "shd": (_shd, "SHD-shaped 700-256-20 classifier: cycles per step, phases, time"),
    "micro": (_micro, "propagation and neuron-update microbenchmarks vs physical limits"),
    "cpu": (_cpu, "the same model in float on this CPU (numpy reference, snnTorch)"),
    "tools": (_tools, "compile time, golden-model and RTL simulation speed, build time"),
    "rounding": (_rounding, "vmul rounding error per mode"),
}


def _cores(opt: Options) -> dict:
    from .open_cores import measure
    return measure(device=opt.device, progress=opt.cache.get("progress") or (lambda message: None))


#: Suites left out of the default run (slow, or needing optional packages).
OPTIONAL_SUITES = {
    "cores": (_cores, "open RV32I cores built with the same ECP5 flow (builds, minutes)"),
}


def run(names=None, options: Options | None = None, progress=None) -> dict:
    """Run the suites ``names`` (default all of :data:`SUITES`; those of
    :data:`OPTIONAL_SUITES` only when named) and return the result dict."""
    from .cpu_reference import machine_info
    opt = options or Options()
    names = list(names or SUITES)
    suites = {**SUITES, **OPTIONAL_SUITES}
    unknown = [n for n in names if n not in suites]
    if unknown:
        raise ValueError(f"Unknown benchmark suite {unknown[0]!r}; choose from "
                         f"{', '.join(suites)}.")
    opt.cache.setdefault("progress", progress)
    res = {"schema": "spikevec-bench", "version": SCHEMA_VERSION,
           "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
           "quick": opt.quick, "steps": opt.steps, "machine": machine_info(), "suites": {},
           "seconds": {}}
    for name in names:
        if progress:
            progress(f"running {name}: {suites[name][1]}")
        t0 = time.perf_counter()
        res["suites"][name] = suites[name][0](opt)
        res["seconds"][name] = time.perf_counter() - t0
    return res
