"""The register tree that carries the vector unit's per-instruction control to the lanes.

At 32 lanes the lanes cover most of an ECP5-85F. A value computed in the unit and
registered once in every lane (:func:`~.lane_copy.lane_copy`) still crossed the chip in
one clock period: 15-20 ns of routing, the critical path of every 32-lane build up to
commit f28ecfd (36-38 MHz). So the lanes, the vector register file and the vector memory
run ``TIMING.lane_delay`` (2) cycles behind the scalar core: everything the unit sends to
the lanes is registered once in the unit (:class:`FanOut`'s central register) and once
per group of :data:`GROUP` lanes (a :class:`Relay`, placed near its lanes), and only then
enters each lane's own copy. Each hop gets a whole clock period.

Yosys merges flip-flops with identical inputs, which would fold the group registers
back into one. In a board build (a :class:`~..rtl.shared_module.SharedModules` registry
on the platform) every relay is an instance of one kept module, ``spikevec_relay``, so
the copies survive; elsewhere (simulation) they are ordinary registers.
"""
from amaranth.hdl import Cat, Module, Signal, Value
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..isa import TIMING

__all__ = ["Relay", "FanOut", "GROUP"]

#: Lanes fed by one relay.
GROUP = 4

#: The levels of the tree (the unit's register, then the group's): the lanes' delay.
LEVELS = 2
if TIMING.lane_delay != LEVELS:
    raise AssertionError(f"The cycle model puts the lanes {TIMING.lane_delay} cycles behind "
                         f"the core, but the relay tree has {LEVELS} levels; change "
                         "FanOut to match.")


class Relay(wiring.Component):
    """``q`` (out, ``width``) is ``d`` (in) one cycle later (no reset)."""

    def __init__(self, width: int):
        self.width = width
        super().__init__({"d": In(width), "q": Out(width)})

    def elaborate(self, platform):
        m = Module()
        m.d.sync += self.q.eq(self.d)
        return m


class FanOut:
    """Values the unit sends to every one of ``lanes`` lanes, each delayed by
    :data:`LEVELS` cycles through the tree. :meth:`add` returns one signal per lane
    (lane ``i`` reads the relay of group ``i // GROUP``); :meth:`build` makes the tree once
    every value has been added."""

    def __init__(self, lanes: int):
        self.lanes = lanes
        self._values = []        # (value, per-lane signals)

    def add(self, value, shape, name: str) -> list:
        outs = [Signal(shape, name=f"{name}_lane{i}") for i in range(self.lanes)]
        self._values.append((Value.cast(value), outs))
        return outs

    def build(self, m, shared) -> None:
        """Add the central register and the relays to ``m``; ``shared``: the platform's
        shared-module registry or ``None``."""
        bundle = Cat(value for value, _ in self._values)
        central = Signal(len(bundle), name="fanout_central")
        m.d.sync += central.eq(bundle)
        for g in range(-(-self.lanes // GROUP)):
            relay = Relay(len(bundle))
            m.submodules[f"relay{g}"] = relay if shared is None else shared.instance(
                relay, "spikevec_relay", len(bundle))
            m.d.comb += relay.d.eq(central)
            start = 0
            for value, outs in self._values:
                for out in outs[g * GROUP:(g + 1) * GROUP]:
                    m.d.comb += Value.cast(out).eq(relay.q[start:start + len(value)])
                start += len(value)
