"""Dependency direction between the parts of spikevec, checked on import statements.

* Nothing in ``hw/`` imports ``spikevec.sw`` or ``spikevec.sim`` (hardware is the bottom
  layer: the compiler and the simulators depend on it, never the other way round).
* ``hw/isa`` and ``hw/config.py`` import nothing of spikevec outside ``hw/isa`` and
  ``hw/config.py``, so the ISA declaration can be used without the RTL.

Relative imports (``from ...sw import x``) are resolved against the file's package, and
``importlib.import_module``/``__import__`` calls with a constant name are included.
"""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def module_name(path: Path) -> str:
    """``hw/isa/table.py`` -> ``spikevec.hw.isa.table``; packages drop ``__init__``."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(["spikevec"] + parts)


def imports(path: Path, source: str | None = None) -> list[tuple[int, str]]:
    """``(line, absolute module name)`` of every import in ``path`` (or in ``source``,
    read as if it were the file at ``path``)."""
    module = module_name(path)
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    found = []
    for node in ast.walk(ast.parse(source if source is not None
                                    else path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1]
                assert len(base) >= 1, f"{path}:{node.lineno}: relative import escapes"
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module
            if node.module:
                found.append((node.lineno, target))
            else:     # from . import a, b: the names are submodules (or attributes)
                found += [(node.lineno, f"{target}.{a.name}") for a in node.names]
        elif (isinstance(node, ast.Call) and node.args
              and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)
              and getattr(node.func, "attr", getattr(node.func, "id", "")) in
              ("import_module", "__import__")):
            found.append((node.lineno, node.args[0].value))
    return found


def files(*roots):
    for root in roots:
        p = ROOT / root
        yield from ([p] if p.suffix == ".py" else sorted(p.rglob("*.py")))


def _inside(name: str, prefixes) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def test_module_name_and_relative_resolution():
    assert module_name(ROOT / "hw/isa/table.py") == "spikevec.hw.isa.table"
    assert module_name(ROOT / "hw/isa/__init__.py") == "spikevec.hw.isa"
    names = [n for _, n in imports(ROOT / "hw/isa/instruction.py")]
    assert "spikevec.hw.isa.formats" in names


def test_hw_does_not_import_sw_or_sim():
    bad = [f"{p.relative_to(ROOT)}:{line}: imports {name}"
           for p in files("hw") for line, name in imports(p)
           if _inside(name, ("spikevec.sw", "spikevec.sim"))]
    assert not bad, ("hw/ must not depend on the software or the simulators; move the "
                     "shared code into hw/ or invert the dependency:\n" + "\n".join(bad))


def test_isa_and_config_depend_only_on_each_other():
    allowed = ("spikevec.hw.isa", "spikevec.hw.config")
    bad = [f"{p.relative_to(ROOT)}:{line}: imports {name}"
           for p in files("hw/isa", "hw/config.py") for line, name in imports(p)
           if _inside(name, ("spikevec",)) and not _inside(name, allowed)]
    assert not bad, ("hw/isa and hw/config.py may import only hw/isa and hw/config.py of "
                     "spikevec, so the ISA can be used without the RTL or the "
                     "toolchain:\n" + "\n".join(bad))


def test_the_checker_sees_relative_imports():
    probe = ROOT / "hw" / "isa" / "probe.py"          # never written: source given below
    src = ("from ...sw import cli\nfrom .. import rtl\nfrom . import table\n"
           "import spikevec.sim.iss\nimportlib.import_module('spikevec.sw.asm')\n")
    assert [n for _, n in imports(probe, src)] == [
        "spikevec.sw", "spikevec.hw.rtl", "spikevec.hw.isa.table", "spikevec.sim.iss",
        "spikevec.sw.asm"]
    assert [n for _, n in imports(ROOT / "hw" / "isa" / "__init__.py", "from . import x")] \
        == ["spikevec.hw.isa.x"]
