"""One host API over the golden model, the RTL simulation and a board.

::

    from spikevec.sw.runtime import open_device
    with open_device("rtl", config="lanes8") as dev:     # or "iss", or "board", port=...
        dev.load(image)                                   # refuses another CoreConfig
        dev.write_array("pop.hid.v", v0)                  # by memory-map name, as reals
        res = dev.run(x)                                  # x: [T, C] or [B, T, C] spikes
        res.spikes("out"), res.cycles, dev.read_array("pop.out.v")

:meth:`Device.run` streams each trial through the on-chip rings
(:mod:`.streaming`): the core runs all ``T`` steps while the host feeds input records and
drains output slots, so trials of any length fit a small ring. Results have the shapes of
:func:`spikevec.sw.compiler.run_iss` (:class:`RunResult` is an ``IssResult`` plus
``compute_cycles`` and timing). Every trial starts from the image's initial state with
the host's :meth:`Device.write_array` changes (:class:`~.backend.Shadow`).

Backends (:func:`open_device`): ``"iss"`` (golden model; ``trace=True`` keeps the
instruction trace), ``"rtl"`` (Verilator SoC from :func:`spikevec.sim.rtl.harness.open_soc`,
``waves="vcd"|"fst"``; ``transport=`` replaces it, e.g. by
:class:`~.fake_device.FakeSocTransport`), ``"board"`` (a serial ``port`` URL at ``baud``,
through :class:`~.transport.RobustClient`).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from ...hw.config import CoreConfig, preset
from ..compiler.run_iss import IssResult, _normalise, _readout
from .arrays import resolve
from .backend import IssBackend, Shadow, SocBackend
from .progress import Progress
from .streaming import stream_trial

__all__ = ["open_device", "Device", "RunResult", "BACKENDS"]

BACKENDS = ("iss", "rtl", "board")


@dataclass
class RunResult(IssResult):
    """An ``IssResult`` (traces, readouts, ``T``, ``cycles`` per sample,
    ``cycles_per_step``) plus ``compute_cycles`` per sample (cycles minus the core's wait
    cycles when the image counts them, else None), ``instret`` per sample, the
    ``backend`` name and ``wall_seconds``."""
    compute_cycles: list = field(default_factory=list)
    instret: list = field(default_factory=list)
    backend: str = ""
    wall_seconds: float = 0.0


class _VmemWindow:
    """``window.vmem[a:b]`` reads bytes from the backend (for ``run_iss._readout``)."""

    def __init__(self, backend):
        self._backend, self.vmem = backend, self

    def __getitem__(self, s):
        return np.frombuffer(self._backend.read("vmem", s.start, s.stop - s.start), np.uint8)


def open_device(backend: str = "iss", config: CoreConfig | str | None = None, *,
                port=None, baud: int = 115200, waves: str | None = None,
                wave_path=None, timeout: float = 10.0, trace: bool = False,
                transport=None, retries: int = 6) -> "Device":
    """Open a device (see the module doc). ``config`` defaults to ``"default"``; a board
    is asked to ``IDENTIFY`` itself and must match it (``ConfigMismatch`` otherwise)."""
    config = preset(config) if isinstance(config, str) or config is None else config
    if backend == "iss":
        if waves:
            raise ValueError("Waveforms come from the RTL simulation; use --backend rtl "
                             "for --vcd/--fst, or --trace for a golden-model trace.")
        return Device(IssBackend(config, trace=trace), config)
    if backend == "rtl":
        from ...sim.rtl.soc_client import SocClient
        if transport is None:
            try:
                from ...sim.rtl.harness import open_soc
            except ImportError as e:
                raise RuntimeError(f"The RTL backend needs spikevec.sim.rtl.harness "
                                   f"({e}); use --backend iss meanwhile.") from None
            transport = open_soc(config, waves=waves, wave_path=wave_path, timeout=timeout)
        soc = SocBackend(SocClient(transport), config, "rtl", closer=transport.close)
        soc.transport = transport
        return Device(soc, config)
    if backend == "board":
        from .transport import RobustClient, SerialTransport
        if port is None:
            raise ValueError("The board backend needs the serial port, e.g. "
                             "--port /dev/ttyUSB1 (or a pyserial URL).")
        link = SerialTransport(port, baud, timeout=min(timeout, 1.0))
        client = RobustClient(link, retries=retries, port=str(port), baud=baud)
        try:
            client.identify().check(config)
        except Exception:
            link.close()
            raise
        return Device(SocBackend(client, config, "board", poll_interval=0.001,
                                 closer=link.close), config)
    raise ValueError(f"Unknown backend {backend!r}; use one of {', '.join(BACKENDS)}.")


class Device:
    """A core with a loaded image (see the module doc). Use as a context manager or call
    :meth:`close`."""

    def __init__(self, backend, config: CoreConfig):
        self.backend, self.config = backend, config
        self.image, self.shadow = None, None

    @property
    def name(self) -> str:
        return self.backend.name

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self) -> None:
        self.backend.close()

    # loading and arrays -------------------------------------------------------------------
    def load(self, image) -> None:
        """Load ``image``; raise ``ConfigMismatch`` if it targets another core."""
        self.config.check_compatible(image.config, "program image")
        self.backend.load_program(image.program)
        self.image, self.shadow = image, Shadow.of(image)

    def _need_image(self):
        if self.image is None:
            raise ValueError("No image is loaded on this device; call load(image) first.")
        return self.image

    def write_array(self, name: str, values) -> None:
        """Write an array by memory-map name (real values for fixed-point arrays). It
        stays written for every later trial."""
        view = resolve(self._need_image(), name)
        cur = bytes(getattr(self.shadow, view.space)[view.address:view.address + view.nbytes])
        raw = view.encode(values, cur)
        self.backend.write(view.space, view.address, raw)
        self.shadow.write(view.space, view.address, raw)

    def read_array(self, name: str) -> np.ndarray:
        """Read an array by memory-map name from the core (reals for fixed point)."""
        view = resolve(self._need_image(), name)
        return view.decode(self.backend.read(view.space, view.address, view.nbytes))

    # running ------------------------------------------------------------------------------
    def _outputs(self, record) -> list:
        io = self.image.io
        if record is None:
            return list(io["outputs"])
        want = {tuple(r.split(".", 1)) if isinstance(r, str) else tuple(r) for r in record}
        want |= {(r["population"], r["var"]) for r in io["readouts"] if r["mode"] == "mean"}
        have = {(o["population"], o["var"]) for o in io["outputs"]}
        missing = sorted(want - have)
        if missing:
            raise ValueError(f"The image does not record {['.'.join(m) for m in missing]}; "
                             f"it records {['.'.join(h) for h in sorted(have)]}. Call "
                             "net.record(...) before compiling.")
        return [o for o in io["outputs"] if (o["population"], o["var"]) in want]

    def run(self, inputs=None, steps: int | None = None, record=None,
            progress: bool = False) -> RunResult:
        """Run trials: ``inputs`` [T, C] or [B, T, C] spikes (or a dict by input name),
        ``steps`` when the image has no inputs (or to run fewer steps than given);
        ``record``: names like ``"pop.var"`` to read back (default all recorded)."""
        image = self._need_image()
        streams, T, batched, B = _normalise(image, inputs, steps)
        if steps is not None and steps > T:
            raise ValueError(f"steps={steps} is more than the {T} timesteps of input "
                             "given; give input spikes for every step.")
        if steps is not None and steps < T:
            streams = {k: v[:, :steps] for k, v in streams.items()}
            T = int(steps)
        outputs = self._outputs(record)
        keys = [(o["population"], o["var"]) for o in outputs]
        traces = {k: [] for k in keys}
        readouts = {r["name"]: [] for r in image.io["readouts"]}
        cycles, compute, instret = [], [], []
        bar = Progress(B, f"{self.name} run", enabled=progress)
        start = time.perf_counter()
        for b in range(B):
            self.backend.restore(self.shadow)
            got, status = stream_trial(self.backend, image,
                                       {k: v[b] for k, v in streams.items()}, T, outputs)
            for k in keys:
                traces[k].append(got[k])
            window = _VmemWindow(self.backend)
            for r in image.io["readouts"]:
                readouts[r["name"]].append(_readout(window, image.io, r, got))
            cycles.append(int(status["cycles"]))
            instret.append(int(status["instret"]))
            compute.append(int(status["cycles"]) - status["wait_cycles"]
                           if "wait_cycles" in status else None)
            bar.update(b + 1)
        bar.close()
        wall = time.perf_counter() - start
        traces = {k: np.stack(v) if batched else v[0] for k, v in traces.items()}
        readouts = {k: np.stack(v) if batched else v[0] for k, v in readouts.items()}
        return RunResult(traces, readouts, T, cycles, float(np.mean(cycles)) / T,
                         compute, instret, self.name, wall)

    def run_batch(self, samples, steps: int | None = None, record=None,
                  progress: bool = True) -> RunResult:
        """Run every sample of ``samples`` ([B, T, C], a list of [T, C] arrays, or a dict
        of [B, T, C] by input name) with a progress bar on stderr."""
        if isinstance(samples, (list, tuple)):
            samples = np.stack([np.asarray(s) for s in samples])
        if not isinstance(samples, dict) and np.asarray(samples).ndim != 3:
            raise ValueError(f"run_batch takes samples [B, T, C]; got shape "
                             f"{np.asarray(samples).shape}. Use run() for one trial.")
        return self.run(samples, steps, record, progress=progress)
