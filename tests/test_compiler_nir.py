"""NIR import/export: mapping, discretisation, round trips, cycles and errors."""
import numpy as np
import pytest

nir = pytest.importorskip("nir")

from spikevec.sw.compiler import (CompileError, Network, alif, cuba_lif, from_nir, li, lif,
                                  simulate, to_nir)

RNG = np.random.default_rng(7)
N_IN, N_HID, N_OUT = 6, 5, 3


def arr(*shape, scale=1.0):
    return RNG.normal(size=shape) * scale


def recurrent_graph():
    """Input -> Affine -> LIF -> Linear(recurrent) -> LIF, LIF -> Linear -> LI -> Output."""
    nodes = {
        "input": nir.Input(input_type=np.array([N_IN])),
        "fc1": nir.Affine(weight=arr(N_HID, N_IN, scale=0.8), bias=arr(N_HID, scale=0.1)),
        "lif1": nir.LIF(tau=np.full(N_HID, 5.0), r=np.full(N_HID, 2.0),
                        v_leak=np.zeros(N_HID), v_threshold=np.full(N_HID, 0.5),
                        v_reset=np.zeros(N_HID)),
        "rec": nir.Linear(weight=arr(N_HID, N_HID, scale=0.3)),
        "fc2": nir.Linear(weight=arr(N_OUT, N_HID)),
        "li": nir.LI(tau=np.full(N_OUT, 4.0), r=np.ones(N_OUT), v_leak=np.zeros(N_OUT)),
        "output": nir.Output(output_type=np.array([N_OUT])),
    }
    edges = [("input", "fc1"), ("fc1", "lif1"), ("lif1", "rec"), ("rec", "lif1"),
             ("lif1", "fc2"), ("fc2", "li"), ("li", "output")]
    return nir.NIRGraph(nodes=nodes, edges=edges, type_check=False)


def spikes(T=40, p=0.4, seed=1):
    return (np.random.default_rng(seed).random((T, N_IN)) < p).astype(float)


def test_import_builds_expected_network():
    g = recurrent_graph()
    net = from_nir(g, dt=1.0)
    assert list(net.populations) == ["lif1", "li"]
    proj = {p.name: p for p in net.projections}
    assert set(proj) == {"fc1", "rec", "fc2"}
    np.testing.assert_array_equal(proj["fc1"].weight, g.nodes["fc1"].weight.T)
    np.testing.assert_array_equal(proj["fc1"].bias, g.nodes["fc1"].bias)
    assert proj["rec"].delayed and not proj["fc1"].delayed and not proj["fc2"].delayed
    assert net.readouts["output"].var == "v" and net.readouts["output"].mode == "last"
    assert net.populations["lif1"].consts["alpha"] == pytest.approx(0.8)


def test_import_matches_hand_built_network():
    g = recurrent_graph()
    x = spikes()
    imported = from_nir(g, dt=1.0)
    imported.record("lif1", "spikes")
    res = simulate(imported, x)
    net = Network(dt=1.0)
    net.spike_input("input", N_IN)
    h = net.population("h", N_HID, lif(), tau_mem=5.0, r=2.0, v_thresh=0.5)
    o = net.population("o", N_OUT, li(), tau_mem=4.0)
    net.project("input", h, g.nodes["fc1"].weight.T, bias=g.nodes["fc1"].bias)
    net.project(h, h, g.nodes["rec"].weight.T)
    net.project(h, o, g.nodes["fc2"].weight.T)
    net.record(h, "spikes")
    net.record(o, "v")
    ref = simulate(net, x)
    np.testing.assert_array_equal(res.trace("lif1", "spikes"), ref.spikes("h"))
    np.testing.assert_allclose(res.trace("li", "v"), ref.trace("o", "v"))
    assert ref.spikes("h").sum() > 5


