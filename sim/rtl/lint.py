"""Verilator lint (``--lint-only -Wall``) of Amaranth-generated Verilog, with narrow waivers.

Contract
--------
``lint(verilog_or_build, waivers=AMARANTH_WAIVERS, *, top=None) -> list[str]`` returns the
warnings that no waiver matches, one string each (``"CODE file:line:col: message"``).
An empty list means lint-clean. Verilator errors (``%Error``, other than the final
"Exiting due to N warning(s)") raise :class:`LintError`.

``verilog_or_build`` is a :class:`~spikevec.sim.rtl.build.Build`, a path to a ``.v`` file,
or Verilog text (written to a temporary file). ``top`` defaults to the build's name, else
the module marked ``(* top = 1 *)`` by Amaranth.

A :class:`Waiver` matches a warning only when the *code* is equal AND its *pattern* (a
regular expression) fully matches the warning's *subject*: the name quoted after a colon
(``Bits of signal are not used: '$3'[32]`` -> ``$3``) or, for warnings without one, the whole message text. Every waiver
carries the reason it is safe; blanket waivers of a code are deliberately not supported.
"""
from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .tools import run_tool

__all__ = ["Waiver", "LintError", "LintWarning", "AMARANTH_WAIVERS", "lint", "lint_warnings"]


class LintError(RuntimeError):
    """Verilator reported an error (not a warning) while linting."""


@dataclass(frozen=True)
class Waiver:
    code: str           # Verilator warning code, e.g. "UNUSEDSIGNAL"
    pattern: str        # regex, fully matched against LintWarning.subject
    reason: str         # why this is not a design problem (required, non-empty)

    def __post_init__(self):
        if not self.reason.strip():
            raise ValueError(f"Waiver({self.code!r}, {self.pattern!r}) has no reason; "
                             f"every waiver must say why the warning is harmless.")
        if self.pattern in ("", ".*", ".+"):
            raise ValueError(f"Waiver({self.code!r}) pattern {self.pattern!r} matches "
                             f"everything; name the signals (or constants) it covers.")
        re.compile(self.pattern)

    def matches(self, warning: "LintWarning") -> bool:
        return warning.code == self.code and re.fullmatch(self.pattern, warning.subject) \
            is not None


@dataclass(frozen=True)
class LintWarning:
    code: str
    location: str       # file:line:col
    message: str

    @property
    def subject(self) -> str:
        """The name quoted after a colon (``...: 'count'`` -> ``count``; Verilator's form
        for signal, variable and module names), else the whole message."""
        found = re.search(r":\s'([^']+)'", self.message)
        return found.group(1) if found else self.message

    def __str__(self) -> str:
        return f"{self.code} {self.location}: {self.message}"


#: Waivers for constructs Amaranth 0.5 (via Yosys ``write_verilog``) emits by design.
AMARANTH_WAIVERS = (
    Waiver("UNUSEDSIGNAL", r"\$\d+",
           "Anonymous Yosys temporaries ('$N') of arithmetic are one bit wider than the "
           "result (the carry of '+', the borrow of '-'); Amaranth truncates to the "
           "target width, so the top bits are unused by construction."),
    Waiver("WIDTHEXPAND", r"Operator \w+ expects \d+ bits on the (LHS|RHS), but "
           r"(LHS|RHS)'s CONST '\d+'h[0-9a-fA-F]+' generates \d+ bits\.",
           "Yosys prints unsigned constants at their minimal width ('10'h3e8') next to "
           "wider operands; Verilog zero-extends them, which is exactly Amaranth's "
           "semantics for unsigned constants. Signed constants ('sh) are not covered."),
    Waiver("DECLFILENAME", r"[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)+",
           "Amaranth writes the whole hierarchy into one file and names submodules "
           "'top.sub' (escaped identifiers); only such dotted names are covered, so a "
           "top-module/file-name mismatch is still reported."),
    Waiver("PROCASSINIT", r"(\$signal(\$\d+)?|[A-Za-z_][A-Za-z0-9_$.]*)",
           "Amaranth declares every register with its reset value as initial value "
           "('reg [31:0] count = 32'd0;') for FPGA power-up state, and also assigns it "
           "in the clocked process; both are intended. Covers named signals and unnamed "
           "Signal()s ('$signal$N'), not anonymous '$N' expression temporaries."),
)

_HEAD = re.compile(r"^%(Warning|Error)(?:-([A-Z0-9_]+))?:\s*(?:(\S+?:\d+:\d+):\s*)?(.*)$")


def lint_warnings(verilog_or_build, *, top: str | None = None,
                  extra_args=()) -> list[LintWarning]:
    """All ``-Wall`` warnings, unwaived. Raises :class:`LintError` on Verilator errors."""
    path, top, tmp = _source(verilog_or_build, top)
    try:
        args = ["--lint-only", "-Wall", "-Wno-fatal", *extra_args]
        if top:
            args += ["--top-module", top]
        proc = run_tool(args + [str(path)], timeout=300)
    finally:
        if tmp is not None:
            tmp.cleanup()
    warnings, errors = [], []
    for line in (proc.stderr + proc.stdout).splitlines():
        head = _HEAD.match(line)
        if not head:
            continue
        kind, code, location, message = head.groups()
        if kind == "Error" and not message.startswith("Exiting due to"):
            errors.append(line)
        elif kind == "Warning":
            warnings.append(LintWarning(code or "?", location or "", message.strip()))
    if errors or proc.returncode not in (0, 1):
        raise LintError(f"Verilator could not lint {path} (exit {proc.returncode}):\n"
                        + "\n".join(errors or (proc.stderr or proc.stdout).splitlines()[-20:]))
    return warnings


def lint(verilog_or_build, waivers=AMARANTH_WAIVERS, *, top: str | None = None,
         extra_args=()) -> list[str]:
    """Unwaived ``-Wall`` warnings as strings (empty list: lint-clean)."""
    waivers = tuple(waivers)
    for w in waivers:
        if not isinstance(w, Waiver):
            raise TypeError(f"lint() waivers must be Waiver(code, pattern, reason) objects, "
                            f"got {w!r}.")
    return [str(w) for w in lint_warnings(verilog_or_build, top=top, extra_args=extra_args)
            if not any(v.matches(w) for v in waivers)]


def _source(obj, top):
    """(path to .v, top module, TemporaryDirectory or None)."""
    if hasattr(obj, "verilog_path") and hasattr(obj, "name"):
        return Path(obj.verilog_path), top or obj.name, None
    text = None
    if isinstance(obj, Path) or (isinstance(obj, str) and "\n" not in obj
                                 and obj.endswith((".v", ".sv"))):
        path = Path(obj)
        if not path.is_file():
            raise FileNotFoundError(f"lint(): Verilog file {path} does not exist.")
        text = path.read_text()
        return path, top or _marked_top(text), None
    if isinstance(obj, str) and "module" in obj:
        tmp = tempfile.TemporaryDirectory(prefix="spikevec-lint-")
        top = top or _marked_top(obj)
        path = Path(tmp.name) / f"{top or 'design'}.v"
        path.write_text(obj)
        return path, top, tmp
    raise TypeError(f"lint() needs a Build, a .v path or Verilog text, not {obj!r:.80}.")


def _marked_top(text: str) -> str | None:
    found = re.search(r"\(\*\s*top\s*=\s*1\s*\*\)(?:\s*\(\*[^*]*\*\))*\s*module\s+"
                      r"\\?([^\s(;]+)", text)
    return found.group(1) if found else None
