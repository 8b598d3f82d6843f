"""Issue 4 checks: spilling, NIR file round trips on the core, errors, the streaming
header word, phase labels and the formats report of ``spikevec inspect``."""
import numpy as np
import pytest

from spikevec.sim.iss import Machine
from spikevec.sw.cli import main
from spikevec.sw.compiler import (CompileError, Image, ModelBuilder, Network, compile_network,
                                  effective_network, from_nir, li, lif, run_iss, simulate)
from spikevec.sw.compiler.layout import HEADER
from spikevec.sw.compiler.run_iss import encode_records

nir = pytest.importorskip("nir")


def many_states(n, first=0):
    """A model with ``n`` independent leaky traces of the input; all are loaded at the
    start of the update, so ``n`` above the free vector registers forces spills."""
    m = ModelBuilder(f"Traces{n}")
    for i in range(first, first + n):
        s = m.state(f"s{i}")
        m.update(s, (1.0 - 1.0 / (4 + i)) * s + (0.05 + 0.01 * i) * m.I)
    return m.build()


def traces_net(groups, x_size=16, seed=0):
    rng = np.random.default_rng(seed)
    net = Network(dt=1.0)
    net.spike_input("in", x_size)
    w = rng.normal(0.5, 0.3, (x_size, 24))
    first = 0
    for g, n in enumerate(groups):
        pop = net.population(f"p{g}", 24, many_states(n, first))
        net.project("in", pop, w)
        for i in (0, 19, 20, 39):
            if first <= i < first + n:
                net.record(pop, f"s{i}")
        first += n
    return net, (rng.random((120, x_size)) < 0.2).astype(np.uint8)


def test_register_spilling_gives_unspilled_results():
    """40 state variables need more than the 31 free vector registers: the update spills,
    and every variable's trajectory equals the same variables split over two populations
    that need no spills (nearest rounding, so the arithmetic is deterministic)."""
    big, x = traces_net([40])
    small, _ = traces_net([20, 20])
    img_big = compile_network(big, calibrate=x, rounding="nearest", weights=16)
    img_small = compile_network(small, calibrate=x, rounding="nearest", weights=16)
    spills = img_big.stats["register_plan"]["p0"]["vector_spills"]
    assert spills > 0
    assert all(p["vector_spills"] == 0 for p in img_small.stats["register_plan"].values())
    got_big, got_small = run_iss(img_big, x), run_iss(img_small, x)
    ref = simulate(big, x)
    worst = 0.0
    for i in (0, 19, 20, 39):
        a = got_big.trace("p0", f"s{i}")
        b = got_small.trace("p0" if i < 20 else "p1", f"s{i}")
        np.testing.assert_array_equal(a, b)
        r = ref.trace("p0", f"s{i}")
        worst = max(worst, float(np.sqrt(np.mean((a - r) ** 2)) / (r.max() - r.min())))
    print(f"spilled update: {spills} spill slots, worst NRMSE vs float {worst:.4f}")
    assert worst < 0.01


def nir_graph(rng, n_in=12, n_hid=40, n_out=5):
    """Input -> fc1 -> lif1 <-> rec (cycle); lif1 -> fc2 -> li and input -> fc3 -> li
    (li receives two projections, lif1 a feed-forward and a recurrent one)."""
    nodes = {
        "input": nir.Input(input_type=np.array([n_in])),
        "fc1": nir.Affine(weight=rng.normal(0.25, 0.3, (n_hid, n_in)),
                          bias=rng.normal(0.0, 0.02, n_hid)),
        "lif1": nir.LIF(tau=np.full(n_hid, 10.0), r=np.full(n_hid, 10.0),
                        v_leak=np.zeros(n_hid), v_threshold=np.full(n_hid, 1.0),
                        v_reset=np.zeros(n_hid)),
        "rec": nir.Linear(weight=rng.normal(0.0, 0.05, (n_hid, n_hid))),
        "fc2": nir.Linear(weight=rng.normal(0.0, 0.5, (n_out, n_hid))),
        "fc3": nir.Linear(weight=rng.normal(0.0, 0.5, (n_out, n_in))),
        "li": nir.LI(tau=np.full(n_out, 5.0), r=np.full(n_out, 5.0), v_leak=np.zeros(n_out)),
        "output": nir.Output(output_type=np.array([n_out])),
    }
    edges = [("input", "fc1"), ("fc1", "lif1"), ("lif1", "rec"), ("rec", "lif1"),
             ("lif1", "fc2"), ("fc2", "li"), ("input", "fc3"), ("fc3", "li"),
             ("li", "output")]
    return nir.NIRGraph(nodes=nodes, edges=edges, type_check=False)