def test_round_trip_through_file(tmp_path):
    x = spikes()
    net1 = from_nir(recurrent_graph(), dt=1.0, readout_mode="max")
    net1.record("lif1")
    r1 = simulate(net1, x)
    g2 = to_nir(net1)
    path = tmp_path / "model.nir"
    nir.write(path, g2)
    net3 = from_nir(path)          # dt and readout mode come from metadata
    assert net3.dt == 1.0 and net3.readouts["output"].mode == "max"
    net3.record("lif1")
    r3 = simulate(net3, x)
    np.testing.assert_array_equal(r1.readouts["output"], r3.readouts["output"])
    np.testing.assert_array_equal(r1.trace("lif1", "spikes"), r3.trace("lif1", "spikes"))
    net4 = from_nir(to_nir(net3))
    assert [p.name for p in net4.projections] == [p.name for p in net3.projections]


def test_snntorch_convention_gives_beta_decay():
    """snnTorch exports tau = dt/(1-beta), r = tau/dt with dt = 1e-4: v = beta v + I."""
    dt, beta = 1e-4, 0.9
    tau = dt / (1 - beta)
    g = nir.NIRGraph.from_list(
        nir.Input(input_type=np.array([1])),
        nir.Linear(weight=np.array([[0.3]])),
        nir.LIF(tau=np.array([tau]), r=np.array([tau / dt]), v_leak=np.zeros(1),
                v_threshold=np.array([1.0])),
        type_check=False)
    net = from_nir(g, dt=dt)
    lif_name = next(iter(net.populations))
    net.record(lif_name, "v")
    res = simulate(net, np.ones((12, 1)))
    v, vs = 0.0, []
    for _ in range(12):
        v = beta * v + 0.3
        v = 0.0 if v > 1.0 else v
        vs.append(v)
    np.testing.assert_allclose(res.trace(lif_name, "v")[:, 0], vs, rtol=1e-9)


def test_cuba_lif_w_in_scale_flatten_and_subgraph():
    """snnTorch RSynaptic style: a recurrent CubaLIF inside a nested graph."""
    n = 4
    tau_syn, tau_mem, dt = np.full(n, 2.0), np.full(n, 4.0), 1.0
    w_rec = arr(n, n, scale=0.2)
    inner = nir.NIRGraph(nodes={
        "input": nir.Input(input_type=np.array([n])),
        "lif": nir.CubaLIF(tau_syn=tau_syn, tau_mem=tau_mem, r=np.ones(n), v_leak=np.zeros(n),
                           v_threshold=np.full(n, 0.3), w_in=np.full(n, 2.0)),
        "w_rec": nir.Linear(weight=w_rec),
        "output": nir.Output(output_type=np.array([n]))},
        edges=[("input", "lif"), ("lif", "w_rec"), ("w_rec", "lif"), ("lif", "output")],
        type_check=False)
    w_in = arr(n, 2 * 3)
    g = nir.NIRGraph(nodes={
        "in": nir.Input(input_type=np.array([2, 3])),
        "flat": nir.Flatten(input_type={"input": np.array([2, 3])}, start_dim=0),
        "scale": nir.Scale(scale=np.full(6, 0.5)),
        "fc": nir.Linear(weight=w_in),
        "rsyn": inner,
        "out": nir.Output(output_type=np.array([n]))},
        edges=[("in", "flat"), ("flat", "scale"), ("scale", "fc"), ("fc", "rsyn"),
               ("rsyn", "out")], type_check=False)
    net = from_nir(g, dt=dt)
    assert list(net.populations) == ["rsyn.lif"]
    proj = {p.name: p for p in net.projections}
    np.testing.assert_allclose(proj["fc"].weight, (2.0 * 0.5 * w_in).T)   # w_in, Scale folded
    np.testing.assert_allclose(proj["rsyn.w_rec"].weight, (2.0 * w_rec).T)
    assert proj["rsyn.w_rec"].delayed
    assert net.populations["rsyn.lif"].model.name == "CubaLIF"
    res = simulate(net, spikes(T=20, p=0.5)[:, :6])
    assert res.trace("rsyn.lif", "spikes").shape == (20, n)


