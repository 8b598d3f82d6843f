"""Golden model and RTL (Verilator SoC through the host protocol) agree bit for bit.

Every neuron model of the library plus a user-defined one is compiled into a small
network and run on both backends through the same runtime API; spikes, recorded
variables, readouts and the final neuron state must be identical. Streaming is checked
with a 10,000-step trial through rings much smaller than the trial. The 8-lane
configuration keeps the Verilator build cheap; one case runs on the default 32 lanes.
The first use of a configuration builds the simulator (minutes); later runs reuse the
cache.
"""
import numpy as np
import pytest

from spikevec.sw.compiler import ModelBuilder, Network, alif, compile_network, lif, run_iss
from spikevec.sw.runtime import open_device
from test_codegen_models import CASES, single_layer   # CASES: LIF, LIF(subtract), ALIF,
#                                                       CubaLIF, LI, IF

pytest.importorskip("spikevec.sim.rtl.harness")


def spike_trace_lif():
    """A user-defined model: LIF with soft reset and a decaying trace of its spikes."""
    m = ModelBuilder("SpikeTraceLIF")
    v, tr = m.state("v"), m.state("trace")
    m.update(v, 0.9 * v + m.I)
    m.update(tr, 0.8 * tr)
    m.spike(v > 1.0)
    m.reset(v, v - 1.0)
    m.reset(tr, tr + 0.5)
    return m.build()


MODELS = dict(CASES, user=(spike_trace_lif(), dict()))


def both(image, x, rtl):
    with open_device("iss", image.config) as dev:
        dev.load(image)
        ref = dev.run(x)
        ref_state = {v: dev.read_array(f"pop.hid.{v}") for v in
                     image.io["populations"]["hid"]["formats"]}
    rtl.load(image)
    got = rtl.run(x)
    state = {v: rtl.read_array(f"pop.hid.{v}") for v in ref_state}
    return ref, ref_state, got, state


def assert_identical(ref, ref_state, got, state):
    assert ref.traces.keys() == got.traces.keys()
    for k in ref.traces:
        np.testing.assert_array_equal(got.traces[k], ref.traces[k], err_msg=str(k))
    for k in ref.readouts:
        np.testing.assert_array_equal(got.readouts[k], ref.readouts[k], err_msg=k)
    for v in ref_state:
        np.testing.assert_array_equal(state[v], ref_state[v], err_msg=v)


@pytest.fixture(scope="module")
def rtl8():
    with open_device("rtl", "lanes8") as dev:
        yield dev


@pytest.mark.parametrize("name", list(MODELS))
def test_rtl_matches_golden_model(name, rtl8):
    model, params = MODELS[name]
    net, x = single_layer(model, T=120, n_in=20, n=19, w_mean=0.8, rate=0.1, **params)
    net.readout("last_v", "hid", "v")
    image = compile_network(net, "lanes8", calibrate=x, weights=16, ring_steps=32,
                            input_ring_bytes=256)
    ref, ref_state, got, state = both(image, x, rtl8)
    assert_identical(ref, ref_state, got, state)
    if model.spiking:
        assert ref.spikes("hid").sum() > 0, "a silent network would prove little"
    assert got.backend == "rtl"
    assert got.compute_cycles == ref.compute_cycles     # cycle-exact golden model


def test_rtl_streams_10000_steps_without_losing_a_spike(rtl8):
    rng = np.random.default_rng(9)
    net = Network(dt=1.0)
    inp = net.spike_input("in", 24)
    hid = net.population("hid", 12, lif(), tau_mem=20.0)
    net.project(inp, hid, rng.normal(0.5, 0.3, (24, 12)))
    net.record(hid, "spikes")
    x = (rng.random((10_000, 24)) < 0.15).astype(np.uint8)
    image = compile_network(net, "lanes8", calibrate=x[:300], weights=16, ring_steps=64,
                            input_ring_bytes=1024)
    whole = compile_network(net, "lanes8", calibrate=x[:300], weights=16, ring_steps=1024)
    ref = run_iss(whole, x)
    rtl8.load(image)
    got = rtl8.run(x)
    np.testing.assert_array_equal(got.spikes("hid"), ref.spikes("hid"))
    assert ref.spikes("hid").sum() > 1000


def two_layer_network(rng):
    """40 inputs -> 70 ALIF -> 10 LIF (more neurons than 32 lanes), recording spikes and
    membranes of both populations, with a readout of the hidden membranes."""
    net = Network(dt=1.0)
    inp = net.spike_input("in", 40)
    hid = net.population("hid", 70, alif(), tau_mem=20.0, tau_adapt=200.0, beta=0.2)
    out = net.population("out", 10, lif(), tau_mem=10.0)
    net.project(inp, hid, rng.normal(0.6, 0.3, (40, 70)))
    net.project(hid, out, rng.normal(0.4, 0.3, (70, 10)))
    for pop, var in (("hid", "spikes"), ("hid", "v"), ("out", "spikes"), ("out", "v")):
        net.record(pop, var)
    net.readout("last_v", hid, "v")
    return net


def test_rtl_matches_golden_model_on_32_lanes():
    rng = np.random.default_rng(4)
    net = two_layer_network(rng)
    x = np.stack([(rng.random((80, 40)) < 0.1).astype(np.uint8) for _ in range(2)])
    image = compile_network(net, "default", calibrate=x[0], ring_steps=32)
    with open_device("rtl", "default") as rtl:
        ref, ref_state, got, state = both(image, x, rtl)
    assert_identical(ref, ref_state, got, state)
    assert ref.spikes("out").sum() > 0


def test_digits_classifier_is_bit_identical_on_rtl_and_golden_model(rtl8):
    """The bundled digits classifier, recording every population's spikes and ``v``: the
    RTL gives the golden model's traces, readouts and compute cycles on held-out images."""
    pytest.importorskip("sklearn")
    from spikevec.sw.commands.demo import _recording_network
    from spikevec.sw.compiler.classifiers import load_classifier
    clf = load_classifier("digits")
    spikes, labels = clf.test_set(4)
    image = clf.compile(rtl8.config, net=_recording_network(clf))
    with open_device("iss", image.config) as dev:
        dev.load(image)
        ref = dev.run(spikes)
    rtl8.load(image)
    got = rtl8.run(spikes)
    spiking = [k for k in ref.traces if k[1] == "spikes"]
    assert set(got.traces) == set(ref.traces) and spiking
    for k in ref.traces:
        np.testing.assert_array_equal(got.traces[k], ref.traces[k], err_msg=str(k))
    for k in ref.readouts:
        np.testing.assert_array_equal(got.readouts[k], ref.readouts[k], err_msg=k)
    assert all(ref.traces[k].sum() > 0 for k in spiking), "silent layers would prove little"
    assert got.compute_cycles == ref.compute_cycles