def test_nir_file_round_trip_gives_the_same_spikes_as_the_api(tmp_path):
    rng = np.random.default_rng(11)
    g = nir_graph(rng)
    path = tmp_path / "net.nir"
    nir.write(path, g)
    from_file = from_nir(path, dt=1.0)
    from_file.record("lif1", "spikes")
    api = Network(dt=1.0)
    api.spike_input("input", 12)
    h = api.population("h", 40, lif(), tau_mem=10.0, r=10.0, v_thresh=1.0)
    o = api.population("o", 5, li(), tau_mem=5.0, r=5.0)
    api.project("input", h, g.nodes["fc1"].weight.T, bias=g.nodes["fc1"].bias)
    api.project(h, h, g.nodes["rec"].weight.T)
    api.project(h, o, g.nodes["fc2"].weight.T)
    api.project("input", o, g.nodes["fc3"].weight.T)
    api.record(h, "spikes")
    api.readout("output", o, "v")
    assert len(from_file.inputs_to(from_file.populations["lif1"])) == 2
    assert len(from_file.inputs_to(from_file.populations["li"])) == 2
    x = (rng.random((200, 12)) < 0.15).astype(np.uint8)
    a = run_iss(compile_network(from_file, calibrate=x), x)
    b_img = compile_network(api, calibrate=x)
    b = run_iss(b_img, x)
    np.testing.assert_array_equal(a.spikes("lif1"), b.spikes("h"))
    np.testing.assert_array_equal(a.readouts["output"], b.readouts["output"])
    ref = simulate(effective_network(api, b_img), x)
    early = float((ref.spikes("h")[:30] == b.spikes("h")[:30]).mean())
    counts = b.spikes("h").sum() / ref.spikes("h").sum()
    print(f"NIR file vs API: {int(a.spikes('lif1').sum())} identical spikes; agreement "
          f"with the float reference in the first 30 steps {early:.4f}, spike count ratio "
          f"{counts:.3f} (the recurrent network is chaotic afterwards)")
    assert a.spikes("lif1").sum() > 100 and early >= 0.99 and abs(counts - 1) < 0.1


def test_nir_unsupported_parameters_are_named():
    rng = np.random.default_rng(2)
    g = nir_graph(rng)
    g.nodes["lif1"].v_threshold = np.full(40, np.nan)
    with pytest.raises(CompileError, match=r"NIR node 'lif1' \(LIF\).*'v_thresh' contains NaN"):
        from_nir(g, dt=1.0)
    g = nir_graph(rng)
    g.nodes["lif1"].tau = np.full(7, 10.0)
    with pytest.raises(CompileError, match=r"NIR node 'lif1' \(LIF\) has parameters of "
                                           r"different sizes \[7, 40\]"):
        from_nir(g, dt=1.0)


def test_model_too_large_errors():
    net = Network()
    net.spike_input("in", 100)
    pop = net.population("p", 600, lif())
    net.project("in", pop, np.ones((100, 600)))
    net.project(pop, pop, np.ones((600, 600)))
    with pytest.raises(CompileError, match=r"weights\.in->p.*needs 60000 bytes of vector memory.*'tiny'"):
        compile_network(net, "tiny")
    with pytest.raises(CompileError, match="(?s)does not fit core configuration 'tiny'.*"
                                           "instruction memory"):
        _huge_code()


def _huge_code():
    m = ModelBuilder("Long")
    v = m.state("v")
    e = v
    for i in range(120):
        e = 0.99 * e + 0.001 * (i + 1)
    m.update(v, e + m.I)
    net = Network()
    net.spike_input("in", 8)
    pop = net.population("p", 64, m.build())
    net.project("in", pop, np.ones((8, 64)))
    compile_network(net, "tiny")


