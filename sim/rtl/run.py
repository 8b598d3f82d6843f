"""Run a cocotb 2.x test module against a cached :class:`~spikevec.sim.rtl.build.Build`.

Contract
--------
``run_cocotb(build, test_module, testcase=None, *, params=None, extra_env=None,
timeout=600, ...)`` runs the simulator built by :func:`~spikevec.sim.rtl.build.build`
through ``cocotb_tools.runner.get_runner("verilator").test(build_dir=build.directory)``
(no rebuild), then parses the xUnit XML cocotb writes and returns :class:`CocotbResults`:
one :class:`TestOutcome` per cocotb test plus ``data``, the JSON the test module wrote
with :func:`spikevec.sim.rtl.cocotb_support.record`.

* ``test_module`` is a path to a ``.py`` file (its folder is put on the simulator's
  ``PYTHONPATH`` and it is imported by its stem, so the stem must not clash with another
  module) or the dotted name of an importable module.
* ``params`` (a JSON-serialisable dict) reach the module through ``$SPIKEVEC_PARAMS`` (a
  JSON file path); ``extra_env`` is passed as environment variables.
* With ``check=True`` (default) a failed/errored test raises :class:`CocotbTestFailure`
  whose message lists each failing test with cocotb's reason and the tail of the simulator
  log; the results are on the exception as ``.results``. A simulator crash (no results
  XML) raises :class:`SimulationError`; exceeding ``timeout`` wall-clock seconds kills the
  simulator (``timeout`` from coreutils, via cocotb's ``SIM_CMD_PREFIX``) and raises
  :class:`SimulationTimeout`.
* Every run gets a fresh folder (``test_dir``, default a new temporary folder) with
  ``results.xml``, ``sim.log``, ``params.json``, ``results.json`` (and ``dump.vcd`` with
  ``waves=True``). It is deleted after a passing run unless ``keep=True`` or ``waves=True``;
  after a failure it is kept and named in the error.
"""
from __future__ import annotations

import json
import re
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

from .build import Build
from .cocotb_support import PARAMS_ENV, RESULTS_ENV
from .tools import applied_env

__all__ = ["CocotbResults", "TestOutcome", "CocotbTestFailure", "SimulationError",
           "SimulationTimeout", "run_cocotb", "parse_results_xml"]

LOG_TAIL_LINES = 40


class SimulationError(RuntimeError):
    """The simulator did not produce results (crash, bad test module, ...)."""


class SimulationTimeout(SimulationError):
    """The simulator ran longer than the wall-clock ``timeout`` and was killed."""


class CocotbTestFailure(AssertionError):
    """At least one cocotb test failed or errored; ``.results`` holds everything."""

    def __init__(self, message: str, results: "CocotbResults"):
        super().__init__(message)
        self.results = results


@dataclass(frozen=True)
class TestOutcome:
    """One cocotb test case: ``status`` is passed, failed, error or skipped."""
    name: str
    status: str
    message: str = ""          # cocotb's one-line reason (exception text)
    details: str = ""          # traceback text, if any
    wall_seconds: float = 0.0
    properties: dict = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.status == "passed"


@dataclass
class CocotbResults:
    tests: dict[str, TestOutcome]
    data: dict                  # what the module record()ed
    test_dir: Path
    log_path: Path
    wall_seconds: float         # whole simulator process, including Python start-up

    @property
    def passed(self) -> bool:
        """At least one test ran and none failed or errored."""
        return bool(self.tests) and all(t.status in ("passed", "skipped")
                                        for t in self.tests.values())

    @property
    def failures(self) -> list[TestOutcome]:
        return [t for t in self.tests.values() if t.status in ("failed", "error")]

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        return _tail(self.log_path, lines)


def parse_results_xml(path: Path) -> dict[str, TestOutcome]:
    """Test outcomes from cocotb's xUnit XML (``testsuites/testsuite/testcase``)."""
    tests = {}
    for case in ElementTree.parse(path).getroot().iter("testcase"):
        status, message, details = "passed", "", ""
        for tag, name in (("failure", "failed"), ("error", "error"), ("skipped", "skipped")):
            element = case.find(tag)
            if element is not None:
                status, message = name, element.get("message", "")
                details = (element.text or "").strip()
                break
        props = {p.get("name"): p.get("value") for p in case.iter("property")
                 if p.get("name") != "attachment"}
        tests[case.get("name", "?")] = TestOutcome(
            name=case.get("name", "?"), status=status, message=message, details=details,
            wall_seconds=float(case.get("time", 0) or 0), properties=props)
    return tests


def _return_code(exc: RuntimeError) -> int | None:
    found = re.search(r"return code: (-?\d+)", str(exc))
    return int(found.group(1)) if found else None


def _tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"(no log at {path})"


