"""The program image: everything a runtime needs to run a compiled network, in one file.

An :class:`Image` holds

* ``program``: the :class:`~spikevec.sw.asm.Program` (code, initial data and vector
  memory, symbols such as ``__step``, ``__done``, ``__wait_input_<src>`` and
  ``__wait_output``: the wait loops are out of line, each from its label to the next
  label after its ``_spin`` label, and a simulator backend that finds the pc there knows
  the core is waiting for input or for output space; the ``__phase_*`` labels that
  split a step into phases are listed in :mod:`.codegen`);
* ``config``: the :class:`~spikevec.hw.config.CoreConfig` it targets (a runtime must
  refuse another core: ``core_config.check_compatible(image.config, "program image")``);
* ``memory_map``: every array (name, space, address, bytes, shape, dtype, format, role);
* ``io``: the header field addresses, ring capacity ``ring_steps``, input rings,
  recorded outputs, readouts and per-population state blocks (see :mod:`.run_iss` for
  how they are used);
* ``formats``: the chosen fixed-point formats (:meth:`FormatPlan.to_dict`) and the text
  report; ``stats``: instruction counts and the static cycle estimate.

File format: JSON (``.svimg``) with ``"format": "spikevec-image"`` and
``"version": IMAGE_VERSION``; the program's memories are base64 inside. :meth:`load`
refuses other formats and versions with a sentence saying what to do.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from ...hw.config import CoreConfig
from ..asm.program import Program
from .layout import Array

__all__ = ["Image", "IMAGE_VERSION"]

IMAGE_VERSION = 1


@dataclass
class Image:
    program: Program
    config: CoreConfig
    memory_map: dict
    io: dict
    formats: dict
    report: str = ""
    stats: dict = field(default_factory=dict)
    name: str = "network"

    def to_dict(self) -> dict:
        return {"format": "spikevec-image", "version": IMAGE_VERSION, "name": self.name,
                "config": self.config.to_dict(), "program": self.program.to_dict(),
                "memory_map": [a.to_dict() for a in self.memory_map.values()],
                "io": self.io, "formats": self.formats, "report": self.report,
                "stats": self.stats}

    @classmethod
    def from_dict(cls, d: dict) -> "Image":
        if not isinstance(d, dict) or d.get("format") != "spikevec-image":
            raise ValueError("This file is not a spikevec program image (no 'format': "
                             "'spikevec-image' entry); create one with 'spikevec compile'.")
        if d.get("version") != IMAGE_VERSION:
            raise ValueError(f"Program image version {d.get('version')!r} is not supported "
                             f"(this spikevec reads version {IMAGE_VERSION}); recompile the "
                             "model with 'spikevec compile'.")
        arrays = [Array.from_dict(a) for a in d["memory_map"]]
        return cls(Program.from_dict(d["program"]), CoreConfig.from_dict(d["config"]),
                   {a.name: a for a in arrays}, d["io"], d["formats"], d.get("report", ""),
                   d.get("stats", {}), d.get("name", "network"))

    def save(self, path) -> None:
        with open(path, "w") as f:
            json.dump(self.to_dict(), f)

    @classmethod
    def load(cls, path) -> "Image":
        try:
            with open(path) as f:
                d = json.load(f)
        except json.JSONDecodeError as e:
            raise ValueError(f"{path!r} is not a spikevec program image (not JSON: {e}); "
                             "create one with 'spikevec compile'.") from None
        return cls.from_dict(d)

    # summaries ----------------------------------------------------------------------------
    def symbol(self, name: str) -> int:
        return self.program.symbols[name][1]

    def summary(self) -> str:
        c, st = self.config, self.stats
        used = {s: sum(a.nbytes for a in self.memory_map.values() if a.space == s)
                for s in ("dmem", "vmem")}
        lines = [f"image {self.name!r} (version {IMAGE_VERSION}) for core configuration "
                 f"'{c.name}' ({c.lanes} lanes, fingerprint {c.fingerprint()})",
                 f"  code: {len(self.program.text)} instructions "
                 f"({4 * len(self.program.text)} of {c.imem_bytes} bytes)",
                 f"  data memory: {used['dmem']} of {c.dmem_bytes} bytes; vector memory: "
                 f"{used['vmem']} of {c.vmem_bytes} bytes",
                 f"  output ring: {self.io['ring_steps']} steps",
                 f"  estimated cycles per timestep: {st.get('estimated_cycles', 0):.0f} "
                 f"({st.get('fixed_cycles', 0)} fixed + spikes: "
                 + ", ".join(f"{k} {v['cycles_per_spike']} x {v['spikes']:.1f}"
                             for k, v in st.get("spike_terms", {}).items()) + ")",
                 "memory map:"]
        for a in sorted(self.memory_map.values(), key=lambda a: (a.space, a.address)):
            lines.append(f"  {a.space:<5} {a.address:#9x} {a.nbytes:>8} B  {a.name:<28} "
                         f"{'x'.join(map(str, a.shape))} {a.dtype}"
                         f"{'  ' + a.format if a.format else ''}")
        lines.append(self.report)
        inner = re.compile(r"^__(p\d|pr_|in_|rec_)|_spin$|^__pr_")   # loop-internal labels
        labels = sorted((v[1], k) for k, v in self.program.symbols.items()
                        if k.startswith("__") and v[0] == "text" and not inner.search(k))
        lines.append("labels: " + ", ".join(f"{k}@{a:#x}" for a, k in labels))
        return "\n".join(lines)
