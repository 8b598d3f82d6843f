"""Presenting ``spikevec bench`` results: a text table, a Markdown snippet for the README,
the phase plot, and :func:`validate`, the schema check CI runs on the JSON.

Units are in the key names (``_seconds``, ``_hz``, ``us_``, ``ms_``, ``cycles_``);
``None`` marks a figure that could not be measured in that run, always next to a
``reason`` or ``*_source`` saying why.
"""
from __future__ import annotations

import math

__all__ = ["table", "markdown", "plot_phases", "validate"]


def _f(v, fmt="{:.1f}", none="n/a"):
    return none if v is None else fmt.format(v)


def _rows(res: dict) -> list:
    """(section, what, measured, note) rows for the text table and the Markdown."""
    s, rows = res["suites"], []
    if "shd" in s:
        d, tm = s["shd"], s["shd"]["timing"]
        ph = d["phase_split"]["cycles_per_step"]
        rows += [
            ("shd", "input / hidden spikes per step",
             f"{d['input']['mean_per_step']:.2f} / {d['hidden_spikes_per_step']:.2f}",
             f"float reference {d['hidden_spikes_per_step_float']:.2f}; input Fano factor "
             f"{d['input']['fano']:.1f}"),
            ("shd", "cycles per timestep", f"{d['cycles_per_step']:.1f}",
             f"target <= {d['targets']['cycles_per_step']}; FeNN 1443 (cited); "
             f"{d['source']}"),
            ("shd", "  propagation / update / overhead",
             " / ".join(f"{ph[k]:.1f}" for k in ("propagation", "update", "overhead")),
             "cycles per step" + ("" if d["phase_split"]["exact_labels"]
                                  else " (phases inferred: no phase labels)")),
            ("shd", "time per timestep (ULX3S-85F fmax)",
             _f(tm["us_per_step"], "{:.2f} us"),
             (f"fmax {tm['fmax_hz'] / 1e6:.1f} MHz; target <= 3 us; FeNN 10.8, Loihi 16.8, "
              f"GPU 26.3, Loihi 2 ~2.7 us (cited)") if tm["fmax_hz"] else tm["fmax_source"]),
            ("shd", "time per sample (1170 steps)", _f(tm["ms_per_sample_1170"], "{:.2f} ms"),
             "cycles per step x 1170 / fmax; FeNN 12.6, Loihi 19.6, GPU 30.7 ms (cited)"),
            ("shd", f"at nominal {tm['nominal_clock_hz'] / 1e6:.0f} MHz",
             f"{tm['us_per_step_at_nominal_clock']:.2f} us/step", tm["note_nominal"]),
            ("shd", "RTL check", _rtl_cell(d["rtl"]),
             d["rtl"].get("reason", d["rtl"].get("how", ""))),
            ("shd", "golden model run of this model",
             f"{d['golden_instructions_per_second'] / 1e6:.2f} M instr/s",
             f"{d['golden_instructions']:,} instructions in {d['golden_run_seconds']:.2f} s, "
             "host I/O included"),
        ]
    if "micro" in s:
        dn = s["micro"]["dense"]
        rows += [
            ("micro", "dense: cycles per 32-synapse vector", f"{dn['cycles_per_vector']:.3f}",
             f"limit 1.0, ratio {dn['ratio_per_vector']:.2f}; FeNN 5.8 (cited)"),
            ("micro", "dense: fixed cycles per spike", f"{dn['fixed_cycles_per_spike']:.2f}",
             "limit 0 (no vector-memory access)"),
            ("micro", "dense: cycles per spike into 256", f"{dn['cycles_per_spike_256']:.2f}",
             f"limit {dn['limit_cycles_per_spike_256']:.0f}, ratio "
             f"{dn['ratio_per_spike_256']:.2f}")]
        for name, u in s["micro"]["update"].items():
            regs = u.get("state_variables_in_registers", 0)
            where = f"{u['state_variables']} state" + (f", {regs} in a register" if regs
                                                       else "")
            ratio = "no memory limit" if u["ratio"] is None else f"ratio {u['ratio']:.1f}"
            rows.append(("micro", f"update {name}: cycles per neuron",
                         f"{u['cycles_per_neuron']:.3f}",
                         f"limit {u['limit_cycles_per_neuron']:.4f} ({where}), {ratio}"))
    if "cpu" in s:
        c = s["cpu"]
        for name, v in c["numpy"].items():
            rows.append(("cpu", f"numpy reference {name}, per sample",
                         f"{v['seconds_per_sample'] * 1e3:.1f} ms",
                         f"{v['seconds_per_step'] * 1e6:.1f} us/step, {c['steps']} steps; "
                         f"batch {v['batch']}: "
                         f"{v['batched_seconds_per_sample'] * 1e3:.1f} ms/sample"))
        if "shd" in s:
            tm, per_step = s["shd"]["timing"], c["numpy"]["float32"]["seconds_per_step"]
            board = tm["us_per_step"]
            rows.append(("cpu", "spikevec vs numpy float32, per step",
                         _f(board and per_step * 1e6 / board, "{:.0f}x faster"),
                         f"spikevec at the ULX3S-85F fmax ({_f(board, '{:.2f}')} us/step) vs "
                         f"{per_step * 1e6:.0f} us/step on this CPU" if board else
                         f"no fmax; at the nominal clock "
                         f"{tm['us_per_step_at_nominal_clock']:.2f} us/step vs "
                         f"{per_step * 1e6:.0f} us/step on this CPU"))
        sn = c["snntorch"]
        rows.append(("cpu", "snnTorch", _f(sn.get("seconds_per_sample"), "{:.4f} s"),
                     sn.get("reason", sn.get("note", ""))))
    if "tools" in s:
        t = s["tools"]
        rows += [("tools", "compile SHD-shaped model", f"{t['compile_seconds']:.2f} s",
                  f"calibrated on {t['compile_steps']} steps"),
                 ("tools", "golden model, vector loop",
                  f"{t['iss']['vector']['instructions_per_second'] / 1e6:.1f} M instr/s", ""),
                 ("tools", "golden model, scalar loop",
                  f"{t['iss']['scalar']['instructions_per_second'] / 1e6:.1f} M instr/s", ""),
                 ("tools", "RTL simulation", _f(t["rtl"].get("cycles_per_second"),
                                                "{:,.0f} cycles/s"),
                  (f"{t['rtl']['config']} SoC, cycles equal golden model: "
                   f"{t['rtl']['cycles_match']}") if t["rtl"]["available"]
                  else t["rtl"]["reason"]),
                 ("tools", "bitstream build", _f(t["bitstream"].get("build_seconds"),
                                                 "{:.0f} s"),
                  t["bitstream"].get("report") or t["bitstream"].get("reason", ""))]
    if "rounding" in s:
        r = s["rounding"]
        for mode in ("floor", "round-half-up", "stochastic"):
            rows.append(("rounding", f"vmul shift 15, {mode}",
                         f"{r[mode]['mean_lsb']:+.4f} (std {r[mode]['std_lsb']:.3f}) LSB",
                         f"FeNN {r[mode]['fenn_cited_mean_lsb']:+.4f} (cited)"))
    if "cores" in s:
        c = s["cores"]
        for name, r in c["cores"].items():
            e = r["core_estimate"]
            rows.append(("cores", f"{name} ({r['isa']}), {c['device']} speed {c['speed']}",
                         f"{r['fmax_mhz']:.1f} MHz",
                         f"{e['LUT4']:,} LUT4, {e['FF']:,} FF, {e['EBR']} EBR, {e['DSP']} DSP "
                         f"(core; wrapper taken off); build {r['seconds']['total']:.0f} s"))
    return rows


