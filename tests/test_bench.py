"""``spikevec bench``: the reduced run's JSON schema and the consistency of its figures,
the SHD-like input generator, per-pc phase accounting and the build-report reader."""
from __future__ import annotations

import argparse
import json

import numpy as np
import pytest

from spikevec.hw.config import preset
from spikevec.sw.asm.program import Program
from spikevec.sw.bench import CITATIONS, Options, board_for_lanes, run
from spikevec.sw.bench.phases import PHASES, phase_map
from spikevec.sw.bench.report import markdown, table, validate
from spikevec.sw.bench.shd import prepare, rtl_check, shd_like_input
from spikevec.sw.bench.tools import board_report

STEPS = 20


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    path = tmp_path_factory.mktemp("board") / "report.json"
    # an input file in the build report's shape; the figures derived from it are checked
    path.write_text(json.dumps({"board": "ulx3s-85f", "timing": {"fmax_mhz": 62.5},
                                "build_seconds": 900.0}))
    return path


@pytest.fixture(scope="module")
def quick(report):
    opt = Options(quick=True, steps=STEPS, rtl=False, build_report=str(report))
    return run(["shd", "micro", "cpu", "tools", "rounding"], opt)


def test_schema_and_consistency(quick):
    assert validate(quick) == []
    assert quick["schema"] == "spikevec-bench" and quick["quick"] is True
    assert set(quick["suites"]) == {"shd", "micro", "cpu", "tools", "rounding"}
    assert all(s > 0 for s in quick["seconds"].values())
    json.loads(json.dumps(quick))                       # JSON-able throughout


def test_shd_figures_are_measured_and_consistent(quick):
    d = quick["suites"]["shd"]
    assert d["steps"] == STEPS and d["sizes"] == [700, 256, 20]
    assert d["cycles_total"] == pytest.approx(d["cycles_per_step"] * STEPS)
    ps = d["phase_split"]
    assert set(ps["cycles_per_step"]) == set(PHASES)
    assert ps["check_equal_to_plain_run"] is True
    assert sum(ps["cycles_per_step"].values()) * ps["steps"] == pytest.approx(ps["cycles_total"])
    assert ps["cycles_per_step"]["propagation"] > 0 and ps["cycles_per_step"]["update"] > 0
    assert sum(v["cycles"] for v in ps["by_label"].values()) == ps["cycles_total"]
    # the float calibration hits the requested rate; the core's rate is reported as is
    assert d["hidden_spikes_per_step_float"] == pytest.approx(7.5, abs=0.5)
    assert d["hidden_spikes_per_step"] > 0
    tm = d["timing"]
    assert tm["fmax_hz"] == 62.5e6
    assert tm["us_per_step"] == pytest.approx(d["cycles_per_step"] / 62.5e6 * 1e6)
    assert tm["ms_per_sample_1170"] == pytest.approx(tm["us_per_step"] * 1170 / 1e3)
    assert tm["meets_time_target"] == (tm["us_per_step"] <= 3.0)
    assert d["speedup_vs_fenn_cycles"] == pytest.approx(1443 / d["cycles_per_step"])
    assert d["citations"] is CITATIONS or d["citations"] == CITATIONS


def test_micro_against_limits(quick):
    dn = quick["suites"]["micro"]["dense"]
    assert dn["cycles_per_vector"] >= dn["limit_cycles_per_vector"] - 1e-9
    assert dn["ratio_per_vector"] == pytest.approx(dn["cycles_per_vector"])
    assert dn["cycles_per_spike_256"] == pytest.approx(
        dn["fixed_cycles_per_spike"] + 256 / dn["lanes"] * dn["cycles_per_vector"])
    for name, u in quick["suites"]["micro"]["update"].items():
        assert u["cycles_per_neuron"] >= u["limit_cycles_per_neuron"] - 1e-9, name
        if u["limit_cycles_per_neuron"] == 0:       # every state stays in a register
            assert u["ratio"] is None and u["state_variables_in_registers"] > 0, name
        else:
            assert u["ratio"] == pytest.approx(u["cycles_per_neuron"]
                                               / u["limit_cycles_per_neuron"])


def test_cpu_and_tools(quick):
    c = quick["suites"]["cpu"]
    for v in c["numpy"].values():
        assert v["seconds_per_step"] == pytest.approx(v["seconds_per_sample"] / STEPS)
    assert c["snntorch"]["available"] or c["snntorch"]["reason"]
    t = quick["suites"]["tools"]
    assert t["compile_seconds"] > 0
    assert t["iss"]["vector"]["instructions"] >= 9 * 100_000
    assert t["rtl"] == {"available": False, "reason": "not requested (--no-rtl)"}
    assert t["bitstream"]["build_seconds"] == 900.0


def test_rounding_statistics(quick):
    r = quick["suites"]["rounding"]
    assert r["products"] == 10_000
    assert r["floor"]["mean_lsb"] == pytest.approx(-0.5, abs=0.03)
    for mode in ("round-half-up", "stochastic"):
        assert r[mode]["mean_lsb"] == pytest.approx(0.0, abs=0.03)
    assert r["stochastic"]["std_lsb"] > r["floor"]["std_lsb"]


def test_table_and_markdown(quick):
    text = table(quick)
    assert "cycles per timestep" in text and "golden model, vector loop" in text
    md = markdown(quick, "spikevec bench --quick")
    assert "`spikevec bench --quick`" in md and "*cited*" in md
    assert md.count("\n| ") >= 10


