"""The boards ``spikevec build`` knows: FPGA device, oscillator, requested core clock,
UART baud rate, LEDs and the default core configuration that fits.

Each :class:`Board` names its amaranth-boards platform class (imported lazily, so this
module loads without amaranth-boards). :func:`board` looks one up by name and
:func:`board_config` gives the core configuration to build, optionally with another lane
count.

Requested clocks are the frequencies the current RTL *meets* after place and route on
that board (the CI bitstream job fails when it does not); they are not targets. The
boards' default configurations are sized by block RAM: the 32-lane ``default`` preset
needs about 192 of the 208 DP16KD on an 85F, so 45F (108 EBR) and 25F (56 EBR) devices
get 16 and 8 lanes with smaller memories.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field

from ..config import KiB, PRESETS, CoreConfig
from .uart_tx import MIN_DIVISOR

__all__ = ["Board", "BOARDS", "board", "board_config", "LedMap", "STANDARD_BAUDS"]

MHZ = 1_000_000
#: Baud rates USB-serial bridges (FTDI, CP210x, CH340) all make exactly, fastest first.
STANDARD_BAUDS = (3_000_000, 2_000_000, 1_500_000, 1_000_000, 921_600, 500_000,
                  460_800, 230_400, 115_200)


@dataclass(frozen=True)
class LedMap:
    """Where the status LEDs are: each entry is ``(resource, number, subsignal)`` with
    ``subsignal`` ``None`` for a plain LED or ``"r"``/``"g"``/``"b"`` for an RGB LED."""
    running: tuple
    halted: tuple
    heartbeat: tuple | None = None


@dataclass(frozen=True)
class Board:
    """One supported board. ``config`` is the default core configuration (its
    ``clock_hz`` is set to ``clock_hz`` by :func:`board_config`)."""
    name: str
    description: str
    platform: str                 # "module:Class" in amaranth_boards
    family: str                   # "ecp5" or "ice40"
    device: str
    osc_resource: str
    osc_hz: int
    clock_hz: int                 # requested core clock (the PLL output)
    max_baud: int                 # the fastest rate the USB-serial bridge takes
    config: CoreConfig
    leds: LedMap
    uart_note: str = "USB-serial bridge on the board"
    programmer: tuple = ()        # openFPGALoader arguments selecting the board/cable
    extra_uart: dict | None = field(default=None)   # a UART resource the platform lacks

    @property
    def baud(self) -> int:
        """The UART rate: the fastest of :data:`STANDARD_BAUDS` up to ``max_baud`` that
        the core clock divides to within 1.5 % (so it follows ``clock_hz``)."""
        for baud in STANDARD_BAUDS:
            if baud > self.max_baud:
                continue
            divisor = round(self.clock_hz / baud)
            if divisor >= MIN_DIVISOR and abs(self.clock_hz / divisor / baud - 1) <= 0.015:
                return baud
        raise ValueError(f"No standard baud rate up to {self.max_baud} works from a "
                         f"{self.clock_hz / 1e6:g} MHz core clock on {self.name}; choose "
                         f"another core clock.")

    def make_platform(self):
        """A fresh amaranth-boards platform instance, with any resources we add."""
        module_name, class_name = self.platform.split(":")
        try:
            module = importlib.import_module(f"amaranth_boards.{module_name}")
        except ImportError as error:
            raise ImportError(f"Building for {self.name} needs the amaranth-boards package "
                              f"({error}); install spikevec with the 'boards' extra: pip "
                              f"install 'spikevec[boards]'.") from None
        platform = getattr(module, class_name)()
        if self.extra_uart is not None:
            from amaranth.build import Attrs
            from amaranth_boards.resources import UARTResource
            platform.add_resources([UARTResource(
                0, rx=self.extra_uart["rx"], tx=self.extra_uart["tx"],
                conn=self.extra_uart["conn"], attrs=Attrs(IO_TYPE="LVCMOS33"))])
        return platform


def _sized(lanes, imem, dmem, vmem, lane_mem, name):
    return CoreConfig(lanes=lanes, imem_bytes=imem, dmem_bytes=dmem, vmem_bytes=vmem,
                      lane_mem_bytes=lane_mem, name=name)


#: 85F: the full 32-lane default preset. 45F: 16 lanes, 64 KiB vector memory.
#: 25F: 8 lanes, 32 KiB vector memory, 8 KiB instruction and data memories.
CONFIG_85F = PRESETS["default"]
CONFIG_45F = _sized(16, 16 * KiB, 32 * KiB, 64 * KiB, 2 * KiB, "board45f")
CONFIG_25F = _sized(8, 8 * KiB, 8 * KiB, 32 * KiB, 2 * KiB, "board25f")
#: The smallest configuration the configuration rules allow (8 lanes); see README.
CONFIG_UP5K = _sized(8, 2 * KiB, 2 * KiB, 4 * KiB, 256, "up5k")

_ULX3S_LEDS = LedMap(running=("led", 0, None), halted=("led", 1, None),
                     heartbeat=("led", 7, None))
_RGB_LEDS = LedMap(running=("rgb_led", 0, "g"), halted=("rgb_led", 0, "r"),
                   heartbeat=("rgb_led", 0, "b"))

#: ECP5 core clock requested on every ECP5 board (see the module docstring). Measured
#: on the ULX3S-85F with the 32-lane default core: nextpnr's post-placement estimate was
#: 25.4 MHz against a 100 MHz constraint, so 20 MHz (which 25, 48 and 100 MHz
#: oscillators all make exactly, and which gives 2 Mbaud) is requested until the core
#: gets faster. Raise it when the timing work lands; the CI bitstream job checks it.
ECP5_CLOCK_HZ = 20 * MHZ


def _ulx3s(size, config):
    return Board(
        name=f"ulx3s-{size}f", description=f"Radiona ULX3S, LFE5U-{size}F (speed 6)",
        platform=f"ulx3s:ULX3S_{size}F_Platform", family="ecp5",
        device=f"LFE5U-{size}F", osc_resource="clk25",
        osc_hz=25 * MHZ, clock_hz=ECP5_CLOCK_HZ, max_baud=3_000_000, config=config,
        leds=_ULX3S_LEDS, uart_note="FT231X USB-serial bridge (US1 port), up to 3 Mbaud",
        programmer=("-b", "ulx3s"))


def _orangecrab(size, config):
    return Board(
        name=f"orangecrab-{size}f", description=f"OrangeCrab r0.2, LFE5U-{size}F (speed 8)",
        platform=f"orangecrab_r0_2:OrangeCrabR0_2_{size}FPlatform", family="ecp5",
        device=f"LFE5U-{size}F", osc_resource="clk",
        osc_hz=48 * MHZ, clock_hz=ECP5_CLOCK_HZ, max_baud=1_000_000, config=config,
        leds=_RGB_LEDS, programmer=("-b", "orangecrab"),
        uart_note="no USB-serial bridge on the board: a 3.3 V USB-serial adapter on "
                  "feather pins 0 (FPGA rx) and 1 (FPGA tx), 1 Mbaud",
        extra_uart={"rx": "0", "tx": "1", "conn": ("io", 0)})


def _ecpix5(size, config):
    return Board(
        name=f"ecpix5-{size}f", description=f"LambdaConcept ECPIX-5, LFE5UM5G-{size}F "
                                            f"(speed 8)",
        platform=f"ecpix5:ECPIX5{size}Platform", family="ecp5",
        device=f"LFE5UM5G-{size}F", osc_resource="clk100",
        osc_hz=100 * MHZ, clock_hz=ECP5_CLOCK_HZ, max_baud=3_000_000, config=config,
        leds=_RGB_LEDS, uart_note="FT2232H channel B, up to 3 Mbaud",
        programmer=("-b", "ecpix5"))


BOARDS: dict[str, Board] = {b.name: b for b in (
    _ulx3s(25, CONFIG_25F), _ulx3s(45, CONFIG_45F), _ulx3s(85, CONFIG_85F),
    _orangecrab(25, CONFIG_25F), _orangecrab(85, CONFIG_85F),
    _ecpix5(45, CONFIG_45F), _ecpix5(85, CONFIG_85F),
    Board(name="icebreaker", description="1BitSquared iCEBreaker, iCE40UP5K",
          platform="icebreaker:ICEBreakerPlatform", family="ice40", device="iCE40UP5K",
          osc_resource="clk12", osc_hz=12 * MHZ,
          clock_hz=24 * MHZ, max_baud=3_000_000, config=CONFIG_UP5K,
          leds=LedMap(running=("led_g", 0, None), halted=("led_r", 0, None)),
          uart_note="FT2232H channel B, up to 3 Mbaud", programmer=("-b", "ice40_generic")),
)}


def board(name: str) -> Board:
    """The board called ``name``; unknown names raise ``ValueError`` listing the boards."""
    try:
        return BOARDS[name.lower()]
    except KeyError:
        raise ValueError(f"There is no board named {name!r}; choose one of "
                         f"{', '.join(BOARDS)}.") from None


def board_config(b: Board, lanes: int | None = None) -> CoreConfig:
    """The core configuration built for board ``b``: its default, at the board's core
    clock. ``lanes`` changes the lane count and scales the vector memory with it (same
    depth per lane); the other memories stay. Invalid lane counts raise ``ValueError``
    (from :class:`CoreConfig`)."""
    base = b.config
    if lanes is None or lanes == base.lanes:
        return base.with_(clock_hz=b.clock_hz, name=b.name)
    vmem = base.vmem_bytes * lanes // base.lanes if isinstance(lanes, int) else 0
    return base.with_(lanes=lanes, vmem_bytes=max(vmem, 2 * lanes), clock_hz=b.clock_hz,
                      name=f"{b.name}-{lanes}lanes")
