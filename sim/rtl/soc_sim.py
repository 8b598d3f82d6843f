"""Run programs on the RTL SoC (Verilator + cocotb) and present the result like the ISS.

* :func:`soc_build` - the cached Verilator build of :class:`~spikevec.hw.rtl.soc.Soc` for a
  configuration;
* :func:`run_program` - load, start, wait for the stop and read back a :class:`Program`
  through the host protocol, returning a :class:`SocRun`: under cocotb (module
  :mod:`.cocotb_soc`; needed for ``lockstep``) or, with ``backend="harness"``, in the
  C++ harness process of :mod:`.harness` (:func:`run_program_harness`, much faster);
* :func:`final_machine` - a golden-model :class:`~spikevec.sim.iss.Machine` holding the
  RTL's final state, so ``spikevec sim`` prints with exactly the code ``spikevec iss``
  uses (``Machine.state_dict``/``format_state``); :func:`state_dict` adds the fields the
  RTL cannot know (see there).
"""
from __future__ import annotations

import dataclasses
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from ...hw.config import CoreConfig

__all__ = ["SocRun", "soc_build", "run_program", "run_program_harness", "final_machine",
           "state_dict",
           "exit_reason_of", "COCOTB_MODULE", "SOC_TIMEOUT_CYCLES"]

COCOTB_MODULE = Path(__file__).with_name("cocotb_soc.py")
#: Host port inter-byte/halt timeout in the simulated SoC (cycles). Shorter than a board's
#: 1 ms so that an unanswered HALT costs little simulated time.
SOC_TIMEOUT_CYCLES = 4096

_CAUSE_TO_EXIT = {"ECALL": "ecall", "EBREAK": "ebreak", "ILLEGAL": "illegal_instruction",
                  "FETCH_FAULT": "pc_fault", "LOAD_FAULT": "load_fault",
                  "STORE_FAULT": "store_fault"}


@dataclass
class SocRun:
    """What one RTL run produced (``data`` is the cocotb module's record)."""
    program: object
    data: dict
    build_seconds: float          # Verilator build time of the (possibly cached) build
    cached: bool
    wall_seconds: float           # the whole simulator process
    vcd: Path | None = None
    extra: dict = field(default_factory=dict)

    @property
    def status(self) -> dict:
        return self.data["status"]

    @property
    def clock_cycles(self) -> int:
        return int(self.data["run_clock_cycles"])

    @property
    def cycles_per_second(self) -> float:
        return self.clock_cycles / max(self.data["run_wall_seconds"], 1e-9)


def soc_build(config: CoreConfig, *, waves: bool = False):
    """The cached Verilator build of the SoC for ``config`` (built on first use)."""
    from ...hw.rtl.soc import Soc
    from .build import build
    return build(lambda: Soc(config, timeout_cycles=SOC_TIMEOUT_CYCLES), "soc",
                 waves=waves)


def run_program(program, *, max_cycles: int = 10_000_000, lockstep: bool = False,
                vcd=None, timeout: float | None = 3600, backend: str = "cocotb") -> SocRun:
    """Run ``program`` (a :class:`~spikevec.sw.asm.Program`) on the RTL SoC built for
    ``program.config``; ``vcd`` (a path) writes a waveform there (a separate build with
    tracing). Raises the :mod:`.run` errors if the simulation fails. ``backend="harness"``
    runs :func:`run_program_harness` instead (no ``lockstep``; ``timeout`` is then the
    wait for each response)."""
    if backend == "harness":
        if lockstep:
            raise ValueError("lockstep=True needs the cocotb backend (it samples the retire "
                             "ports every cycle); use backend='cocotb'.")
        return run_program_harness(program, max_cycles=max_cycles, wave_path=vcd,
                                   waves="vcd" if vcd is not None else None,
                                   timeout=min(timeout or 60.0, 60.0))
    if backend != "cocotb":
        raise ValueError(f"backend={backend!r} is not an RTL backend; use 'cocotb' or "
                         f"'harness'.")
    from .run import run_cocotb
    b = soc_build(program.config, waves=vcd is not None)
    with tempfile.TemporaryDirectory(prefix="spikevec-sim-") as tmp:
        path = Path(tmp) / "program.svp"
        program.save(path)
        test_dir = Path(tmp) / "run" if vcd is not None else None
        start = time.perf_counter()
        results = run_cocotb(b, COCOTB_MODULE, params={
            "program": str(path), "max_cycles": int(max_cycles), "lockstep": lockstep},
            waves=vcd is not None, test_dir=test_dir, timeout=timeout)
        wall = time.perf_counter() - start
        if vcd is not None:
            dumps = sorted(Path(test_dir).rglob("*.vcd")) + sorted(b.directory.glob("*.vcd"))
            if not dumps:
                raise FileNotFoundError(f"The simulation wrote no VCD file in {test_dir}; "
                                        f"the waveform option of the build did not work.")
            shutil.copyfile(dumps[0], vcd)
    return SocRun(program, results.data, b.build_seconds, b.cached, wall,
                  Path(vcd) if vcd is not None else None)


