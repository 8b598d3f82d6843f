"""Network model API: construction, validation messages and step semantics."""
import subprocess
import sys

import numpy as np
import pytest

from spikevec.sw.compiler import CompileError, Network, if_, li, lif, simulate


def small():
    net = Network(dt=1.0, name="small")
    net.spike_input("in", 3)
    net.population("hid", 4, lif())
    net.population("out", 2, li())
    return net


@pytest.mark.parametrize("call, message", [
    (lambda n: n.project("in", "hid", np.zeros((4, 3))),
     r"weight matrix has shape \(4, 3\) but 'in' has 3 and 'hid' 4 neurons; give shape \(3, 4\)"),
    (lambda n: n.project("in", "hid", np.array([[0, np.nan, 0, 0]] * 3)),
     r"weight matrix contains 3 NaN or infinite value\(s\) \(the first at index \(0, 1\): nan\)"),
    (lambda n: n.project("in", "hid", np.full((3, 4), np.inf)), "NaN or infinite"),
    (lambda n: n.project("in", "hid", np.zeros((3, 4)), bias=np.zeros(3)),
     r"bias has shape \(3,\); give a scalar or one value per post neuron, \(4,\)"),
    (lambda n: n.project("in", "hid", np.zeros((3, 4)), bias=[0, 0, np.nan, 0]),
     "bias contains 1 NaN"),
    (lambda n: n.project("out", "hid", np.zeros((2, 4))),
     "source population 'out' uses the non-spiking model LI"),
    (lambda n: n.project("nowhere", "hid", np.zeros((3, 4))),
     r"projection source 'nowhere' is not a population or source of network 'small'; "
     r"choose one of \['hid', 'out', 'in'\]"),
    (lambda n: n.project("hid", "in", np.zeros((4, 3))),
     "projection target 'in' is not a population"),
    (lambda n: n.project("in", "hid", "abc"), "is not numeric"),
    (lambda n: n.record("hid", "u"),
     r"Population 'hid' \(LIF\) has no variable 'u'; it can record \['v', 'spikes'\]"),
    (lambda n: n.record("out", "spikes"), "has no variable 'spikes'"),
    (lambda n: n.readout("r", "out", "v", mode="median"),
     "mode 'median' is not supported; use one of last, max, mean"),
    (lambda n: n.population("hid", 3, lif()), "The name 'hid' is already used"),
    (lambda n: n.population("p", 0, lif()), "has size 0; give a positive integer"),
    (lambda n: n.population("p", 2, "lif"), "is not a NeuronModel"),
    (lambda n: n.population("p", 2, lif(), tau=3.0),
     r"LIF has no parameter\(s\) \['tau'\]; its parameters are \['r', 'tau_mem'"),
    (lambda n: n.population("p", 2, lif(), tau_mem=[1.0, 2.0, 3.0]),
     r"parameter 'tau_mem' has shape \(3,\); give a scalar or one value per neuron, shape \(2,\)"),
    (lambda n: n.population("p", 2, lif(), v_thresh=np.nan), "'v_thresh' contains NaN"),
    (lambda n: n.population("p", 2, lif(), tau_mem=0.5),
     r"Population 'p': tau_mem must be at least dt .* \(dt = 1.0\)"),
    (lambda n: n.population("p", 2, lif(), init={"w": 1.0}),
     r"cannot initialise \['w'\], which are not state variables of LIF"),
    (lambda n: n.poisson("pp", 3, [0.1, 2.0, 0.1]), "rate \\* dt <= 1"),
    (lambda n: n.spike_input(" x", 2), "name ' x' is not allowed"),
])
def test_validation_messages(call, message):
    with pytest.raises(CompileError, match=message):
        call(small())


def test_required_parameter_and_bad_dt():
    from spikevec.sw.compiler import ModelBuilder
    m = ModelBuilder("NeedsK")
    v = m.state("v")
    m.update(v, v * m.param("k") + m.I)
    with pytest.raises(CompileError, match="parameter 'k' has no default, so give a value"):
        Network().population("p", 2, m.build())
    with pytest.raises(CompileError, match=r"timestep dt = -1 is not allowed"):
        Network(dt=-1)


