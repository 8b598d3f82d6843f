"""Input spikes from NIR data files (``nir.write_data``: HDF5 holding ``NIRGraphData``).

NIR (``nir`` >= 1.0) stores recorded or generated activity per graph node as
``NIRNodeData`` observables: ``EventData`` (per sample, event neuron indices and times,
index -1 / time inf for padding) or boolean ``TimeGriddedData`` ([samples, steps,
neurons] with its ``dt``). :func:`spikes_from_nir_data` turns such a file into the
``{input name: [B, T, C] uint8}`` dict that :meth:`Device.run` takes for a program
image:

* each spike input of the image is looked up by **node name** (a nested graph's nodes as
  ``"graph.node"``); with one spike input and one node in the file, the names need not
  match;
* of a node's observables, the only one, else the one named ``spikes``, else ``output``;
* events are binned on the image's timestep ``dt`` (``io["dt"]``): an event at time ``t``
  falls into step ``floor(t / dt)``, and the trial has ``ceil(t_max / dt)`` steps;
  ``TimeGriddedData`` must already use that ``dt``;
* several events of one neuron in one step are one spike (the core takes 0/1 spikes).

Anything else (valued events, real-valued grids, a neuron count that is not the input's
size, an event at or after ``t_max``, a missing node) raises ``ValueError`` with a
sentence saying what was found and what to give instead.
"""
from __future__ import annotations

import numpy as np

__all__ = ["spikes_from_nir_data", "NIR_DATA_SUFFIXES"]

#: File name endings ``spikevec run --input`` reads as NIR data.
NIR_DATA_SUFFIXES = (".h5", ".hdf5", ".nird")


def _flatten(graph_data, prefix: str = "") -> dict:
    """``{"node" or "graph.node": NIRNodeData}`` over nested ``NIRGraphData``."""
    import nir
    out = {}
    for name, node in graph_data.nodes.items():
        if isinstance(node, nir.NIRGraphData):
            out.update(_flatten(node, f"{prefix}{name}."))
        else:
            out[prefix + name] = node
    return out


def _observable(name: str, node_data):
    obs = node_data.observables
    if len(obs) == 1:
        return next(iter(obs.values()))
    for key in ("spikes", "output"):
        if key in obs:
            return obs[key]
    raise ValueError(f"NIR data node {name!r} has observables {sorted(obs)}; spikevec "
                     "takes the only one, or the one named 'spikes' or 'output'. Rename "
                     "the spike observable to 'spikes'.")


def _grid(name: str, obs, dt: float, size: int) -> np.ndarray:
    """[B, T, size] uint8 spikes of one observable on timestep ``dt``."""
    import nir
    if isinstance(obs, nir.ValuedEventData):
        raise ValueError(f"NIR data node {name!r} holds valued events; spike inputs take "
                         "plain events (EventData) or boolean TimeGriddedData.")
    if isinstance(obs, nir.TimeGriddedData):
        data = np.asarray(obs.data)
        if not np.isclose(obs.dt, dt, rtol=1e-9, atol=0.0):
            raise ValueError(f"NIR data node {name!r} is gridded with dt = {obs.dt:g} but "
                             f"the image steps with dt = {dt:g}; regrid the data to "
                             f"dt = {dt:g} or give events (EventData).")
        if data.dtype != bool and not np.isin(data, (0, 1)).all():
            raise ValueError(f"NIR data node {name!r} is a real-valued grid; spike inputs "
                             "take boolean (0/1) TimeGriddedData or EventData.")
        grid = data.astype(np.uint8)
    else:
        idx, time = np.asarray(obs.idx), np.asarray(obs.time, float)
        steps = int(np.ceil(obs.t_max / dt - 1e-9))
        if steps <= 0:
            raise ValueError(f"NIR data node {name!r} has t_max = {obs.t_max:g}, shorter "
                             f"than one step of dt = {dt:g}; give a longer recording.")
        valid = idx >= 0
        if np.any(time[valid] >= obs.t_max) or np.any(time[valid] < 0):
            bad = time[valid][(time[valid] >= obs.t_max) | (time[valid] < 0)][0]
            raise ValueError(f"NIR data node {name!r} has an event at t = {bad:g}, outside "
                             f"[0, t_max = {obs.t_max:g}); fix the event times or t_max.")
        if np.any(idx[valid] >= obs.n_neurons):
            raise ValueError(f"NIR data node {name!r} has an event of neuron "
                             f"{int(idx[valid].max())} but n_neurons = {obs.n_neurons}.")
        grid = np.zeros((idx.shape[0], steps, obs.n_neurons), np.uint8)
        sample, _ = np.nonzero(valid)
        grid[sample, np.floor(time[valid] / dt).astype(np.int64), idx[valid]] = 1
    if grid.shape[2] != size:
        raise ValueError(f"NIR data node {name!r} has {grid.shape[2]} neurons but the "
                         f"image's spike input {name!r} has {size} channels.")
    return grid


def spikes_from_nir_data(path: str, image) -> dict:
    """``{input name: [B, T, C] uint8}`` for ``image``'s spike inputs from the NIR data
    file at ``path`` (see the module doc)."""
    import nir
    try:
        nodes = _flatten(nir.read_data(path))
    except (OSError, KeyError, ValueError) as e:
        raise ValueError(f"Cannot read NIR data from {path!r} ({e}); give a file written "
                         "by nir.write_data (HDF5 with NIRGraphData).") from None
    inputs = image.io["inputs"]
    dt = float(image.io.get("dt", 1.0))
    pairs = []
    if len(inputs) == 1 and len(nodes) == 1:
        pairs.append((inputs[0], *next(iter(nodes.items()))))
    else:
        for spec in inputs:
            if spec["name"] not in nodes:
                raise ValueError(f"The image's spike input {spec['name']!r} has no node of "
                                 f"that name in {path!r} (it has {sorted(nodes)}); name "
                                 "each data node after the input it feeds.")
            pairs.append((spec, spec["name"], nodes[spec["name"]]))
    out = {spec["name"]: _grid(name, _observable(name, data), dt, spec["size"])
           for spec, name, data in pairs}
    lengths = {k: v.shape[:2] for k, v in out.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"The NIR data's inputs differ in samples x steps {lengths}; "
                         "give every input the same number of samples and duration.")
    return out
