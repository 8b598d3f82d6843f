"""The host runtime: one API over the golden model and host-protocol devices, streaming
through small rings, named arrays and the input-ring bookkeeping.

Host-protocol code paths run against :class:`FakeSocTransport` (the golden model behind
the host protocol, with simulated time so the core really waits for the host); the RTL
itself is tested in test_runtime_rtl.py.
"""
import numpy as np
import pytest

from spikevec.hw.config import ConfigMismatch
from spikevec.sw.compiler import Network, compile_network, lif, run_iss
from spikevec.sw.runtime import open_device
from spikevec.sw.runtime.fake_device import FakeSocTransport
from spikevec.sw.runtime.streaming import WRAP, InputRing, encode_record


def small_net(n_in=24, n=12, seed=0):
    rng = np.random.default_rng(seed)
    net = Network(dt=1.0)
    inp = net.spike_input("in", n_in)
    hid = net.population("hid", n, lif(), tau_mem=20.0)
    out = net.population("out", 4, lif(), tau_mem=10.0)
    net.project(inp, hid, rng.normal(0.5, 0.3, (n_in, n)))
    net.project(hid, out, rng.normal(0.6, 0.3, (n, 4)))
    net.record(hid, "spikes")
    net.record(hid, "v")
    net.record(out, "spikes")
    net.readout("vout", out, "v")
    net.readout("vmean", hid, "v", mode="mean")
    return net


def spikes(T, C, rate=0.1, seed=1):
    return (np.random.default_rng(seed).random((T, C)) < rate).astype(np.uint8)


@pytest.fixture(scope="module")
def tiny_ring_image():
    """Rings far smaller than the trials: 16 output slots, 160 input bytes."""
    x = spikes(200, 24)
    return compile_network(small_net(), "lanes8", calibrate=x, weights=16, ring_steps=16,
                           input_ring_bytes=160)


def assert_same(a, b):
    assert a.traces.keys() == b.traces.keys()
    for k in a.traces:
        np.testing.assert_array_equal(a.traces[k], b.traces[k], err_msg=str(k))
    for k in a.readouts:
        np.testing.assert_array_equal(a.readouts[k], b.readouts[k], err_msg=k)


def test_input_ring_wraps_with_marker_and_never_overwrites_live_records():
    T, C = 40, 24
    x = spikes(T, C, rate=0.2, seed=3)
    spec = {"name": "in", "ring": 64, "ring_bytes": 48, "written": 0}
    mem = bytearray(64 + 48 + 8)
    ring = InputRing(spec, x)
    pos, done, seen, unread = 64, 0, [], []

    def write(addr, data):
        assert 64 <= addr and addr + len(data) <= 64 + 48 + 8
        for a, n in unread:                     # bytes the core has yet to read
            assert addr + len(data) <= a or addr >= a + n, "unread record overwritten"
        mem[addr:addr + len(data)] = data

    while done < T:
        # unread: the records of steps >= done, and a wrap marker before them
        unread = [(a, n) for step, a, n, _ in ring.live if step >= done]
        unread += [(w, 4) for step, _, _, w in ring.live if step >= done and w is not None]
        ring.refill(done, write, T)
        assert ring.written > done, "no progress although every record was consumed"
        # the core consumes one record the way the generated code reads it
        count = int(np.frombuffer(mem[pos:pos + 4], np.uint32)[0])
        if count == WRAP:
            pos = 64
            count = int(np.frombuffer(mem[pos:pos + 4], np.uint32)[0])
        idx = np.frombuffer(mem[pos + 4:pos + 4 + 2 * count], np.uint16)
        seen.append(idx.tolist())
        pos = (pos + 4 + 2 * count + 3) & ~3
        done += 1
    assert seen == [np.flatnonzero(r).tolist() for r in x]
    assert len(encode_record(np.ones(5))) == 16


def test_load_refuses_an_image_for_another_core(tiny_ring_image):
    with open_device("iss", "default") as dev:
        with pytest.raises(ConfigMismatch):
            dev.load(tiny_ring_image)


def test_iss_device_matches_run_iss_with_tiny_rings(tiny_ring_image):
    x = spikes(700, 24)
    ref = run_iss(tiny_ring_image, x)
    with open_device("iss", "lanes8") as dev:
        dev.load(tiny_ring_image)
        got = dev.run(x)
    assert_same(ref, got)
    assert got.spikes("hid").sum() > 50 and got.T == 700
    # the core spun while the host refilled the tiny rings, and counted it
    assert got.compute_cycles[0] < got.cycles[0]


def test_fake_soc_device_streams_while_core_waits(tiny_ring_image):
    """A slow host (few instructions per request) makes the core wait at both rings;
    the result is still the golden model's, and a batch gives [B, T, N]."""
    x = np.stack([spikes(300, 24, seed=s) for s in (4, 5)])
    ref = run_iss(tiny_ring_image, x)
    with open_device("rtl", "lanes8", transport=FakeSocTransport("lanes8", 150)) as dev:
        dev.load(tiny_ring_image)
        got = dev.run_batch(x, progress=False)
    with open_device("iss", "lanes8") as dev:
        dev.load(tiny_ring_image)
        iss = dev.run(x)
    assert_same(ref, got)
    assert got.spikes("hid").shape == (2, 300, 12)
    assert got.cycles[0] > iss.cycles[0]        # it spun longer in the wait loops
    assert got.compute_cycles == iss.compute_cycles     # but computed the same


