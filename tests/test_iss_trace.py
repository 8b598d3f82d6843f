"""Golden model: the cycle model (TIMING), the write-back trace, trace comparison and
the ``spikevec iss`` command."""
from __future__ import annotations

import json

import numpy as np
import pytest

from spikevec.hw.config import preset
from spikevec.hw.isa import BY_NAME, TIMING
from spikevec.sim.iss import TraceRecord, compare_traces, first_divergence

from iss_helpers import machine, program, rerun

P = TIMING.predicted_penalty       # jal, taken backward branch (predicted taken)
M = TIMING.mispredict_penalty      # taken forward, not-taken backward branch, jalr


def cycles_of(*instrs, preset_name="default", setup=None):
    m = machine(preset_name)
    m = machine(preset_name, program(m.config, *instrs))
    if setup:
        setup(m)
    res = rerun(m, check=True)
    return res.cycles - res.instret            # the penalties only


def test_straight_line_costs_one_cycle_each():
    assert cycles_of(*[("addi", dict(rd=1, rs1=1, imm=1))] * 10) == 0
    assert cycles_of(("vadd", dict(vd=1, vs1=2, vs2=3)), ("sw", dict(rs2=1, rs1=0, imm=0))) == 0


def test_branch_and_jump_penalties():
    assert cycles_of(("beq", dict(rs1=0, rs2=0, off=4))) == M          # forward, taken
    assert cycles_of(("bne", dict(rs1=0, rs2=0, off=8))) == 0          # not taken
    assert cycles_of(("jal", dict(rd=1, off=4))) == P
    assert cycles_of(("auipc", dict(rd=5, imm=0)), ("jalr", dict(rd=0, rs1=5, imm=8))) == M
    # A backward loop branch: taken once (predicted), then not taken (mispredicted).
    assert cycles_of(("addi", dict(rd=1, rs1=0, imm=2)), ("addi", dict(rd=1, rs1=1, imm=-1)),
                     ("bne", dict(rs1=1, rs2=0, off=-4))) == P + M


def test_predicted_branch_bubble_overlaps_its_operand_wait():
    """A predicted-taken branch redirects the fetch as it leaves decode, so a stall for
    its own operand hides (part of) its bubble: f[n+1] = max(t[n] + 1, f[n] + 1 + P)."""
    body = [("addi", dict(rd=6, rs1=0, imm=2)), ("addi", dict(rd=6, rs1=6, imm=-1)),
            ("sw", dict(rs2=6, rs1=0, imm=0)), ("lw", dict(rd=5, rs1=0, imm=0)),
            ("bne", dict(rs1=5, rs2=0, off=-12))]       # taken once, then falls through
    assert cycles_of(*body) == 2 * stall("lw") + max(0, P - stall("lw")) + M


def stall(producer: str, distance: int = 1) -> int:
    """Stall cycles of a reader ``distance`` instructions after ``producer`` (a mnemonic),
    from the table's cycle model: ready at issue + latency of its timing class."""
    return max(0, TIMING.latency_of(BY_NAME[producer].timing) - distance)


