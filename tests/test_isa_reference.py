"""The generated ISA reference: ``docs/isa.md`` must equal ``render()`` (the CI check),
and the document must cover the whole table. The command-line entry points (``python -m
spikevec.hw.isa.reference`` and ``spikevec isadoc``) write and check files."""
from __future__ import annotations

import re

import pytest

from spikevec.hw.isa import INSTRUCTIONS, OPCODES
from spikevec.hw.isa import reference
from spikevec.hw.isa.operands import ROUND, ROUND_NAMES, SAT


@pytest.fixture(scope="module")
def text():
    return reference.render()


def test_docs_isa_md_is_current(text):
    path = reference.default_path()
    assert path.exists(), (f"{path} is missing; generate it with "
                           f"'{reference.REGENERATE}'.")
    assert path.read_text(encoding="utf-8") == text, (
        f"{path} is out of date with hw/isa; regenerate it with "
        f"'{reference.REGENERATE}' (or 'spikevec isadoc') and commit it.")


def test_render_is_deterministic(text):
    assert reference.render() == text


def _section(text, title):
    start = text.index(f"## {title}")
    end = text.find("\n## ", start + 1)
    return text[start:end if end >= 0 else None]


def test_every_instruction_is_documented(text):
    body = _section(text, "Instructions")
    for ins in INSTRUCTIONS:
        row = next((line for line in body.splitlines()
                    if line.startswith(f"| `{reference.mnemonic_pattern(ins)}` |")), None)
        assert row is not None, f"{ins.name} has no row in the instruction tables"
        assert f"`{ins.mask:08x}` / `{ins.match:08x}`" in row, ins.name
        assert f"`{reference.encoding_pattern(ins)}`" in row, ins.name
        assert f"`{ins.timing}`" in row, ins.name
    for group in reference.GROUPS:
        assert f"### {group}" in body


def test_encoding_pattern_is_derived_from_mask_and_match():
    add = next(i for i in INSTRUCTIONS if i.name == "add")
    assert reference.encoding_pattern(add) == "0000000 rs2 rs1 000 rd 0110011"
    for ins in INSTRUCTIONS:
        bits = "".join(reference.encoding_pattern(ins).split())
        assert bits.endswith(format(ins.opcode, "07b")), ins.name
        fixed = [c for c in reference.encoding_pattern(ins).split() if set(c) <= {"0", "1"}]
        assert sum(map(len, fixed)) == bin(ins.mask).count("1"), ins.name


def test_extensions_section_lists_every_why(text):
    body = _section(text, "Extensions beyond FeNN and the cycles they save")
    for ins in INSTRUCTIONS:
        if ins.why:
            assert f"| `{ins.name}` |" in body and ins.why.split(";")[0] in body, ins.name


def test_opcode_map_lists_used_and_free_vector_opcodes(text):
    body = _section(text, "Major opcode map")
    used = {v >> 2 for v in OPCODES.values() if v & 0b11 == 0b10}
    free = re.search(r"Free op5 values: ([0-9, ]+)\.", body).group(1)
    assert {int(x) for x in free.split(",")} == set(range(32)) - used
    for op5 in used:
        assert f"| {op5} | `{(op5 << 2) | 2:07b}` |" in body


def test_conventions_and_modifiers(text):
    for phrase in ("(x + 2^(s-1)) >> s", "(x + (r >> (16 - s))) >> s", "HIGH",
                   "Xoroshiro32++", "interlocks", "stop the core"):
        assert phrase in text, phrase
    for m in (SAT, ROUND):
        for suffix, value in m.suffixes.items():
            if suffix:
                assert f"| `{suffix}` | `{m.field}` | {value} |" in text
    for name in ROUND_NAMES.values():
        assert name in text


def test_pseudo_section_follows_the_pseudo_module(text):
    mod = reference._pseudo_module()
    if mod is None or not getattr(mod, "PSEUDOS", ()):
        assert "## Pseudo-instructions" not in text
    else:
        body = _section(text, "Pseudo-instructions")
        for p in mod.PSEUDOS:
            assert f"| `{p.name}` |" in body, p.name


def test_check_reports_stale_and_missing_files(tmp_path, capsys):
    path = tmp_path / "isa.md"
    assert reference.main(["--check", "-o", str(path)]) == 1
    assert "does not exist" in capsys.readouterr().err
    assert reference.main(["-o", str(path)]) == 0
    assert reference.main(["--check", "-o", str(path)]) == 0
    path.write_text(path.read_text() + "edited\n")
    assert reference.main(["--check", "-o", str(path)]) == 1
    err = capsys.readouterr().err
    assert "out of date" in err and reference.REGENERATE in err and str(path) in err


def test_spikevec_isadoc_command(tmp_path, capsys):
    # Only this subcommand is registered, so other commands' state cannot break the test.
    import argparse
    from spikevec.sw.commands import isadoc
    parser = argparse.ArgumentParser(prog="spikevec")
    isadoc.register(parser.add_subparsers(dest="command"))

    def main(argv):
        args = parser.parse_args(argv)
        return args.func(args)

    path = tmp_path / "isa.md"
    assert main(["isadoc", "-o", str(path)]) == 0
    assert path.read_text(encoding="utf-8") == reference.render()
    assert main(["isadoc", "--check", "-o", str(path)]) == 0
    path.write_text("stale\n")
    assert main(["isadoc", "--check", "-o", str(path)]) == 1
    capsys.readouterr()


def test_pseudo_section_is_omitted_without_the_module(monkeypatch):
    def missing(name):
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    monkeypatch.setattr(reference.importlib, "import_module", missing)
    assert reference._pseudo_module() is None
    text = reference.render()
    assert "## Pseudo-instructions" not in text and "## Instructions" in text
