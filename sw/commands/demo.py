"""``spikevec demo``: the main job.

Until the SNN compiler and runtime exist (issues 4 and 5), the demo assembles the bundled
example ``sw/examples/vector_demo.s`` (32 leaky integrate-and-fire neurons, 16 steps,
stochastic rounding) for the chosen core configuration, runs it on the golden model, and
prints what it computed: a spike raster read back from scalar data memory, the spike
count per neuron and the final membrane potentials read from vector memory, and the
instruction and cycle counts. It exits with status 1 if the program does not end with
``ecall``.
"""
from __future__ import annotations

import json
import time
from importlib import resources

import numpy as np

EXAMPLE = "vector_demo.s"


def register(sub) -> None:
    p = sub.add_parser("demo", help="run the bundled example on the golden model",
                       description=__doc__.split("\n\n")[1])
    p.add_argument("--config", default="default", metavar="PRESET",
                   help="core configuration preset (default: default, 32 lanes)")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.set_defaults(func=run)


def _symbol(program, name: str) -> int:
    try:
        return program.symbols[name][1]
    except KeyError:
        raise ValueError(f"The example program has no label {name!r}; it is part of the "
                         f"package, so reinstall spikevec.") from None


def run(args) -> int:
    from ...hw.config import preset
    from ...sim.iss import Machine
    from ..asm import assemble

    config = preset(args.config)
    source = resources.files("spikevec.sw.examples").joinpath(EXAMPLE).read_text()
    program = assemble(source, config, filename=EXAMPLE)
    machine = Machine(config)
    machine.load_program(program)
    start = time.perf_counter()
    result = machine.run(max_instructions=1_000_000)
    seconds = time.perf_counter() - start

    steps, neurons = 16, 32
    masks_at = _symbol(program, "masks")
    masks = machine.dmem[masks_at:masks_at + 4 * steps * (neurons // config.lanes)]
    masks = masks.view(np.uint32).reshape(steps, -1)
    raster = np.array([[(int(m[i // config.lanes]) >> (i % config.lanes)) & 1
                        for i in range(neurons)] for m in masks], dtype=np.uint8)
    counts_at, v_at = _symbol(program, "counts"), _symbol(program, "v_mem")
    counts = machine.vmem[counts_at:counts_at + 2 * neurons].view(np.int16)
    v_final = machine.vmem[v_at:v_at + 2 * neurons].view(np.int16)
    total = int(machine.x[10])

    summary = {"program": EXAMPLE, "config": config.name, "lanes": config.lanes,
               "exit_reason": result.exit_reason, "instret": machine.instret,
               "cycles": machine.cycles, "total_spikes": total,
               "spikes_per_neuron": counts.tolist(), "final_v": v_final.tolist(),
               "raster": raster.tolist()}
    if args.json:
        print(json.dumps(summary))
        return 0 if result.exit_reason == "ecall" else 1

    print(f"spikevec demo: {EXAMPLE} on the golden model, core '{config.name}' "
          f"({config.lanes} lanes)")
    print("32 leaky integrate-and-fire neurons, input current 8 + 2*i (Q8.8), "
          "decay 0.9 with stochastic rounding, threshold 1.0\n")
    print("spike raster (rows: time steps, columns: neurons 0..31, '|' = spike)")
    for t, row in enumerate(raster):
        print(f"  t={t:2d} " + "".join("|" if s else "." for s in row))
    print(f"\nspikes per neuron: {' '.join(str(c) for c in counts)}")
    print(f"final potentials : {' '.join(str(v) for v in v_final)}")
    print(f"total spikes     : {total} (returned in a0)")
    print(f"exit             : {result.exit_reason} after {machine.instret} instructions, "
          f"{machine.cycles} cycles "
          f"({machine.cycles / config.clock_hz * 1e6:.2f} us at "
          f"{config.clock_hz / 1e6:.0f} MHz; simulated in {seconds * 1e3:.1f} ms)")
    return 0 if result.exit_reason == "ecall" else 1
