"""The RTL SoC as a persistent Verilator process behind the host byte protocol.

Contract
--------
``open_soc(config, *, waves=None, wave_path=None, timeout=10.0)`` builds (or reuses the
cached build of) :class:`~spikevec.hw.rtl.soc.Soc` for ``config`` with the C++ harness
``harness/soc_main.cpp``, starts it and returns a :class:`HarnessProcess` once the SoC is
out of reset. The process is a byte transport for
:class:`~spikevec.sim.rtl.soc_client.SocClient`, exactly like a serial port to a board:

* ``send(data)`` queues host bytes; the simulator feeds each call's bytes to the SoC's
  ``rx`` stream back to back, so a slow host never trips the host port's inter-byte
  timeout within a frame;
* ``receive(n)`` returns exactly ``n`` bytes of the SoC's ``tx`` stream, or raises
  ``TimeoutError`` (naming the simulator and how many bytes arrived) after ``timeout`` s;
* ``cycles`` is the number of simulated clock cycles since reset (one pipe round trip);
* ``close()`` ends the process (and finishes the waveform file); also a context manager.

``waves`` is ``None``, ``"vcd"`` or ``"fst"``: a separately cached build traced with
``--trace``/``--trace-fst`` that writes the whole simulation to ``wave_path``.
:class:`HarnessError` reports build and process failures with the end of the log.

The clock runs in C++. When the core is stopped and the line has been quiet for
``idle_cycles`` (twice the host port timeout) the simulator blocks in ``poll()`` on its
stdin, so an idle simulator costs no CPU; simulated time then stands still. The pipe
protocol between this module and the C++ side (framed messages on stdin/stdout, with the
cycle query as its side channel) is described at the top of ``soc_main.cpp``.

Caching
-------
* Verilog: Amaranth takes 15-40 s to generate the SoC, so the text is kept in
  ``<cache>/soc-verilog/`` under a hash of every ``spikevec.hw`` source file, the Amaranth
  version, the configuration and the timeout (the newest :data:`KEEP_VERILOG` are kept).
* Simulator: ``<cache>/soc_harness-<hash16>/`` keyed by the Verilog, the harness source,
  the Verilator/make options and the toolchain; builds of one key are serialised with
  ``flock`` and complete once ``manifest.json`` exists. ``<cache>`` is
  :func:`~spikevec.sim.rtl.build.cache_root`.
"""
from __future__ import annotations

import hashlib
import json
import os
import select
import shutil
import struct
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from ...hw.config import CoreConfig
from .build import (_tail, cache_root, cached_manifest, locked_entry, verilog_text,
                    write_manifest)
from .soc_sim import SOC_TIMEOUT_CYCLES
from .tools import find_verilator, tool_env

__all__ = ["open_soc", "HarnessError", "HarnessProcess", "HarnessBuild", "harness_build",
           "soc_verilog", "HARNESS_SOURCE"]

HARNESS_SOURCE = Path(__file__).with_name("harness") / "soc_main.cpp"
#: Verilator options (part of the cache key). Threads stay off (Verilator's default).
VERILATOR_ARGS = ("-O3", "--x-assign", "fast", "--x-initial", "fast", "--noassert",
                  "-Wno-fatal", "-Wno-lint", "-Wno-style")
#: make variables: optimise the per-cycle code; OPT_SLOW (initialisation) stays at -O0.
MAKE_ARGS = ("OPT_FAST=-O2", "OPT_GLOBAL=-O2")
JOBS = 2
WAVE_ARGS = {None: (), "vcd": ("--trace",), "fst": ("--trace-fst",)}
EXECUTABLE = "soc_harness"
#: Cached Verilog files kept (newest first); older ones are deleted.
KEEP_VERILOG = 24


class HarnessError(RuntimeError):
    """The harness simulator could not be built, or its process failed."""


@dataclass(frozen=True)
class HarnessBuild:
    """A built harness simulator in the cache."""
    directory: Path
    digest: str
    cached: bool             # True: reused, nothing was compiled
    seconds: float           # this call (Verilog lookup/generation + build or lookup)
    build_seconds: float     # how long the Verilator + C++ build took originally
    waves: str | None

    @property
    def executable(self) -> Path:
        return self.directory / EXECUTABLE


