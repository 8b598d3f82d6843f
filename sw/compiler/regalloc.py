"""Register allocation for the straight-line chunk IR of :mod:`.lower`, with spilling.

:func:`allocate` maps the virtual registers of one chunk's IR onto ``nv`` abstract vector
slots ``("v", 0 .. nv-1)`` and ``nx`` scalar slots ``("x", 0 .. nx-1)``; the code
generator renames the slots to physical registers, differently for each of the chunks it
interleaves, so one allocation serves every chunk. Constants ``("k", i)`` listed in
``pinned`` stay in their (pinned) registers; any other constant is rematerialised by a
``vlui`` into a temporary right before its use (cheaper than a spill). The accumulator
``("acc",)`` is a fixed register.

Algorithm: linear scan over the straight-line code with Belady eviction (the live value
whose next use is furthest away is spilled). Values are single-assignment, so a value
spilled once keeps its slot: later evictions of a reloaded copy cost nothing. Spills
become ``vstore``/``vload`` to ``("spill", slot)`` in vector memory and ``sw``/``lw`` to
``("xspill", slot)`` in data memory. ``vsel`` overwrites its first source (the value
kept where the mask is clear): if that value is still needed later, it is copied first;
a ``vsel`` (or any instruction) whose destination is ``("acc",)`` writes the
accumulator in place (pre-decayed accumulators, :mod:`.predecay`).

Contract: the result uses at most ``nv`` vector and ``nx`` scalar slots; ``nv >= 3`` and
``nx >= 2`` are required (raises ValueError otherwise).

:func:`schedule` reorders the (virtual, single-assignment) IR of one chunk for a core
that issues in order with result latencies (the cycle model of ``hw/isa``): a list
scheduler that keeps every register, memory and stochastic-rounding order of the
original, so the reordered code computes the same bits. The code generator uses it
when no other chunk's copy is interleaved to hide latencies (``K`` = 1).
"""
from __future__ import annotations

from dataclasses import dataclass

from ...hw.isa import BY_NAME, CycleModel
from .lower import Ins

__all__ = ["Allocation", "allocate", "pressure", "schedule"]


@dataclass
class Allocation:
    """Allocated IR (``ins`` with slot operands) and how many spill slots it uses."""
    ins: list
    v_spills: int
    x_spills: int
    v_used: int
    x_used: int


def _virtual(val) -> bool:
    return isinstance(val, tuple) and len(val) == 2 and val[0] in ("v", "x") and val[1] > 0 \
        and not isinstance(val[1], str)


def _remat(ins: list, consts: list, pinned: set) -> list:
    out, n = [], max([i.dst[1] for i in ins if _virtual(i.dst)] + [0]) + 1000
    for i in ins:
        srcs = []
        for s in i.srcs:
            if s[0] == "k" and s not in pinned:
                n += 1
                out.append(Ins("vlui", ("v", n), (), {"imm": consts[s[1]]}))
                s = ("v", n)
            srcs.append(s)
        out.append(Ins(i.op, i.dst, tuple(srcs), dict(i.attrs)))
    return out


def pressure(ins: list) -> tuple:
    """(max live vector values, max live scalar values) of straight-line IR."""
    last = {}
    for n, i in enumerate(ins):
        for s in i.srcs:
            if _virtual(s):
                last[s] = n
    live, peak = set(), {"v": 0, "x": 0}
    for n, i in enumerate(ins):
        if i.dst is not None and _virtual(i.dst):
            live.add(i.dst)
        for c in "vx":
            peak[c] = max(peak[c], sum(1 for v in live if v[0] == c))
        live -= {s for s in i.srcs if last.get(s) == n}
        live -= {i.dst} if i.dst is not None and i.dst not in last else set()
    return peak["v"] + 1, peak["x"] + 1


