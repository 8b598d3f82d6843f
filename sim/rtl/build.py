"""Amaranth design -> Verilog -> Verilator simulator for cocotb, cached by content hash.

Contract
--------
``build(design, name, ports=None, *, extra_args=(), waves=False, emit_src=False)`` returns a
:class:`Build`. The Verilog text, the Verilator version, the host compiler, the cocotb
version and library folder, and every build option are hashed; the simulator is built once
per hash into ``<cache>/<name>-<hash16>/`` and later calls with the same inputs return the
cached build (``Build.cached`` is True) without running Verilator or the C++ compiler.

* ``<cache>`` is ``$SPIKEVEC_CACHE/verilator`` if ``SPIKEVEC_CACHE`` is set, else
  ``~/.cache/spikevec/verilator``. Generated Verilog is written only there.
* Concurrency: builds of the same hash are serialised with ``fcntl.flock`` on
  ``<cache>/<name>-<hash16>.lock``; a build is complete only once ``manifest.json`` has
  been written (via ``os.replace``) as its last step. A folder without a manifest (an
  interrupted build) is deleted and rebuilt.
* The build goes through cocotb's runner (``Verilator.build``), which always re-runs
  Verilator and make (it has no up-to-date check for Verilator), so reuse is decided here by
  the hash and the runner is simply not called on a hit.
* ``--public-flat-rw`` (added by the runner) makes every signal visible to cocotb. Amaranth
  names submodules ``top.sub`` (escaped identifiers); how cocotb exposes those has not been
  checked yet - prefer top-level ports for anything a test needs to read.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from amaranth.hdl import Elaboratable

from .tools import applied_env, find_verilator

__all__ = ["Build", "BuildError", "build", "cache_root", "verilog_text"]

#: C++ jobs for ``make``: the machines this runs on are shared, keep it low.
DEFAULT_JOBS = 2
#: Verilator options added to every build (part of the hash). ``-Wno-fatal`` because lint
#: is a separate step (:func:`spikevec.sim.rtl.lint.lint`); ``-Wno-lint -Wno-style`` keeps
#: the build log readable.
BASE_ARGS = ("-Wno-fatal", "-Wno-lint", "-Wno-style")

#: Verilator runtime objects that do not depend on the design (``verilator.o``, cocotb's
#: main, includes ``Vtop.h`` and is rebuilt every time). Reused between builds whose
#: toolchain and options are equal: a cold build then compiles only the design.
RUNTIME_OBJECTS = ("verilated", "verilated_dpi", "verilated_vpi", "verilated_threads")

_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


class BuildError(RuntimeError):
    """The design could not be converted or Verilator/the C++ compiler failed."""


@dataclass(frozen=True)
class Build:
    """A built Verilator+cocotb simulator in the cache.

    ``directory`` holds ``<name>.v``, the runner's output (the executable is
    ``directory / toplevel``), ``build.log`` and ``manifest.json``.
    """
    name: str               # Verilog top module (``hdl_toplevel`` for cocotb)
    directory: Path
    digest: str             # full sha256 of the hashed inputs
    cached: bool            # True: found in the cache, nothing was compiled
    seconds: float          # time of this call (conversion + build, or conversion + lookup)
    build_seconds: float    # time the original Verilator+make build took
    verilator_version: str
    waves: bool
    extra_args: tuple[str, ...]

    @property
    def toplevel(self) -> str:
        return self.name

    @property
    def verilog_path(self) -> Path:
        return self.directory / f"{self.name}.v"

    @property
    def executable(self) -> Path:
        return self.directory / self.name


def cache_root() -> Path:
    """``$SPIKEVEC_CACHE/verilator`` or ``~/.cache/spikevec/verilator`` (not created)."""
    base = os.environ.get("SPIKEVEC_CACHE")
    return (Path(base).expanduser() if base else Path.home() / ".cache" / "spikevec") \
        / "verilator"


def verilog_text(design, name: str, ports=None, *, emit_src: bool = False,
                 platform=None) -> str:
    """Verilog for ``design`` (an Elaboratable, or a zero-argument callable returning one).

    ``ports`` is passed to :func:`amaranth.back.verilog.convert` (not needed for a
    ``wiring.Component``). ``emit_src=False`` leaves out the ``(* src = "file:line" *)``
    attributes so that editing unrelated lines of the Python source does not change the hash.
    ``platform`` is passed to the elaboration.
    """
    from amaranth.back import verilog
    if not _NAME_RE.match(name):
        raise BuildError(f"Design name {name!r} is not a plain Verilog identifier; use "
                         f"letters, digits and underscores (it names the top module, the "
                         f"cache folder and the simulator executable).")
    if not isinstance(design, Elaboratable):
        if not callable(design):
            raise BuildError(f"build() needs an Amaranth Elaboratable or a zero-argument "
                             f"callable returning one, not {type(design).__name__} "
                             f"{design!r}.")
        design = design()
        if not isinstance(design, Elaboratable):
            raise BuildError(f"The design factory returned {type(design).__name__}, not an "
                             f"Amaranth Elaboratable.")
    try:
        return verilog.convert(design, name=name, ports=ports, emit_src=emit_src,
                               platform=platform)
    except TypeError as exc:
        raise BuildError(f"Converting {name!r} to Verilog failed: {exc}. A plain "
                         f"Elaboratable needs ports=[...]; a wiring.Component does not.") from exc


def _digest(text: str, tc, options: dict) -> str:
    import cocotb
    import cocotb_tools.config
    h = hashlib.sha256()
    for part in (text, tc.fingerprint(), f"cocotb {cocotb.__version__}",
                 str(cocotb_tools.config.libs_dir), json.dumps(options, sort_keys=True)):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()


def build(design, name: str, ports=None, *, extra_args=(), waves: bool = False,
          emit_src: bool = False, jobs: int = DEFAULT_JOBS, timescale=("1ns", "1ps"),
          rebuild: bool = False) -> Build:
    """Convert ``design`` to Verilog and build a cocotb Verilator simulator, or reuse one.

    ``extra_args`` are extra Verilator options (e.g. ``("-O3",)``, ``("--x-assign",
    "fast")``); ``waves=True`` adds ``--trace`` (then ``run_cocotb(waves=True)`` writes
    ``dump.vcd``). ``rebuild=True`` deletes a cached build of the same hash first.
    Raises :class:`BuildError` (with the end of the build log) if Verilator or make fails,
    and :class:`~spikevec.sim.rtl.tools.ToolchainError` if Verilator is missing.
    """
    start = time.perf_counter()
    text = verilog_text(design, name, ports, emit_src=emit_src)
    tc = find_verilator()
    extra_args = tuple(str(a) for a in extra_args)
    options = {"name": name, "extra_args": list(BASE_ARGS + extra_args), "waves": waves,
               "timescale": list(timescale) if timescale else None}
    digest = _digest(text, tc, options)
    root = cache_root()
    root.mkdir(parents=True, exist_ok=True)
    directory = root / f"{name}-{digest[:16]}"

    with locked_entry(directory):
        manifest = cached_manifest(directory, name, rebuild)
        if manifest is not None:
            return Build(name=name, directory=directory, digest=digest, cached=True,
                         seconds=time.perf_counter() - start,
                         build_seconds=manifest["build_seconds"],
                         verilator_version=tc.version_string, waves=waves,
                         extra_args=extra_args)
        (directory / f"{name}.v").write_text(text)
        build_start = time.perf_counter()
        runtime = root / f"runtime-{_digest('', tc, {**options, 'name': ''})[:16]}"
        reused_runtime = False
        if (runtime / "complete").is_file():
            # Phase 1: Verilate only (make -n). Then seed the runtime objects, stamped
            # newer than the generated Vtop.mk they depend on. Phase 2 (below): Verilator
            # skips itself (its default --skip-identical) and make compiles the design only.
            _run_runner_build(directory, name, BASE_ARGS + extra_args, waves, jobs,
                              timescale, dry_make=True)
            reused_runtime = _seed_runtime(runtime, directory)
        _run_runner_build(directory, name, BASE_ARGS + extra_args, waves, jobs, timescale)
        build_seconds = time.perf_counter() - build_start
        if not reused_runtime:
            _store_runtime(directory, runtime)
        manifest = {"name": name, "digest": digest, "options": options,
                    "verilator": tc.version_string, "build_seconds": build_seconds,
                    "reused_runtime_objects": reused_runtime,
                    "built_at": time.strftime("%Y-%m-%dT%H:%M:%S")}
        write_manifest(directory, manifest)
    return Build(name=name, directory=directory, digest=digest, cached=False,
                 seconds=time.perf_counter() - start, build_seconds=build_seconds,
                 verilator_version=tc.version_string, waves=waves, extra_args=extra_args)


@contextlib.contextmanager
def locked_entry(directory: Path):
    """Hold the cache lock ``<directory>.lock`` (``fcntl.flock``) of one cache entry."""
    with open(directory.with_name(f"{directory.name}.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def cached_manifest(directory: Path, executable: str, rebuild: bool = False) -> dict | None:
    """Under :func:`locked_entry`: the manifest of the complete build in ``directory``
    (it has ``manifest.json`` and ``executable``), or ``None`` after leaving an empty
    ``directory`` for a new build (an interrupted build, or ``rebuild``, is deleted)."""
    manifest_path = directory / "manifest.json"
    if not rebuild and manifest_path.is_file() and (directory / executable).is_file():
        return json.loads(manifest_path.read_text())
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    return None


def write_manifest(directory: Path, manifest: dict) -> None:
    """Write ``manifest.json`` atomically: the last step of a build, which marks it done."""
    tmp = directory / "manifest.json.tmp"
    tmp.write_text(json.dumps(manifest, indent=2))
    os.replace(tmp, directory / "manifest.json")


def _run_runner_build(directory: Path, name: str, args, waves, jobs, timescale,
                      dry_make: bool = False) -> None:
    """cocotb's ``Verilator.build`` into ``directory``; ``dry_make`` adds ``-n`` to make."""
    from cocotb_tools.runner import get_runner
    log = directory / ("verilate.log" if dry_make else "build.log")
    with applied_env(jobs=jobs) as env:
        if dry_make:
            os.environ["MAKEFLAGS"] = env["MAKEFLAGS"] + " -n"
        runner = get_runner("verilator")
        try:
            runner.build(sources=[directory / f"{name}.v"], hdl_toplevel=name,
                         build_dir=directory, build_args=list(args), waves=waves,
                         timescale=tuple(timescale) if timescale else None, log_file=log)
        except (RuntimeError, SystemExit) as exc:
            tail = _tail(log)
            raise BuildError(f"Building {name!r} with Verilator failed ({exc}) in "
                             f"{directory}. Last lines of {log}:\n{tail}") from None
    if not dry_make and not (directory / name).is_file():
        raise BuildError(f"Verilator finished but {directory / name} was not produced; "
                         f"see {log}.")