def streaming_setup(seed, n_in, n_hid, T, rate):
    """A LIF layer recording its spikes, its plain run_iss result, and a fresh Machine
    with the image loaded: (image, x, plain, machine, input spec, header)."""
    rng = np.random.default_rng(seed)
    net = Network()
    net.spike_input("in", n_in)
    hid = net.population("hid", n_hid, lif(), tau_mem=10.0)
    net.project("in", hid, rng.normal(0.5, 0.3, (n_in, n_hid)))
    net.record(hid, "spikes")
    x = (rng.random((T, n_in)) < rate).astype(np.uint8)
    image = compile_network(net, calibrate=x)
    m = Machine(image.config)
    m.load_program(image.program)
    return image, x, run_iss(image, x), m, image.io["inputs"][0], image.io["header"]


def ring_spikes(m, image, T, n):
    """The recorded spike masks of the first output (one 32-bit word per 32 neurons)."""
    o = image.io["outputs"][0]
    raw = m.dmem[o["address"]:o["address"] + 4 * o["words"] * T]
    return np.unpackbits(raw, bitorder="little").reshape(T, -1)[:, :n].astype(bool)


def test_wait_cycles_make_streaming_runs_count_compute_only():
    """Feed the input a few steps at a time so the core spins in __wait_input; the
    cycle counter minus header.wait_cycles equals the cycles of a run without waits."""
    image, x, plain, m, spec, hdr = streaming_setup(4, 20, 30, 40, 0.1)
    data, n = encode_records(x, spec["ring_bytes"])
    assert n == len(x)
    m.set_dmem(data, spec["ring"])
    m.set_dmem(np.array([len(x)], np.uint32).tobytes(), hdr["n_steps"])
    m.set_dmem(np.array([0, spec["ring"]], np.uint32).tobytes(), spec["written"])
    spins = 0
    for written in list(range(5, 20, 5)) + list(range(20, len(x) + 1)):
        m.set_dmem(np.array([written], np.uint32).tobytes(), spec["written"])
        res = m.run(max_instructions=20000)
        if not res.ok:
            spins += 1
            assert image.symbol("__wait_input_in") <= m.pc < image.symbol("__wait_output")
    assert res.ok and spins >= 20
    assert np.array_equal(ring_spikes(m, image, len(x), 30), plain.spikes("hid"))
    wait = int(m.dmem[hdr["wait_cycles"]:hdr["wait_cycles"] + 4].view(np.uint32)[0])
    assert hdr["wait_cycles"] == 4 * HEADER.index("wait_cycles")
    print(f"streaming: {spins} waits, {m.cycles} cycles, {wait} waiting, "
          f"{m.cycles - wait} computing; without waits {plain.cycles[0]}")
    assert wait > 1000
    assert m.cycles - wait == plain.cycles[0]


def test_step_limit_at_output_ring_wraps_counts_only_waiting():
    """Output ring wraps in the step limit: a host that drains the output ring only when
    the core waits, with all input written up front or only up to each ring wrap (the
    wrap pass, then a wait), or one that services the rings every 37 instructions, gives
    the same compute cycles (cycles - wait_cycles), final state and recorded spikes."""
    rng = np.random.default_rng(6)
    net = Network()
    net.spike_input("in", 40)
    hid = net.population("hid", 40, lif(), tau_mem=10.0)
    net.project("in", hid, rng.normal(0.5, 0.3, (40, 40)))
    net.record(hid, "spikes")
    T, R = 30, 6
    x = (rng.random((T, 40)) < 0.2).astype(np.uint8)
    image = compile_network(net, calibrate=x, ring_steps=R)
    spec, hdr = image.io["inputs"][0], image.io["header"]
    data, n = encode_records(x, spec["ring_bytes"])
    pop = image.memory_map["pop.hid"]
    assert n == T

    def word(m, addr):
        return int(m.dmem[addr:addr + 4].view(np.uint32)[0])

    runs = []
    for ahead, slice_ in ((T, 3000), (R, 3000), (T, 37)):   # input written: all / up to
        # the next ring wrap; the host serves when the core waits / every 37 instructions
        m = Machine(image.config)
        m.load_program(image.program)
        m.set_dmem(data, spec["ring"])
        m.set_dmem(np.array([T], np.uint32).tobytes(), hdr["n_steps"])
        m.set_dmem(np.array([min(T, ahead), spec["ring"]], np.uint32).tobytes(),
                   spec["written"])
        spikes, spins = np.zeros((T, 40), bool), 0
        while True:
            res = m.run(max_instructions=slice_)
            done = word(m, hdr["steps_done"])
            for t in range(word(m, hdr["out_consumed"]), done):    # drain the ring
                spikes[t] = ring_spikes(m, image, R, 40)[t % R]
            m.set_dmem(np.array([done], np.uint32).tobytes(), hdr["out_consumed"])
            m.set_dmem(np.array([min(T, done - done % R + ahead)], np.uint32).tobytes(),
                       spec["written"])
            if res.ok:
                break
            spins += 1
        wait = word(m, hdr["wait_cycles"])
        state = m.vmem[pop.address:pop.address + pop.nbytes].copy()
        runs.append((m.cycles - wait, wait, spins, state, spikes))
    print("ring wraps: compute, waiting, host services:", [r[:3] for r in runs])
    (a, wa, sa, sta, spa) = runs[0]
    assert sa >= 4 and wa > 100 and spa.sum() > 20 and runs[2][2] > 20
    for b, wb, sb, stb, spb in runs[1:]:
        assert b == a
        assert np.array_equal(stb, sta) and np.array_equal(spb, spa)
    np.testing.assert_array_equal(spa, run_iss(image, x).spikes("hid"))


