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