def allocate(ins: list, consts: list, pinned: set, nv: int, nx: int) -> Allocation:
    if nv < 3 or nx < 2:
        raise ValueError(f"Register allocation needs at least 3 vector and 2 scalar "
                         f"registers for a neuron update, but only {nv} and {nx} are free; "
                         "use fewer accumulator registers (smaller groups).")
    ins = _remat(ins, consts, pinned)
    uses = {}
    for n, i in enumerate(ins):
        for s in i.srcs:
            if _virtual(s):
                uses.setdefault(s, []).append(n)
    free = {"v": list(range(nv)), "x": list(range(nx))}
    loc, slot_of, nslots, out = {}, {}, {"v": 0, "x": 0}, []
    used = {"v": set(), "x": set()}

    def next_use(val, n):
        return next((u for u in uses.get(val, ()) if u > n), 1 << 30)

    def take(cls, n, keep):
        if free[cls]:
            r = free[cls].pop(0)
            used[cls].add(r)
            return r
        victims = [v for v in loc if v[0] == cls and v not in keep]
        victim = max(victims, key=lambda v: next_use(v, n))
        r = loc.pop(victim)
        if victim not in slot_of:
            slot_of[victim] = nslots[cls]
            nslots[cls] += 1
            store = "vstore" if cls == "v" else "sw"
            out.append(Ins(store, None, ((cls, r),),
                           {"mem": ("spill" if cls == "v" else "xspill", slot_of[victim])}))
        return r

    def fetch(val, n, keep):
        if val in loc:
            return (val[0], loc[val])
        r = take(val[0], n, keep)
        load = "vload" if val[0] == "v" else "lw"
        out.append(Ins(load, (val[0], r), (),
                       {"mem": ("spill" if val[0] == "v" else "xspill", slot_of[val])}))
        loc[val] = r
        return (val[0], r)

    for n, i in enumerate(ins):
        keep = {s for s in i.srcs if _virtual(s)}
        srcs = [fetch(s, n, keep) if _virtual(s) else s for s in i.srcs]
        dying = [s for s in keep if uses[s][-1] == n]
        dst = None
        if i.op == "vsel":
            base = i.srcs[0]
            if i.dst == ("acc",):           # in place in the accumulator (pre-decay)
                dst = i.dst
            elif _virtual(base) and base in dying and list(i.srcs).count(base) == 1:
                r = loc.pop(base)
                dying.remove(base)
                dst = ("v", r)
            else:
                dst = ("v", take("v", n, keep))
                out.append(Ins("vmv", dst, (srcs[0],), {}))
            srcs[0] = dst
        for s in dying:
            if s in loc:
                free[s[0]].append(loc.pop(s))
        if i.dst is not None and not _virtual(i.dst):
            dst = i.dst                     # the accumulator: a fixed register
        elif i.dst is not None and dst is None:
            dst = (i.dst[0], take(i.dst[0], n, keep))
        if i.dst is not None and _virtual(i.dst):
            if i.dst in uses:
                loc[i.dst] = dst[1]
            else:
                free[dst[0]].append(dst[1])
        out.append(Ins(i.op, dst, tuple(srcs), dict(i.attrs)))
        for cls in "vx":
            free[cls].sort()
    return Allocation(out, nslots["v"], nslots["x"], len(used["v"]), len(used["x"]))


_ORDERED = ("record", "mask_out")       # outputs keep their order among themselves
_CYCLES = CycleModel()


def _latency(op: str) -> int:
    """Result latency of IR op ``op``: the cycle model's latency of its instruction's
    timing class; the output pseudo-ops (stores) 1; other pseudo-ops a vector ALU's."""
    if op in BY_NAME:
        return _CYCLES.latency_of(BY_NAME[op].timing)
    return 1 if op in _ORDERED else _CYCLES.latency_of(BY_NAME["vadd"].timing)


def _regs(vals) -> set:
    return {v for v in vals if isinstance(v, tuple) and v and v[0] in ("v", "x", "acc", "rmx")}


def schedule(ins: list) -> list:
    """``ins`` reordered so that results are, where possible, not used by the next
    instruction(s) before their latency has passed; see the module doc."""
    n = len(ins)
    preds = [dict() for _ in range(n)]          # predecessor -> latency to respect
    writer, readers, mem, chains = {}, {}, {}, {}
    for j, i in enumerate(ins):
        reads, writes = _regs(i.srcs), _regs([i.dst] if i.dst is not None else [])
        for r in reads:
            if r in writer:
                w = writer[r]
                preds[j][w] = max(preds[j].get(w, 0), _latency(ins[w].op))
        for r in writes:
            for k in ([writer[r]] if r in writer else []) + readers.get(r, []):
                preds[j].setdefault(k, 0)
        ref = i.attrs.get("mem")
        if ref is not None:
            store = i.op in ("vstore", "sw")
            for k, k_store in mem.get(ref, []):
                if store or k_store:
                    preds[j].setdefault(k, 0)
            mem.setdefault(ref, []).append((j, store))
        chain = "rs" if i.attrs.get("round") == 2 or i.op == "vrng" else \
            "out" if i.op in _ORDERED else None
        if chain:
            if chain in chains:
                preds[j].setdefault(chains[chain], 0)
            chains[chain] = j
        preds[j].pop(j, None)
        for r in reads:
            readers.setdefault(r, []).append(j)
        for r in writes:
            writer[r] = j
            readers[r] = []
    succs = [[] for _ in range(n)]
    for j in range(n):
        for k in preds[j]:
            succs[k].append(j)
    prio = [0] * n                              # longest latency path to the end
    for j in range(n - 1, -1, -1):
        own = _latency(ins[j].op)
        prio[j] = max([own] + [preds[s][j] + prio[s] for s in succs[j]])
    issue, order, cycle = {}, [], 0
    left = set(range(n))
    while left:
        best = None
        for j in sorted(left):
            if any(k in left for k in preds[j]):
                continue
            t = max([cycle] + [issue[k] + lat for k, lat in preds[j].items()])
            key = (t, -prio[j], j)
            if best is None or key < best[0]:
                best = (key, j)
        (t, _, _), j = best
        issue[j], cycle = t, t + 1
        order.append(ins[j])
        left.remove(j)
    return order
