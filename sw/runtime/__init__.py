"""spikevec.sw.runtime: run compiled program images on the golden model, the RTL
simulation or a board through one host API (:func:`open_device`, :class:`Device`).

Modules: :mod:`.device` (the API), :mod:`.streaming` (input/output rings while the core
runs), :mod:`.backend` (golden model and host-protocol backends), :mod:`.arrays` (named
arrays and fixed point), :mod:`.transport` (serial link with retries),
:mod:`.fake_device` (the golden model behind the host protocol),
:mod:`.protocol_svfake` (a fault-injecting fake serial board), :mod:`.progress`.
"""
from .device import BACKENDS, Device, RunResult, open_device

__all__ = ["open_device", "Device", "RunResult", "BACKENDS"]
