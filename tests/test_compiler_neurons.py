"""Neuron models: float trajectories against closed forms and step-by-step numpy."""
import numpy as np
import pytest

from spikevec.sw.compiler import (CompileError, ModelBuilder, Network, alif, cuba_li,
                                  cuba_lif, if_, li, lif, maximum, simulate, where)


def drive(model, current, T, dt=1.0, record=("spikes", "v"), n=1, **params):
    """One population of ``n`` neurons driven by a constant ``current`` per step."""
    net = Network(dt=dt)
    src = net.spike_input("in", 1)
    pop = net.population("p", n, model, **params)
    net.project(src, pop, np.full((1, n), current))
    for var in record:
        net.record(pop, var)
    return net, simulate(net, np.ones((T, 1)))


def test_lif_constant_input_matches_closed_form():
    dt, tau, r, v_leak, current, T = 0.5, 10.0, 2.0, 0.1, 0.3, 30
    _, res = drive(lif(), current, T, dt=dt, tau_mem=tau, r=r, v_leak=v_leak, v_thresh=99.0)
    alpha = 1 - dt / tau
    t = np.arange(T)
    expect = (v_leak + r * current) * (1 - alpha ** (t + 1))
    np.testing.assert_allclose(res.trace("p", "v")[:, 0], expect, rtol=1e-12)
    assert not res.spikes("p").any()


@pytest.mark.parametrize("reset", ["value", "subtract"])
def test_lif_spikes_and_reset_step_by_step(reset):
    dt, tau, thr, v_reset, current, T = 1.0, 5.0, 1.0, -0.2, 1.6, 25
    params = dict(tau_mem=tau, v_thresh=thr)
    if reset == "value":
        params["v_reset"] = v_reset
    _, res = drive(lif(reset), current, T, dt=dt, **params)
    v, vs, zs = 0.0, [], []
    for _ in range(T):
        v = v + dt / tau * (0.0 - v + current)
        z = v > thr
        if z:
            v = v_reset if reset == "value" else v - thr
        vs.append(v)
        zs.append(z)
    np.testing.assert_allclose(res.trace("p", "v")[:, 0], vs, rtol=1e-12)
    np.testing.assert_array_equal(res.spikes("p")[:, 0], zs)
    assert sum(zs) >= 2


def test_alif_threshold_adaptation_step_by_step():
    dt, tau, tau_a, beta, delta, T = 1.0, 10.0, 50.0, 0.5, 1.0, 60
    _, res = drive(alif(), 2.0, T, record=("spikes", "v", "a"), tau_mem=tau,
                   tau_adapt=tau_a, beta=beta, delta_a=delta)
    v = a = 0.0
    vs, as_, zs = [], [], []
    for _ in range(T):
        v = v + dt / tau * (-v + 2.0)
        a = a * (1 - dt / tau_a)
        z = v > 1.0 + beta * a
        if z:
            v, a = 0.0, a + delta
        vs.append(v), as_.append(a), zs.append(z)
    np.testing.assert_allclose(res.trace("p", "v")[:, 0], vs, rtol=1e-12)
    np.testing.assert_allclose(res.trace("p", "a")[:, 0], as_, rtol=1e-12)
    np.testing.assert_array_equal(res.spikes("p")[:, 0], zs)
    isi = np.diff(np.flatnonzero(zs))
    assert len(isi) >= 2 and isi[-1] > isi[0]  # adaptation slows firing


def test_cuba_lif_updates_current_first():
    dt, ts, tm, T = 1.0, 4.0, 8.0, 30
    spikes_in = np.zeros((T, 1))
    spikes_in[[0, 1, 2, 10, 11, 12, 13]] = 1
    net = Network(dt=dt)
    src = net.spike_input("in", 1)
    pop = net.population("p", 1, cuba_lif(), tau_syn=ts, tau_mem=tm, v_thresh=0.5)
    net.project(src, pop, [[2.0]])
    for var in ("isyn", "v", "spikes"):
        net.record(pop, var)
    res = simulate(net, spikes_in)
    i = v = 0.0
    for t in range(T):
        i = i + dt / ts * (-i + 2.0 * spikes_in[t, 0])
        v = v + dt / tm * (-v + i)
        z = v > 0.5
        v = 0.0 if z else v
        assert res.trace("p", "isyn")[t, 0] == pytest.approx(i, rel=1e-12)
        assert res.trace("p", "v")[t, 0] == pytest.approx(v, rel=1e-12, abs=1e-15)
        assert res.spikes("p")[t, 0] == z
    assert res.spikes("p").any()


def test_if_integrates_linearly():
    _, res = drive(if_(), 0.3, 10, dt=0.5, r=2.0, v_thresh=1.0)
    # v grows by dt*r*I = 0.3 per step; fires when v > 1 (step 3: 1.2 -> reset 0)
    np.testing.assert_array_equal(np.flatnonzero(res.spikes("p")[:, 0]), [3, 7])
    np.testing.assert_allclose(res.trace("p", "v")[:4, 0], [0.3, 0.6, 0.9, 0.0])


