"""HostGroup: the host's access to the memories of one relay group of lanes.

At 32 lanes the vector memory's columns and the lane memories cover most of an
ECP5-85F. When the host router's address and data registers drove every one of their
block RAMs directly, and one multiplexer gathered all their read words, the host port
was the critical path of every 32-lane build (ce3f774: 52.78 MHz; a lane memory's read
port, then 18.9 ns to the router's read register; ee0e28e: the router's address register,
then 17.9 ns of routing to a far lane memory). So the host's vector- and lane-memory
accesses pass one register per group of :data:`~.relay.GROUP` lanes on the way in and
one on the way out, like the vector unit's control (:mod:`.relay`): each hop has a whole
clock period, and the long nets start and end at flip-flops.

A group is the vector memory's column ``g`` (:class:`~.vector_memory.VectorMemory`,
two host words per row), the lane memories of lanes ``4g`` to ``4g + 3`` (two host
words per element: lanes ``4g, 4g+1`` and ``4g+2, 4g+3``) and those lanes' part of the
vector register file (two host words per register). Both spaces split a host word
address the same way (:mod:`spikevec.hw.rtl.host_bus`): the lowest bit is the word in
the group, the next ``log2(groups)`` bits the group, the rest the row or element. A
group's request carries each space's address without the group bits (``vmem_addr``:
the column's word address; ``lmem_addr``, ``vreg_addr``: element or register, and pair), one ``wdata`` (the writing
space's) and each space's write enable, already limited to the group.

Contract (``t``: the cycle ``req`` holds a request; ``req`` need not be held):

* ``t+1``: the group's copy of the request drives its memories' host ports: the column
  (``vmem``, :class:`~spikevec.hw.rtl.signatures.HostMemorySignature`, latency 1) and
  the lanes (``lmem_addr``; ``lmem_wdata``: the low half for
  the even lane of a pair, the high half for the odd one; ``lmem_we[k]``: write pair
  ``k``), written at the end of ``t+1``;
* ``t+1``, vector registers: ``vreg_reg`` (the register) and ``vreg_we[k]`` (write pair
  ``k`` with ``lmem_wdata``) go to the register file, which copies them into every lane
  (:class:`~.vector_register_file.VectorRegisterFile`: it writes at the end of ``t+2``
  and shows the register on ``vreg_rdata_in`` in ``t+2``);
* ``t+3``: ``vmem_rdata``, ``lmem_rdata`` and ``vreg_rdata`` (registers) hold the words
  that the request of ``t`` read (``lmem_rdata_in``: the group's lane memories' read
  data, latency 1; ``vreg_rdata_in``: the group's lanes of the register file's port A;
  pair ``k`` in bits ``32k`` up). So the read latency is :data:`HOST_LATENCY`.

In a board build every group is an instance of one kept module (``spikevec_host_group``,
see :mod:`spikevec.hw.rtl.shared_module`) so that Yosys does not merge the groups'
request registers, which have the same inputs, back into one.
"""
from amaranth.hdl import Cat, Module, Mux, Signal
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from ..config import CoreConfig
from ..rtl.delay import delayed
from ..rtl.signatures import HostMemorySignature
from .relay import GROUP
from .vector_register_file import REGISTERS

__all__ = ["HostGroup", "HOST_LATENCY", "request_layout", "connect_host_groups"]

#: Read latency of the vector unit's ``vmem_host`` and ``lmem_host`` ports: the group's
#: request register, the block RAM, the group's read register.
HOST_LATENCY = 3

#: Host words per group and row (or element) in either space: one per pair of lanes.
WORDS = GROUP // 2
assert WORDS == 2, "HostGroup selects a group's word with one address bit."


def request_layout(config: CoreConfig) -> data.StructLayout:
    """A request as the vector unit sends it to one group (see the module docstring)."""
    return data.StructLayout({
        "vmem_addr": range(config.vmem_vectors * WORDS),
        "lmem_addr": range(config.lane_mem_elements * WORDS),
        "vreg_addr": range(REGISTERS * WORDS),
        "wdata": 32, "vmem_we": 1, "lmem_we": 1, "vreg_we": 1,
    })


