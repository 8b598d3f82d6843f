"""Golden model: faults, illegal instructions and other stops give the right exit reason,
address, word and message, and leave the state untouched."""
from __future__ import annotations

import json

import pytest

from spikevec.hw.config import preset
from spikevec.hw.isa import BY_NAME, CSRS
from spikevec.sim.iss import Machine, MachineFault

from iss_helpers import enc, machine, program, rerun


def run_one(preset_name, instr, setup=None):
    m = machine(preset_name)
    m = machine(preset_name, program(m.config, instr) if not isinstance(instr, list)
                else instr)
    if setup:
        setup(m)
    return m, rerun(m)


def check_fault(m, res, reason, address, word_index=0, lane=None):
    word = int(m.imem[word_index])
    assert res.exit_reason == reason, res.message
    assert res.pc == 4 * word_index and res.instret == word_index
    assert res.fault["address"] == address and res.fault["word"] == word
    assert res.fault["lane"] == lane
    assert f"0x{word:08x}" in res.message and f"pc 0x{4 * word_index:08x}" in res.message
    json.dumps(m.state_dict())


@pytest.mark.parametrize("name,addr,reason", [
    ("lw", 2, "load_fault"), ("lh", 1, "load_fault"), ("lhu", 32 * 1024, "load_fault"),
    ("lb", 0xFFFFFFFF, "load_fault"), ("sw", 6, "store_fault"),
    ("sh", 32 * 1024 - 1, "store_fault"), ("sb", 32 * 1024, "store_fault")])
def test_scalar_memory_faults(name, addr, reason):
    ops = dict(rs1=1, imm=-4)
    ops.update(rd=3) if name.startswith("l") else ops.update(rs2=3)
    m, res = run_one("default", (name, ops), lambda m: m.x.__setitem__(1, (addr + 4) & 0xFFFFFFFF))
    check_fault(m, res, reason, addr)
    assert f"0x{addr:08x}" in res.message and name in res.message
    assert int(m.x[3]) == 0 and not m.dmem.any()


@pytest.mark.parametrize("name,addr,misaligned", [
    ("vload", 2, True), ("vload", 256 * 1024, False), ("vstore", 32, True),
    ("vstore", 256 * 1024 - 64, None), ("vlacc", 256 * 1024, False),
    ("vlacc8", 16, True), ("vlacc8", 256 * 1024 - 32, None), ("vload8", 256 * 1024, False)])
def test_vector_memory_faults(name, addr, misaligned):
    if name in ("vload",):
        ops = dict(vd=2, rs1=1, imm=0)
    elif name == "vstore":
        ops = dict(vs2=2, rs1=1, imm=0)
    else:
        ops = dict(vd=2, rs1=1, off=0, shift=0)
    m, res = run_one("default", (name, ops), lambda m: m.x.__setitem__(1, addr))
    if misaligned is None:                     # the last legal address
        assert res.exit_reason == "ecall", res.message
        return
    check_fault(m, res, "store_fault" if name == "vstore" else "load_fault", addr)
    assert ("not a multiple" in res.message) == misaligned


@pytest.mark.parametrize("name", ["vloadl", "vstorel"])
def test_lane_local_faults(name):
    cfg = preset("lanes8")
    E = cfg.lane_mem_elements
    ops = dict(vd=2, vs1=1, imm=1) if name == "vloadl" else dict(vs2=2, vs1=1, imm=1)

    def setup(m):
        m.v[1] = [0, -5, E - 2, E - 1, 3, -32768, 32767, 0]
        m.v[2] = 77
    m, res = run_one("lanes8", (name, ops), setup)
    check_fault(m, res, "load_fault" if name == "vloadl" else "store_fault", E, lane=3)
    assert "lane 3" in res.message and not m.lmem.any() and not m.v[2].tolist() == [0] * 8


def crafted(name, config, field, value, **ops):
    """A word for ``name`` with layout ``field`` forced to ``value`` (a reserved one)."""
    ins = BY_NAME[name]
    word = ins.encode(config, None, **ops)
    return (word & ~ins.fmt.mask(field)) | (value << ins.fmt.offset(field))


