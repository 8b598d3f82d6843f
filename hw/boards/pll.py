"""PLL parameter calculation and instantiation for the ECP5 ``EHXPLLL`` and the iCE40
``SB_PLL40_*`` primitives.

:func:`ecp5_pll_params` and :func:`ice40_pll_params` choose divider settings for one
output clock; :class:`Pll` instantiates the primitive and exposes ``clk_in``,
``clk_out`` and ``locked``.

Contract of the calculators: they return the settings whose output frequency is closest
to the request within the primitive's documented operating ranges, and raise
``ValueError`` naming the frequencies when the best setting misses the request by more
than ``tolerance`` (a fraction, default 0.1 %). Ties are broken like the Project Trellis
``ecppll`` and IceStorm ``icepll`` tools (VCO nearest 600 MHz on ECP5; first found on
iCE40), so the divider choices can be cross-checked against those tools.
"""
from __future__ import annotations

from dataclasses import dataclass

from amaranth.hdl import Const, Instance, Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

__all__ = ["Ecp5PllParams", "Ice40PllParams", "ecp5_pll_params", "ice40_pll_params",
           "pll_params", "Pll"]

MHZ = 1_000_000

# ECP5 sysCLOCK PLL operating ranges (Lattice TN1263 / DS1044), in MHz.
ECP5_CLKI = (8.0, 400.0)
ECP5_PFD = (3.125, 400.0)
ECP5_VCO = (400.0, 800.0)
ECP5_CLKOP = (3.125, 400.0)
# iCE40 PLL ranges (Lattice iCE40 sysCLOCK PLL design guide), in MHz.
ICE40_IN = (10.0, 133.0)
ICE40_PFD = (10.0, 133.0)
ICE40_VCO = (533.0, 1066.0)
ICE40_OUT = (16.0, 275.0)


@dataclass(frozen=True)
class Ecp5PllParams:
    """EHXPLLL settings with ``CLKOP`` fed back: f_out = f_in * clkfb_div / clki_div and
    f_vco = f_out * clkop_div."""
    f_in_hz: int
    clki_div: int
    clkfb_div: int
    clkop_div: int

    @property
    def f_out_hz(self) -> float:
        return self.f_in_hz * self.clkfb_div / self.clki_div

    @property
    def f_vco_hz(self) -> float:
        return self.f_out_hz * self.clkop_div

    @property
    def clkop_cphase(self) -> int:
        """Coarse phase for a 0 degree output (Lattice's convention: divider - 1)."""
        return self.clkop_div - 1


@dataclass(frozen=True)
class Ice40PllParams:
    """SB_PLL40 settings, SIMPLE feedback:
    f_out = f_in * (divf + 1) / ((divr + 1) * 2 ** divq)."""
    f_in_hz: int
    divr: int
    divf: int
    divq: int

    @property
    def f_pfd_hz(self) -> float:
        return self.f_in_hz / (self.divr + 1)

    @property
    def f_vco_hz(self) -> float:
        return self.f_pfd_hz * (self.divf + 1)

    @property
    def f_out_hz(self) -> float:
        return self.f_vco_hz / 2 ** self.divq

    @property
    def filter_range(self) -> int:
        """Loop filter setting for the phase detector frequency (icepll's table)."""
        pfd = self.f_pfd_hz / MHZ
        for index, limit in enumerate((17, 26, 44, 66, 101)):
            if pfd < limit:
                return index + 1
        return 6


def _inside(value, bounds) -> bool:
    return bounds[0] <= value <= bounds[1]


def _check_ranges(family, f_in_hz, in_range, f_out_hz, out_range):
    for what, value, bounds in (("input", f_in_hz, in_range), ("output", f_out_hz, out_range)):
        if not _inside(value / MHZ, bounds):
            raise ValueError(f"The {family} PLL {what} must be {bounds[0]:g}-{bounds[1]:g} "
                             f"MHz, not {value / MHZ:g} MHz.")


def _check_result(family, f_in_hz, f_out_hz, best, tolerance):
    if best is None or abs(best.f_out_hz - f_out_hz) > tolerance * f_out_hz:
        got = "no setting at all" if best is None else f"{best.f_out_hz / MHZ:.4f} MHz"
        raise ValueError(f"The {family} PLL cannot make {f_out_hz / MHZ:g} MHz from "
                         f"{f_in_hz / MHZ:g} MHz (closest: {got}); choose another core "
                         f"clock for this board.")
    return best


def ecp5_pll_params(f_in_hz: int, f_out_hz: int, tolerance: float = 1e-3) -> Ecp5PllParams:
    """Divider settings for an ECP5 EHXPLLL making ``f_out_hz`` from ``f_in_hz``."""
    _check_ranges("ECP5", f_in_hz, ECP5_CLKI, f_out_hz, ECP5_CLKOP)
    best, best_key = None, None
    for clki_div in range(1, 129):
        if not _inside(f_in_hz / clki_div / MHZ, ECP5_PFD):
            continue
        for clkfb_div in range(1, 81):
            out = f_in_hz * clkfb_div / clki_div
            if not _inside(out / MHZ, ECP5_CLKOP):
                continue
            for clkop_div in range(1, 129):
                vco = out * clkop_div / MHZ
                if not _inside(vco, ECP5_VCO):
                    continue
                key = (abs(out - f_out_hz), abs(vco - 600.0))
                if best_key is None or key < best_key:
                    best_key = key
                    best = Ecp5PllParams(f_in_hz, clki_div, clkfb_div, clkop_div)
    return _check_result("ECP5", f_in_hz, f_out_hz, best, tolerance)