def test_scalar_parameters_take_size_from_weights():
    g = nir.NIRGraph.from_list(nir.Input(input_type=np.array([3])),
                               nir.Linear(weight=np.ones((7, 3))),
                               nir.IF(r=np.array(1.0), v_threshold=np.array(1.0)),
                               type_check=False)
    net = from_nir(g, dt=1.0)
    assert next(iter(net.populations.values())).size == 7


def test_unsupported_node():
    g = recurrent_graph()
    g.nodes["delay"] = nir.Delay(delay=np.ones(N_HID))
    g.edges.append(("lif1", "delay"))
    with pytest.raises(CompileError, match=r"NIR node 'delay' has type Delay, which spikevec "
                       r"cannot compile; supported node types are Input, Output, NIRGraph, "
                       r"Linear, Affine, Scale, Flatten, LIF, CubaLIF, LI, CubaLI, IF\."):
        from_nir(g, dt=1.0)


def test_mismatched_shapes_nan_weights_and_bad_tau():
    g = recurrent_graph()
    g.nodes["fc2"] = nir.Linear(weight=arr(N_OUT, N_HID + 1))
    with pytest.raises(CompileError, match=r"NIR node 'fc2' \(Linear\) has a weight of shape "
                       r"\(3, 6\) but receives 5 values"):
        from_nir(g, dt=1.0)
    g = recurrent_graph()
    g.nodes["fc2"] = nir.Linear(weight=arr(N_OUT + 1, N_HID))
    with pytest.raises(CompileError, match=r"NIR node 'li' \(LI\) has 3 neurons but receives 4"):
        from_nir(g, dt=1.0)
    g = recurrent_graph()
    g.nodes["rec"].weight[1, 2] = np.nan
    with pytest.raises(CompileError, match=r"NIR node 'rec' \(Linear\) has NaN or infinite "
                       r"weights or bias; only finite values are allowed"):
        from_nir(g, dt=1.0)
    with pytest.raises(CompileError, match=r"NIR node 'lif1' \(LIF\): Population 'lif1': "
                       r"tau_mem must be at least dt"):
        from_nir(recurrent_graph(), dt=10.0)
    with pytest.raises(CompileError, match="give the timestep: from_nir"):
        from_nir(recurrent_graph())


def test_cycle_without_neuron_and_weighted_output():
    g = recurrent_graph()
    g.nodes["loop"] = nir.Linear(weight=np.eye(N_HID))
    g.edges += [("rec", "loop"), ("loop", "rec")]
    with pytest.raises(CompileError, match="form a cycle without a neuron node"):
        from_nir(g, dt=1.0)
    g = recurrent_graph()
    g.edges.remove(("li", "output"))
    g.edges.append(("fc2", "output"))
    with pytest.raises(CompileError, match=r"'output' \(Output\) must be fed by exactly one "
                       r"neuron node through Flatten at most"):
        from_nir(g, dt=1.0)


def test_export_errors():
    net = Network()
    net.spike_input("in", 2)
    net.population("a", 2, alif())
    with pytest.raises(CompileError, match="model ALIF, which has no NIR equivalent"):
        to_nir(net)
    net = Network()
    net.poisson("noise", 2, 0.1)
    with pytest.raises(CompileError, match="PoissonSource, which NIR cannot express"):
        to_nir(net)
    net = Network()
    net.population("a", 2, lif(reset="subtract"))
    with pytest.raises(CompileError, match=r"LIF\(subtract\), which has no NIR equivalent"):
        to_nir(net)
    net = Network()
    net.population("a", 2, cuba_lif())
    net.readout("r", "a", "v")
    with pytest.raises(CompileError, match="outputs only 'spikes'"):
        to_nir(net)
