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
        self._values = []        # (value, per-lane signals): the same value for every lane
        self._own = []           # (per-lane values, per-lane signals): one value per lane

    def add(self, value, shape, name: str) -> list:
        outs = [Signal(shape, name=f"{name}_lane{i}") for i in range(self.lanes)]
        self._values.append((Value.cast(value), outs))
        return outs

    def add_own(self, values, shape, name: str) -> list:
        """Like :meth:`add`, but lane ``i`` receives ``values[i]`` (one per lane, each of
        ``shape``): a group's relay carries only its own lanes' values."""
        if len(values) != self.lanes:
            raise ValueError(f"FanOut.add_own({name!r}) got {len(values)} values for "
                             f"{self.lanes} lanes.")
        outs = [Signal(shape, name=f"{name}_lane{i}") for i in range(self.lanes)]
        self._own.append(([Value.cast(v) for v in values], outs))
        return outs

    def build(self, m, shared) -> None:
        """Add the central register and the relays to ``m``; ``shared``: the platform's
        shared-module registry or ``None``."""
        common = Cat(value for value, _ in self._values)
        own = Cat(v for values, _ in self._own for v in values)
        central, central_own = Signal(len(common), name="fanout_central"), \
            Signal(len(own), name="fanout_central_own")
        m.d.sync += [central.eq(common), central_own.eq(own)]
        for g in range(-(-self.lanes // GROUP)):
            lanes = range(g * GROUP, min((g + 1) * GROUP, self.lanes))
            # The relay's input: the common values, then this group's own values.
            parts, start = [central], 0
            for values, _ in self._own:
                width = len(values[0])
                parts += [central_own[start + i * width:start + (i + 1) * width] for i in lanes]
                start += len(values) * width
            bundle = Cat(*parts)
            relay = Relay(len(bundle))
            m.submodules[f"relay{g}"] = relay if shared is None else shared.instance(
                relay, "spikevec_relay", len(bundle))
            m.d.comb += relay.d.eq(bundle)
            start = 0
            for value, outs in self._values:
                for i in lanes:
                    m.d.comb += Value.cast(outs[i]).eq(relay.q[start:start + len(value)])
                start += len(value)
            for values, outs in self._own:
                width = len(values[0])
                for i in lanes:
                    m.d.comb += Value.cast(outs[i]).eq(relay.q[start:start + width])
                    start += width
