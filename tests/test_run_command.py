"""``spikevec run``: image + spikes file in, report and .npz out, on the golden model and
(for waveforms) the RTL."""
import argparse
import json

import numpy as np
import pytest

from spikevec.sw.commands import run as run_cmd
from spikevec.sw.compiler import Network, compile_network, lif, run_iss


def invoke(argv):
    parser = argparse.ArgumentParser(prog="spikevec")
    run_cmd.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["run"] + argv)
    return args.func(args)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("run")
    rng = np.random.default_rng(3)
    net = Network(dt=1.0)
    inp = net.spike_input("in", 16)
    hid = net.population("hid", 10, lif(), tau_mem=20.0)
    net.project(inp, hid, rng.normal(0.6, 0.3, (16, 10)))
    net.record(hid, "spikes")
    net.readout("v", hid, "v")
    x = (rng.random((2, 90, 16)) < 0.15).astype(np.uint8)
    image = compile_network(net, "lanes8", calibrate=x[0], weights=16, ring_steps=16)
    image.save(d / "net.svimg")
    np.save(d / "x.npy", x)
    np.savez(d / "x.npz", **{"in": x[0]})
    return d, image, x


def test_json_report_and_npz_match_the_golden_model(files, capsys):
    d, image, x = files
    out = d / "out.npz"
    assert invoke([str(d / "net.svimg"), "--input", str(d / "x.npy"), "--json",
                   "--output", str(out)]) == 0
    report = json.loads(capsys.readouterr().out)
    ref = run_iss(image, x)
    assert report["timesteps"] == 90 and report["samples"] == 2
    assert all(c <= n for c, n in zip(report["compute_cycles"], report["cycles"]))
    assert report["cycles_per_step"] == pytest.approx(np.mean(report["cycles"]) / 90)
    assert report["spike_counts"] == {"hid": int(ref.spikes("hid").sum())} and \
        report["spike_counts"]["hid"] > 0
    assert report["output"] == str(out)
    with np.load(out) as z:
        np.testing.assert_array_equal(z["hid.spikes"], ref.spikes("hid"))
        np.testing.assert_array_equal(z["readout.v"], ref.readouts["v"])


def test_npz_input_steps_and_trace(files, capsys):
    d, image, x = files
    trace = d / "trace.txt"
    assert invoke([str(d / "net.svimg"), "--input", str(d / "x.npz"), "--steps", "40",
                   "--trace", str(trace)]) == 0
    text = capsys.readouterr().out
    ref = run_iss(image, x[0, :40])
    assert "40 timesteps" in text and f"spikes hid: {int(ref.spikes('hid').sum())}" in text
    lines = [line.split(None, 2) for line in trace.read_text().splitlines()]
    instret = [int(n) for n, _, _ in lines]
    assert instret == sorted(instret) and len(instret) > 40
    # the core writes header.steps_done (dmem 0x4) once per step
    assert sum(w.startswith("dmem[0x4] ") for _, _, w in lines) == 40


def test_unusable_inputs_are_explained(files):
    d, _, _ = files
    with pytest.raises(FileNotFoundError, match="does not exist"):
        invoke([str(d / "net.svimg"), "--input", str(d / "missing.npy")])
    with pytest.raises(ValueError, match="--input"):
        invoke([str(d / "net.svimg")])
    with pytest.raises(ValueError, match="golden model"):
        invoke([str(d / "net.svimg"), "--input", str(d / "x.npy"), "--backend", "rtl",
                "--trace", str(d / "t.txt")])


