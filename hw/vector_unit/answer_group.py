"""AnswerGroup: one relay group's share of a ``vt*``/``vextract`` result.

The scalar result of ``vt*`` (one flag per lane) and ``vextract`` (one lane's ``a``)
comes from the lanes' registered answers (:class:`~.vector_lane.Answer`). At 32 lanes
those registers are spread over the whole ECP5-85F, and when the unit's ``x_result``
register chose among all of them directly, the lane-number register that drove that
32-way multiplexer was the critical path of the 9d48b5e build (9.8 ns of routing on one
net, 18.6 ns in all, 53.74 MHz). So each relay group of :data:`~.relay.GROUP` lanes
reduces its lanes' answers first, next to them, into one register: its lanes' flags and
the chosen lane's ``a`` (or 0 when the chosen lane is in another group). The unit's
``x_result`` then ORs the groups' words together, one register later: the VTOX latency
is ``lane_delay + 3`` (:func:`~.table_checks.check_table` holds the table to it).

Contract (``u``: the cycle the group's lanes hold the instruction in their EX stage):

* ``lane_select`` (in, ``log2(lanes)`` bits): ``vextract``'s lane number, taken from the
  group's own decoder in ``u - 1`` (the cycle the lanes load their EX control), so no
  net from the unit's centre selects among the lanes;
* ``a`` (in, ``16 * GROUP``), ``flags`` (in, ``GROUP``): the group's lanes' answers, due
  in ``u + 1`` (lane ``k`` of the group in bits ``16k`` up, bit ``k``);
* ``value`` (out, 16) and ``flags_q`` (out, ``GROUP``), registers, due in ``u + 2``:
  ``a`` of the chosen lane if it is in this group, else 0; the flags as they came.
"""
from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from .relay import GROUP

__all__ = ["AnswerGroup"]


class AnswerGroup(wiring.Component):
    """The answer register of group ``index`` in a unit of ``lanes`` lanes (module
    docstring)."""

    def __init__(self, lanes: int, index: int):
        if lanes % GROUP or not 0 <= index < lanes // GROUP:
            self._MustUse__silence = True     # no "never used" warning for a refused one
            raise ValueError(f"Answer group {index} does not exist in a unit of {lanes} "
                             f"lanes (groups of {GROUP}); use 0 to {lanes // GROUP - 1}.")
        self.lanes, self.index = lanes, index
        super().__init__({
            "lane_select": In(max(1, (lanes - 1).bit_length())),
            "a": In(16 * GROUP), "flags": In(GROUP),
            "value": Out(16), "flags_q": Out(GROUP),
        })

    def elaborate(self, platform):
        m = Module()
        group_bits = (GROUP - 1).bit_length()
        # The lane number follows the instruction: loaded with the lanes' EX control
        # (``u``), then once more to meet their answers (``u + 1``).
        in_ex = Signal.like(self.lane_select, name="lane_select_ex")
        at_answer = Signal.like(self.lane_select, name="lane_select_answer")
        m.d.sync += [in_ex.eq(self.lane_select), at_answer.eq(in_ex)]
        mine = at_answer[group_bits:] == self.index
        chosen = self.a.word_select(at_answer[:group_bits], 16)
        m.d.sync += [self.value.eq(Mux(mine, chosen, 0)), self.flags_q.eq(self.flags)]
        return m