def _hw_sources_digest() -> str:
    from ... import hw
    import amaranth
    h = hashlib.sha256(f"amaranth {amaranth.__version__}".encode())
    root = Path(hw.__file__).resolve().parent
    for path in sorted(root.rglob("*.py")):
        h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def soc_verilog(config: CoreConfig, timeout_cycles: int = SOC_TIMEOUT_CYCLES,
                shared_modules: bool = False) -> str:
    """Verilog of ``Soc(config, timeout_cycles=...)`` (top module ``soc``), cached under a
    hash of the ``spikevec.hw`` sources, the Amaranth version and the arguments. With
    ``shared_modules``, the design is elaborated as a board build elaborates it for
    hierarchical synthesis (every vector lane an instance of one module, see
    ``spikevec.hw.rtl.shared_module``), and that module's Verilog follows the SoC's."""
    key = hashlib.sha256(f"{_hw_sources_digest()}|{config!r}|{timeout_cycles}|"
                         f"{shared_modules}".encode())
    folder = cache_root() / "soc-verilog"
    path = folder / f"soc-{key.hexdigest()[:20]}.v"
    if path.is_file():
        return path.read_text()
    from ...hw.rtl.shared_module import SharedModules
    from ...hw.rtl.soc import Soc
    registry, platform = SharedModules(), None
    if shared_modules:
        platform = _PlainPlatform()
        registry.attach(platform)
    text = verilog_text(lambda: Soc(config, timeout_cycles=timeout_cycles), "soc",
                        platform=platform)
    text += "".join(verilog_text(component, name, platform=platform)
                    for name, component in registry.components.items())
    folder.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.tmp{os.getpid()}")
    tmp.write_text(text)
    os.replace(tmp, path)
    _prune(folder)
    return text


class _PlainPlatform:
    """A stand-in platform with no FPGA family: it only carries the shared-module
    registry (lane control copies stay ordinary registers, as in every simulation)."""


def _prune(folder: Path) -> None:
    """Delete all but the newest :data:`KEEP_VERILOG` Verilog files (the ``spikevec.hw``
    sources change often while the RTL is edited); tolerant of concurrent deletion."""
    dated = []
    for file in folder.glob("soc-*.v"):
        try:
            dated.append((file.stat().st_mtime, file))
        except FileNotFoundError:
            pass
    for _, file in sorted(dated)[:-KEEP_VERILOG]:
        file.unlink(missing_ok=True)


def harness_build(config: CoreConfig, *, waves: str | None = None,
                  rebuild: bool = False, shared_modules: bool = False) -> HarnessBuild:
    """Build the harness simulator of the SoC for ``config``, or reuse the cached one
    (``shared_modules``: see :func:`soc_verilog`)."""
    if waves not in WAVE_ARGS:
        raise ValueError(f"waves={waves!r} is not a waveform format; use None, 'vcd' or "
                         f"'fst'.")
    start = time.perf_counter()
    tc = find_verilator()
    if waves == "fst":
        _check_fst_libraries(tc)
    text = soc_verilog(config, shared_modules=shared_modules)
    source = HARNESS_SOURCE.read_text()
    args = VERILATOR_ARGS + WAVE_ARGS[waves]
    h = hashlib.sha256()
    for part in (text, source, tc.fingerprint(), json.dumps([args, MAKE_ARGS])):
        h.update(part.encode() + b"\0")
    digest = h.hexdigest()
    root = cache_root()
    root.mkdir(parents=True, exist_ok=True)
    directory = root / f"soc_harness-{digest[:16]}"
    with locked_entry(directory):
        manifest = cached_manifest(directory, EXECUTABLE, rebuild)
        if manifest is not None:
            return HarnessBuild(directory, digest, True, time.perf_counter() - start,
                                manifest["build_seconds"], waves)
        (directory / "soc.v").write_text(text)
        shutil.copyfile(HARNESS_SOURCE, directory / HARNESS_SOURCE.name)
        build_start = time.perf_counter()
        _run_verilator(tc, directory, args)
        build_seconds = time.perf_counter() - build_start
        manifest = {"digest": digest, "config": config.name, "waves": waves,
                    "verilator_args": list(args), "make_args": list(MAKE_ARGS),
                    "verilator": tc.version_string, "build_seconds": build_seconds,
                    "built_at": time.strftime("%Y-%m-%dT%H:%M:%S")}
        write_manifest(directory, manifest)
    return HarnessBuild(directory, digest, False, time.perf_counter() - start,
                        build_seconds, waves)