# (producer, reader, whether the reader reads what the producer wrote)
@pytest.mark.parametrize("load,use,depends", [
    (("lw", dict(rd=5, rs1=0, imm=0)), ("add", dict(rd=6, rs1=0, rs2=5)), True),
    (("lw", dict(rd=5, rs1=0, imm=0)), ("add", dict(rd=6, rs1=7, rs2=8)), False),
    (("lw", dict(rd=5, rs1=0, imm=0)), ("add", dict(rd=5, rs1=7, rs2=8)), False),
    (("lbu", dict(rd=0, rs1=0, imm=0)), ("add", dict(rd=6, rs1=0, rs2=0)), False),  # x0
    (("lh", dict(rd=5, rs1=0, imm=0)), ("sw", dict(rs2=5, rs1=0, imm=8)), True),
    (("lw", dict(rd=5, rs1=0, imm=0)), ("vfill", dict(vd=1, rs1=5)), True),
    (("mul", dict(rd=5, rs1=1, rs2=2)), ("addi", dict(rd=6, rs1=5, imm=1)), True),
    (("vload", dict(vd=1, rs1=0, imm=0)), ("vadd", dict(vd=2, vs1=3, vs2=1)), True),
    (("vload", dict(vd=1, rs1=0, imm=0)), ("vadd", dict(vd=1, vs1=3, vs2=3)), False),
    (("vload", dict(vd=1, rs1=0, imm=0)), ("vsel", dict(vd=1, rs1=0, vs2=2)), True),
    (("vload", dict(vd=1, rs1=0, imm=0)), ("vstore", dict(vs2=1, rs1=0, imm=64)), True),
    (("vload", dict(vd=1, rs1=0, imm=0)), ("vteq", dict(rd=5, vs1=2, vs2=1)), True),
    (("vload", dict(vd=5, rs1=0, imm=0)), ("add", dict(rd=6, rs1=5, rs2=5)), False),
    (("vloadl", dict(vd=1, vs1=2, imm=0)), ("vextract", dict(rd=5, vs1=1, lane=0)), True),
    (("vlacc", dict(vd=1, rs1=0, off=0, shift=0)),
     ("vlacc", dict(vd=1, rs1=0, off=64, shift=0)), True),
    (("vlacc8", dict(vd=1, rs1=0, off=0, shift=0)),
     ("vlacc", dict(vd=2, rs1=0, off=64, shift=0)), False),
    (("vload8", dict(vd=1, rs1=0, off=0, shift=0)), ("vstorel", dict(vs2=3, vs1=1, imm=0)),
     True),
    (("vadd", dict(vd=1, vs1=2, vs2=3)), ("vmul", dict(vd=4, vs1=1, vs2=1, shift=0)), True),
    (("vteq", dict(rd=5, vs1=2, vs2=3)), ("addi", dict(rd=6, rs1=5, imm=1)), True),
])
def test_result_latency(load, use, depends):
    # Instructions that wait for the lanes' answer add their wait (test_lane_delay.py).
    waits = sum(TIMING.lane_wait(BY_NAME[name].lane_answer) for name in (load[0], use[0]))
    expected = (stall(load[0]) if depends else 0) + waits
    assert cycles_of(load, use) == expected
    # Each instruction in between hides one cycle of latency.
    expected2 = (stall(load[0], 2) if depends else 0) + waits
    assert cycles_of(load, ("addi", dict(rd=9, rs1=9, imm=1)), use) == expected2


def test_latency_and_taken_branch_overlap():
    """A taken branch's bubble also lets a pending result become ready (scoreboard)."""
    lw = ("lw", dict(rd=5, rs1=0, imm=0))
    assert cycles_of(lw, ("beq", dict(rs1=5, rs2=5, off=4))) == stall("lw") + M
    assert cycles_of(("vlacc", dict(vd=1, rs1=0, off=0, shift=0)),
                     ("jal", dict(rd=0, off=4)),
                     ("vadd", dict(vd=2, vs1=1, vs2=1))) == P + max(
        0, stall("vlacc", 2) - P)