def ice40_pll_params(f_in_hz: int, f_out_hz: int, tolerance: float = 1e-3) -> Ice40PllParams:
    """Settings for an iCE40 SB_PLL40 (SIMPLE feedback) making ``f_out_hz``."""
    _check_ranges("iCE40", f_in_hz, ICE40_IN, f_out_hz, ICE40_OUT)
    best = None
    for divr in range(16):
        for divf in range(128):
            for divq in range(1, 7):
                p = Ice40PllParams(f_in_hz, divr, divf, divq)
                if not (_inside(p.f_pfd_hz / MHZ, ICE40_PFD) and
                        _inside(p.f_vco_hz / MHZ, ICE40_VCO) and
                        _inside(p.f_out_hz / MHZ, ICE40_OUT)):
                    continue
                if best is None or abs(p.f_out_hz - f_out_hz) < abs(best.f_out_hz - f_out_hz):
                    best = p
    return _check_result("iCE40", f_in_hz, f_out_hz, best, tolerance)


def pll_params(family: str, f_in_hz: int, f_out_hz: int):
    """:func:`ecp5_pll_params` or :func:`ice40_pll_params` for ``family``."""
    if family == "ecp5":
        return ecp5_pll_params(f_in_hz, f_out_hz)
    if family == "ice40":
        return ice40_pll_params(f_in_hz, f_out_hz)
    raise ValueError(f"There is no PLL for FPGA family {family!r}; use 'ecp5' or 'ice40'.")


class Pll(wiring.Component):
    """One PLL output clock for ``family`` (``"ecp5"`` or ``"ice40"``).

    Ports: ``clk_in`` (In(1), the board oscillator), ``clk_out`` (Out(1), drive a clock
    domain with it), ``locked`` (Out(1), hold the domain in reset while low). The
    constructor computes the settings (raising ``ValueError`` if impossible); they are in
    ``params``. Only elaborates on the matching toolchain (the primitives are black boxes).

    ``pad`` (iCE40 only): the oscillator's IO port (``platform.request(..., dir="-")``)
    when it sits on the PLL's dedicated input pin, as on the iCEBreaker; the PLL then
    takes the pin directly (``SB_PLL40_PAD``) and ``clk_in`` is unused.
    """

    def __init__(self, family: str, f_in_hz: int, f_out_hz: int, *, pad=None):
        self._MustUse__silence = True       # no "never used" warning if we raise
        self.params = pll_params(family, f_in_hz, f_out_hz)
        self.family = family
        self.pad = pad
        self._MustUse__silence = False
        super().__init__({"clk_in": In(1), "clk_out": Out(1), "locked": Out(1)})

    def elaborate(self, platform):
        m = Module()
        p = self.params
        if self.family == "ecp5":
            m.submodules.pll = Instance(
                "EHXPLLL",
                a_FREQUENCY_PIN_CLKI=f"{p.f_in_hz / MHZ:g}",
                a_FREQUENCY_PIN_CLKOP=f"{p.f_out_hz / MHZ:g}",
                a_ICP_CURRENT="12", a_LPF_RESISTOR="8", a_MFG_ENABLE_FILTEROPAMP="1",
                a_MFG_GMCREF_SEL="2",
                p_PLLRST_ENA="DISABLED", p_INTFB_WAKE="DISABLED", p_STDBY_ENABLE="DISABLED",
                p_DPHASE_SOURCE="DISABLED", p_OUTDIVIDER_MUXA="DIVA",
                p_CLKOP_ENABLE="ENABLED", p_CLKI_DIV=p.clki_div, p_CLKFB_DIV=p.clkfb_div,
                p_CLKOP_DIV=p.clkop_div, p_CLKOP_CPHASE=p.clkop_cphase, p_CLKOP_FPHASE=0,
                p_FEEDBK_PATH="CLKOP",
                i_RST=0, i_STDBY=0, i_CLKI=self.clk_in, i_CLKFB=self.clk_out,
                i_PHASESEL0=0, i_PHASESEL1=0, i_PHASEDIR=1, i_PHASESTEP=1,
                i_PHASELOADREG=1, i_PLLWAKESYNC=0, i_ENCLKOP=0,
                o_CLKOP=self.clk_out, o_LOCK=self.locked)
        else:
            reference = ({"i_REFERENCECLK": self.clk_in} if self.pad is None else
                         {"i_PACKAGEPIN": self.pad.io})
            m.submodules.pll = Instance(
                "SB_PLL40_CORE" if self.pad is None else "SB_PLL40_PAD",
                p_FEEDBACK_PATH="SIMPLE", p_DIVR=Const(p.divr, 4), p_DIVF=Const(p.divf, 7),
                p_DIVQ=Const(p.divq, 3), p_FILTER_RANGE=Const(p.filter_range, 3),
                i_RESETB=1, i_BYPASS=0, **reference,
                o_PLLOUTGLOBAL=self.clk_out, o_LOCK=self.locked)
        return m
