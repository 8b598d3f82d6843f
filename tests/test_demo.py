"""``spikevec demo``: a classifier through the runtime, with a consistent report and plots.

A small hand-made classifier (two classes, each driving its own output neuron) checks
the pipeline exactly; the bundled digits classifier is run on a few held-out images on
the golden model and on the 8-lane RTL.
"""
import json
import os
from dataclasses import dataclass

import numpy as np
import pytest

from spikevec.sw.cli import main
from spikevec.sw.commands import demo
from spikevec.sw.compiler import Network, compile_network, li, lif, simulate


@dataclass
class TwoClass:
    """Class k fires inputs 8k..8k+7; a hidden LIF layer relays them to LI readouts."""
    name: str = "twoclass"
    T: int = 12

    def network(self):
        net = Network(dt=1.0, name=self.name)
        inp = net.spike_input("in", 16)
        hid = net.population("hid", 16, lif(), tau_mem=8.0)
        out = net.population("out", 2, li(), tau_mem=8.0)
        net.project(inp, hid, np.eye(16) * 12.0)
        w = np.zeros((16, 2))
        w[:8, 0] = w[8:, 1] = 2.0
        net.project(hid, out, w)
        net.readout("output", out, "v", mode="mean")
        net.record(out, "v")
        return net

    def test_set(self, limit=None):
        rng = np.random.default_rng(0)
        labels = rng.integers(0, 2, 10)[:limit]
        x = np.zeros((len(labels), self.T, 16), np.uint8)
        for i, k in enumerate(labels):
            x[i, :, 8 * k:8 * k + 8] = rng.random((self.T, 8)) < 0.4
        return x, labels

    def compile(self, config, net=None):
        x, _ = self.test_set()
        return compile_network(net or self.network(), config, calibrate=x, weights=16)

    def predict(self, readouts):
        return np.argmax(readouts["output"], axis=-1)

    def evaluate(self, backend, data):
        res = simulate(self.network(), data[0])
        acc = float(np.mean(self.predict(res.readouts) == data[1]))
        return type("Evaluation", (), {"accuracy": acc})()


def test_demo_pipeline_on_a_small_classifier(tmp_path):
    clf = TwoClass()
    r = demo.run_demo(clf, "iss", "lanes8", out=str(tmp_path), progress=False)
    assert r["images"] == 10 and r["timesteps"] == 12
    assert r["accuracy"] == np.mean(np.array(r["predictions"]) == np.array(r["labels"]))
    assert r["accuracy"] == 1.0 and r["reference_accuracy"] == 1.0
    assert r["cycles_per_timestep"] > 0
    assert r["latency_us"] == pytest.approx(
        r["compute_cycles_per_timestep"] * 12 / 100.0, rel=1e-9)
    for key in ("raster_png", "membrane_png"):
        with open(r[key], "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_demo_digits_on_golden_model(tmp_path, capsys):
    assert main(["demo", "--backend", "iss", "--limit", "40", "--out", str(tmp_path),
                 "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["images"] == 40 and r["classifier"] == "digits"
    assert r["accuracy"] >= 0.85 and r["reference_accuracy"] >= 0.85
    assert abs(r["accuracy"] - r["reference_accuracy"]) <= 0.1
    assert os.path.exists(r["raster_png"]) and os.path.exists(r["membrane_png"])


def test_demo_prints_accuracy_on_rtl(tmp_path, capsys):
    pytest.importorskip("spikevec.sim.rtl.harness")
    assert main(["demo", "--config", "lanes8", "--limit", "6", "--out", str(tmp_path)]) == 0
    text = capsys.readouterr().out
    for line in ("accuracy: ", "float reference accuracy: ", "cycles per timestep: ",
                 "latency per sample: "):
        assert line in text
