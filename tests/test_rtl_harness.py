"""The C++ Verilator harness (``spikevec.sim.rtl.harness``): the RTL SoC as a persistent
process speaking the host protocol bytes over pipes, checked against the golden model.

Two builds of the ``lanes8`` SoC are used (cached in ``~/.cache/spikevec/verilator``; the
first run builds them, a few minutes each): the plain one and the VCD-traced one.
"""
import io
import json
import time
from contextlib import redirect_stdout

import numpy as np
import pytest

from spikevec.sim.rtl.tools import ToolchainError, find_verilator

try:
    find_verilator()
except ToolchainError as exc:            # pragma: no cover - depends on the machine
    pytest.skip(f"no usable Verilator: {exc}", allow_module_level=True)

from spikevec.hw.config import preset  # noqa: E402
from spikevec.hw.rtl.host_protocol import Space  # noqa: E402
from spikevec.sim.iss import Machine  # noqa: E402
from spikevec.sim.lockstep.generator import VECTOR_MIX, generate  # noqa: E402
from spikevec.sim.rtl.harness import HarnessError, open_soc  # noqa: E402
from spikevec.sim.rtl.soc_client import SocClient  # noqa: E402
from spikevec.sw.asm import assemble  # noqa: E402
from spikevec.sw.cli import main  # noqa: E402

CONFIG = preset("lanes8")

SCALAR = """
        .data
vals:   .word 5, 7, 11, -3
out:    .word 0, 0
        .text
        la   t0, vals
        lw   a0, 0(t0)
        lw   a1, 4(t0)
        mul  a2, a0, a1
        sw   a2, 16(t0)
        li   t1, 200
loop:   addi a3, a3, 3
        xor  a4, a4, a3
        addi t1, t1, -1
        bnez t1, loop
        sw   a4, 20(t0)
        csrr a5, cycle
        ecall
"""

VECTOR = """
        li   t2, 40
        li   t3, 0
        vload v5, 0(t3)
        vload v6, {vb}(t3)
again:  vsub.sat v7, v5, v6
        vmax v8, v7, v6
        vmul.rs v9, v8, v5, 2
        vmin v5, v9, v8
        vstore v7, {vb2}(t3)
        vextract a0, v5, 3
        addi t2, t2, -1
        bnez t2, again
        vstore v5, {vb3}(t3)
        ecall
"""


def _run(proc, program):
    """Load, start, wait for the stop via STATUS; return the client and the status."""
    client = SocClient(proc)
    client.load_program(program)
    client.start(0)
    deadline = time.monotonic() + 30
    while (status := client.status()).running:
        assert time.monotonic() < deadline, "the program did not stop within 30 s"
        time.sleep(0.002)
    return client, status


def _golden(program):
    machine = Machine(program.config)
    machine.load_program(program)
    result = machine.run(max_instructions=10**6)
    assert result.ok, result.message
    return machine


def _compare(client, status, machine, config):
    assert (status.cycles, status.instret) == (machine.cycles, machine.instret)
    x = client.read(Space.XREG, 0, 128)
    assert np.frombuffer(x, "<u4").tolist() == machine.x.astype(np.uint32).tolist()
    v = np.frombuffer(client.read(Space.VREG, 0, 32 * config.vector_bytes), "<i2")
    assert v.reshape(32, config.lanes).tolist() == machine.v.tolist()
    assert client.read(Space.DMEM, 0, 1024) == machine.dmem[:1024].tobytes()
    assert client.read(Space.VMEM, 0, 2048) == machine.vmem[:2048].tobytes()


def test_ping_identify_cycles_and_idle_process_sleeps():
    with open_soc(CONFIG, timeout=30) as proc:
        first = proc.cycles
        client = SocClient(proc)
        client.ping()
        identity = client.identify()
        identity.check(CONFIG)
        assert identity.fingerprint == CONFIG.fingerprint()
        assert proc.cycles > first
        # With the core stopped and the line quiet the simulator blocks in poll():
        # simulated time stands still and it uses (almost) no CPU.
        time.sleep(0.3)
        before, cpu = proc.cycles, proc.cpu_seconds()
        time.sleep(0.5)
        assert proc.cycles == before
        assert proc.cpu_seconds() - cpu < 0.05


def test_scalar_program_matches_golden_model():
    program = assemble(SCALAR, CONFIG, "scalar.s")
    with open_soc(CONFIG, timeout=30) as proc:
        client, status = _run(proc, program)
        assert status.halted and not status.running
        _compare(client, status, _golden(program), CONFIG)


def test_vector_programs_match_golden_model():
    vb = CONFIG.vector_bytes
    programs = [assemble(VECTOR.format(vb=vb, vb2=2 * vb, vb3=3 * vb), CONFIG, "v.s"),
                generate(3, CONFIG, 800, VECTOR_MIX)]
    programs[0].vdata = bytes(range(2 * vb))
    for program in programs:     # a fresh SoC each: registers and rng start from reset
        with open_soc(CONFIG, timeout=30) as proc:
            client, status = _run(proc, program)
            _compare(client, status, _golden(program), CONFIG)


def test_receive_times_out_with_a_clear_message():
    with open_soc(CONFIG, timeout=0.3) as proc:
        start = time.monotonic()
        with pytest.raises(TimeoutError, match=r"RTL simulator .* sent 0 of 6 bytes"):
            proc.receive(6)
        assert 0.25 < time.monotonic() - start < 5
        proc.send(b"\x00\x01")                # garbage: the port hunts for a sync byte
        with pytest.raises(TimeoutError, match="sent 0 of 1 bytes"):
            proc.receive(1)
        SocClient(proc).ping()                # and still answers a proper frame


def test_a_dead_simulator_raises_harness_error():
    proc = open_soc(CONFIG, timeout=5)
    proc._proc.stdin.write(b"Z")              # not a message type of the pipe protocol
    with pytest.raises(HarnessError, match="unknown message type"):
        proc.receive(1)
    proc.close()
    with pytest.raises(ValueError, match="needs wave_path"):
        open_soc(CONFIG, waves="vcd")
    with pytest.raises(ValueError, match="not a waveform format"):
        open_soc(CONFIG, waves="ghw", wave_path="x.ghw")


def test_vcd_waveform_is_written(tmp_path):
    path = tmp_path / "soc.vcd"
    with open_soc(CONFIG, waves="vcd", wave_path=path, timeout=30) as proc:
        SocClient(proc).ping()
        cycles = proc.cycles
    text = path.read_text()
    assert "$enddefinitions" in text and "rx__valid" in text
    # one timestamp per clock edge (2 per cycle), reset included
    assert text.count("\n#") >= 2 * cycles


def _cli(*argv):
    out = io.StringIO()
    with redirect_stdout(out):
        status = main(list(argv))
    return status, out.getvalue()


def test_spikevec_sim_prints_what_spikevec_iss_prints(tmp_path):
    path = tmp_path / "v.s"
    vb = CONFIG.vector_bytes
    path.write_text(VECTOR.format(vb=vb, vb2=2 * vb, vb3=3 * vb))
    iss_status, iss = _cli("iss", str(path), "--json", "--config", "lanes8")
    sim_status, sim = _cli("sim", str(path), "--json", "--config", "lanes8")
    assert sim_status == iss_status == 0
    iss, sim = json.loads(iss), json.loads(sim)
    assert sim.pop("rng") is None         # not readable through the host protocol
    iss.pop("rng")
    assert sim == iss
    assert _cli("sim", str(path), "--config", "lanes8")[1] == \
        _cli("iss", str(path), "--config", "lanes8")[1]