def _seed_runtime(runtime: Path, directory: Path) -> bool:
    """Copy the design-independent Verilator runtime objects of an earlier build with the
    same toolchain and options into ``directory`` (stamped now, so make sees them up to
    date). Their dependency files list only Verilator's own headers. Returns True if done.
    """
    if not (runtime / "complete").is_file():
        return False
    time.sleep(0.01)        # a clearly later mtime than Vtop.mk on coarse file systems
    now = time.time()
    for stem in RUNTIME_OBJECTS:
        for suffix in (".o", ".d"):
            target = directory / f"{stem}{suffix}"
            shutil.copyfile(runtime / f"{stem}{suffix}", target)
            os.utime(target, (now, now))
    return True


def _store_runtime(directory: Path, runtime: Path) -> None:
    """Keep this build's runtime objects for :func:`_seed_runtime` (atomic rename)."""
    if runtime.exists() or not all((directory / f"{s}.o").is_file() for s in RUNTIME_OBJECTS):
        return
    staging = runtime.with_name(f"{runtime.name}.tmp{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    for stem in RUNTIME_OBJECTS:
        for suffix in (".o", ".d"):
            shutil.copyfile(directory / f"{stem}{suffix}", staging / f"{stem}{suffix}")
    (staging / "complete").write_text("")
    try:
        os.rename(staging, runtime)
    except OSError:                     # another process stored it first
        shutil.rmtree(staging, ignore_errors=True)


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"(no log at {path})"


def describe(b: Build) -> dict:
    """``Build`` as JSON-friendly dict (paths as strings)."""
    d = asdict(b)
    d["directory"] = str(b.directory)
    return d