@pytest.mark.parametrize("mode", ["last", "max", "mean"])
def test_li_readout_modes(mode):
    T = 12
    x = np.zeros((T, 1))
    x[:3] = 1
    net = Network(dt=1.0)
    src = net.spike_input("in", 1)
    out = net.population("out", 2, li(), tau_mem=4.0)
    net.project(src, out, [[1.0, -1.0]])
    net.record(out, "v")
    net.readout("score", out, "v", mode=mode)
    res = simulate(net, x)
    v = res.trace("out", "v")
    want = {"last": v[-1], "max": v.max(0), "mean": v.mean(0)}[mode]
    np.testing.assert_allclose(res.readouts["score"], want)
    assert v[2, 0] == pytest.approx(1 - 0.75 ** 3)


def test_cuba_li_is_cuba_lif_without_threshold():
    _, a = drive(cuba_li(), 0.7, 15, record=("v",), tau_syn=3.0, tau_mem=6.0)
    _, b = drive(cuba_lif(), 0.7, 15, record=("v",), tau_syn=3.0, tau_mem=6.0, v_thresh=1e9)
    np.testing.assert_allclose(a.trace("p", "v"), b.trace("p", "v"))


def refractory_lif():
    """A user-defined LIF with an absolute refractory period (in steps)."""
    m = ModelBuilder("RefractoryLIF")
    v, ref = m.state("v"), m.state("ref")
    alpha, thr, t_ref = m.param("alpha", 0.9), m.param("v_thresh", 1.0), m.param("t_ref", 3.0)
    m.update(v, where(ref > 0, v, alpha * v + m.I))
    m.update(ref, maximum(ref - 1, 0))
    m.spike(v > thr)
    m.reset(v, 0.0)
    m.reset(ref, t_ref)
    return m.build()


def test_user_defined_refractory_model():
    T = 30
    _, res = drive(refractory_lif(), 0.6, T, record=("spikes", "v", "ref"), alpha=0.8)
    v = ref = 0.0
    zs = []
    for _ in range(T):
        v = v if ref > 0 else 0.8 * v + 0.6
        ref = max(ref - 1, 0)
        z = v > 1.0
        if z:
            v, ref = 0.0, 3.0
        zs.append(z)
    np.testing.assert_array_equal(res.spikes("p")[:, 0], zs)
    spikes = np.flatnonzero(zs)
    assert np.all(np.diff(spikes) > 3)


def test_user_model_quadratic_with_per_neuron_params():
    m = ModelBuilder("QIF")
    v = m.state("v", init=-0.5)
    a = m.param("a")
    m.update(v, v + m.dt * (a * v * v + m.I))
    m.spike(v > 1.0)
    m.reset(v, -0.5)
    net, res = drive(m.build(), 0.1, 8, n=2, a=[0.0, 1.0])
    v = np.array([-0.5, -0.5])
    for t in range(8):
        v = v + np.array([0.0, 1.0]) * v * v + 0.1
        z = v > 1
        v = np.where(z, -0.5, v)
        np.testing.assert_allclose(res.trace("p", "v")[t], v)


@pytest.mark.parametrize("build, message", [
    (lambda m: m.update(m.state("v"), m.I + m.param("k").__class__("sym", (), "zz", "param")),
     "'zz', which is not declared"),
    (lambda m: m.update(m.param("k"), m.I), "must be a state variable"),
    (lambda m: m.update(m.state("v"), m.I > 0), "must be a value, not a condition"),
    (lambda m: m.spike(m.state("v") + 1), "must be a condition"),
    (lambda m: m.state("I"), "not a valid state name"),
    (lambda m: (m.state("v"), m.param("v")), "already declared as a state"),
    (lambda m: m.derived("d", m.state("v") * 2), "may only use param, derived, dt symbols"),
    (lambda m: m.update(m.state("v"), "v + 1"), "must be an expression or a number"),
])
def test_model_builder_errors(build, message):
    m = ModelBuilder("Bad")
    with pytest.raises(CompileError, match=message):
        build(m)


def test_python_if_on_lane_data_is_refused():
    m = ModelBuilder("Branchy")
    v = m.state("v")
    with pytest.raises(CompileError, match="used as a Python bool"):
        if v > 1.0:
            pass


def test_model_without_update_or_with_reset_but_no_spike():
    m = ModelBuilder("Empty")
    m.state("v")
    with pytest.raises(CompileError, match="has no update assignments"):
        m.build()
    m = ModelBuilder("NoSpike")
    v = m.state("v")
    m.update(v, v + m.I)
    m.reset(v, 0.0)
    with pytest.raises(CompileError, match="reset assignments but no spike condition"):
        m.build()


def test_float32_option_and_batches():
    net, _ = drive(lif(), 0.3, 5)
    x = np.ones((3, 5, 1))
    r64 = simulate(net, x)
    r32 = simulate(net, x, dtype=np.float32)
    assert r64.trace("p", "v").shape == (3, 5, 1)
    assert r32.trace("p", "v").dtype == np.float32
    np.testing.assert_allclose(r32.trace("p", "v"), r64.trace("p", "v"), rtol=1e-6)