def test_trace_records_every_write_in_order():
    cfg = preset("lanes8")
    m = machine("lanes8")
    words = program(cfg, ("addi", dict(rd=5, rs1=0, imm=64)),
                    ("addi", dict(rd=0, rs1=0, imm=1)),                  # x0: no record
                    ("vlui", dict(vd=1, imm=-3)),
                    ("vstore", dict(vs2=1, rs1=5, imm=16)),
                    ("sh", dict(rs2=5, rs1=5, imm=2)),
                    ("vseed", dict(vs1=1, vs2=1)),
                    ("vstorel", dict(vs2=1, vs1=2, imm=0)),
                    ("beq", dict(rs1=0, rs2=0, off=4)),                  # no write
                    ("vteq", dict(rd=6, vs1=1, vs2=1)))
    m = machine("lanes8", words)
    m.v[2] = [0, -1, 5, -1, 7, -32768, 1, 2]
    res = rerun(m, trace=True, check=True)
    kinds = [(r.kind, r.instret, r.pc) for r in res.trace]
    assert kinds == [("x", 0, 0), ("v", 2, 8), ("vmem", 3, 12), ("mem", 4, 16),
                     ("rng", 5, 20), ("rng", 5, 20)] + [("lmem", 6, 24)] * 5 + [("x", 8, 32)]
    t = res.trace
    assert t[0].where == 5 and t[0].value == 64
    assert t[1].value == (-3,) * 8 and t[1].where == 1
    assert t[2].where == 80 and t[2].value == (-3,) * 8
    assert t[3].where == 66 and t[3].size == 2 and t[3].value == 64
    assert t[4].where == 0 and t[4].value == (0xFFFD,) * 8 and t[5].where == 1
    assert [(r.lane, r.where, r.value) for r in t[6:11]] == [
        (0, 0, -3), (2, 5, -3), (4, 7, -3), (6, 1, -3), (7, 2, -3)]
    assert t[11].value == 0xFF
    assert compare_traces(t, list(t)) is None


def test_trace_survives_buffer_flushes_and_matches_untraced_run():
    cfg = preset("default")
    m = machine("default")
    words = program(cfg, ("addi", dict(rd=1, rs1=0, imm=2000)),
                    ("vrng", dict(vd=2)),
                    ("vstorel", dict(vs2=2, vs1=3, imm=0)),
                    ("addi", dict(rd=1, rs1=1, imm=-1)),
                    ("bne", dict(rs1=1, rs2=0, off=-12)))
    m = machine("default", words)
    m.rng[0], m.rng[1] = np.arange(1, 33), 7
    res = rerun(m, trace=True, check=True)
    assert len(res.trace) == 1 + 2000 * (1 + 32 + 1)
    assert [r.instret for r in res.trace] == sorted(r.instret for r in res.trace)
    final = m.v[2].copy()
    m.rng[0], m.rng[1] = np.arange(1, 33), 7
    res2 = rerun(m)
    assert (m.v[2] == final).all() and res2.cycles == res.cycles


def test_compare_traces_reports_first_divergence():
    a = [TraceRecord(0, 0, "x", 5, 1), TraceRecord(1, 4, "v", 2, (1, 2)),
         TraceRecord(2, 8, "x", 6, 3)]
    b = list(a)
    b[1] = TraceRecord(1, 4, "v", 2, (1, 9))
    report = compare_traces(a, b)
    assert first_divergence(a, b) == 1
    assert "pc 0x00000004" in report and "instret 1" in report
    assert "[1, 2]" in report and "[1, 9]" in report
    assert first_divergence(a, a[:2]) == 2 and "trace ends" in compare_traces(a, a[:2])
    assert compare_traces(a, [tuple(r) for r in a]) is None


def test_cli_runs_svp_program_as_json(tmp_path, capsys):
    from spikevec.sw.asm.program import Program
    from spikevec.sw.cli import main
    cfg = preset("lanes8")
    path = tmp_path / "p.svp"
    Program(config=cfg, text=program(cfg, ("addi", dict(rd=10, rs1=0, imm=-7)),
                                      ("vfill", dict(vd=3, rs1=10)))).save(path)
    assert main(["iss", str(path), "--json"]) == 0
    state = json.loads(capsys.readouterr().out)
    assert state["exit_reason"] == "ecall" and state["instret"] == 3 and state["pc"] == 8
    assert state["x"][10] == 0xFFFFFFF9 and state["v"][3] == [-7] * 8
    assert main(["iss", str(path)]) == 0
    out = capsys.readouterr().out
    assert "a0" in out and "v3" in out and "ecall" in out
    Program(config=cfg, text=[0xFFFFFFFF]).save(path)
    assert main(["iss", str(path), "--json", "--trace"]) != 0
    assert json.loads(capsys.readouterr().out)["exit_reason"] == "illegal_instruction"
