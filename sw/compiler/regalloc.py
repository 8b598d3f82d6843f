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
"""
from __future__ import annotations

from dataclasses import dataclass

from .lower import Ins

__all__ = ["Allocation", "allocate", "pressure"]


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
