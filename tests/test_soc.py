"""The SoC: host client against the Python device model, Verilator lint of the whole SoC,
and the host path on the RTL (HostPort -> HostRouter -> core) through the byte streams."""
from pathlib import Path

import pytest

from spikevec.hw.config import preset
from spikevec.hw.rtl.host_model import HostPortModel
from spikevec.hw.rtl.host_protocol import ProtocolError, Space
from spikevec.sim.rtl.soc_client import MAX_WRITE, SocClient

COCOTB_DIR = Path(__file__).parent / "cocotb"


class ModelTransport:
    def __init__(self, model):
        self.model, self.pending = model, b""

    def send(self, data):
        self.pending += self.model.handle(data)

    def receive(self, n):
        if len(self.pending) < n:
            raise TimeoutError(f"wanted {n} bytes, the model sent {len(self.pending)}")
        out, self.pending = self.pending[:n], self.pending[n:]
        return out


def test_client_splits_transfers_and_raises_on_errors():
    config = preset("tiny")
    client = SocClient(ModelTransport(HostPortModel(config)))
    client.ping()
    assert client.identify().fingerprint == config.fingerprint()
    data = bytes(i & 0xFF for i in range(3 * MAX_WRITE + 8))
    client.write(Space.DMEM, 4, data)
    assert client.read(Space.DMEM, 4, len(data)) == data
    client.start(0)
    assert client.status().running
    with pytest.raises(ProtocolError, match="WRITE of 4 bytes to IMEM 0x0.*BUSY"):
        client.write(Space.IMEM, 0, bytes(4))
    client.halt()
    assert client.status().halted
    with pytest.raises(ValueError, match="multiples of 4"):
        client.write(Space.DMEM, 2, bytes(4))


def test_soc_verilog_is_lint_clean_with_explained_waivers():
    pytest.importorskip("cocotb")
    from spikevec.sim.rtl.soc_lint import soc_lint
    from spikevec.sim.rtl.tools import ToolchainError, find_verilator
    try:
        find_verilator()
    except ToolchainError as exc:
        pytest.skip(f"no usable Verilator: {exc}")
    assert soc_lint(preset("default")) == []


def test_host_path_on_the_rtl(tmp_path):
    pytest.importorskip("cocotb")
    from spikevec.sim.rtl.run import run_cocotb
    from spikevec.sim.rtl.soc_sim import soc_build
    from spikevec.sim.rtl.tools import ToolchainError, find_verilator
    from spikevec.sw.asm import assemble
    try:
        find_verilator()
    except ToolchainError as exc:
        pytest.skip(f"no usable Verilator: {exc}")
    config = preset("default")
    program = assemble("loop:   addi a0, a0, 1\n        j loop\n", config, "loop.s")
    path = tmp_path / "loop.svp"
    program.save(path)
    results = run_cocotb(soc_build(config), COCOTB_DIR / "cocotb_soc_protocol.py",
                         params={"program": str(path)})
    assert results.passed
    # HALT stops a running program (cause NONE); XREG writes and START at a pc work.
    assert results.data["halt_stops_core"] is True
    assert results.data["running_after_halt"] is False