def test_shd_like_input_statistics():
    x = shd_like_input(1170, seed=4)
    assert x.shape == (1170, 700) and x.dtype == np.uint8
    counts = x.sum(axis=1)
    assert 7.0 <= counts.mean() <= 9.0
    assert counts.var() / counts.mean() > 1.5           # bursty in time
    rows, cols = np.nonzero(x)
    near = np.mean([np.any(np.abs(cols[rows == r] - c) <= 3) for r, c in
                    zip(rows[:500], cols[:500]) if (rows == r).sum() > 1])
    assert near > 0.3                                   # clustered across channels
    with pytest.raises(ValueError, match="rate > 0"):
        shd_like_input(10, rate=0)


def test_phase_map_prefers_phase_labels():
    config = preset("default")
    syms = {"__start": ("text", 0), "__phase_input": ("text", 8), "__in_x_loop": ("text", 12),
            "__phase_record_hid": ("text", 16), "__phase_update_hid": ("text", 20),
            "__phase_prop_hid": ("text", 32), "__pr_hid_0": ("text", 36),
            "__phase_step": ("text", 48), "__done": ("text", 56)}
    pm = phase_map(Program(config=config, text=[0] * 16, symbols=syms))
    assert pm.exact
    names = [PHASES[i] for i in pm.phase_of_word(16)]
    assert names[:3] == ["overhead"] * 3 and names[3] == "propagation"
    assert names[4:8] == ["update"] * 4 and names[8:12] == ["propagation"] * 4
    assert names[12:] == ["overhead"] * 4
    old = phase_map(Program(config=config, text=[0] * 16, symbols={
        "__step": ("text", 0), "__p3_loop": ("text", 8), "__p3_end": ("text", 16)}))
    assert not old.exact and old.phases == ["overhead", "propagation", "update"]


def test_board_report_reader(tmp_path):
    missing = board_report(str(tmp_path / "none.json"))
    assert missing["available"] is False and "no build report" in missing["reason"]
    (tmp_path / "hz.json").write_text(json.dumps({"fmax_hz": 48e6, "build_seconds": 61}))
    r = board_report(str(tmp_path / "hz.json"))
    assert r["fmax_hz"] == 48e6 and r["build_seconds"] == 61
    # the shape 'spikevec build --json' writes: fmax in MHz, seconds per stage
    (tmp_path / "sv.json").write_text(json.dumps({"board": "ulx3s-85f", "fmax_mhz": 71.5,
                                                  "seconds": {"yosys": 300, "nextpnr": 600}}))
    r = board_report(str(tmp_path / "sv.json"))
    assert r["fmax_hz"] == 71.5e6 and r["build_seconds"] == 900
    assert r["lanes"] is None
    # a report of an 8-lane build is not used for the 32-lane SHD model
    (tmp_path / "l8.json").write_text(json.dumps({"fmax_mhz": 47.3, "config": {"lanes": 8}}))
    r8 = board_report(str(tmp_path / "l8.json"))
    assert r8["lanes"] == 8 and board_for_lanes(r8, 8) is r8
    refused = board_for_lanes(r8, 32)
    assert refused["available"] is False and "core with 8 lanes" in refused["reason"]
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(ValueError, match="not JSON"):
        board_report(str(tmp_path / "bad.json"))
    (tmp_path / "nofmax.json").write_text(json.dumps({"luts": 3}))
    with pytest.raises(ValueError, match="no fmax"):
        board_report(str(tmp_path / "nofmax.json"))


def test_command_writes_json_and_plot(tmp_path, capsys):
    from spikevec.sw.commands import bench
    parser = argparse.ArgumentParser(prog="spikevec")
    bench.register(parser.add_subparsers())
    args = parser.parse_args(["bench", "shd", "--steps", "8", "--no-rtl", "--out",
                              str(tmp_path), "--markdown", str(tmp_path / "r.md")])
    assert args.func(args) == 0
    res = json.loads((tmp_path / "bench.json").read_text())
    assert validate(res) == [] and list(res["suites"]) == ["shd"]
    assert (tmp_path / "phases.png").stat().st_size > 1000
    assert "cycles per timestep" in capsys.readouterr().out
    bad = parser.parse_args(["bench", "--steps", "0"])
    with pytest.raises(ValueError, match="--steps 0"):
        bad.func(bad)
    # --render re-draws a saved result without measuring
    again = parser.parse_args(["bench", "--render", str(tmp_path / "bench.json"), "--out",
                               str(tmp_path / "again")])
    assert again.func(again) == 0 and (tmp_path / "again" / "phases.png").exists()
    (tmp_path / "other.json").write_text("{}")
    other = parser.parse_args(["bench", "--render", str(tmp_path / "other.json")])
    with pytest.raises(ValueError, match="not a spikevec bench result"):
        other.func(other)


def test_rtl_cycles_equal_golden_model():
    """The runtime's RTL backend (when it exists) counts the golden model's cycles."""
    try:
        from spikevec.sw.runtime import open_device  # noqa: F401
    except ImportError:
        pytest.skip("the runtime's RTL backend (spikevec.sw.runtime.open_device) is not "
                    "available yet")
    from spikevec.sw.compiler import compile_network
    m = prepare(6)
    image = compile_network(m["net"], calibrate=m["x"])
    r = rtl_check(image, m["x"])
    assert r["available"], r.get("reason")
    assert r["cycles"] == r["golden_cycles"]
