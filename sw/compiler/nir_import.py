"""NIR import and export: ``from_nir(graph_or_path, dt) -> Network``, ``to_nir(net)``.

Supported NIR node types: Input, Output, Linear, Affine, Scale, Flatten, LIF, CubaLIF,
LI, CubaLI, IF, and nested NIRGraph nodes (inlined; snnTorch exports its recurrent
layers that way). Anything else raises :class:`CompileError` naming the node, its type
and the supported types.

Mapping. Input nodes become spike inputs (size = product of the shape), neuron nodes
populations (library models of :mod:`.neurons`, one per node, shapes flattened), and
every chain of Linear/Affine/Scale/Flatten between two of them is multiplied out into
one dense projection (Scale folds into the weights, NIR's ``w_in`` of the current-based
nodes into the weights and bias). Several chains into one neuron node add up; an Affine
bias is counted once however many paths leave it. Output nodes become readouts (and
records) of the neuron node that feeds them: its spikes for spiking nodes, ``v`` for
LI/CubaLI.

Semantics. NIR is continuous time; the import discretises it with forward Euler at the
given ``dt``, exactly as :mod:`.reference` documents (snnTorch exports assume
``dt = 1e-4``: pass that to reproduce a trained snnTorch network). NIR LIF nodes reset
to ``v_reset`` when ``v > v_threshold``. Cycles are allowed as long as every cycle
passes through a neuron node: populations are ordered by a depth-first walk from the
inputs and the edges that close a cycle carry the previous step's spikes.
"""
from __future__ import annotations

import os

import numpy as np

from . import neurons
from .expr import CompileError
from .model import Network, Population, SpikeInput

__all__ = ["from_nir", "to_nir", "SUPPORTED"]

NEURONS = {"LIF": neurons.lif, "CubaLIF": neurons.cuba_lif, "LI": neurons.li,
           "CubaLI": neurons.cuba_li, "IF": neurons.if_}
TRANSFORMS = ("Linear", "Affine", "Scale", "Flatten")
SUPPORTED = ("Input", "Output", "NIRGraph") + TRANSFORMS + tuple(NEURONS)
# NIR field -> model parameter, per neuron type (w_in is folded into weights)
PARAMS = {
    "LIF": {"tau": "tau_mem", "r": "r", "v_leak": "v_leak", "v_threshold": "v_thresh",
            "v_reset": "v_reset"},
    "CubaLIF": {"tau_syn": "tau_syn", "tau_mem": "tau_mem", "r": "r", "v_leak": "v_leak",
                "v_threshold": "v_thresh", "v_reset": "v_reset"},
    "LI": {"tau": "tau_mem", "r": "r", "v_leak": "v_leak"},
    "CubaLI": {"tau_syn": "tau_syn", "tau_mem": "tau_mem", "r": "r", "v_leak": "v_leak"},
    "IF": {"r": "r", "v_threshold": "v_thresh", "v_reset": "v_reset"},
}


def _nir():
    try:
        import nir
    except ImportError:
        raise CompileError("NIR import and export need the 'nir' package; install it with "
                           "`pip install nir`.") from None
    return nir


def _unsupported(name, node):
    return CompileError(f"NIR node {name!r} has type {type(node).__name__}, which spikevec "
                        f"cannot compile; supported node types are {', '.join(SUPPORTED)}.")


def _inline(graph, prefix=""):
    """Flatten nested graphs: return ({name: node or 'identity'}, [(src, dst)])."""
    nir = _nir()
    nodes, edges, ports = {}, [], {}
    for name, node in graph.nodes.items():
        full = prefix + name
        if isinstance(node, nir.NIRGraph):
            inner, inner_edges = _inline(node, full + ".")
            ins = [full + "." + k for k, n in node.nodes.items() if isinstance(n, nir.Input)]
            outs = [full + "." + k for k, n in node.nodes.items() if isinstance(n, nir.Output)]
            if len(ins) != 1 or len(outs) != 1:
                raise CompileError(f"NIR subgraph {full!r} has {len(ins)} Input and "
                                   f"{len(outs)} Output nodes; spikevec inlines subgraphs "
                                   "with exactly one of each.")
            for k in ins + outs:
                inner[k] = "identity"
            nodes.update(inner)
            edges += inner_edges
            ports[name] = (ins[0], outs[0])
        else:
            nodes[full] = node
    for src, dst in graph.edges:
        src = ports[src][1] if src in ports else prefix + src
        dst = ports[dst][0] if dst in ports else prefix + dst
        edges.append((src, dst))
    return nodes, edges