def _check_fst_libraries(tc) -> None:
    """Verilator's FST writer compiles against lz4 and zlib: fail early, with the fix."""
    for header, package in (("lz4.h", "liblz4-dev"), ("zlib.h", "zlib1g-dev")):
        probe = subprocess.run([tc.cxx, "-E", "-x", "c++", "-"], input=f"#include <{header}>\n",
                               capture_output=True, text=True)
        if probe.returncode != 0:
            raise HarnessError(f"FST waveforms need the C header {header}, which {tc.cxx} "
                               f"does not find; install it (on Debian/Ubuntu: `apt-get "
                               f"install {package}`) or write a VCD file instead.")


def _run_verilator(tc, directory: Path, args) -> None:
    command = [tc.perl, str(tc.verilator), "--cc", "--exe", "--build", "-j", str(JOBS),
               "--top-module", "soc", "--prefix", "Vtop", "-Mdir", "obj", "-o",
               f"../{EXECUTABLE}", *args]
    for make_arg in MAKE_ARGS:
        command += ["-MAKEFLAGS", make_arg]
    command += ["soc.v", HARNESS_SOURCE.name]
    log = directory / "build.log"
    with open(log, "w") as out:
        out.write(" ".join(command) + "\n")
        out.flush()
        result = subprocess.run(command, cwd=directory, env=tool_env(jobs=JOBS),
                                stdout=out, stderr=subprocess.STDOUT)
    if result.returncode != 0 or not (directory / EXECUTABLE).is_file():
        raise HarnessError(f"Building the harness simulator in {directory} failed (Verilator/"
                           f"make exit status {result.returncode}); fix the error below or "
                           f"delete the folder and retry. Last lines of {log}:\n"
                           f"{_tail(log)}")
    shutil.rmtree(directory / "obj", ignore_errors=True)     # ~150 MB of objects (lanes8)