def test_input_ring_wrap_marker():
    """A record count of 0xFFFFFFFF sends the core back to the ring's start."""
    image, x, plain, m, spec, hdr = streaming_setup(9, 24, 40, 20, 0.2)
    first, _ = encode_records(x[:10], spec["ring_bytes"])    # late in the ring, + marker
    m.set_dmem(first + np.array([0xFFFFFFFF], np.uint32).tobytes(), spec["ring"] + 1024)
    m.set_dmem(np.array([10, spec["ring"] + 1024], np.uint32).tobytes(), spec["written"])
    m.set_dmem(np.array([20], np.uint32).tobytes(), hdr["n_steps"])
    assert not m.run(max_instructions=20000).ok          # waiting for step 10's record
    second, _ = encode_records(x[10:], spec["ring_bytes"])
    m.set_dmem(second, spec["ring"])
    m.set_dmem(np.array([20], np.uint32).tobytes(), spec["written"])
    assert m.run(max_instructions=200000).ok
    assert np.array_equal(ring_spikes(m, image, 20, 40), plain.spikes("hid"))


def test_phase_labels_cover_the_step():
    rng = np.random.default_rng(5)
    net = Network()
    net.spike_input("in", 50)
    hid = net.population("hid", 64, lif())
    out = net.population("out", 4, li())
    net.project("in", hid, rng.normal(0.3, 0.3, (50, 64)))
    net.project(hid, hid, rng.normal(0.0, 0.3, (64, 64)))
    net.project(hid, out, rng.normal(0.0, 0.3, (64, 4)))
    sym = compile_network(net).program.symbols
    order = ["__step", "__phase_input", "__phase_record_hid", "__phase_update_hid",
             "__phase_prop_hid", "__phase_record_out", "__phase_update_out",
             "__phase_step", "__done"]
    addrs = [sym[k][1] for k in order]
    assert addrs == sorted(addrs)
    # every phase has code, except that a record phase (ring pointers, constants) is
    # empty when the population records nothing and its constants stay pinned
    assert len(set(addrs)) == len(addrs) - 1
    assert sym["__phase_record_out"][1] == sym["__phase_update_out"][1]


def test_inspect_shows_formats_overrides_and_margins(tmp_path, capsys):
    rng = np.random.default_rng(6)
    net = Network(name="fmt")
    net.spike_input("in", 10)
    hid = net.population("hid", 20, lif())
    net.project("in", hid, rng.normal(0.5, 0.3, (10, 20)))
    net.record(hid, "v")
    x = (rng.random((50, 10)) < 0.2).astype(np.uint8)
    image = compile_network(net, calibrate=x, formats={"hid.v": "s4.11"})
    auto = compile_network(net, calibrate=x)
    info = image.formats["variables"]["hid.v"]
    assert info["format"] == "s4.11"
    assert info["overflow_margin"] == pytest.approx(16.0 / info["calibrated_max"])
    assert auto.formats["variables"]["hid.v"]["format"] != "s4.11"
    path = tmp_path / "fmt.svimg"
    image.save(path)
    assert main(["inspect", str(path)]) == 0
    text = capsys.readouterr().out
    line = next(ln for ln in text.splitlines() if ln.strip().startswith("hid.v "))
    assert "s4.11" in line and f"margin {info['overflow_margin']:.2f}x" in line
    assert "__phase_update_hid" in text