def _kind(node) -> str:
    return "identity" if isinstance(node, str) else type(node).__name__


def _apply(name, node, m: np.ndarray) -> np.ndarray:
    """Push the map ``m`` [n, k] through one transform node."""
    kind = _kind(node)
    if kind in ("identity", "Flatten"):
        return m
    if kind == "Scale":
        s = np.asarray(node.scale, dtype=np.float64).reshape(-1)
        if not np.all(np.isfinite(s)):
            raise CompileError(f"NIR node {name!r} (Scale) has NaN or infinite scale factors; "
                               "only finite values are allowed.")
        if s.size not in (1, m.shape[0]):
            raise CompileError(f"NIR node {name!r} (Scale) has {s.size} scale factors but "
                               f"receives {m.shape[0]} values; give one factor per value.")
        return s[:, None] * m
    w = np.asarray(node.weight, dtype=np.float64)
    if not np.all(np.isfinite(w)) or (kind == "Affine" and not np.all(np.isfinite(node.bias))):
        raise CompileError(f"NIR node {name!r} ({kind}) has NaN or infinite weights or bias; "
                           "only finite values are allowed.")
    if w.ndim != 2:
        raise CompileError(f"NIR node {name!r} ({kind}) has a weight of shape {w.shape}; "
                           "spikevec supports 2-D weights [out, in] only.")
    if w.shape[1] != m.shape[0]:
        raise CompileError(f"NIR node {name!r} ({kind}) has a weight of shape {w.shape} but "
                           f"receives {m.shape[0]} values; the weight needs {m.shape[0]} "
                           "columns.")
    return w @ m


def _size(name, node) -> int | None:
    kind = _kind(node)
    if kind == "Input":
        return int(np.prod(node.input_type["input"]))
    if kind in NEURONS:
        sizes = {np.asarray(getattr(node, f)).size for f in PARAMS[kind]}
        big = sizes - {1}
        if len(big) > 1:
            raise CompileError(f"NIR node {name!r} ({kind}) has parameters of different "
                               f"sizes {sorted(sizes)}; give all of them the same shape.")
        return big.pop() if big else None
    return None