class HostGroup(wiring.Component):
    """The host path of one group of a core with ``config`` (see the module docstring).

    Ports: ``req`` (in, :func:`request_layout`); ``vmem`` (``In(HostMemorySignature)``:
    drives the column's host port); ``lmem_addr`` (out), ``lmem_wdata`` (out, 32),
    ``lmem_we`` (out, one bit per pair), ``lmem_rdata_in`` (in, ``32 * WORDS``);
    ``vmem_rdata``, ``lmem_rdata`` (out, 32, registers).
    """

    def __init__(self, config: CoreConfig):
        self.config = config
        super().__init__({
            "req": In(request_layout(config)),
            "vmem": In(HostMemorySignature(config.vmem_vectors * WORDS)),
            "lmem_addr": Out(range(config.lane_mem_elements)), "lmem_wdata": Out(32),
            "lmem_we": Out(WORDS), "lmem_rdata_in": In(32 * WORDS),
            "vreg_reg": Out(range(REGISTERS)), "vreg_we": Out(WORDS),
            "vreg_rdata_in": In(32 * WORDS),
            "vmem_rdata": Out(32), "lmem_rdata": Out(32), "vreg_rdata": Out(32),
        })

    def elaborate(self, platform):
        m = Module()
        q = Signal.like(self.req, name="req_q")
        pair, pair_q = q.lmem_addr[:1], Signal(1, name="pair_q")
        m.d.sync += [q.eq(self.req), pair_q.eq(pair)]
        m.d.comb += [
            self.vmem.addr.eq(q.vmem_addr), self.vmem.wdata.eq(q.wdata),
            self.vmem.we.eq(q.vmem_we),
            self.lmem_addr.eq(q.lmem_addr[1:]), self.lmem_wdata.eq(q.wdata),
        ]
        vpair, vpair_q = q.vreg_addr[:1], Signal(1, name="vreg_pair_q")
        m.d.sync += vpair_q.eq(vpair)
        m.d.comb += self.vreg_reg.eq(q.vreg_addr[1:])
        for k in range(WORDS):
            m.d.comb += [self.lmem_we[k].eq(q.lmem_we & (pair == k)),
                         self.vreg_we[k].eq(q.vreg_we & (vpair == k))]
        m.d.sync += [self.vmem_rdata.eq(self.vmem.rdata),
                     self.lmem_rdata.eq(self.lmem_rdata_in.word_select(pair_q, 32)),
                     self.vreg_rdata.eq(self.vreg_rdata_in.word_select(vpair_q, 32))]
        return m


def connect_host_groups(m, unit, shared):
    """Add one :class:`HostGroup` per group of :data:`GROUP` lanes to ``m`` and wire the
    host ports of the vector unit ``unit`` (``vmem_host``, ``lmem_host``, ``vreg_host``)
    through them to its memories, lanes and register file; ``shared``: the build's
    :func:`~spikevec.hw.rtl.shared_module.shared_modules` (None: elaborate each group).
    Every space's word address ``a``: bit 0 the word in the group, then the group, then
    the row, element or register."""
    cfg, rf = unit.config, unit.regfile
    ports = {"vmem": unit.vmem_host, "lmem": unit.lmem_host, "vreg": unit.vreg_host}
    group_bits = (cfg.lanes // GROUP - 1).bit_length()
    groups = slice(1, 1 + group_bits)
    # The write data of the space that writes (the router writes one at a time).
    lh, rh, vh = ports["lmem"], ports["vreg"], ports["vmem"]
    wdata = Mux(lh.we, lh.wdata, Mux(rh.we, rh.wdata, vh.wdata))
    # Each space's read word comes from the group its address named HOST_LATENCY ago.
    read_group = {space: delayed(m, port.addr[groups], HOST_LATENCY, f"host_{space}_group")
                  for space, port in ports.items()}
    words = {space: [] for space in ports}
    for g in range(cfg.lanes // GROUP):
        group = HostGroup(cfg)
        m.submodules[f"host_group{g}"] = group if shared is None else shared.instance(
            group, "spikevec_host_group", cfg.fingerprint())
        m.d.comb += group.req.wdata.eq(wdata)
        for space, port in ports.items():
            m.d.comb += [
                getattr(group.req, f"{space}_addr").eq(Cat(port.addr[0],
                                                           port.addr[1 + group_bits:])),
                getattr(group.req, f"{space}_we").eq(port.we & (port.addr[groups] == g)),
            ]
            words[space].append(getattr(group, f"{space}_rdata"))
        m.d.comb += rf.host_reg[g].eq(group.vreg_reg)
        wiring.connect(m, group.vmem, unit.vmem.host[g])
        lanes = unit.lanes[GROUP * g:GROUP * (g + 1)]
        for k, lane in enumerate(lanes):
            i = GROUP * g + k
            half = group.lmem_wdata.word_select(k % 2, 16)
            m.d.comb += [lane.host_addr.eq(group.lmem_addr), lane.host_wdata.eq(half),
                         lane.host_we.eq(group.lmem_we[k // 2]),
                         rf.host_we[i].eq(group.vreg_we[k // 2]), rf.host_wdata[i].eq(half)]
        m.d.comb += [
            group.lmem_rdata_in.eq(Cat(lane.host_rdata for lane in lanes)),
            group.vreg_rdata_in.eq(rf.rdata_a[16 * GROUP * g:16 * GROUP * (g + 1)]),
        ]
    for space, port in ports.items():
        m.d.comb += port.rdata.eq(Cat(*words[space]).word_select(read_group[space], 32))