class HarnessProcess:
    """A running harness simulator (see the module docstring); made by :func:`open_soc`."""

    def __init__(self, build: HarnessBuild, *, wave_path=None, timeout: float = 10.0,
                 idle_cycles: int = 2 * SOC_TIMEOUT_CYCLES):
        self.build = build
        self.timeout = float(timeout)
        self.wave_path = Path(wave_path) if wave_path is not None else None
        self._log = tempfile.TemporaryFile(prefix="spikevec-harness-")
        command = [str(build.executable), "--idle-cycles", str(int(idle_cycles))]
        if self.wave_path is not None:
            command += ["--wave", str(self.wave_path)]
        self._proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=self._log, bufsize=0)
        self._in = bytearray()           # raw bytes from the simulator's stdout
        self._rx = bytearray()           # host bytes the SoC sent
        self._queries: list[tuple[int, bool]] = []
        self._hello: int | None = None
        self._closed = False
        deadline = time.monotonic() + max(self.timeout, 30.0)
        while self._hello is None:
            if not self._pump(deadline):
                self.close()
                raise HarnessError(f"The harness simulator {build.executable} did not "
                                   f"report ready within {max(self.timeout, 30.0):.0f} s; "
                                   f"it may be damaged, rebuild it (rebuild=True).")

    def __repr__(self) -> str:
        return f"HarnessProcess({self.build.executable}, pid {self._proc.pid})"

    # --- transport -------------------------------------------------------------------
    def send(self, data: bytes) -> None:
        """Queue ``data`` for the SoC's ``rx`` stream (fed back to back as one block)."""
        data = bytes(data)
        self._write(b"W" + struct.pack("<I", len(data)) + data)

    def receive(self, n: int) -> bytes:
        """Exactly ``n`` bytes from the SoC's ``tx`` stream, or ``TimeoutError``."""
        deadline = time.monotonic() + self.timeout
        while len(self._rx) < n:
            if not self._pump(deadline):
                raise TimeoutError(f"The RTL simulator {self.build.executable} (pid "
                                   f"{self._proc.pid}) sent {len(self._rx)} of {n} bytes "
                                   f"within {self.timeout:g} s; the SoC did not answer, "
                                   f"check the request or raise the timeout.")
        out = bytes(self._rx[:n])
        del self._rx[:n]
        return out

    def query(self) -> tuple[int, bool]:
        """``(cycles, running)``: simulated cycles since reset and the SoC's ``running``."""
        self._write(b"Q")
        deadline = time.monotonic() + self.timeout
        while not self._queries:
            if not self._pump(deadline):
                raise TimeoutError(f"The RTL simulator {self.build.executable} did not "
                                   f"answer a cycle query within {self.timeout:g} s.")
        return self._queries.pop(0)

    def cpu_seconds(self) -> float | None:
        """CPU time the simulator process has used (Linux ``/proc``; else ``None``)."""
        try:
            with open(f"/proc/{self._proc.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    @property
    def cycles(self) -> int:
        """Simulated clock cycles since the end of reset."""
        return self.query()[0]

    # --- life cycle ------------------------------------------------------------------
    def close(self) -> None:
        """End the simulator (it finishes the waveform file first). Idempotent."""
        if self._closed:
            return
        self._closed = True
        try:
            self._proc.stdin.write(b"X")
            self._proc.stdin.close()
        except OSError:
            pass
        try:
            self._proc.wait(timeout=max(self.timeout, 60.0))
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._proc.stdout.close()
        self._log.close()

    def __enter__(self) -> HarnessProcess:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self):
        if not getattr(self, "_closed", True) and self._proc.poll() is None:
            self._proc.kill()

    # --- internals -------------------------------------------------------------------
    def _write(self, message: bytes) -> None:
        if self._closed:
            raise HarnessError("The harness simulator was closed; open a new one with "
                               "open_soc().")
        view = memoryview(message)
        try:
            while view:                 # an unbuffered pipe may take part of a message
                view = view[self._proc.stdin.write(view):]
        except (BrokenPipeError, ValueError):
            raise self._died() from None

    def _pump(self, deadline: float) -> bool:
        """Read what the simulator sent (waiting until ``deadline``); False on timeout."""
        fd = self._proc.stdout.fileno()
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
            return False
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            raise self._died()
        self._in += chunk
        self._parse()
        return True

    def _parse(self) -> None:
        buf = self._in
        while buf:
            kind = buf[0]
            if kind == ord("R"):
                if len(buf) < 5:
                    break
                n = struct.unpack_from("<I", buf, 1)[0]
                if len(buf) < 5 + n:
                    break
                self._rx += buf[5:5 + n]
                del buf[:5 + n]
            elif kind in (ord("Q"), ord("H")):
                size = 10 if kind == ord("Q") else 9
                if len(buf) < size:
                    break
                cycles = struct.unpack_from("<Q", buf, 1)[0]
                if kind == ord("Q"):
                    self._queries.append((cycles, bool(buf[9])))
                else:
                    self._hello = cycles
                del buf[:size]
            else:
                raise HarnessError(f"The harness simulator sent message type {kind:#04x}, "
                                   f"which this module does not know; the cached build "
                                   f"does not match harness.py, rebuild it.")

    def _died(self) -> HarnessError:
        try:
            code = self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            code = None
        self._log.seek(0)
        tail = "\n".join(self._log.read().decode(errors="replace").splitlines()[-20:])
        self._closed = True
        return HarnessError(f"The harness simulator {self.build.executable} ended "
                            f"unexpectedly (exit status {code}). Its last messages:\n"
                            f"{tail or '(none)'}")


def open_soc(config: CoreConfig, *, waves: str | None = None, wave_path=None,
             timeout: float = 10.0, shared_modules: bool = False) -> HarnessProcess:
    """Build or reuse the harness simulator for ``config`` and start it (see the module
    docstring). ``waves`` needs ``wave_path``; a ``wave_path`` ending in ``.vcd`` or
    ``.fst`` without ``waves`` picks that format. ``shared_modules`` simulates the
    hierarchy a board build synthesises (see :func:`soc_verilog`)."""
    if not isinstance(config, CoreConfig):
        raise TypeError(f"open_soc() needs a CoreConfig, not {type(config).__name__} "
                        f"{config!r}; use spikevec.hw.config.preset(name).")
    if waves is None and wave_path is not None:
        waves = Path(wave_path).suffix.lstrip(".").lower() or None
    if waves not in WAVE_ARGS:
        raise ValueError(f"waves={waves!r} is not a waveform format; use None, 'vcd' or "
                         f"'fst' (or a wave_path ending in .vcd or .fst).")
    if waves is not None and wave_path is None:
        raise ValueError(f"waves={waves!r} needs wave_path, the file to write the "
                         f"waveform to.")
    return HarnessProcess(harness_build(config, waves=waves, shared_modules=shared_modules),
                          wave_path=wave_path,
                          timeout=timeout)