@pytest.mark.parametrize("preset", ["default", "lanes8"])
def test_group_path_equals_resident_path(monkeypatch, preset):
    """The two code paths (registers resident for the run with fused rows, or groups of
    chunks with per-projection scans) compute the same network: with nearest rounding
    the spikes and readouts are identical (no saturation occurs here)."""
    from spikevec.sw.compiler import codegen
    rng = np.random.default_rng(8)
    net = Network()
    net.spike_input("in", 40)
    hid = net.population("hid", 70, lif(), tau_mem=10.0)
    out = net.population("out", 6, li(), tau_mem=5.0)
    net.project("in", hid, rng.normal(0.3, 0.3, (40, 70)), bias=0.01)
    net.project(hid, hid, rng.normal(0.0, 0.1, (70, 70)))
    net.project(hid, out, rng.normal(0.0, 0.5, (70, 6)))
    net.spike_input("cue", 5)                           # a second input, and a later
    fb = net.population("fb", 12, lif(), tau_mem=8.0)  # population feeding back (delayed)
    net.project("cue", fb, rng.normal(0.8, 0.3, (5, 12)))
    net.project(hid, fb, rng.normal(0.1, 0.2, (70, 12)))
    net.project(fb, hid, rng.normal(0.0, 0.3, (12, 70)))
    net.record(hid, "spikes")
    net.record(fb, "spikes")
    net.readout("y", out, "v", mode="max")
    x = {"in": (rng.random((150, 40)) < 0.1).astype(np.uint8),
         "cue": (rng.random((150, 5)) < 0.2).astype(np.uint8)}
    resident = compile_network(net, preset, calibrate=x, rounding="nearest")
    monkeypatch.setattr(codegen, "RESIDENT_MAX", 0)
    grouped = compile_network(net, preset, calibrate=x, rounding="nearest")
    assert "__phase_prop_hid" in resident.program.symbols
    assert "__phase_group_hid_0" in grouped.program.symbols
    a, b = run_iss(resident, x), run_iss(grouped, x)
    print(f"{preset}: resident {a.cycles_per_step:.0f} cycles/step, group "
          f"{b.cycles_per_step:.0f}; {int(a.spikes('hid').sum())} hidden spikes")
    assert a.spikes("hid").sum() > 100 and a.spikes("fb").sum() > 20
    np.testing.assert_array_equal(a.spikes("hid"), b.spikes("hid"))
    np.testing.assert_array_equal(a.spikes("fb"), b.spikes("fb"))
    ref = simulate(effective_network(net, resident), x)
    for pop in ("hid", "fb"):
        assert (ref.spikes(pop)[:40] == a.spikes(pop)[:40]).mean() >= 0.99
    np.testing.assert_array_equal(a.readouts["y"], b.readouts["y"])