def test_simulate_input_errors():
    net = small()
    net.project("in", "hid", np.ones((3, 4)))
    with pytest.raises(CompileError, match=r"shape \(5, 2\); give \[T, 3\] or \[B, T, 3\]"):
        simulate(net, np.zeros((5, 2)))
    with pytest.raises(CompileError, match="not spike inputs of network 'small'"):
        simulate(net, {"in": np.zeros((5, 3)), "other": np.zeros((5, 3))})
    with pytest.raises(CompileError, match="Nothing recorded for hid.v"):
        simulate(net, np.zeros((5, 3))).trace("hid", "v")
    with pytest.raises(CompileError, match="no spike inputs, so give the number of timesteps"):
        Network().population("p", 1, lif()) and simulate(Network())


def chain(order):
    """in -> a -> b with one spike at step 0; populations added in ``order``."""
    net = Network()
    net.spike_input("in", 1)
    for name in order:
        net.population(name, 1, if_(), v_thresh=0.5)
    net.project("in", "a", [[1.0]])
    net.project("a", "b", [[1.0]])
    net.record("a"), net.record("b")
    x = np.zeros((4, 1))
    x[0] = 1
    return net, simulate(net, x)


def test_feed_forward_same_step_and_backward_edges_delayed():
    net, res = chain(["a", "b"])
    assert not net.projections[1].delayed
    assert res.spikes("a")[:, 0].tolist() == [1, 0, 0, 0]
    assert res.spikes("b")[:, 0].tolist() == [1, 0, 0, 0]   # same step
    net, res = chain(["b", "a"])
    assert net.projections[1].delayed
    assert res.spikes("b")[:, 0].tolist() == [0, 1, 0, 0]   # one step later


def test_recurrent_projection_uses_previous_step_and_inputs_sum():
    net = Network()
    net.spike_input("x", 1)
    net.spike_input("y", 2)
    p = net.population("p", 1, if_(), v_thresh=0.5)
    net.project("x", p, [[1.0]])
    net.project("y", p, [[0.25], [0.25]], bias=0.1)
    rec = net.project(p, p, [[-10.0]])
    assert rec.delayed
    net.record(p), net.record(p, "v")
    x = np.array([[1], [0], [0]])
    y = np.array([[0, 0], [1, 1], [0, 0]])
    res = simulate(net, {"x": x, "y": y})
    # step 0: 1 + 0.1 > 0.5 -> spike, v = 0; step 1: -10 (own spike) + 0.5 + 0.1
    np.testing.assert_allclose(res.trace("p", "v")[:, 0], [0.0, -9.4, -9.3])
    assert res.spikes("p")[:, 0].tolist() == [1, 0, 0]


def test_poisson_source_rate():
    net = Network(dt=0.001)
    net.poisson("noise", 50, 100.0)  # 100 Hz, 0.1 per step
    p = net.population("p", 1, if_(), v_thresh=1e9)
    net.project("noise", p, np.ones((50, 1)))
    net.record(p, "v")
    res = simulate(net, T=400, seed=3)
    assert res.trace("p", "v")[-1, 0] / (400 * 50 * 0.001) == pytest.approx(0.1, rel=0.05)


def test_summary_and_no_torch_import():
    net = small()
    net.project("in", "hid", np.ones((3, 4)))
    net.project("hid", "out", np.ones((4, 2)), bias=np.zeros(2))
    assert "projection hid->out: hid -> out (4, 2) +bias" in net.summary()
    code = ("import sys, spikevec.sw.compiler as c, spikevec.sw.compiler.datasets; "
            "bad = [m for m in ('torch', 'snntorch', 'norse', 'sklearn', 'mlxtend') "
            "if m in sys.modules]; assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)