def test_rtl_run_writes_a_vcd(files, capsys):
    pytest.importorskip("spikevec.sim.rtl.harness")
    d, image, x = files
    vcd = d / "run.vcd"
    assert invoke([str(d / "net.svimg"), "--input", str(d / "x.npz"), "--steps", "20",
                   "--backend", "rtl", "--vcd", str(vcd), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    ref = run_iss(image, x[0, :20])
    assert report["spike_counts"]["hid"] == int(ref.spikes("hid").sum())
    assert report["waves"] == str(vcd)
    head = vcd.read_text(errors="replace")[:2000]
    assert "$timescale" in head or "$date" in head


def _events(x, dt=1.0, shift=0.25):
    """``nir.EventData`` of spikes [B, T, C] (events a quarter step into their step)."""
    import nir
    per = [np.argwhere(s) for s in x]
    n = max(len(p) for p in per)
    idx, time = np.full((len(x), n), -1), np.full((len(x), n), np.inf)
    for b, p in enumerate(per):
        idx[b, :len(p)] = p[:, 1]
        time[b, :len(p)] = (p[:, 0] + shift) * dt
    return nir.EventData(idx, time, x.shape[2], x.shape[1] * dt)


def test_nir_event_data_input_gives_the_npy_run(files, capsys):
    """NIR data (events and boolean grids, nir.write_data) run like the same .npy."""
    nir = pytest.importorskip("nir")
    d, image, x = files
    events = d / "x_events.h5"
    nir.write_data(events, nir.NIRGraphData({"in": nir.NIRNodeData({"spikes": _events(x)})}))
    grid = d / "x_grid.nird"
    nir.write_data(grid, nir.NIRGraphData({"other": nir.NIRNodeData(
        {"output": nir.TimeGriddedData(x.astype(bool), 1.0)})}))
    reports = []
    for path in (d / "x.npy", events, grid):
        out = d / f"{path.stem}.out.npz"
        assert invoke([str(d / "net.svimg"), "--input", str(path), "--json",
                       "--output", str(out)]) == 0
        reports.append((json.loads(capsys.readouterr().out), np.load(out)))
    ref_report, ref = reports[0]
    assert ref_report["spike_counts"]["hid"] > 0
    for report, got in reports[1:]:
        assert report["timesteps"] == 90 and report["samples"] == 2
        np.testing.assert_array_equal(got["hid.spikes"], ref["hid.spikes"])
        np.testing.assert_array_equal(got["readout.v"], ref["readout.v"])


def test_unusable_nir_data_is_explained(files):
    nir = pytest.importorskip("nir")
    d, image, x = files
    from spikevec.sw.runtime.nir_data import spikes_from_nir_data

    def write(name, nodes):
        path = d / name
        nir.write_data(path, nir.NIRGraphData(nodes))
        return str(path)

    node = nir.NIRNodeData
    two = write("two.h5", {"a": node({"spikes": _events(x)}), "b": node({"spikes": _events(x)})})
    with pytest.raises(ValueError, match="spike input 'in' has no node of that name"):
        spikes_from_nir_data(two, image)
    coarse = write("dt.h5", {"in": node({"spikes": nir.TimeGriddedData(x.astype(bool), 2.0)})})
    with pytest.raises(ValueError, match="gridded with dt = 2 but the image steps with dt = 1"):
        spikes_from_nir_data(coarse, image)
    narrow = write("narrow.h5", {"in": node({"spikes": _events(x[:, :, :8])})})
    with pytest.raises(ValueError, match="has 8 neurons but the image's spike input 'in' has 16"):
        spikes_from_nir_data(narrow, image)
    ev = _events(x)
    valued = write("valued.h5", {"in": node({"spikes": nir.ValuedEventData(
        ev.idx, ev.time, ev.n_neurons, ev.t_max, np.ones(ev.idx.shape))})})
    with pytest.raises(ValueError, match="valued events"):
        spikes_from_nir_data(valued, image)
    late = _events(x)
    late.time[0, 0] = late.t_max
    with pytest.raises(ValueError, match="outside"):
        spikes_from_nir_data(write("late.h5", {"in": node({"spikes": late})}), image)
    (d / "junk.h5").write_bytes(b"not hdf5")
    with pytest.raises(ValueError, match="Cannot read NIR data"):
        spikes_from_nir_data(str(d / "junk.h5"), image)
