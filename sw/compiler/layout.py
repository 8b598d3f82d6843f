"""Memory layout: a named, typed map of every array in data and vector memory.

:class:`MemoryMap` hands out aligned addresses in scalar data memory (``"dmem"``) and
vector memory (``"vmem"``), keeps each array's name, shape, dtype and fixed-point format
(for the image and ``spikevec inspect``) and its initial contents. Addresses are plain
integers; the code generator loads them with ``li`` (lui + addi), so no array is limited
to the reach of a 12-bit immediate.

The **header** (the first words of data memory, :data:`HEADER`) is the contract with a
host runtime:

=================  =======  ==============================================================
field              writer   meaning
=================  =======  ==============================================================
``n_steps``        host     timesteps to run; the core ends with ``ecall`` after them
``steps_done``     core     steps finished = input records consumed = output slots written
``out_consumed``   host     output ring slots the host has read (the core waits at label
                            ``__wait_output`` while ``steps_done - out_consumed`` equals
                            the ring capacity)
``magic``          image    ``0x53564B31`` ("SVK1"), to recognise a loaded image
``wait_cycles``    core     cycles spent in the wait loops (``__wait_input_<src>``,
                            ``__wait_limit``, ``__wait_output``), added by each wait
                            as the ``rdcycle`` difference plus its fixed entry and
                            exit cost, so compute
                            cycles = cycle counter - ``wait_cycles`` (0 when the core
                            never waits, as under :func:`~.run_iss.run_iss`)
=================  =======  ==============================================================

Per spike input ``s`` three more words follow: ``in_written.s`` (host: input records
written; the core waits at ``__wait_input`` while it equals ``steps_done``),
``in_rptr.s`` (core: byte address of the next record; the code generator may keep the
first input's in a register while the core runs, so it is exact when the core has stopped
at ``ecall``, and a host that moves it must do so then) and ``in_cur.s`` (core: address
of the current record's count word). Likewise the running maxima of ``max`` readouts may
live in registers while the core runs; their rows hold them when it stops.

Contract: :meth:`MemoryMap.alloc` raises :class:`CompileError` naming the array, the
bytes it needs and the bytes left when a memory is full.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .expr import CompileError

__all__ = ["MemoryMap", "Array", "HEADER", "MAGIC"]

HEADER = ("n_steps", "steps_done", "out_consumed", "magic", "wait_cycles")
MAGIC = 0x53564B31
SPACES = {"dmem": "scalar data memory", "vmem": "vector memory"}


@dataclass
class Array:
    name: str
    space: str
    address: int
    nbytes: int
    shape: tuple
    dtype: str
    format: str | None = None
    role: str = ""
    stride: int = 0          # bytes between rows of a strided view (0: rows are dense)
    interleave: int = 0      # W > 0: row j is physical row (j % 32) * W + j // 32

    def to_dict(self) -> dict:
        return {"name": self.name, "space": self.space, "address": self.address,
                "nbytes": self.nbytes, "shape": list(self.shape), "dtype": self.dtype,
                "format": self.format, "role": self.role, "stride": self.stride,
                "interleave": self.interleave}

    @classmethod
    def from_dict(cls, d: dict) -> "Array":
        d = dict(d)
        d["shape"] = tuple(d["shape"])
        return cls(**d)


class MemoryMap:
    """Bump allocation with alignment and overflow errors, plus initial contents."""

    def __init__(self, config):
        self.config = config
        self.limit = {"dmem": config.dmem_bytes, "vmem": config.vmem_bytes}
        self.top = {"dmem": 0, "vmem": 0}
        self.init = {"dmem": bytearray(config.dmem_bytes), "vmem": bytearray(config.vmem_bytes)}
        self.inited = {"dmem": 0, "vmem": 0}
        self.arrays: dict[str, Array] = {}

    def free(self, space: str) -> int:
        return self.limit[space] - self.top[space]

    def alloc(self, name: str, space: str, shape, dtype: str, align: int = 4,
              data=None, fmt: str | None = None, role: str = "", nbytes: int | None = None) -> int:
        """Reserve an array; ``data`` (bytes or numpy array) gives its initial contents."""
        shape = tuple(int(s) for s in (shape if isinstance(shape, (tuple, list)) else (shape,)))
        size = nbytes if nbytes is not None else int(np.prod(shape)) * np.dtype(dtype).itemsize
        addr = -(-self.top[space] // align) * align
        if addr + size > self.limit[space]:
            used = ", ".join(f"{a.name} {a.nbytes}" for a in sorted(
                (a for a in self.arrays.values() if a.space == space),
                key=lambda a: -a.nbytes)[:4])
            raise CompileError(
                f"The array {name!r} ({shape} {dtype}) needs {size} bytes of "
                f"{SPACES[space]}, but only {max(0, self.limit[space] - addr)} of the "
                f"{self.limit[space]} bytes of core configuration '{self.config.name}' are "
                f"left (largest users: {used or 'none'}). Use 8-bit weights, fewer "
                "recorded variables or a shorter output ring, a smaller model, or a "
                "configuration with more memory.")
        self.top[space] = addr + size
        if data is not None:
            raw = data if isinstance(data, (bytes, bytearray)) else np.ascontiguousarray(data).tobytes()
            self.init[space][addr:addr + len(raw)] = raw
            self.inited[space] = max(self.inited[space], addr + len(raw))
        self.arrays[name] = Array(name, space, addr, size, shape, dtype, fmt, role)
        return addr

    def alias(self, name: str, space: str, address: int, shape, dtype: str, stride: int,
              fmt: str | None = None, role: str = "", interleave: int = 0) -> None:
        """Describe a strided view (rows of ``stride`` bytes, optionally interleaved, see
        :class:`Array`) of an allocated array."""
        shape = tuple(int(s) for s in shape)
        rows = 32 * interleave if interleave else shape[0]
        self.arrays[name] = Array(name, space, address, rows * stride, shape, dtype,
                                  fmt, role, stride, interleave)

    def write(self, space: str, addr: int, data) -> None:
        raw = data if isinstance(data, (bytes, bytearray)) else np.ascontiguousarray(data).tobytes()
        self.init[space][addr:addr + len(raw)] = raw
        self.inited[space] = max(self.inited[space], addr + len(raw))

    def __getitem__(self, name: str) -> Array:
        return self.arrays[name]

    def initial(self, space: str) -> bytes:
        """Initial contents up to the last initialised byte (the rest starts as zero)."""
        return bytes(self.init[space][:self.inited[space]])

    def table(self) -> str:
        rows = [f"  {'space':<5} {'address':>10} {'bytes':>8}  name (shape dtype format)"]
        for a in sorted(self.arrays.values(), key=lambda a: (a.space, a.address)):
            rows.append(f"  {a.space:<5} {a.address:#10x} {a.nbytes:>8}  {a.name} "
                        f"({'x'.join(map(str, a.shape))} {a.dtype}"
                        f"{' ' + a.format if a.format else ''})")
        return "\n".join(rows)