def from_nir(graph_or_path, dt: float | None = None, readout_mode: str = "last",
             name: str | None = None) -> Network:
    """Build a :class:`Network` from a NIR graph (or a path to a ``.nir`` file).

    ``dt`` is the timestep (in the unit of the graph's time constants); without it the
    graph's ``metadata['dt']`` (written by :func:`to_nir`) is used. ``readout_mode``
    ('last', 'max' or 'mean') applies to Output nodes without a spikevec mode in their
    metadata.
    """
    nir = _nir()
    graph = nir.read(os.fspath(graph_or_path)) if isinstance(graph_or_path, (str, os.PathLike)) \
        else graph_or_path
    if not isinstance(graph, nir.NIRGraph):
        raise CompileError(f"from_nir needs a nir.NIRGraph or a path to a .nir file, not "
                           f"{type(graph).__name__}.")
    if dt is None:
        dt = (graph.metadata or {}).get("dt")
        if dt is None:
            raise CompileError("NIR graphs are continuous-time, so give the timestep: "
                               "from_nir(graph, dt=...) (snnTorch exports assume dt=1e-4).")
        dt = float(np.asarray(dt))
    nodes, edges = _inline(graph)
    for n, node in nodes.items():
        if _kind(node) not in SUPPORTED + ("identity",):
            raise _unsupported(n, node)
    succ = {n: [] for n in nodes}
    for a, b in edges:
        succ[a].append(b)
    ends = [n for n, node in nodes.items() if _kind(node) in NEURONS or _kind(node) == "Input"]

    # Walk every path of transforms out of each endpoint (and each Affine's bias).
    weights, hops, biases, outputs, done_bias = {}, {}, {}, {}, set()

    def walk(origin, node_name, m, path):
        for nxt in succ[node_name]:
            kind = _kind(nodes[nxt])
            if kind in NEURONS:
                if origin is None:
                    biases[nxt] = biases.get(nxt, 0) + m[:, 0]
                else:
                    weights[(origin, nxt)] = weights.get((origin, nxt), 0) + m
                    hops.setdefault((origin, nxt), []).append(path)
            elif kind == "Output":
                if origin is None:
                    raise CompileError(f"NIR node {nxt!r} (Output) receives the bias of an "
                                       "Affine node directly; outputs must be neuron nodes.")
                outputs.setdefault(nxt, []).append((origin, m))
            elif kind == "Input":
                raise CompileError(f"NIR node {nxt!r} (Input) has an incoming edge from "
                                   f"{node_name!r}; Input nodes cannot receive edges.")
            else:
                if nxt in path:
                    raise CompileError(f"NIR nodes {' -> '.join(path + (nxt,))} form a cycle "
                                       "without a neuron node; spikevec needs every cycle to "
                                       "pass through a neuron node.")
                walk(origin, nxt, _apply(nxt, nodes[nxt], m), path + (nxt,))
                if kind == "Affine" and origin is not None and nxt not in done_bias:
                    done_bias.add(nxt)
                    b = np.asarray(nodes[nxt].bias, dtype=np.float64).reshape(-1, 1)
                    walk(None, nxt, b, path + (nxt,))

    sizes = {n: _size(n, nodes[n]) for n in ends}
    walked: set = set()
    while len(walked) < len(ends):
        ready = [n for n in ends if n not in walked and sizes[n] is not None]
        if not ready:  # all-scalar neuron parameters: size from an incoming map
            for n in ends:
                ins = [m.shape[0] for (a, b), m in weights.items() if b == n]
                if sizes[n] is None and ins:
                    sizes[n] = ins[0]
                    ready.append(n)
        if not ready:
            left = sorted(n for n in ends if n not in walked)
            raise CompileError(f"Cannot tell the number of neurons of NIR nodes {left}: "
                               "their parameters are scalars and no weighted edge reaches "
                               "them; give the parameters one value per neuron.")
        for n in ready:
            walked.add(n)
            walk(n, n, np.eye(sizes[n]), ())

    net = Network(dt=dt, name=name or "nir")
    order = _order(nodes, ends, weights)
    for n in order:
        node = nodes[n]
        kind = _kind(node)
        if kind == "Input":
            net.spike_input(n, sizes[n])
            continue
        params = {p: np.asarray(getattr(node, f), dtype=np.float64).reshape(-1)
                  for f, p in PARAMS[kind].items()}
        try:
            net.population(n, sizes[n], NEURONS[kind](), **params)
        except CompileError as e:
            raise CompileError(f"NIR node {n!r} ({kind}): {e}") from None
    rank = {n: i for i, n in enumerate(order)}
    for (a, b), m in sorted(weights.items(), key=lambda kv: (rank[kv[0][1]], rank[kv[0][0]])):
        post = nodes[b]
        if m.shape[0] != sizes[b]:
            raise CompileError(f"NIR node {b!r} ({_kind(post)}) has {sizes[b]} neurons but "
                               f"receives {m.shape[0]} values from {a!r}; the shapes must "
                               "agree.")
        w_in = np.asarray(getattr(post, "w_in", 1.0), dtype=np.float64).reshape(-1, 1)
        named = [[h for h in path if _kind(nodes[h]) in ("Linear", "Affine")]
                 for path in hops[(a, b)]]
        pname = named[0][0] if len(named) == 1 and len(named[0]) == 1 else None
        bias = biases.pop(b, None)
        net.project(a, b, (w_in * m).T, None if bias is None else w_in[:, 0] * bias,
                    name=pname if pname is not None and pname not in _names(net) else None)
    if biases:
        raise CompileError(f"NIR nodes {sorted(biases)} receive a bias but no input; "
                           "spikevec attaches biases to a projection.")
    for out, feeds in outputs.items():
        if len(feeds) != 1 or feeds[0][1].shape[0] != feeds[0][1].shape[1] \
                or not np.array_equal(feeds[0][1], np.eye(feeds[0][1].shape[1])):
            raise CompileError(f"NIR node {out!r} (Output) must be fed by exactly one neuron "
                               "node through Flatten at most; it receives "
                               f"{[f[0] for f in feeds]} through weighted transforms.")
        src = feeds[0][0]
        if src not in net.populations:
            raise CompileError(f"NIR node {out!r} (Output) is fed by the Input {src!r}; "
                               "outputs must be neuron nodes.")
        pop = net.populations[src]
        var = "spikes" if pop.spiking else "v"
        meta = getattr(nodes[out], "metadata", None) or {}
        mode = meta.get("spikevec_readout", readout_mode)
        mode = mode.decode() if isinstance(mode, bytes) else str(mode)
        net.record(pop, var)
        net.readout(out, pop, var, mode)
    return net


