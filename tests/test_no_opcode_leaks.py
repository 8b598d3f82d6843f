"""Opcode numbers live in the ISA declaration only (hw/isa/formats.py, hw/isa/table.py).

Every other .py file in hw/, sw/ and sim/ is parsed and checked for

(a) 7-digit binary literals (``0b0110011``, also the Amaranth pattern string
    ``"0110011"``) equal to a major opcode;
(b) hex or decimal literals equal to a major opcode on a line that mentions ``opcode``,
    ``funct3`` or ``funct7``, unless the literal is plainly not an opcode: a shift amount,
    an ``&`` mask, a subscript or slice bound (``insn[12:15]``), or a width given to
    ``Signal``/``unsigned``/``signed``/``range``/``Shape``;
(c) any integer literal equal to a table ``match`` value that has bits above the opcode
    (e.g. ``0x2003`` for ``lw``; smaller match values are bare opcodes, covered by a/b);
(d) a redefinition of the RISC-V quadrant/opcode constants: assigning an integer to an
    upper-case name that is a key of ``OPCODES`` (``OP = 51``) or contains ``OPCODE`` or
    ``QUADRANT``, or assigning anything to ``OPCODES``/``VECTOR_OP5``.

Ordinary numbers (16, 32, 0xFFFF, 3 or 7 used as widths) pass. A line that must contain
such a number anyway can say so with a ``# noqa: opcode-leak`` comment.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

from spikevec.hw.isa import INSTRUCTIONS, OPCODES

ROOT = Path(__file__).resolve().parents[1]
SCANNED = ("hw", "sw", "sim")
EXEMPT = {"hw/isa/formats.py", "hw/isa/table.py"}
OPCODE_VALUES = frozenset(OPCODES.values())
MATCH_VALUES = frozenset(ins.match for ins in INSTRUCTIONS if ins.match > 0x7F)
NEAR = re.compile(r"opcode|funct3|funct7", re.IGNORECASE)
WIDTH_CALLS = {"Signal", "unsigned", "signed", "range", "Shape"}
CONTAINERS = (ast.Tuple, ast.List, ast.Set, ast.UnaryOp, ast.Starred)
PRAGMA = "noqa: opcode-leak"


def _call_name(node) -> str:
    f = node.func
    return f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""


def _plainly_not_an_opcode(node, parents) -> bool:
    """Rule (b) exclusions: the literal's role shows it is a width, shift, mask or index."""
    child = node
    parent = parents.get(child)
    while isinstance(parent, CONTAINERS):
        child, parent = parent, parents.get(parent)
    if isinstance(parent, ast.BinOp):
        if isinstance(parent.op, (ast.LShift, ast.RShift)) and child is parent.right:
            return True
        if isinstance(parent.op, (ast.BitAnd, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod,
                                  ast.Pow)):
            return True
    p = node
    while p in parents:
        q = parents[p]
        if isinstance(q, ast.Subscript) and p is q.slice or isinstance(q, ast.Slice):
            return True
        if isinstance(q, ast.Call) and _call_name(q) in WIDTH_CALLS:
            return True
        p = q
    return False


def _names(target):
    if isinstance(target, ast.Name):
        yield target.id
    elif isinstance(target, ast.Attribute):
        yield target.attr
    elif isinstance(target, (ast.Tuple, ast.List)):
        for t in target.elts:
            yield from _names(t)


def _is_int_expr(node) -> bool:
    if isinstance(node, ast.Constant):
        return isinstance(node.value, int) and not isinstance(node.value, bool)
    if isinstance(node, ast.UnaryOp):
        return _is_int_expr(node.operand)
    if isinstance(node, ast.BinOp):
        return _is_int_expr(node.left) and _is_int_expr(node.right)
    return False


def _redefines_constant(name: str, value) -> bool:
    bare = name.lstrip("_")
    if bare in ("OPCODES", "VECTOR_OP5"):
        return True
    if not bare.isupper() or not _is_int_expr(value):
        return False
    return bare in OPCODES or "OPCODE" in bare or "QUADRANT" in bare


def _literal_text(lines, node) -> str:
    """The source text of a one-line literal (AST column offsets count UTF-8 bytes)."""
    if node.end_lineno != node.lineno:
        return ""
    raw = lines[node.lineno - 1].encode("utf-8")
    return raw[node.col_offset:node.end_col_offset].decode("utf-8", "replace")