def _rtl_cell(r):
    if not r.get("available"):
        return "n/a"
    return f"{r['steps']} steps: {r['cycles']} cycles, " \
           f"{'equal to' if r['cycles_match'] else 'DIFFERENT from'} golden model"


def table(res: dict) -> str:
    """The results as aligned text, one row per figure."""
    rows = _rows(res)
    w = [max(len(r[i]) for r in rows) if rows else 0 for i in range(3)]
    head = (f"spikevec bench ({'quick, ' if res['quick'] else ''}{res['steps']} SHD steps) "
            f"{res['date']} on {res['machine']['cpu']} ({res['machine']['logical_cores']} "
            f"logical cores)")
    lines = [head]
    for r in rows:
        lines.append(f"{r[0]:<{w[0]}}  {r[1]:<{w[1]}}  {r[2]:>{w[2]}}  {r[3]}")
    return "\n".join(lines)


def markdown(res: dict, command: str) -> str:
    """A results section for the README: date, machine, command and the table."""
    m = res["machine"]
    out = [f"Measured {res['date'][:10]} by `{command}` on {m['cpu']} "
           f"({m['logical_cores']} logical cores, Python {m['python']}), shared with other "
           "jobs, so speeds are lower bounds. Figures marked *cited* are literature values "
           "from shared/reference/fenn.md, not measurements.", "",
           "| suite | what | measured | notes |", "|---|---|---|---|"]
    for r in _rows(res):
        out.append("| " + " | ".join(c.replace("|", "/") for c in r) + " |")
    out += ["", "![cycles per timestep by phase](docs/bench/phases.png)", "",
            "Full run (writes this snippet and the plot): `spikevec bench --markdown "
            "docs/bench/results.md --plot docs/bench/phases.png` (add `--build-report "
            "PATH` if the ULX3S-85F report is not in `build/ulx3s-85f/`). CI runs the "
            "reduced form, `spikevec bench --quick`, through `tests/test_bench.py`."]
    return "\n".join(out).replace("(cited)", "(*cited*)") + "\n"