def _names(net):
    return set(net.sources) | set(net.populations) | {p.name for p in net.projections}


def _order(nodes, ends, weights):
    """Inputs first, then neuron nodes in reverse post-order of a depth-first walk from
    the inputs (edges closing a cycle become delayed); spikevec's own order metadata
    (written by :func:`to_nir`) wins when every neuron node has it."""
    neuron_nodes = [n for n in ends if _kind(nodes[n]) != "Input"]
    inputs = [n for n in ends if _kind(nodes[n]) == "Input"]
    meta = [(getattr(nodes[n], "metadata", None) or {}).get("spikevec_order")
            for n in neuron_nodes]
    if neuron_nodes and all(m is not None for m in meta):
        return inputs + [n for _, n in sorted(zip((int(np.asarray(m)) for m in meta),
                                                  neuron_nodes))]
    succ = {n: [] for n in ends}
    for a, b in weights:
        if b not in succ[a]:
            succ[a].append(b)
    seen, post = set(), []

    def dfs(n):
        seen.add(n)
        for m in succ[n]:
            if m not in seen:
                dfs(m)
        post.append(n)

    for n in inputs + neuron_nodes:
        if n not in seen:
            dfs(n)
    return inputs + [n for n in reversed(post) if n not in inputs]


def to_nir(net: Network):
    """Export ``net`` as a ``nir.NIRGraph``: spike inputs become Input nodes, populations
    neuron nodes (only library models with a NIR equivalent: LIF, CubaLIF, LI, CubaLI, IF
    with reset to a value), projections Linear or Affine nodes (weights transposed to
    NIR's [out, in]) and readouts Output nodes. ``dt``, the update order and readout modes
    travel in metadata so that :func:`from_nir` rebuilds the same network."""
    nir = _nir()
    nodes, edges = {}, []
    for s in net.sources.values():
        if not isinstance(s, SpikeInput):
            raise CompileError(f"Source {s.name!r} is a {type(s).__name__}, which NIR cannot "
                               "express; only spike inputs export (as Input nodes).")
        nodes[s.name] = nir.Input(input_type=np.array([s.size]))
    for p in net.populations.values():
        kind = p.model.nir
        if kind not in NEURONS:
            raise CompileError(f"Population {p.name!r} uses the model {p.model.name}, which "
                               "has no NIR equivalent; NIR export supports the library "
                               f"models {', '.join(NEURONS)} with reset to a value.")
        fields = {f: np.broadcast_to(np.asarray(p.consts[name], dtype=np.float64),
                                     (p.size,)).copy()
                  for f, name in PARAMS[kind].items()}
        nodes[p.name] = getattr(nir, kind)(**fields, metadata={"spikevec_order": p.index})
        for var, value in p.init.items():
            if np.any(value != 0):
                raise CompileError(f"Population {p.name!r} starts with a non-zero {var!r}, "
                                   "which NIR cannot express; NIR neurons start at zero.")
    for pr in net.projections:
        w = np.ascontiguousarray(pr.weight.T)
        nodes[pr.name] = nir.Linear(weight=w) if pr.bias is None \
            else nir.Affine(weight=w, bias=pr.bias.copy())
        edges += [(pr.pre.name, pr.name), (pr.name, pr.post.name)]
    for r in net.readouts.values():
        pop: Population = r.population
        natural = "spikes" if pop.spiking else "v"
        if r.var != natural:
            raise CompileError(f"Readout {r.name!r} reads {r.var!r} of {pop.name!r}, but a "
                               f"NIR {pop.model.nir} node outputs only {natural!r}; read "
                               f"{natural!r} to export.")
        nodes[r.name] = nir.Output(output_type=np.array([pop.size]),
                                   metadata={"spikevec_readout": r.mode})
        edges.append((pop.name, r.name))
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata={"dt": net.dt},
                        type_check=False)
