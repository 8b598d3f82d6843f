"""The one core configuration shared by hardware, compiler, golden model and runtime.

A :class:`CoreConfig` is frozen and hashable. Every program image records the
configuration it was compiled for (:meth:`CoreConfig.to_dict`) and the runtime refuses
to load it on a core whose configuration differs (:meth:`CoreConfig.check_compatible`).

Address spaces (all separate, Harvard style):

* instruction memory: ``imem_bytes``, word addressed by the program counter from 0;
* scalar data memory: ``dmem_bytes`` at scalar byte address 0;
* vector memory: ``vmem_bytes``, one vector (``lanes`` x 16 bit) per access, byte
  addressed, accesses aligned to the vector size (half a vector for packed 8-bit loads);
* lane-local memories: ``lane_mem_bytes`` per lane, addressed in 16-bit elements by a
  per-lane address held in a vector register.

This module imports nothing else of spikevec.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass

__all__ = ["CoreConfig", "ConfigMismatch", "PRESETS", "preset"]

KiB = 1024
LANE_CHOICES = (8, 16, 32)


class ConfigMismatch(ValueError):
    """A program image or a device was made for another core configuration."""


#: Fields a compiled program does not depend on (see :meth:`CoreConfig.check_compatible`).
PROGRAM_NEUTRAL = ("name", "clock_hz")


@dataclass(frozen=True)
class CoreConfig:
    """Parameters of one spikevec core. Construct through a preset or by keyword.

    Contract: every field is validated at construction; an invalid value raises
    ``ValueError`` naming the field, the value and what is allowed.
    """

    lanes: int = 32
    element_width: int = 16
    vector_registers: int = 32
    imem_bytes: int = 16 * KiB
    dmem_bytes: int = 32 * KiB
    vmem_bytes: int = 256 * KiB
    lane_mem_bytes: int = 2 * KiB
    clock_hz: int = 100_000_000
    stochastic_rounding: bool = True
    name: str = "custom"

    def __post_init__(self):
        def bad(field, allowed):
            value = getattr(self, field)
            raise ValueError(f"CoreConfig.{field} = {value!r} is not allowed; {allowed}.")

        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            want = {"int": int, "bool": bool, "str": str}[f.type]
            if not isinstance(value, want) or (want is int and isinstance(value, bool)):
                bad(f.name, f"give a value of type {f.type}")
        if self.lanes not in LANE_CHOICES:
            bad("lanes", f"choose one of {', '.join(map(str, LANE_CHOICES))}")
        if self.element_width != 16:
            bad("element_width", "only 16-bit elements are implemented")
        if self.vector_registers != 32:
            bad("vector_registers", "the encoding has 5-bit register fields, so use 32")
        for field, align in (("imem_bytes", 4), ("dmem_bytes", 4),
                             ("vmem_bytes", self.vector_bytes), ("lane_mem_bytes", 2)):
            value = getattr(self, field)
            if not isinstance(value, int) or value <= 0 or value % align:
                bad(field, f"give a positive multiple of {align} bytes")
        if self.lane_mem_bytes > 2 * 32768:
            bad("lane_mem_bytes", "lane addresses are signed 16-bit element indices, "
                                  "so at most 65536 bytes")
        if self.clock_hz <= 0:
            bad("clock_hz", "give a positive frequency in hertz")

    # Derived sizes -------------------------------------------------------------------
    @property
    def vector_bytes(self) -> int:
        """Bytes in one vector register and one vector-memory access."""
        return self.lanes * self.element_width // 8

    @property
    def vmem_vectors(self) -> int:
        return self.vmem_bytes // self.vector_bytes

    @property
    def lane_mem_elements(self) -> int:
        return self.lane_mem_bytes // 2

    @property
    def imem_words(self) -> int:
        return self.imem_bytes // 4

    # Serialisation -------------------------------------------------------------------
    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "CoreConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"Unknown core configuration keys {unknown}; "
                             f"known keys are {sorted(known)}.")
        return cls(**d)

    def fingerprint(self) -> str:
        """A short hash of everything that changes the hardware (not the name)."""
        d = self.to_dict()
        d.pop("name")
        return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:16]

    def with_(self, **changes) -> "CoreConfig":
        return dataclasses.replace(self, **changes)

    def check_compatible(self, other: "CoreConfig", what: str = "program image") -> None:
        """Raise :class:`ConfigMismatch` if ``other`` (what the ``what`` was made for)
        differs from this core in any field a program depends on: every field except the
        name and ``clock_hz`` (a program runs the same cycles at any clock; a board's
        core clock is the board's choice, e.g. 20 MHz on the ULX3S)."""
        mine, theirs = self.to_dict(), other.to_dict()
        diffs = [f"{k}: {what} wants {theirs[k]!r}, core has {mine[k]!r}"
                 for k in mine if k not in PROGRAM_NEUTRAL and mine[k] != theirs[k]]
        if diffs:
            raise ConfigMismatch(
                f"The {what} was compiled for core configuration '{other.name}' but this "
                f"core is '{self.name}' ({'; '.join(diffs)}). Recompile the model for "
                f"this core, or open a device with the configuration the {what} names.")


PRESETS: dict[str, CoreConfig] = {
    "default": CoreConfig(name="default"),
    "lanes16": CoreConfig(lanes=16, vmem_bytes=128 * KiB, name="lanes16"),
    "lanes8": CoreConfig(lanes=8, vmem_bytes=64 * KiB, lane_mem_bytes=1 * KiB, name="lanes8"),
    "tiny": CoreConfig(lanes=8, imem_bytes=4 * KiB, dmem_bytes=4 * KiB, vmem_bytes=8 * KiB,
                       lane_mem_bytes=256, clock_hz=25_000_000, name="tiny"),
}


def preset(name: str) -> CoreConfig:
    """Return the named preset; unknown names raise ``ValueError`` listing the choices."""
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(f"There is no core configuration preset named {name!r}; "
                         f"choose one of {', '.join(PRESETS)}.") from None
