"""Named arrays of a program image as real numbers: memory-map lookups and fixed point.

An image's memory map (:class:`~spikevec.sw.compiler.layout.Array`) gives each array's
space, address, shape, dtype and format. :func:`resolve` turns a name into an
:class:`ArrayView` that converts between bytes in the core's memory and values:

* a format ``"sI.F"`` (16-bit signed, ``F`` fraction bits): value = integer / 2**F;
* weights (``"weights.<projection>"``): value = integer * the projection's unit (from the
  image's format plan): the network's weight times the input gain the compiler folded
  into it (e.g. ``dt / tau_mem`` for LIF);
* ``"pop.<population>.<var>"`` (a virtual name): the state variable ``var`` of every
  neuron, gathered from the population block ``pop.<population>`` (``[chunk, row,
  lane]``) and converted with the variable's format, shape ``[size]``;
* anything else (header words, spike masks, ``pop.<population>`` as a whole): the raw
  integers of its dtype.

Contract: :meth:`ArrayView.encode` raises ``ValueError`` naming the array when values do
not fit the format (it saturates nothing silently) or the shape is wrong.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["ArrayView", "resolve"]


@dataclass
class ArrayView:
    name: str
    space: str
    address: int
    nbytes: int
    dtype: np.dtype
    shape: tuple
    scale: float | None = None          # value of one integer unit, None for raw
    rows: tuple | None = None           # (chunks, row stride elements, row, lanes, size)

    def _span(self) -> tuple:
        return self.space, self.address, self.nbytes

    def decode(self, raw: bytes) -> np.ndarray:
        ints = np.frombuffer(raw, self.dtype)
        if self.rows is not None:
            C, stride, row, L, size = self.rows
            ints = ints.reshape(C, stride, L)[:, row, :].reshape(-1)[:size]
        else:
            ints = ints.reshape(self.shape)
        return ints.copy() if self.scale is None else ints * self.scale

    def encode(self, values, current: bytes) -> bytes:
        """The array's bytes holding ``values`` (``current``: its present bytes, used
        to keep the other rows of a population block)."""
        values = np.asarray(values, np.float64 if self.scale is not None else np.int64)
        want = (self.rows[4],) if self.rows is not None else self.shape
        if values.shape != tuple(want):
            raise ValueError(f"Array {self.name!r} has shape {tuple(want)}, but the values "
                             f"have shape {values.shape}; give one value per element.")
        ints = np.round(values / self.scale) if self.scale is not None else values
        info = np.iinfo(self.dtype)
        bad = (ints < info.min) | (ints > info.max)
        if np.any(bad):
            first = values.reshape(-1)[np.flatnonzero(bad.reshape(-1))[0]]
            lo, hi = (info.min, info.max) if self.scale is None else \
                (info.min * self.scale, info.max * self.scale)
            raise ValueError(f"Value {first} for array {self.name!r} is outside its range "
                             f"[{lo:g}, {hi:g}] ({np.count_nonzero(bad)} values are); "
                             "scale the values or recompile with another format.")
        if self.rows is None:
            return ints.astype(self.dtype).tobytes()
        C, stride, row, L, size = self.rows
        block = np.frombuffer(current, self.dtype).reshape(C, stride, L).copy()
        flat = block[:, row, :].reshape(-1)
        flat[:size] = ints
        block[:, row, :] = flat.reshape(C, L)
        return block.tobytes()


def _frac(fmt: str) -> int | None:
    if fmt and fmt.startswith("s") and "." in fmt and ":" not in fmt and " " not in fmt:
        whole, frac = fmt[1:].split(".")
        if whole.isdigit() and frac.isdigit():
            return int(frac)
    return None


def resolve(image, name: str) -> ArrayView:
    """The :class:`ArrayView` of ``name`` in ``image`` (see the module doc)."""
    mm = image.memory_map
    if name in mm:
        a = mm[name]
        dtype = np.dtype(a.dtype)
        scale = None
        if name.startswith("weights."):
            proj = image.formats.get("projections", {}).get(name[len("weights."):], {})
            scale = proj.get("unit")
        elif _frac(a.format or "") is not None:
            scale = 2.0 ** -_frac(a.format)
        return ArrayView(name, a.space, a.address, a.nbytes, dtype, tuple(a.shape), scale)
    parts = name.split(".")
    pops = image.io["populations"]
    if len(parts) == 3 and parts[0] == "pop" and parts[1] in pops:
        pop, var = pops[parts[1]], parts[2]
        if var in pop["formats"]:
            a = mm[f"pop.{parts[1]}"]
            L = image.io["lanes"]
            stride = pop["block_bytes"] // (2 * L)
            rows = (pop["chunks"], stride, pop["rows"][var] // (2 * L), L, pop["size"])
            return ArrayView(name, a.space, a.address, a.nbytes, np.dtype(np.int16),
                             (pop["size"],), 2.0 ** -pop["formats"][var], rows)
    names = sorted(mm) + [f"pop.{p}.{v}" for p, d in pops.items() for v in d["formats"]]
    raise ValueError(f"The image has no array {name!r}; its arrays are {', '.join(names)}.")