def check_source(source: str, filename: str = "<source>") -> list[str]:
    """Every opcode leak in ``source``, as ``file:line: rule: explanation`` strings."""
    tree = ast.parse(source, filename)
    lines = source.splitlines()
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    found = []

    def report(node, rule, why):
        line = lines[node.lineno - 1]
        if PRAGMA not in line:
            found.append(f"{filename}:{node.lineno}: ({rule}) {why}: {line.strip()}")

    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for name in (n for t in targets for n in _names(t)):
                if _redefines_constant(name, node.value):
                    report(node, "d", f"redefines the ISA constant {name}")
        if not isinstance(node, ast.Constant):
            continue
        text = _literal_text(lines, node)
        value = node.value
        if isinstance(value, str):
            if re.fullmatch(r"[01]{7}", value) and int(value, 2) in OPCODE_VALUES:
                report(node, "a", f"pattern {value!r} is a major opcode")
            continue
        if not isinstance(value, int) or isinstance(value, bool):
            continue
        digits = text[2:].replace("_", "") if text[:2].lower() == "0b" else ""
        if len(digits) == 7 and value in OPCODE_VALUES:
            report(node, "a", f"binary literal {text} is a major opcode")
        elif (text[:2].lower() not in ("0b", "0o") and value in OPCODE_VALUES
              and NEAR.search(lines[node.lineno - 1])
              and not _plainly_not_an_opcode(node, parents)):
            report(node, "b", f"{text} equals a major opcode next to an opcode field")
        if value in MATCH_VALUES:
            report(node, "c", f"{text} is the match value of an instruction")
    return found


def scanned_files():
    for root in SCANNED:
        for path in sorted((ROOT / root).rglob("*.py")):
            if path.relative_to(ROOT).as_posix() not in EXEMPT:
                yield path


def test_no_opcode_numbers_outside_the_isa_declaration():
    leaks = []
    for path in scanned_files():
        rel = path.relative_to(ROOT).as_posix()
        leaks += check_source(path.read_text(encoding="utf-8"), rel)
    assert not leaks, (
        "Opcode or funct numbers appear outside hw/isa/table.py and hw/isa/formats.py. "
        "Take them from spikevec.hw.isa (OPCODES, BY_NAME[...].match/.mask, the formats' "
        "field offsets) instead, or mark a false positive with '# " + PRAGMA + "':\n"
        + "\n".join(leaks))


def test_the_scan_covers_the_tree():
    files = {p.relative_to(ROOT).as_posix() for p in scanned_files()}
    assert "hw/isa/instruction.py" in files and "hw/config.py" in files
    assert not files & EXEMPT


PLANTED = '''
OP = 0x33                                        # (d) and not (b): no field name here
class Major:
    QUADRANT_VECTOR = 0b10                       # (d)
def decode(word, m):
    opcode = word & 0x7F
    if opcode == 0b0110011:                      # (a)
        pass
    if opcode in (0x13, 0x03):                   # (b) twice
        pass
    with m.Case("1100011"):                      # (a) pattern string
        pass
    word = 0x2003 | (rd << 7)                    # (c) lw
    return dict(opcode=103)                      # (b)
'''

BENIGN = '''
WIDTH = 16
LANES = 32
MASK = 0xFFFF
LOAD = "load"                        # a timing class, not an opcode
def fields(word, insn, Signal):
    opcode = word & 0x7F
    funct3 = (word >> 12) & 7
    funct7 = word >> 25
    quadrant = opcode & 3
    op5 = opcode >> 2
    f3 = insn[12:15]                 # funct3 slice bounds
    funct3_reg = Signal(3)
    opcode_reg = Signal(unsigned(7))
    x = 15 + 3                       # no field name on this line
    y = 0x33  # noqa: opcode-leak
    sizes = (10, 26, 0b11, 0b10, 0b1111111)      # no field name on this line
    return opcode, funct3, funct7, quadrant, op5, f3, x, y, sizes
'''


def test_checker_catches_planted_leaks(tmp_path):
    path = tmp_path / "leaky.py"
    path.write_text(PLANTED)
    leaks = check_source(path.read_text(), str(path))
    rules = sorted(re.search(r": \((\w)\)", leak).group(1) for leak in leaks)
    assert rules == ["a", "a", "b", "b", "b", "c", "d", "d"], "\n".join(leaks)
    assert all(str(path) in leak for leak in leaks)


def test_checker_ignores_ordinary_numbers(tmp_path):
    path = tmp_path / "benign.py"
    path.write_text(BENIGN)
    assert check_source(path.read_text(), str(path)) == []
