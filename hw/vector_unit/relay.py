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

The host's accesses to lane and vector memory pass the same tree (:class:`HostGroups`):
the host router's single address and data registers reaching every lane memory and
every vector-memory column were the critical path of the 32-lane build at commit
5887c13 (48.4 MHz, 20 ns of routing). That makes the host read latency of those spaces
:data:`~..rtl.signatures.VECTOR_HOST_LATENCY` (checked here).
"""
from amaranth.hdl import Cat, Module, Signal, Value
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..isa import TIMING
from ..rtl.delay import delayed
from ..rtl.signatures import VECTOR_HOST_LATENCY

__all__ = ["Relay", "FanOut", "HostGroups", "GROUP"]

#: Lanes fed by one relay.
GROUP = 4

#: The levels of the tree (the unit's register, then the group's): the lanes' delay.
LEVELS = 2
if TIMING.lane_delay != LEVELS:
    raise AssertionError(f"The cycle model puts the lanes {TIMING.lane_delay} cycles behind "
                         f"the core, but the relay tree has {LEVELS} levels; change "
                         "FanOut to match.")
if VECTOR_HOST_LATENCY != LEVELS + 2:
    raise AssertionError(f"VECTOR_HOST_LATENCY is {VECTOR_HOST_LATENCY}, but the host relay "
                         f"tree ({LEVELS}), the memory read (1) and the group read register "
                         f"(1) take {LEVELS + 2} cycles.")


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


class HostGroups:
    """A host port (:class:`~..rtl.signatures.HostMemorySignature` with latency
    :data:`~..rtl.signatures.VECTOR_HOST_LATENCY`, driven by the host router) of a memory
    spread over the groups of :data:`GROUP` lanes: word ``a`` is lanes ``2k`` and
    ``2k + 1`` at index ``a // (lanes/2)`` (a row or lane-memory element),
    ``k = a % (lanes/2)``, so group ``g`` holds the :attr:`group_words` words with
    ``k // group_words == g``.

    Built in ``m``: ``addr``, ``wdata`` and ``we`` are added to ``fan`` (the unit's
    :class:`FanOut`, whose relays they share: separate host trees, with kept relay
    modules of their own, left the core tree's relay outputs with conflicting drivers
    after Yosys synthesis of the 32-lane build, cause not found), values named
    ``{name}_*``. Per group ``g``: :attr:`index` ``[g]`` (the row or element),
    :attr:`wdata` ``[g]`` (32) and :attr:`we` ``[g]`` (one write enable per word of the
    group, word ``j`` is lanes ``GROUP g + 2j`` and ``+ 1``), all :data:`LEVELS` cycles
    after the port's, and :attr:`word` ``[g]`` (the word ``j`` addressed within the
    group, for reads). The owner drives its memories' host ports with them and either
    passes their read data (latency 1, the group's lanes concatenated) to :meth:`read`,
    which registers the addressed word per group, or registers the addressed word per
    group itself and passes those to :meth:`select`; :meth:`select` chooses the group
    for ``host.rdata``."""

    def __init__(self, m, host, fan: FanOut, name: str):
        lanes = fan.lanes
        if lanes % GROUP:
            raise ValueError(f"{lanes} lanes do not split into groups of {GROUP}.")
        self.m, self.host, self.name = m, host, name
        self.group_words = GROUP // 2
        self.groups = lanes // GROUP
        self.word_bits = (lanes // 2 - 1).bit_length()          # word within a row
        self.local_bits = (self.group_words - 1).bit_length()   # word within a group
        addrs = fan.add(host.addr, len(host.addr), f"{name}_addr")
        wdatas = fan.add(host.wdata, 32, f"{name}_wdata")
        wes = fan.add(host.we, 1, f"{name}_we")
        self.index, self.wdata, self.we, self.word = [], [], [], []
        for g in range(self.groups):
            first = g * GROUP
            addr, word = addrs[first], addrs[first][:self.word_bits]
            self.index.append(addr[self.word_bits:])
            self.wdata.append(wdatas[first])
            self.we.append(Cat(wes[first] & (word == g * self.group_words + j)
                               for j in range(self.group_words)))
            self.word.append(word[:self.local_bits])

    def read(self, group_rdata) -> None:
        """Drive ``host.rdata`` from ``group_rdata[g]`` (group ``g``'s memories' read
        data, ``16 * GROUP`` bits, latency 1 after :attr:`index`): the addressed word of
        each group is registered here, then :meth:`select` chooses the group."""
        m = self.m
        registered = []
        for g, data in enumerate(group_rdata):
            local_q = Signal(max(1, self.local_bits), name=f"{self.name}_word{g}_q")
            m.d.sync += local_q.eq(self.word[g])               # the memory's latency
            q = Signal(32, name=f"{self.name}_rdata{g}")
            m.d.sync += q.eq(Value.cast(data).word_select(local_q, 32)
                             if self.local_bits else Value.cast(data)[:32])
            registered.append(q)
        self.select(registered)

    def select(self, registered) -> None:
        """Drive ``host.rdata`` from ``registered[g]`` (32 bits: group ``g``'s word
        :attr:`word` ``[g]`` of :attr:`index` ``[g]``, 2 cycles after them: the memory's
        read and a register), choosing the addressed group."""
        m, host = self.m, self.host
        if len(registered) != self.groups:
            raise ValueError(f"HostGroups {self.name}: {len(registered)} read words for "
                             f"{self.groups} groups.")
        group = delayed(m, host.addr[self.local_bits:self.word_bits], VECTOR_HOST_LATENCY,
                        f"{self.name}_group")
        m.d.comb += host.rdata.eq(Cat(*registered).word_select(group, 32)
                                  if self.groups > 1 else registered[0])