def plot_phases(res: dict, path) -> None:
    """Stacked bars of cycles per timestep by phase (spikevec, measured) next to FeNN's
    cited total, saved as PNG at ``path``."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    d = res["suites"]["shd"]
    ph = d["phase_split"]["cycles_per_step"]
    fig, ax = plt.subplots(figsize=(6, 3.6))
    bottom = 0.0
    for phase, colour in (("propagation", "#3a78b5"), ("update", "#e08b2c"),
                          ("overhead", "#8c8c8c")):
        ax.bar(["spikevec (measured)"], [ph[phase]], bottom=[bottom], color=colour,
               label=f"{phase} {ph[phase]:.0f}")
        bottom += ph[phase]
    ax.text(0, bottom, f"{bottom:.0f}", ha="center", va="bottom", fontsize=9)
    fenn = d["citations"]["FeNN (1 core, 164 MHz)"]["cycles_per_step"]
    ax.bar(["FeNN (cited)"], [fenn], color="#cccccc", hatch="//", label="FeNN total (cited)")
    ax.text(1, fenn, f"{fenn}", ha="center", va="bottom", fontsize=9)
    ax.axhline(d["targets"]["cycles_per_step"], color="k", ls="--", lw=1,
               label=f"target {d['targets']['cycles_per_step']}")
    ax.set_ylim(0, 1.12 * max(fenn, bottom))
    ax.set_ylabel("cycles per timestep")
    ax.set_title(f"SHD-shaped 700-256-20, {d['input']['mean_per_step']:.1f} in / "
                 f"{d['hidden_spikes_per_step']:.1f} hidden spikes per step", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _positive(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) \
        and x > 0


def validate(res: dict) -> list:
    """Problems with the result dict (an empty list when it is well formed and its
    measured figures are positive and consistent)."""
    bad = []
    need = {"schema": str, "version": int, "date": str, "quick": bool, "steps": int,
            "machine": dict, "suites": dict, "seconds": dict}
    for k, t in need.items():
        if not isinstance(res.get(k), t):
            bad.append(f"top-level '{k}' should be {t.__name__}")
    s = res.get("suites", {})
    if "shd" in s:
        d = s["shd"]
        for k in ("cycles_per_step", "hidden_spikes_per_step", "compile_seconds"):
            if not _positive(d.get(k)):
                bad.append(f"shd.{k} should be a positive number, got {d.get(k)!r}")
        if abs(d["cycles_per_step"] * d["steps"] - d["cycles_total"]) > 1e-6 * d["cycles_total"]:
            bad.append("shd.cycles_per_step * steps != cycles_total")
        ps = d["phase_split"]
        if sum(ps["cycles_per_step"].values()) * ps["steps"] != ps["cycles_total"] \
                and abs(sum(ps["cycles_per_step"].values()) * ps["steps"]
                        - ps["cycles_total"]) > 1e-6 * ps["cycles_total"]:
            bad.append("shd phases do not add up to the total")
        tm = d["timing"]
        if tm["fmax_hz"] is not None and abs(tm["us_per_step"] - d["cycles_per_step"]
                                             / tm["fmax_hz"] * 1e6) > 1e-9:
            bad.append("shd.timing.us_per_step != cycles_per_step / fmax_hz")
    if "micro" in s:
        if not _positive(s["micro"]["dense"]["cycles_per_vector"]):
            bad.append("micro.dense.cycles_per_vector should be positive")
        for name, u in s["micro"]["update"].items():
            ratio_ok = _positive(u["ratio"]) if u["limit_cycles_per_neuron"] else \
                u["ratio"] is None      # every state in a register: no memory limit
            if not _positive(u["cycles_per_neuron"]) or not ratio_ok:
                bad.append(f"micro.update.{name} should have positive cycles and a "
                           "positive ratio (None when its limit is 0)")
    if "cpu" in s:
        for name, v in s["cpu"]["numpy"].items():
            if not _positive(v["seconds_per_sample"]):
                bad.append(f"cpu.numpy.{name}.seconds_per_sample should be positive")
    if "tools" in s:
        for k in ("vector", "scalar"):
            if not _positive(s["tools"]["iss"][k]["instructions_per_second"]):
                bad.append(f"tools.iss.{k}.instructions_per_second should be positive")
    if "cores" in s:
        for name, r in s["cores"]["cores"].items():
            if not _positive(r.get("fmax_mhz")) or r["core_estimate"]["LUT4"] <= 0 \
                    or r["core_estimate"]["FF"] < 0:
                bad.append(f"cores.{name} should have a positive fmax and LUT4 count and "
                           "no negative FF count once the wrapper is taken off")
    return bad
