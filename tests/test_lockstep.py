"""Lockstep verification: constrained-random programs on the RTL SoC (Verilator + cocotb)
compared write by write with the golden model; an injected divergence is reported at the
right pc; ``spikevec sim`` and ``spikevec iss`` print the same JSON.

``SPIKEVEC_LOCKSTEP_INSTRUCTIONS`` (default 20000) sets how many dynamic instructions the
random test runs in total (programs of about 2500 instructions each, seeds 1, 2, ...), on
the ``lanes8`` SoC (quick to build and simulate); one shorter vector program also runs on
the default 32-lane SoC, which the CLI tests use too. The SoC builds are cached in
``~/.cache/spikevec`` (first run: several minutes of Verilator for both).
"""
import io
import json
import os
import time
from contextlib import redirect_stdout
from pathlib import Path

import pytest

pytest.importorskip("cocotb", reason="cocotb>=2.1 is needed for the RTL simulation tests")
from spikevec.sim.rtl.tools import ToolchainError, find_verilator  # noqa: E402

try:
    find_verilator()
except ToolchainError as exc:            # pragma: no cover - depends on the machine
    pytest.skip(f"no usable Verilator: {exc}", allow_module_level=True)

from spikevec.hw.config import preset  # noqa: E402
from spikevec.hw.rtl.soc import has_vector_unit  # noqa: E402
from spikevec.sim.iss import Machine  # noqa: E402
from spikevec.sim.lockstep.generator import SCALAR_MIX, VECTOR_MIX, generate  # noqa: E402
from spikevec.sim.lockstep.run import check_program, compare_run, golden_run  # noqa: E402
from spikevec.sim.rtl.soc_sim import run_program  # noqa: E402
from spikevec.sw.asm import disassemble_word  # noqa: E402
from spikevec.sw.cli import main  # noqa: E402

CONFIG = preset("default")
BULK_CONFIG = preset("lanes8")
TOTAL = int(os.environ.get("SPIKEVEC_LOCKSTEP_INSTRUCTIONS", "20000"))
LENGTH = 2500
VECTORS = has_vector_unit(CONFIG)
MIX = VECTOR_MIX if VECTORS else SCALAR_MIX
REPO = Path(__file__).resolve().parents[1]


def test_generator_is_reproducible_and_terminates():
    for mix in (SCALAR_MIX, VECTOR_MIX):
        for seed in range(5):
            a, b = generate(seed, CONFIG, 500, mix), generate(seed, CONFIG, 500, mix)
            assert a.text == b.text and a.data == b.data and a.vdata == b.vdata
            machine = Machine(CONFIG)
            machine.load_program(a)
            result = machine.run(max_instructions=10**6)
            assert result.ok, result.message
    assert generate(1, CONFIG, 500).text != generate(2, CONFIG, 500).text


def test_random_programs_run_in_lockstep():
    start, done, seed, runs = time.perf_counter(), 0, 0, []
    while done < TOTAL:
        seed += 1
        result = check_program(generate(seed, BULK_CONFIG, LENGTH, MIX),
                               vector_unit=VECTORS)
        assert result.ok, f"seed {seed}:\n{result.report()}"
        done += result.instructions
        runs.append(result.rtl.cycles_per_second)
    elapsed = time.perf_counter() - start
    print(f"lockstep ({BULK_CONFIG.name}): {done} instructions in {seed} programs, "
          f"{elapsed:.1f} s (RTL with per-cycle monitor {min(runs):,.0f}-{max(runs):,.0f} "
          f"cycles/s)")


@pytest.mark.skipif(not VECTORS, reason="the SoC has no vector unit")
def test_random_vector_program_on_32_lanes():
    result = check_program(generate(101, CONFIG, 1500, VECTOR_MIX), vector_unit=True)
    assert result.ok, result.report()
    assert result.instructions >= 1000


@pytest.fixture(scope="module")
def small_run():
    program = generate(7, CONFIG, 300, SCALAR_MIX)
    machine, golden = golden_run(program)
    rtl = run_program(program, lockstep=True, max_cycles=100_000)
    return program, machine, golden, rtl


def _tamper(golden, kind, index, change):
    trace = list(golden.trace)
    hits = [i for i, r in enumerate(trace) if r.kind == kind]
    i = hits[index]
    trace[i] = trace[i]._replace(value=change(trace[i].value))
    golden.trace = trace
    return trace[i]


def test_clean_run_agrees(small_run):
    program, machine, golden, rtl = small_run
    result = compare_run(program, golden, machine, rtl)
    assert result.ok, result.report()


@pytest.mark.parametrize("kind,index", [("x", 40), ("mem", 5)])
def test_injected_divergence_is_reported_at_its_pc(small_run, kind, index):
    program, machine, golden, rtl = small_run
    golden = type(golden)(**{**golden.__dict__})          # a copy: the fixture is shared
    record = _tamper(golden, kind, index, lambda v: v ^ 1)
    result = compare_run(program, golden, machine, rtl)
    assert not result.ok and result.divergence is not None
    d = result.divergence
    assert (d.kind, d.index, d.pc, d.instret) == (kind, index, record.pc, record.instret)
    report = result.report()
    text = disassemble_word(program.text[record.pc // 4], record.pc, CONFIG)
    assert f"pc 0x{record.pc:08x}" in report and text in report
    assert f"instret {record.instret}" in report
    assert "expected:" in report and "actual  :" in report
    assert report.count("instret ") >= 3, "the instructions before it are listed"
    print(report)


def _cli_json(*argv):
    out = io.StringIO()
    with redirect_stdout(out):
        status = main(list(argv))
    return status, json.loads(out.getvalue())


SCALAR_PROGRAM = """
        .data
vals:   .word 5, 7, 11, -3
        .text
        la   t0, vals
        lw   a0, 0(t0)
        lw   a1, 4(t0)
        mul  a2, a0, a1
        sw   a2, 8(t0)
        lh   a6, 12(t0)
        li   t1, 10
loop:   addi a3, a3, 3
        addi t1, t1, -1
        bnez t1, loop
        csrr a4, cycle
        csrr a5, instret
        ecall
"""


def _compare_cli(path):
    iss_status, iss = _cli_json("iss", str(path), "--json")
    sim_status, sim = _cli_json("sim", str(path), "--json")
    assert sim_status == iss_status
    # rng: the generator state has no host address space, so the RTL reports null.
    assert sim.pop("rng") is None
    iss.pop("rng")
    assert sim == iss


def test_sim_and_iss_print_the_same_json_scalar(tmp_path):
    path = tmp_path / "scalar.s"
    path.write_text(SCALAR_PROGRAM)
    _compare_cli(path)


def test_sim_and_iss_print_the_same_json_for_a_fault(tmp_path):
    path = tmp_path / "fault.s"
    path.write_text("        li t0, 3\n        lw a0, 0(t0)\n        ecall\n")
    _compare_cli(path)


@pytest.mark.skipif(not VECTORS, reason="the SoC has no vector unit")
def test_sim_and_iss_print_the_same_json_vector_demo():
    _compare_cli(REPO / "sw" / "examples" / "vector_demo.s")