def test_unrolled_input_and_register_masks_equal_group_path(monkeypatch):
    """The resident path's unrolled input blocks (records of more than 32 spikes, input
    and output ring wraps, with and without the second pass's run-long registers), its mask words kept in registers and its zero-spike skip
    compute what the group path's loops compute (nearest rounding: identical bits)."""
    from spikevec.sw.compiler import codegen
    rng = np.random.default_rng(9)
    net = Network()
    net.spike_input("in", 300)
    hid = net.population("hid", 256, lif(), tau_mem=10.0)
    out = net.population("out", 10, li(), tau_mem=5.0)
    net.project("in", hid, rng.normal(0.05, 0.1, (300, 256)))
    net.project(hid, hid, rng.normal(0.0, 0.1, (256, 256)))
    net.project(hid, out, rng.normal(0.0, 0.3, (256, 10)))
    net.record(hid, "spikes")
    net.readout("y", out, "v", mode="max")
    rate = np.where(np.arange(90) % 30 < 10, 0.15, 0.01)[:, None]   # bursts and lulls
    x = (rng.random((90, 300)) < rate).astype(np.uint8)
    kw = dict(calibrate=x, rounding="nearest", ring_steps=7, input_ring_bytes=400)
    resident = compile_network(net, **kw)
    from spikevec.sw.compiler import build          # without the second pass's spare
    monkeypatch.setattr(build, "_unused_registers", lambda program: [])   # registers
    first = compile_network(net, **kw)
    monkeypatch.setattr(codegen, "RESIDENT_MAX", 0)
    grouped = compile_network(net, **kw)
    assert "__in_in_loop" in resident.program.symbols  # in_rptr in a register: big-record loop
    assert "__in_in_more" in first.program.symbols     # in_rptr in memory: batches
    assert "__phase_group_hid_0" in grouped.program.symbols
    a, b, c = run_iss(resident, x), run_iss(grouped, x), run_iss(first, x)
    counts = a.spikes("hid").sum(axis=1)
    assert x.sum(axis=1).max() > 32 and counts.max() > 8 and (counts == 0).any()
    for r in (b, c):
        np.testing.assert_array_equal(a.spikes("hid"), r.spikes("hid"))
        np.testing.assert_array_equal(a.readouts["y"], r.readouts["y"])
    assert len(resident.program.text) != len(first.program.text)   # two different codes


def test_schedule_hoists_loads_and_keeps_every_order():
    """regalloc.schedule: the longest latency chains start first (the multiply, then the
    running-maximum load, hoisted above the state store), and every read still follows
    its write, every overwrite follows the reads of the old value, the
    store of a memory row follows its load, stochastic roundings keep their order."""
    from spikevec.sw.compiler.lower import Ins
    from spikevec.sw.compiler.regalloc import schedule
    acc, k = ("acc",), ("k", 0)
    ins = [Ins("vstore", None, (acc,), {"mem": ("state", "v")}),
           Ins("vload", ("v", 1), (), {"mem": ("rmax", "y")}),
           Ins("vmax", ("v", 2), (("v", 1), acc)),
           Ins("vstore", None, (("v", 2),), {"mem": ("rmax", "y")}),
           Ins("vmul", ("v", 3), (acc, k), {"shift": 15, "round": 1, "sat": 1}),
           Ins("vsrai", ("v", 4), (("v", 3),), {"shamt": 4, "round": 2}),
           Ins("vsrai", ("v", 5), (("v", 3),), {"shamt": 3, "round": 2}),
           Ins("vsub", acc, (("v", 4), ("v", 5)), {"sat": 1})]
    out = schedule(ins)
    assert sorted(map(id, out)) == sorted(map(id, ins))
    assert out[0] is ins[4] and out[1] is ins[1]   # vmul heads the longest chain
    pos = {id(i): n for n, i in enumerate(out)}
    for a, b in [(1, 2), (2, 3), (1, 3), (4, 5), (4, 6), (5, 6), (5, 7), (6, 7), (0, 7),
                 (2, 7), (4, 7)]:
        assert pos[id(ins[a])] < pos[id(ins[b])], (a, b)


def test_fast_decay_option_from_the_command_line(tmp_path):
    rng = np.random.default_rng(12)
    net = Network()
    net.spike_input("in", 10)
    net.population("hid", 40, lif())
    net.project("in", "hid", rng.normal(0.5, 0.3, (10, 40)))
    script = tmp_path / "net.py"
    np.save(tmp_path / "w.npy", net.projections[0].weight)
    script.write_text("import numpy as np\nfrom spikevec.sw.compiler import Network, lif\n"
                      "network = Network()\nnetwork.spike_input('in', 10)\n"
                      "network.population('hid', 40, lif())\n"
                      f"network.project('in', 'hid', np.load({str(tmp_path / 'w.npy')!r}))\n")
    images = {}
    for flag in ([], ["--fast-decay"]):
        out = tmp_path / f"m{len(flag)}.svimg"
        assert main(["compile", str(script), "-o", str(out)] + flag) == 0
        images[bool(flag)] = Image.load(out)
    assert images[False].formats["precise_decay"] and not images[True].formats["precise_decay"]
    step = {k: v.stats["step_instructions"] for k, v in images.items()}
    assert step[False] - step[True] == 2 * 2        # 2 chunks, 2 instructions each
