"""The board backend over a serial link that loses, damages and delays bytes.

The far end is ``svfake://`` (the golden model behind the host protocol, see
spikevec.sw.runtime.protocol_svfake). For each kind of fault the run must give exactly
the golden model's spikes, and the client must have noticed as many faults as were
injected; a port that never answers must give a TimeoutError naming the port.
"""
import numpy as np
import pytest

from spikevec.hw.rtl.host_protocol import Command, Space
from spikevec.sw.compiler import Network, compile_network, lif, run_iss
from spikevec.sw.runtime import open_device
from spikevec.sw.runtime.transport import LinkError, RobustClient, SerialTransport


@pytest.fixture(scope="module")
def case():
    rng = np.random.default_rng(2)
    net = Network(dt=1.0)
    inp = net.spike_input("in", 16)
    hid = net.population("hid", 10, lif(), tau_mem=20.0)
    net.project(inp, hid, rng.normal(0.6, 0.3, (16, 10)))
    net.record(hid, "spikes")
    net.record(hid, "v")
    x = (rng.random((150, 16)) < 0.15).astype(np.uint8)
    image = compile_network(net, "lanes8", calibrate=x, weights=16, ring_steps=16,
                            input_ring_bytes=128)
    return image, x, run_iss(image, x)


def run_board(image, x, url, timeout=0.05):
    with open_device("board", "lanes8", port=url, timeout=timeout, retries=8) as dev:
        dev.load(image)
        got = dev.run(x)
        client, port = dev.backend.client, dev.backend.client.transport.port
        return got, client.faults, port.injected


FAILED_ATTEMPTS = ("timeout", "damaged response", "wrong seq", "damaged request")


@pytest.mark.parametrize("fault", ["drop", "corrupt"])
@pytest.mark.parametrize("direction", ["request", "response"])
def test_damaged_frames_are_detected_and_resent(case, fault, direction):
    image, x, ref = case
    url = f"svfake://?config=lanes8&{fault}=0.08&direction={direction}&seed=7&slice=400"
    got, faults, injected = run_board(image, x, url)
    for key in ref.traces:
        np.testing.assert_array_equal(got.traces[key], ref.traces[key], err_msg=str(key))
    n = injected[f"{fault} {direction}"]
    assert n >= 5, f"only {n} faults were injected; the test would prove little"
    noticed = sum(faults[k] for k in FAILED_ATTEMPTS)
    # each damaged frame costs one failed attempt (a damaged request and its lost answer
    # are one attempt); a stray byte before a sync byte is dropped by the hunt
    assert noticed + faults["stray byte"] >= n, (faults, injected)


def test_delayed_responses_are_waited_out(case):
    image, x, ref = case
    url = "svfake://?config=lanes8&delay=0.06&delay_s=0.12&seed=3&slice=400"
    got, faults, injected = run_board(image, x, url)
    for key in ref.traces:
        np.testing.assert_array_equal(got.traces[key], ref.traces[key], err_msg=str(key))
    assert injected["delay response"] >= 3
    assert faults["timeout"] >= injected["delay response"]


def test_every_fault_kind_at_once(case):
    image, x, ref = case
    url = ("svfake://?config=lanes8&drop=0.03&corrupt=0.03&delay=0.01&delay_s=0.1"
           "&seed=11&slice=400")
    got, faults, injected = run_board(image, x, url)
    for key in ref.traces:
        np.testing.assert_array_equal(got.traces[key], ref.traces[key], err_msg=str(key))
    assert sum(injected.values()) >= 5 and sum(faults.values()) >= sum(injected.values()) // 2


@pytest.mark.parametrize("url", ["svfake://?config=lanes8&dead=1", "loop://"])
def test_a_device_that_never_answers_times_out_naming_the_port(url):
    with pytest.raises(TimeoutError) as err:
        open_device("board", "lanes8", port=url, timeout=0.02, retries=2)
    text = str(err.value)
    assert url in text and "did not answer" in text and "powered" in text


def test_a_link_that_damages_everything_is_reported():
    link = SerialTransport("svfake://?config=lanes8&corrupt=1.0&direction=response",
                           timeout=0.02)
    client = RobustClient(link, retries=3)
    with pytest.raises(LinkError, match="failed"):
        client.ping()
    assert client.faults["damaged response"] + client.faults["wrong seq"] >= 1
    link.close()


def test_a_lost_start_response_does_not_restart_the_core():
    """START is not idempotent: when its answer is lost the client asks STATUS and does
    not send it again if the core already runs."""
    link = SerialTransport("svfake://?config=lanes8", timeout=0.02)
    client = RobustClient(link, retries=3)
    words = [0x0000006F]                          # jal x0, 0: run forever
    client.write(Space.IMEM, 0, b"".join(w.to_bytes(4, "little") for w in words))
    port = link.port
    real = port.write

    def lose_start_answer(data):
        n = real(data)
        if data[1] == Command.START.value:
            port._out.clear()                     # the answer never arrives
        return n
    port.write = lose_start_answer
    client.start(pc=0)
    assert client.faults["START already done"] == 1
    assert client.status().running
    link.close()
