"""``spikevec demo``: the main job - a trained spiking classifier on the simulated chip.

Usage: ``spikevec demo [--backend rtl|iss] [--config PRESET] [--limit N] [--out DIR]
[--json]``. It compiles the bundled digits classifier (``sw/examples/digits.nir``, 64-128-10
LIF network, 8-bit weights) for the core configuration (default ``default``, 32 lanes),
runs every held-out test image (359; ``--limit N`` takes the first N) through the
runtime on the RTL (Verilator SoC; the first run builds the simulator, minutes, then it
is cached) or with ``--backend iss`` on the golden model, and prints the accuracy, the
float reference's accuracy on the same images, the cycles per timestep and the latency
per sample at the configuration's clock (from the compute cycles, which leave out the
cycles the core waited for the simulated host, when the image counts them). It saves a spike raster and the output
membrane traces of the first test image as PNG files in ``--out`` (default: the current
directory).

:func:`run_demo` does the work for any classifier object with the interface of
:class:`spikevec.sw.compiler.classifiers.Classifier` (``test_set``, ``compile``,
``network``, ``evaluate``, ``predict``, ``T``, ``name``); tests pass a small one.
"""
from __future__ import annotations

import json
import os
import sys

import numpy as np

CLASSIFIER = "digits"


def register(sub) -> None:
    p = sub.add_parser("demo", help="classify digits with a spiking network on the "
                       "simulated chip", description=__doc__.split("\n\n")[1])
    p.add_argument("--backend", choices=("rtl", "iss"), default="rtl",
                   help="rtl: Verilator SoC (default); iss: golden model")
    p.add_argument("--config", default="default", metavar="PRESET",
                   help="core configuration preset (default: default, 32 lanes)")
    p.add_argument("--limit", type=int, default=None, metavar="N",
                   help="use only the first N held-out images")
    p.add_argument("--out", default=".", metavar="DIR", help="where the PNGs go")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..compiler.classifiers import load_classifier
    clf = load_classifier(CLASSIFIER)
    if not os.path.exists(clf.path):
        raise FileNotFoundError(f"The bundled classifier is missing at {clf.path}; "
                                "reinstall spikevec or train it with `python -m "
                                "spikevec.sw.examples.train_classifiers digits`.")
    try:
        report = run_demo(clf, args.backend, args.config, args.limit, args.out,
                          progress=not args.json)
    except RuntimeError as e:          # the program stopped abnormally, harness failures
        print(f"spikevec demo: error: {e}", file=sys.stderr)
        return 1
    if args.json:
        json.dump(report, sys.stdout)
        sys.stdout.write("\n")
    else:
        print_report(report)
    return 0


def _recording_network(clf):
    """The classifier's network, recording every population's spikes and ``v``."""
    net = clf.network()
    for pop in net.populations.values():
        if pop.spiking:
            net.record(pop, "spikes")
        if "v" in pop.model.variables():
            net.record(pop, "v")
    return net


def run_demo(clf, backend: str = "rtl", config="default", limit=None, out=".",
             progress: bool = True) -> dict:
    """Evaluate ``clf`` on ``backend``; save the PNGs in ``out``; return the report."""
    from ...hw.config import preset
    from ..runtime import open_device
    config = preset(config) if isinstance(config, str) else config
    spikes, labels = clf.test_set(limit)
    image = clf.compile(config)
    reference = clf.evaluate("reference", data=(spikes, labels))
    with open_device(backend, config) as dev:
        dev.load(image)
        res = dev.run_batch(spikes, progress=progress)
        predictions = clf.predict(res.readouts)
        dev.load(clf.compile(config, net=_recording_network(clf)))
        one = dev.run(spikes[0])
    cycles = np.asarray(res.cycles, float)
    T = res.T
    known = [c for c in res.compute_cycles if c is not None]
    report = {
        "classifier": clf.name, "backend": backend, "config": config.name,
        "images": int(len(labels)), "timesteps": int(T),
        "accuracy": float(np.mean(predictions == labels)),
        "reference_accuracy": float(reference.accuracy),
        "cycles_per_timestep": float(cycles.mean() / T),
        "compute_cycles_per_timestep": float(np.mean(known) / T) if known else None,
        "latency_us": float((np.mean(known) if known else cycles.mean())
                            / config.clock_hz * 1e6),
        "clock_mhz": config.clock_hz / 1e6, "wall_seconds": round(res.wall_seconds, 2),
        "predictions": predictions.tolist(), "labels": np.asarray(labels).tolist(),
        "sample_label": int(labels[0]),
        "sample_prediction": int(predictions[0]),
    }
    os.makedirs(out, exist_ok=True)
    report["raster_png"], report["membrane_png"] = save_plots(one, spikes[0], out,
                                                              clf.name, labels[0])
    return report


def save_plots(result, x, out: str, name: str, label) -> tuple:
    """A raster (input and every recorded spiking population) and the membrane traces
    of the populations without spikes (the readout) of one sample, as two PNGs."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    rows = [("input", np.asarray(x, bool))] + [
        (p, result.traces[(p, v)]) for p, v in result.traces if v == "spikes"]
    fig, axes = plt.subplots(len(rows), 1, sharex=True, figsize=(7, 2 + 1.6 * len(rows)))
    for ax, (title, s) in zip(np.atleast_1d(axes), rows):
        t, n = np.nonzero(s)
        ax.scatter(t, n, s=4, marker="|", color="k")
        ax.set_ylabel(f"{title}\nneuron")
        ax.set_ylim(-1, s.shape[1])
    np.atleast_1d(axes)[0].set_title(f"{name}: spike raster of one test image "
                                     f"(label {label})")
    np.atleast_1d(axes)[-1].set_xlabel("timestep")
    raster = os.path.join(out, f"{name}_raster.png")
    fig.savefig(raster, dpi=100, bbox_inches="tight")
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(7, 3.5))
    spiking = {p for p, v in result.traces if v == "spikes"}
    for (p, v), trace in result.traces.items():
        if v == "v" and p not in spiking:
            for i in range(trace.shape[1]):
                ax.plot(trace[:, i], label=f"{p}[{i}]")
    ax.set_xlabel("timestep")
    ax.set_ylabel("membrane v")
    ax.set_title(f"{name}: readout membranes (label {label})")
    ax.legend(fontsize=6, ncol=5)
    membrane = os.path.join(out, f"{name}_membrane.png")
    fig.savefig(membrane, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return raster, membrane


def print_report(r: dict) -> None:
    print(f"{r['classifier']} classifier on the {r['backend']} backend, core configuration "
          f"'{r['config']}': {r['images']} held-out images x {r['timesteps']} timesteps "
          f"({r['wall_seconds']} s)")
    print(f"accuracy: {100 * r['accuracy']:.1f} %")
    print(f"float reference accuracy: {100 * r['reference_accuracy']:.1f} %")
    line = f"cycles per timestep: {r['cycles_per_timestep']:.0f}"
    if r["compute_cycles_per_timestep"] is not None:
        line += f" (compute {r['compute_cycles_per_timestep']:.0f})"
    print(line)
    print(f"latency per sample: {r['latency_us']:.1f} us at {r['clock_mhz']:.0f} MHz")
    print(f"first test image: label {r['sample_label']}, predicted "
          f"{r['sample_prediction']}")
    print(f"saved {r['raster_png']} and {r['membrane_png']}")
