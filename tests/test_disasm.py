"""Disassembler tests: encode -> disassemble -> assemble is the identity."""
from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from asm_helpers import CONFIGS, instruction_strategy
from spikevec.hw.config import preset
from spikevec.hw.isa import INSTRUCTIONS, find
from spikevec.sw.asm import assemble, disassemble, disassemble_word
from spikevec.sw.commands.disasm import load_any
from spikevec.sw.examples import __file__ as examples_init
import os

DEMO = os.path.join(os.path.dirname(examples_init), "vector_demo.s")


def reassemble(text: str, pc: int, config) -> int:
    return assemble(f".zero {pc}\n{text}\n", config).text[-1]


@pytest.mark.parametrize("lanes", sorted(CONFIGS))
@pytest.mark.parametrize("ins", INSTRUCTIONS, ids=lambda i: i.name)
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_roundtrip_every_instruction(lanes, ins, data):
    config = CONFIGS[lanes]
    ops, mods = data.draw(instruction_strategy(ins, config))
    pc = data.draw(st.integers(0, 64)) * 4
    word = ins.encode(config, mods, **ops)
    assert find(word) is ins and ins.legal(word, config)
    text = disassemble_word(word, pc, config)
    assert not text.startswith(".word"), text
    assert text.split()[0] == ins.mnemonic(mods)
    assert reassemble(text, pc, config) == word, text


@settings(max_examples=400, deadline=None)
@given(word=st.integers(0, 0xFFFFFFFF), lanes=st.sampled_from(sorted(CONFIGS)))
def test_any_word_roundtrips(word, lanes):
    config = CONFIGS[lanes]
    assert reassemble(disassemble_word(word, 8, config), 8, config) == word


def test_known_words():
    c = preset("default")
    assert disassemble_word(0x00500513, 0, c) == "addi a0, zero, 5"
    assert disassemble_word(0xFE051EE3, 0x24, c) == "bne a0, zero, 0x20"
    assert disassemble_word(0xC0002573, 0, c) == "csrrs a0, cycle, zero"
    assert disassemble_word(0x123455B7, 0, c) == "lui a1, 0x12345"
    assert disassemble_word(0xFFFFFFFF, 0, c) == ".word 0xffffffff"


def test_reserved_values_print_as_words():
    c = CONFIGS[8]
    word = assemble("vextract a0, v1, 7", c).text[0]
    lane_8 = word + (1 << 20)     # lane field + 1: lane 8 does not exist with 8 lanes
    assert disassemble_word(lane_8, 0, c).startswith(".word")
    assert disassemble_word(lane_8, 0, CONFIGS[16]) == "vextract a0, v1, 8"


def test_noncanonical_fence_prints_as_word():
    c = preset("default")
    fence = assemble("fence", c).text[0]
    odd = fence | (5 << 7)          # a don't-care rd field
    assert disassemble_word(odd, 0, c) == f".word {odd:#010x}"


@pytest.mark.parametrize("name", ["default", "lanes16", "lanes8"])
def test_listing_reassembles(name):
    config = preset(name)
    with open(DEMO) as f:
        program = assemble(f.read(), config, DEMO)
    listing = disassemble(program)
    again = assemble(listing, config, "listing.s")
    assert again.text == program.text
    assert again.data == program.data and again.vdata == program.vdata
    assert again.symbols == program.symbols
    assert "<group_loop>" in listing


def test_cli_disasm_bin_and_svp(tmp_path, capsys):
    from spikevec.sw.cli import main
    c = preset("default")
    program = assemble("start: addi a0, a0, 1\nj start\n", c)
    raw = tmp_path / "p.bin"
    raw.write_bytes(b"".join(w.to_bytes(4, "little") for w in program.text))
    assert main(["disasm", str(raw)]) == 0
    out = capsys.readouterr().out
    assert "addi a0, a0, 1" in out and "jal zero, 0x0" in out
    svp = tmp_path / "p.svp"
    program.save(svp)
    assert main(["disasm", str(svp)]) == 0
    assert "start:" in capsys.readouterr().out
    assert load_any(svp, "default").text == program.text
