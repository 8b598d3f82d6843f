"""The README's main job, ``spikevec demo``, runs and reports consistent results."""
import json

import numpy as np
import pytest

from spikevec.sw.cli import main


@pytest.mark.parametrize("preset", ["default", "lanes8"])
def test_demo_json_is_self_consistent(preset, capsys):
    assert main(["demo", "--config", preset, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    raster = np.array(out["raster"])
    counts = np.array(out["spikes_per_neuron"])
    assert out["exit_reason"] == "ecall"
    assert raster.shape == (16, 32)
    # The raster (scalar memory), the counts (vector memory) and a0 agree.
    assert (raster.sum(axis=0) == counts).all()
    assert out["total_spikes"] == counts.sum() > 0
    # Input 8 + 2i in Q8.8 with decay 0.9 settles at 10 * I < 256 for i <= 8: silent.
    assert counts[:9].sum() == 0
    # The firing rate grows with the input current.
    assert (np.diff(counts) >= 0).all()
    # Neurons that never fired integrate towards the threshold without reaching it.
    silent = counts == 0
    assert (np.array(out["final_v"])[silent] < 256).all()
    assert out["cycles"] >= out["instret"] > 0


def test_demo_prints_raster(capsys):
    assert main(["demo"]) == 0
    text = capsys.readouterr().out
    assert "spike raster" in text and "total spikes" in text