def test_record_subset_and_steps(tiny_ring_image):
    x = spikes(120, 24)
    ref = run_iss(tiny_ring_image, x[:50])
    with open_device("iss", "lanes8") as dev:
        dev.load(tiny_ring_image)
        got = dev.run(x, steps=50, record=["out.spikes"])
        assert set(got.traces) == {("out", "spikes"), ("hid", "v")}   # v: mean readout
        np.testing.assert_array_equal(got.spikes("out"), ref.spikes("out"))
        np.testing.assert_array_equal(got.readouts["vmean"], ref.readouts["vmean"])
        with pytest.raises(ValueError, match="does not record"):
            dev.run(x, record=["out.v"])


def test_arrays_by_name_round_trip_and_persist(tiny_ring_image):
    x = spikes(60, 24)
    with open_device("rtl", "lanes8", transport=FakeSocTransport("lanes8")) as dev:
        dev.load(tiny_ring_image)
        w = dev.read_array("weights.in->hid")
        # the weights the core uses: the network's times the folded input gain dt/tau
        W = np.random.default_rng(0).normal(0.5, 0.3, (24, 12))
        assert w.shape == (24, 16)
        np.testing.assert_allclose(w[:, :12], W / 20.0, atol=2e-4)
        dev.write_array("weights.in->hid", np.zeros_like(w))
        np.testing.assert_array_equal(dev.read_array("weights.in->hid"), 0)
        silent = dev.run(x)
        assert silent.spikes("hid").sum() == 0 and silent.spikes("out").sum() == 0
        dev.write_array("weights.in->hid", w)
        v0 = np.linspace(-0.5, 0.5, 12)
        dev.write_array("pop.hid.v", v0)
        np.testing.assert_allclose(dev.read_array("pop.hid.v"), v0, atol=2 ** -12)
        again = dev.run(x)                 # starts from the written initial v
        with pytest.raises(ValueError, match="outside its range"):
            dev.write_array("pop.hid.v", np.full(12, 1e6))
        with pytest.raises(ValueError, match="has no array"):
            dev.read_array("pop.nope.v")
    with open_device("iss", "lanes8") as dev:
        dev.load(tiny_ring_image)
        dev.write_array("pop.hid.v", v0)
        np.testing.assert_array_equal(dev.run(x).spikes("hid"), again.spikes("hid"))


def test_streaming_10000_steps_loses_no_spike_on_golden_model():
    x = spikes(10_000, 24, rate=0.15, seed=9)
    image = compile_network(small_net(), "lanes8", calibrate=x[:300], weights=16,
                            ring_steps=32, input_ring_bytes=512)
    whole = compile_network(small_net(), "lanes8", calibrate=x[:300], weights=16,
                            ring_steps=1024)
    ref = run_iss(whole, x)                 # big rings, so a few long pieces
    with open_device("iss", "lanes8") as dev:
        dev.load(image)
        got = dev.run(x)
    assert_same(ref, got)
    assert ref.spikes("hid").sum() > 1000


def test_streaming_10000_steps_through_the_host_protocol():
    x = spikes(10_000, 24, rate=0.15, seed=9)
    image = compile_network(small_net(), "lanes8", calibrate=x[:300], weights=16,
                            ring_steps=64, input_ring_bytes=1024)
    ref = run_iss(image, x)
    with open_device("rtl", "lanes8", transport=FakeSocTransport("lanes8", 4000)) as dev:
        dev.load(image)
        got = dev.run(x, record=["hid.spikes", "out.spikes"])
    for k in got.traces:
        np.testing.assert_array_equal(got.traces[k], ref.traces[k])


def test_register_resident_state_is_in_memory_after_a_run():
    """A pre-decayed LIF membrane lives in its accumulator register for the whole run and
    is stored only in the run's last step (codegen_step.emit_sync_stores); after a
    streamed run (16-slot rings: the core waits for the host many times) the state read
    back is the last step's."""
    net = small_net(n=64)
    x = spikes(70, 24)
    image = compile_network(net, "lanes8", calibrate=x, weights=16, ring_steps=16,
                            input_ring_bytes=160)
    assert any(k.startswith("__phase_update_hid_sync") for k in image.program.symbols)
    for backend, kw in (("iss", {}), ("rtl", {"transport": FakeSocTransport("lanes8")})):
        with open_device(backend, "lanes8", **kw) as dev:
            dev.load(image)
            r = dev.run(x)
            v = r.trace("hid", "v")
            assert r.spikes("hid").sum() > 0 and not np.array_equal(v[-1], v[-2])
            np.testing.assert_array_equal(dev.read_array("pop.hid.v"), v[-1])
