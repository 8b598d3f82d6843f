"""Compiler back end: errors, format overrides, the image file, NIR, the commands."""
import numpy as np
import pytest

from spikevec.hw.config import ConfigMismatch, preset
from spikevec.sw.cli import main
from spikevec.sw.compiler import (CompileError, Image, ModelBuilder, Network, compile_network,
                                  from_nir, li, lif, run_iss, simulate, to_nir)


def small(n_in=20, n=30, seed=0):
    rng = np.random.default_rng(seed)
    net = Network(dt=1.0, name="small")
    inp = net.spike_input("in", n_in)
    hid = net.population("hid", n, lif(), tau_mem=10.0)
    out = net.population("out", 4, li())
    net.project(inp, hid, rng.normal(0.5, 0.3, (n_in, n)))
    net.project(hid, out, rng.normal(0.0, 0.5, (n, 4)))
    net.record(hid, "spikes")
    net.record(hid, "v")
    net.readout("y", out, "v", mode="last")
    x = (rng.random((100, n_in)) < 0.1).astype(np.uint8)
    return net, x


def test_too_large_for_memory_names_array_and_sizes():
    rng = np.random.default_rng(0)
    net = Network()
    inp = net.spike_input("in", 400)
    pop = net.population("big", 300, lif())
    net.project(inp, pop, rng.normal(0, 0.1, (400, 300)))
    with pytest.raises(CompileError, match=r"weights\.in->big.*needs 121600 bytes of vector "
                                           r"memory.*8192 bytes"):
        compile_network(net, "tiny")


def test_nan_weights_and_unsupported_constructs():
    net, _ = small()
    net.projections[0].weight[3, 4] = np.nan
    with pytest.raises(CompileError, match=r"in->hid.*NaN.*\(3, 4\)"):
        compile_network(net)
    m = ModelBuilder("Divider")
    v, g = m.state("v"), m.state("g", 1.0)
    m.update(v, v / g + m.I)
    net2 = Network()
    inp = net2.spike_input("in", 4)
    pop = net2.population("p", 4, m.build())
    net2.project(inp, pop, np.ones((4, 4)))
    with pytest.raises(CompileError, match="non-constant divisor"):
        compile_network(net2)
    net3 = Network()
    net3.poisson("noise", 4, 0.1)
    p3 = net3.population("p", 4, lif())
    net3.project("noise", p3, np.ones((4, 4)))
    with pytest.raises(CompileError, match="PoissonSource.*not support"):
        compile_network(net3)


def test_format_override_and_report():
    net, x = small()
    image = compile_network(net, calibrate=x, formats={"hid.v": "s5.10"})
    assert image.formats["variables"]["hid.v"]["format"] == "s5.10"
    assert "hid.v" in image.report and "s5.10" in image.report
    with pytest.raises(CompileError, match="s5.11"):
        compile_network(net, formats={"hid.v": "s5.11"})
    with pytest.raises(CompileError, match="hid.w"):
        compile_network(net, formats={"hid.w": "s5.10"})
    got = run_iss(image, x)
    ref = simulate(net, x)
    assert (got.spikes("hid") == ref.spikes("hid")).mean() > 0.97


def test_image_round_trip_and_config_check(tmp_path):
    net, x = small()
    image = compile_network(net, calibrate=x)
    path = tmp_path / "small.svimg"
    image.save(path)
    back = Image.load(path)
    assert back.program.text == image.program.text
    assert back.io == image.io and back.formats == image.formats
    a, b = run_iss(image, x), run_iss(back, x)
    assert np.array_equal(a.spikes("hid"), b.spikes("hid"))
    assert np.array_equal(a.readouts["y"], b.readouts["y"])
    with pytest.raises(ConfigMismatch):
        preset("lanes16").check_compatible(back.config, "program image")
    (tmp_path / "bad.svimg").write_text('{"format": "spikevec-image", "version": 99}')
    with pytest.raises(ValueError, match="version 99"):
        Image.load(tmp_path / "bad.svimg")


def test_long_run_wraps_output_ring_and_batches():
    net, _ = small()
    rng = np.random.default_rng(1)
    x = (rng.random((2, 150, 20)) < 0.1).astype(np.uint8)
    image = compile_network(net, ring_steps=64)
    got = run_iss(image, x)
    ref = simulate(net, x)
    assert got.spikes("hid").shape == ref.spikes("hid").shape == (2, 150, 30)
    assert (got.spikes("hid") == ref.spikes("hid")).mean() > 0.97
    assert got.readouts["y"].shape == (2, 4)


@pytest.mark.parametrize("lanes", ["lanes8", "lanes16"])
def test_narrow_cores(lanes):
    net, x = small(n=45)
    got = run_iss(compile_network(net, lanes, calibrate=x), x)
    ref = simulate(net, x)
    assert (got.spikes("hid") == ref.spikes("hid")).mean() > 0.97


def test_nir_compile_run_and_commands(tmp_path, capsys):
    import nir
    net, x = small()
    path = tmp_path / "small.nir"
    nir.write(str(path), to_nir(net))
    net2 = from_nir(str(path))
    image = compile_network(net2, calibrate=x)
    got = run_iss(image, x)
    ref = simulate(net2, x)
    for (pop, var), trace in ref.traces.items():
        if trace.dtype == bool:
            assert (got.traces[(pop, var)] == trace).mean() > 0.97
    np.save(tmp_path / "cal.npy", x)
    out = tmp_path / "small.svimg"
    assert main(["compile", str(path), "-o", str(out), "--calibrate",
                 str(tmp_path / "cal.npy"), "--weights", "16"]) == 0
    assert main(["inspect", str(out)]) == 0
    text = capsys.readouterr().out
    assert "estimated cycles per timestep" in text and "weights." in text
    assert "__wait_output" in text
