"""Tool speed: golden-model instructions per second, RTL simulation cycles per second,
and the bitstream build time from a board build report.

* :func:`iss_speed`: two endless-style loops built from the instruction table (a
  vector-heavy SNN-like loop and a scalar bookkeeping loop) run on the golden model;
  instructions per second exclude the JIT compile, which is reported separately.
* :func:`rtl_speed`: the vector loop on the RTL SoC (the C++ Verilator harness, a cached
  build), simulated clock cycles per second of the run itself, and whether the RTL's
  cycle count equals the golden model's for the same program.
* :func:`board_report`: fmax and build time read from the JSON report of
  ``spikevec build --board ulx3s-85f --json`` (never runs the build).

The SHD model's compile time is measured by :mod:`.shd`.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

__all__ = ["vector_loop", "scalar_loop", "iss_speed", "rtl_speed", "board_report",
           "DEFAULT_REPORTS", "NO_REPORT"]

NO_REPORT = "no build report: run spikevec build --board ulx3s-85f --json"
#: Where ``spikevec build --board ulx3s-85f`` leaves its report (``--out`` default
#: ``build/ulx3s-85f``), searched from the working folder, then from the source tree.
DEFAULT_REPORTS = ("build/ulx3s-85f/report.spikevec.json",
                   str(Path(__file__).resolve().parents[2] / "build" / "ulx3s-85f"
                       / "report.spikevec.json"))


def _enc(config, name, mods=None, **ops):
    from ...hw.isa import BY_NAME
    return BY_NAME[name].encode(config, mods, **ops)


def _load_counter(config, rd, n):
    """lui + addi loading ``n`` (< 2^31) into ``rd``."""
    hi, lo = (n + 0x800) >> 12, n & 0xFFF
    lo = lo - 0x1000 if lo >= 0x800 else lo
    return [_enc(config, "lui", rd=rd, imm=hi & 0xFFFFF),
            _enc(config, "addi", rd=rd, rs1=rd, imm=lo)]


def vector_loop(config, n):
    """Dense synaptic input + neuron-like update, ``n`` iterations of 8 instructions
    plus the branch. Returns ``(words, instructions per iteration)``."""
    L, e = config.lanes, _enc
    body = [e(config, "vlacc8", vd=1, off=0, rs1=2, shift=2),
            e(config, "vmul", {"round": 2, "sat": 1}, vd=2, vs1=1, vs2=3, shift=14),
            e(config, "vadd", {"sat": 1}, vd=4, vs1=4, vs2=2),
            e(config, "vtge", rd=5, vs1=4, vs2=6),
            e(config, "vsel", vd=4, rs1=5, vs2=7),
            e(config, "addi", rd=2, rs1=2, imm=L),
            e(config, "andi", rd=2, rs1=2, imm=1023 & ~(L - 1)),
            e(config, "addi", rd=1, rs1=1, imm=-1)]
    words = _load_counter(config, 1, n) + [e(config, "vlui", vd=3, imm=12000),
                                           e(config, "vlui", vd=6, imm=20000),
                                           e(config, "vseed", vs1=3, vs2=6)]
    words += body + [e(config, "bne", rs1=1, rs2=0, off=-4 * len(body))]
    return words + [e(config, "ecall")], 9


def scalar_loop(config, n):
    """Scalar bookkeeping (loads, stores, ALU, a branch), ``n`` iterations of 8
    instructions. Returns ``(words, instructions per iteration)``."""
    e = _enc
    body = [e(config, "lw", rd=3, rs1=2, imm=0),
            e(config, "add", rd=4, rs1=4, rs2=3),
            e(config, "xor", rd=5, rs1=4, rs2=1),
            e(config, "slli", rd=6, rs1=5, shamt=3),
            e(config, "sw", rs2=6, rs1=2, imm=4),
            e(config, "andi", rd=2, rs1=6, imm=0x3F8),
            e(config, "addi", rd=1, rs1=1, imm=-1)]
    words = _load_counter(config, 1, n) + body
    words += [e(config, "bne", rs1=1, rs2=0, off=-4 * len(body))]
    return words + [e(config, "ecall")], 8


def iss_speed(config, iterations: int = 1_000_000, traced: int = 200_000) -> dict:
    """Golden-model speed on :func:`vector_loop` and :func:`scalar_loop`, plus a traced
    run of ``traced`` instructions of the scalar loop."""
    from ...sim.iss import Machine
    t0 = time.perf_counter()
    machine = Machine(config)          # compiles (or loads from the cache) and checks
    out = {"jit_or_cache_seconds": time.perf_counter() - t0, "lanes": config.lanes}
    for label, build in (("vector", vector_loop), ("scalar", scalar_loop)):
        words, per_iter = build(config, iterations)
        machine.set_imem(words)
        machine.reset()
        machine.run(max_instructions=1000)           # warm up
        machine.reset()
        start = time.perf_counter()
        result = machine.run(check=True)
        elapsed = time.perf_counter() - start
        if result.instret < per_iter * iterations:
            raise RuntimeError(f"The {label} loop retired {result.instret} instructions, "
                               f"fewer than its {per_iter * iterations}; the loop is wrong.")
        out[label] = {"instructions": result.instret, "cycles": result.cycles,
                      "seconds": elapsed, "instructions_per_second": result.instret / elapsed}
    machine.reset()
    start = time.perf_counter()
    result = machine.run(max_instructions=traced, trace=True)
    elapsed = time.perf_counter() - start
    out["traced_scalar"] = {"instructions": result.instret, "records": len(result.trace),
                            "seconds": elapsed,
                            "instructions_per_second": result.instret / elapsed}
    return out


def rtl_speed(config, iterations: int = 20_000) -> dict:
    """Run :func:`vector_loop` on the RTL SoC for ``config`` (the C++ Verilator harness,
    :func:`spikevec.sim.rtl.harness.open_soc`, cached after its first build) and on the
    golden model: simulated cycles per second of the run (loading excluded) and whether
    the cycle counts agree."""
    from ...sim.iss import Machine
    from ...sim.rtl.harness import open_soc
    from ...sim.rtl.soc_client import SocClient
    from ..asm.program import Program
    words, _ = vector_loop(config, iterations)
    program = Program(config=config, text=words)
    m = Machine(config)
    m.load_program(program)
    golden = m.run(check=True)
    t0 = time.perf_counter()
    with open_soc(config, timeout=60.0) as soc:
        start_s = time.perf_counter() - t0
        client = SocClient(soc)
        client.load_program(program)
        c0, t1 = soc.cycles, time.perf_counter()
        client.start(0)
        while (status := client.status()).running:
            time.sleep(0.01)
        wall, simulated = time.perf_counter() - t1, soc.cycles - c0
    return {"config": config.name, "lanes": config.lanes, "cycles": int(status.cycles),
            "golden_cycles": golden.cycles, "cycles_match": status.cycles == golden.cycles,
            "simulated_cycles": simulated, "run_wall_seconds": wall,
            "cycles_per_second": simulated / max(wall, 1e-9),
            "start_seconds": start_s,
            "how": "C++ Verilator harness (sim.rtl.harness) over the host protocol"}


def _find(d, words):
    """The first value in nested dict ``d`` whose key contains all of ``words``."""
    if isinstance(d, dict):
        for k, v in d.items():
            if all(w in k.lower() for w in words) and isinstance(v, (int, float)):
                return k, v
        for v in d.values():
            hit = _find(v, words)
            if hit:
                return hit
    return None


def board_report(path=None) -> dict:
    """fmax (Hz) and build time (s) from the build report at ``path``, or from the first
    of :data:`DEFAULT_REPORTS` that exists. ``{"available": False, "reason": ...}`` when
    there is none; a report without an fmax raises ``ValueError``. ``lanes`` is the
    built core's lane count when the report records its configuration (else None)."""
    candidates = [path] if path else list(DEFAULT_REPORTS)
    for c in candidates:
        p = Path(c).expanduser()
        if p.is_file():
            break
    else:
        reason = (f"no build report at {path}" if path else NO_REPORT)
        return {"available": False, "reason": reason}
    try:
        d = json.loads(p.read_text())
    except json.JSONDecodeError as e:
        raise ValueError(f"The build report {p} is not JSON ({e}); give the file written "
                         "by 'spikevec build --board ulx3s-85f --json'.") from None
    hit = _find(d, ("fmax",))
    if hit is None:
        raise ValueError(f"The build report {p} has no fmax entry; give the JSON report "
                         "written by 'spikevec build --board ulx3s-85f --json'.")
    key, value = hit
    fmax_hz = float(value) * (1e6 if "mhz" in key.lower() or value < 1e4 else 1.0)
    if isinstance(d.get("seconds"), dict):          # per stage, as spikevec build writes
        stages = d["seconds"]
        secs = ("seconds", stages.get("total", sum(v for v in stages.values()
                                                   if isinstance(v, (int, float)))))
    else:
        secs = _find(d, ("build", "second")) or _find(d, ("second",))
    lanes = d.get("config", {}).get("lanes") if isinstance(d.get("config"), dict) else None
    return {"available": True, "path": str(p), "fmax_hz": fmax_hz, "lanes": lanes,
            "build_seconds": None if secs is None else float(secs[1]),
            "board": d.get("board"), "timing_met": d.get("timing_met"),
            "requested_mhz": d.get("requested_mhz")}