def run_program_harness(program, *, max_cycles: int = 10_000_000, waves=None,
                        wave_path=None, timeout: float = 60.0,
                        poll_seconds=(0.0005, 0.02)) -> SocRun:
    """:func:`run_program` in the C++ harness (:func:`.harness.open_soc`): the same
    ``SocRun.data`` records as :mod:`.cocotb_soc` (without ``retire``), plus
    ``run_cpu_seconds`` (the simulator's CPU time for the run, where Linux tells it). The
    host polls ``STATUS`` every ``poll_seconds[0]`` s, doubling up to ``poll_seconds[1]``,
    and halts the core once the status ``cycles`` reach ``max_cycles``. ``waves``
    (``"vcd"``/``"fst"``, else from the suffix of ``wave_path``) writes a waveform of the
    whole simulation to ``wave_path`` (a traced build)."""
    from ...hw.rtl.host_protocol import Space
    from .harness import open_soc
    from .soc_client import SocClient
    config = program.config
    opened = time.perf_counter()
    data: dict = {}
    with open_soc(config, waves=waves, wave_path=wave_path, timeout=timeout) as proc:
        client = SocClient(proc)
        wall = time.perf_counter()
        identity = client.identify()
        data["identity"] = identity.fingerprint
        identity.check(config)
        client.load_program(program)
        data["load_wall_seconds"] = time.perf_counter() - wall
        first, cpu = proc.cycles, proc.cpu_seconds()
        wall = time.perf_counter()
        client.start(0)
        pause, timed_out = poll_seconds[0], False
        while True:
            status = client.status()
            if not status.running:
                break
            if status.cycles >= max_cycles:
                timed_out = True
                try:
                    client.halt()
                except Exception as exc:            # BUSY: the core cannot halt yet
                    data["halt_error"] = str(exc)
                status = client.status()
                break
            time.sleep(pause)
            pause = min(2 * pause, poll_seconds[1])
        data.update(run_wall_seconds=time.perf_counter() - wall,
                    run_clock_cycles=proc.cycles - first, timed_out=timed_out,
                    status=dataclasses.asdict(status), x=None, v=None)
        if cpu is not None:             # the simulator's own CPU time (load-independent)
            data["run_cpu_seconds"] = proc.cpu_seconds() - cpu
        if not status.running:
            xbytes = client.read(Space.XREG, 0, 128)
            data["x"] = [int.from_bytes(xbytes[4 * i:4 * i + 4], "little")
                         for i in range(32)]
            vbytes = client.read(Space.VREG, 0, 32 * config.vector_bytes)
            halves = [int.from_bytes(vbytes[2 * i:2 * i + 2], "little", signed=True)
                      for i in range(32 * config.lanes)]
            data["v"] = [halves[r * config.lanes:(r + 1) * config.lanes] for r in range(32)]
        build = proc.build
    return SocRun(program, data, build.build_seconds, build.cached,
                  time.perf_counter() - opened, Path(wave_path) if wave_path else None,
                  extra={"backend": "harness"})


def exit_reason_of(status: dict, config: CoreConfig, timed_out: bool = False) -> str:
    """The golden model's ``exit_reason`` for an RTL status record."""
    from ...hw.rtl.enums import TrapCause
    if status["running"]:
        return "max_cycles" if timed_out else "running"
    cause = TrapCause(status["cause"]).name
    if cause == "VECTOR_FAULT":
        from ..iss.predecode import find
        ins = find(int(status["trap_word"]))
        writes = ins.writes if ins is not None else None
        return "store_fault" if writes in ("vmem", "lmem") else "load_fault"
    if cause == "NONE":
        return "max_cycles" if timed_out else "halted"
    return _CAUSE_TO_EXIT[cause]


def _access_align(mnemonic: str | None, config: CoreConfig) -> int:
    scalar = {"lb": 1, "lbu": 1, "sb": 1, "lh": 2, "lhu": 2, "sh": 2, "lw": 4, "sw": 4}
    if mnemonic in scalar:
        return scalar[mnemonic]
    return config.lanes if mnemonic in ("vlacc8", "vload8") else config.vector_bytes


def final_machine(run: SocRun):
    """A :class:`Machine` holding the RTL's final state (program loaded, x, v, counters,
    pc, exit reason and the golden model's exit message for it)."""
    import numpy as np

    from ..iss import Machine, RunResult
    from ..iss import ops as O
    from ..iss.predecode import mnemonic
    program, data = run.program, run.data
    config = program.config
    status = data["status"]
    machine = Machine(config)
    machine.load_program(program)
    if data.get("x") is not None:
        machine.x[:] = np.array(data["x"], dtype=np.uint64).astype(np.uint32)
        machine.v[:] = np.array(data["v"], dtype=np.int64).astype(np.int16)
    machine.set_counters(int(status["cycles"]), int(status["instret"]))
    machine.pc = int(status["trap_pc"])
    reason = exit_reason_of(status, config, bool(data.get("timed_out")))
    # The golden model words its messages from its fault registers: fill them from the
    # RTL's trap record. (The previous pc of a pc fault is not known to the RTL.)
    st = machine._st
    addr = int(status["trap_addr"])
    st[O.S_FAULT_ADDR] = addr
    name = mnemonic(int(status["trap_word"]), config) if reason.endswith("_fault") else None
    st[O.S_FAULT_DETAIL] = (O.FD_MISALIGNED if addr % _access_align(name, config)
                            else O.FD_RANGE)
    machine.exit_reason = reason
    if reason in _CAUSE_TO_EXIT.values():
        fault, message = machine._describe(reason, None)
    else:
        fault = None
        message = {"halted": "Stopped by the host (HALT).",
                   "running": "The core is still running.",
                   "max_cycles": f"The core was still running after {run.clock_cycles} "
                                 f"clock cycles (the --max-cycles limit) and could not be "
                                 f"halted; raise the limit or look for an endless loop."
                   }[reason]
    machine.last_result = RunResult(reason, message, machine.pc, machine.instret,
                                    machine.cycles, fault)
    return machine


def state_dict(run: SocRun, machine=None) -> dict:
    """``Machine.state_dict()`` of :func:`final_machine`, except ``rng``: the generator
    state is not readable through the host protocol (no address space holds it), so it is
    ``None`` rather than a guess."""
    machine = machine if machine is not None else final_machine(run)
    state = machine.state_dict()
    state["rng"] = None
    return state