def illegal_words():
    cfg = preset("default")
    c8 = preset("lanes8")
    return [
        ("all ones", 0xFFFFFFFF, "default", "no instruction"),
        ("zero", 0, "default", "no instruction"),
        ("csrrw", enc(cfg, "csrrw", rd=1, csr=CSRS["cycle"], rs1=0), "default", "read-only"),
        ("csrrwi", enc(cfg, "csrrwi", rd=1, csr=CSRS["cycle"], uimm=0), "default",
         "read-only"),
        ("csrrs writes", enc(cfg, "csrrs", rd=1, csr=CSRS["instret"], rs1=2), "default",
         "read-only"),
        ("csrrci writes", enc(cfg, "csrrci", rd=1, csr=CSRS["cycle"], uimm=3), "default",
         "read-only"),
        ("unknown csr", enc(cfg, "csrrs", rd=1, csr=0x300, rs1=0), "default", "does not exist"),
        ("vextract lane 20 on 8 lanes", enc(cfg, "vextract", rd=1, vs1=2, lane=20), "lanes8",
         "reserved"),
        ("vslli shamt 16", crafted("vslli", c8, "rs2", 16, vd=1, vs1=2, shamt=0), "lanes8",
         "reserved"),
        ("vmul round 3", crafted("vmul", cfg, "round", 3, vd=1, vs1=2, vs2=3, shift=1),
         "default", "reserved"),
    ]


@pytest.mark.parametrize("label,word,preset_name,why", illegal_words())
def test_illegal_instructions(label, word, preset_name, why):
    m, res = run_one(preset_name, [enc(preset(preset_name), "addi", rd=5, rs1=0, imm=1), word])
    check_fault(m, res, "illegal_instruction", 4, word_index=1)
    assert why in res.message, res.message
    assert int(m.x[5]) == 1 and int(m.x[1]) == 0 and res.cycles == 1


def test_running_off_the_program_is_illegal():
    m, res = run_one("default", [enc(preset("default"), "addi", rd=5, rs1=0, imm=1)])
    assert res.exit_reason == "illegal_instruction" and res.pc == 4


@pytest.mark.parametrize("target", [2, 16 * 1024, 0xFFFFFFFC])
def test_pc_faults(target):
    cfg = preset("default")
    words = [enc(cfg, "jalr", rd=1, rs1=5, imm=0)]
    m, res = run_one("default", words, lambda m: m.x.__setitem__(5, target))
    assert res.exit_reason == "pc_fault" and res.pc == target
    assert res.fault["address"] == target and f"0x{target:08x}" in res.message
    assert "0x00000000 (jalr" in res.message and res.instret == 1 and int(m.x[1]) == 4


def test_pc_fault_by_jal_past_the_end():
    cfg = preset("tiny")
    m, res = run_one("tiny", [enc(cfg, "jal", rd=0, off=cfg.imem_bytes)])
    assert res.exit_reason == "pc_fault" and res.pc == cfg.imem_bytes
    assert "outside instruction memory" in res.message


def test_max_instructions_and_check():
    cfg = preset("default")
    m = machine("default", [enc(cfg, "addi", rd=1, rs1=1, imm=1), enc(cfg, "jal", rd=0, off=-4)])
    res = m.run(max_instructions=1001)
    assert res.exit_reason == "max_instructions" and res.instret == 1001
    assert int(m.x[1]) == 501 and "max_instructions = 1001" in res.message
    with pytest.raises(MachineFault) as info:
        m.run(max_instructions=10, check=True)
    assert info.value.result.exit_reason == "max_instructions"
    assert m.instret == 1011
    assert m.step().exit_reason == "running" and m.instret == 1012


def test_ebreak_and_ecall_retire():
    cfg = preset("default")
    m, res = run_one("default", [enc(cfg, "addi", rd=1, rs1=0, imm=1), enc(cfg, "ebreak")])
    assert res.exit_reason == "ebreak" and res.instret == 2 and res.pc == 4
    assert not res.ok and res.fault is None
    with pytest.raises(MachineFault):
        rerun(m, check=True)
    m, res = run_one("default", [enc(cfg, "ecall")])
    assert res.ok and res.instret == 1 and res.cycles == 1 and res.pc == 0


def test_load_program_rejects_other_configuration():
    from spikevec.sw.asm.program import Program
    m = Machine(preset("lanes8"))
    with pytest.raises(ValueError, match="compiled for"):
        m.load_program(Program(config=preset("default"), text=[0x73]))
