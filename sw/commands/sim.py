"""``spikevec sim``: run a program on the RTL SoC (Verilator) and print its final state
exactly as ``spikevec iss`` does.

Usage: ``spikevec sim PROGRAM [--json] [--config PRESET] [--max-cycles N] [--vcd FILE |
--fst FILE] [--cocotb] [--verbose]``.
PROGRAM is a ``.svp`` or ``.s`` file as for ``spikevec iss``. The SoC is built with
Verilator and the C++ harness (spikevec.sim.rtl.harness) for the program's
configuration on first use (a few minutes) and cached; ``--cocotb`` uses the older, much
slower cocotb simulation (no ``--fst``). The program goes in through the host protocol
(text to IMEM, data to DMEM, vdata to VMEM), is started, polled with STATUS until it
stops, and x/v registers and the status record are read back. Exit status as ``spikevec
iss``: 0 when the program ends with ``ecall``, 3 for any other stop (ebreak, fault,
cycle limit), 1 for unusable input or a simulator failure.

Output differs from ``spikevec iss`` only where the RTL cannot know the value: ``rng`` is
null in the JSON (no host address space holds the generator state); a pc fault's message
cannot name the instruction that jumped there; the cycle limit stops with exit reason
``max_cycles`` instead of ``max_instructions``. ``--verbose`` adds the simulation
statistics on stderr.
"""
from __future__ import annotations

import json
import sys

from ...hw.config import PRESETS
from .iss import EXIT_NOT_ECALL, load_any

DEFAULT_MAX_CYCLES = 100_000_000


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "sim", help="run a program on the RTL (Verilator simulation of the SoC)",
        description=__doc__.split("\n\n")[1])
    p.add_argument("program", help="a .svp program file or a .s assembly file")
    p.add_argument("--json", action="store_true",
                   help="print the final state as one JSON object")
    p.add_argument("--config", choices=sorted(PRESETS), default=None,
                   help="core configuration preset (default: the program's own, else "
                        "'default')")
    p.add_argument("--max-cycles", type=int, default=DEFAULT_MAX_CYCLES, metavar="N",
                   help="stop after N clock cycles (default %(default)s)")
    waves = p.add_mutually_exclusive_group()
    waves.add_argument("--vcd", metavar="FILE", default=None,
                       help="write a VCD waveform of the whole simulation to FILE (a "
                            "separate, slower build with tracing)")
    waves.add_argument("--fst", metavar="FILE", default=None,
                       help="write an FST waveform (compressed; not with --cocotb)")
    p.add_argument("--cocotb", action="store_true",
                   help="simulate under cocotb instead of the C++ harness")
    p.add_argument("--verbose", action="store_true",
                   help="print build and simulation statistics on stderr")
    p.set_defaults(func=run_command)


def run_command(args) -> int:
    from ...sim.rtl import BuildError, SimulationError, ToolchainError
    from ...sim.rtl.harness import HarnessError
    from ...sim.rtl.run import CocotbTestFailure
    from ...sim.rtl.soc_sim import (final_machine, run_program, run_program_harness,
                                    state_dict)
    if args.max_cycles <= 0:
        raise ValueError(f"--max-cycles {args.max_cycles} is not a positive number of "
                         f"cycles; give a limit such as 1000000.")
    program, config = load_any(args.program, args.config)
    if program.config != config:      # --config named a compatible preset
        program.config = config
    if args.cocotb and args.fst:
        raise ValueError("--fst needs the C++ harness; drop --cocotb or write --vcd.")
    try:
        if args.cocotb:
            run = run_program(program, max_cycles=args.max_cycles, vcd=args.vcd)
        else:
            waves = "fst" if args.fst else "vcd" if args.vcd else None
            run = run_program_harness(program, max_cycles=args.max_cycles, waves=waves,
                                      wave_path=args.vcd or args.fst)
    except (BuildError, SimulationError, ToolchainError, CocotbTestFailure, HarnessError,
            TimeoutError) as e:
        print(f"spikevec sim: error: the RTL simulation failed: {e}", file=sys.stderr)
        return 1
    machine = final_machine(run)
    if args.verbose:
        backend = "cocotb" if args.cocotb else "harness"
        print(f"build {'cached' if run.cached else 'new'} ({run.build_seconds:.1f} s), "
              f"{run.clock_cycles} clock cycles in {run.data['run_wall_seconds']:.2f} s "
              f"({run.cycles_per_second:,.0f} cycles/s), {backend} simulator process "
              f"{run.wall_seconds:.1f} s", file=sys.stderr)
    if args.json:
        print(json.dumps(state_dict(run, machine)))
    else:
        print(machine.format_state())
    return 0 if machine.exit_reason == "ecall" else EXIT_NOT_ECALL