def run_cocotb(build: Build, test_module, testcase=None, *, params: dict | None = None,
               extra_env: dict | None = None, timeout: float | None = 600,
               waves: bool = False, seed: int | None = None, test_dir=None,
               keep: bool = False, check: bool = True) -> CocotbResults:
    """Run ``test_module``'s cocotb tests (or only ``testcase``, a name or list of names)
    against ``build``; see the module docstring for the full contract."""
    from cocotb_tools.runner import get_runner

    module_name, module_dirs = _resolve_module(test_module)
    if waves and not build.waves:
        raise ValueError(f"run_cocotb(waves=True) needs a build made with waves=True; "
                         f"{build.directory} was built without --trace.")
    if not build.executable.is_file():
        raise SimulationError(f"The simulator {build.executable} is missing; the cache was "
                              f"cleaned after build() returned. Call build() again.")
    run_dir = Path(test_dir) if test_dir else Path(tempfile.mkdtemp(prefix=f"{build.name}-"))
    run_dir.mkdir(parents=True, exist_ok=True)
    results_xml, log_path = run_dir / "results.xml", run_dir / "sim.log"
    results_json, params_json = run_dir / "results.json", run_dir / "params.json"
    for stale in (results_xml, results_json):
        stale.unlink(missing_ok=True)
    params_json.write_text(json.dumps(params or {}))
    env = {str(k): str(v) for k, v in (extra_env or {}).items()}
    env[PARAMS_ENV], env[RESULTS_ENV] = str(params_json), str(results_json)
    timeout_exe = shutil.which("timeout")
    if timeout is not None and timeout_exe:
        env["SIM_CMD_PREFIX"] = f"{timeout_exe} -k 5 {float(timeout)} " + \
            env.get("SIM_CMD_PREFIX", "")

    start = time.perf_counter()
    exit_note = ""
    # PYTEST_CURRENT_TEST is dropped: with it, the runner sys.exit()s on failures itself.
    with applied_env(env, drop=("PYTEST_CURRENT_TEST",), sys_path=module_dirs):
        runner = get_runner("verilator")
        try:
            runner.test(test_module=module_name, hdl_toplevel=build.toplevel,
                        hdl_toplevel_lang="verilog", testcase=testcase, seed=seed,
                        build_dir=build.directory, test_dir=run_dir,
                        results_xml=str(results_xml), waves=waves, log_file=log_path)
        except (SystemExit, RuntimeError) as exc:
            # A non-zero simulator exit surfaces as RuntimeError("Command failed with return
            # code: N") when a log file is used (runner 2.1), or SystemExit(N) otherwise.
            code = exc.code if isinstance(exc, SystemExit) else _return_code(exc)
            if code is None:
                raise
            exit_note = f" (simulator exit code {code})"
            if code in (124, 137) and timeout is not None:
                raise SimulationTimeout(
                    f"The simulation of {module_name} on {build.name} exceeded the "
                    f"{timeout} s wall-clock timeout and was killed; raise timeout= or "
                    f"shorten the test. Log tail ({log_path}):\n{_tail(log_path)}") from None
    wall = time.perf_counter() - start

    if not results_xml.is_file():
        raise SimulationError(
            f"The simulation of {module_name} on {build.name} wrote no {results_xml}"
            f"{exit_note}: the simulator or the test module crashed before cocotb "
            f"finished. Log tail ({log_path}):\n{_tail(log_path)}")
    data = json.loads(results_json.read_text()) if results_json.is_file() else {}
    results = CocotbResults(tests=parse_results_xml(results_xml), data=data,
                            test_dir=run_dir, log_path=log_path, wall_seconds=wall)
    if check and not results.passed:
        raise CocotbTestFailure(_failure_message(module_name, build, results, testcase),
                                results)
    if results.passed and not (keep or waves or test_dir):
        shutil.rmtree(run_dir, ignore_errors=True)
    return results


def _failure_message(module_name, build, results, testcase) -> str:
    if not results.tests:
        head = (f"cocotb ran no tests from {module_name}"
                + (f" matching testcase={testcase!r}" if testcase else "")
                + "; check the test names and that the module defines @cocotb.test()s.")
    else:
        head = (f"{len(results.failures)} of {len(results.tests)} cocotb tests in "
                f"{module_name} failed on {build.name}:")
    lines = [head]
    for t in results.failures:
        lines.append(f"  {t.name}: {t.status}: {t.message or '(no message)'}")
    lines.append(f"Run folder: {results.test_dir}")
    lines.append(f"Last {LOG_TAIL_LINES} lines of {results.log_path}:")
    lines.append(results.log_tail())
    return "\n".join(lines)


def _resolve_module(test_module) -> tuple[str, tuple[str, ...]]:
    text = str(test_module)
    if text.endswith(".py") or "/" in text or isinstance(test_module, Path):
        path = Path(text).resolve()
        if not path.is_file() or path.suffix != ".py":
            raise FileNotFoundError(f"cocotb test module {text!r} is not an existing .py "
                                    f"file; pass a path to one or a dotted module name.")
        return path.stem, (str(path.parent),)
    return text, ()

