"""The scalar execute unit: RV32I arithmetic, the single-cycle Zbb subset, branch conditions.

The unit is purely combinational (zero latency): the core places it in the EX stage and
drives it from registers decoded one stage earlier. Instead of an :data:`Op`, it takes an
:data:`ALU_CONTROL` struct of one-hot flags (:data:`ALU_FLAGS` says, by mnemonic, which
instructions raise which flag; the core has the :class:`Decoder` produce them in ID), so
the result is an AND-OR of a few unit outputs rather than a multiplexer over every op.

Not computed here: ``mul`` (the :class:`Multiplier`), ``clz``/``ctz``/``cpop`` (timing
class ``count``: the core computes them after EX with :func:`count_unit`, from ``a``,
which this unit passes through as ``a + 0``), loads and stores (the load/store unit), the
values the core precomputes in ID (``lui``/``auipc`` results and link addresses, given as
``const``) and CSR reads (given as ``csr_value``).
"""
from __future__ import annotations

from amaranth.hdl import Cat, Const, Module, Mux, Signal
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

__all__ = ["Alu", "ALU_FLAGS", "ALU_CONTROL", "count_leading_zeros", "population_count",
           "count_unit", "count_partials", "count_combine", "COUNT_PARTIALS", "COUNT_OPS"]

XLEN = 32

_BRANCHES = ("beq", "bne", "blt", "bge", "bltu", "bgeu")
_CSRS = ("csrrw", "csrrs", "csrrc", "csrrwi", "csrrsi", "csrrci")
COUNT_OPS = ("clz", "ctz", "cpop")

#: Control flags of the ALU, by mnemonic. ``sel_*`` flags are one-hot result selects
#: (an instruction with none gives 0); the others modify a unit.
ALU_FLAGS = {
    # adder: a + op2 or a - op2 (the count ops pass a through: their op2 is 0)
    "sel_add": ("add", "addi", "sub") + COUNT_OPS,
    "sel_lt": ("slt", "slti", "sltu", "sltiu"),
    "sel_minmax": ("min", "max", "minu", "maxu"),
    "sel_and": ("and", "andi"),
    "sel_or": ("or", "ori"),
    "sel_xor": ("xor", "xori"),
    "sel_shl": ("sll", "slli"),
    "sel_shr": ("srl", "srli", "sra", "srai"),
    "sel_sext": ("sext.b", "sext.h"),
    "sel_const": ("lui", "auipc", "jal", "jalr"),
    "sel_csr": _CSRS,
    "sel_product": ("mul",),
    "sub": ("sub", "slt", "slti", "sltu", "sltiu", "min", "max", "minu", "maxu"),
    "signed": ("slt", "slti", "min", "max"),
    "arith": ("sra", "srai"),
    "max": ("max", "maxu"),
    "half": ("sext.h",),
    # branch condition: (a == b if eq else a < b) ^ negate; unsigned: a <u b
    "cond_eq": ("beq", "bne"),
    "cond_negate": ("bne", "bge", "bgeu"),
    "cond_unsigned": ("bltu", "bgeu"),
}

ALU_CONTROL = data.StructLayout({name: 1 for name in ALU_FLAGS})


def count_leading_zeros(value):
    """Leading zeros of ``value`` (a power-of-two width) as a balanced tree.

    Returns ``(all_zero, count)`` where ``count`` has ``log2(width) + 1`` bits and equals
    the width when ``value`` is zero."""
    width = len(value)
    if width == 1:
        return ~value[0], ~value[0]
    half = width // 2
    hi_zero, hi_count = count_leading_zeros(value[half:])
    lo_zero, lo_count = count_leading_zeros(value[:half])
    count = Mux(hi_zero, Const(half, len(hi_count) + 1) + lo_count, hi_count)
    return hi_zero & lo_zero, count[:len(hi_count) + 1]


def population_count(value):
    """Number of set bits of ``value`` as a balanced adder tree."""
    terms = [value[i] for i in range(len(value))]
    while len(terms) > 1:
        pairs = [terms[i] + terms[i + 1] for i in range(0, len(terms) - 1, 2)]
        terms = pairs + ([terms[-1]] if len(terms) % 2 else [])
    return terms[0]


def count_unit(value, clz, ctz):
    """``clz``/``ctz``/``cpop`` of ``value`` (32 bits): clz if ``clz``, ctz if ``ctz``,
    else cpop (combinational expression, zero-extended to 32 bits by the caller)."""
    return count_combine(count_partials(value), clz, ctz)


#: Per-byte partial counts of a 32-bit value (see :func:`count_partials`).
COUNT_PARTIALS = data.StructLayout({
    "zero": 4,                                   # byte k is zero
    "leading": data.ArrayLayout(4, 4),           # clz of byte k (0..8)
    "trailing": data.ArrayLayout(4, 4),          # ctz of byte k (0..8)
    "ones": data.ArrayLayout(4, 4),              # cpop of byte k (0..8)
})


def count_partials(value):
    """The :data:`COUNT_PARTIALS` of ``value`` (32 bits): functions of one byte each, so
    shallow; a pipeline registers them and finishes with :func:`count_combine`."""
    fields = {"zero": [], "leading": [], "trailing": [], "ones": []}
    for k in range(4):
        byte = value[8 * k:8 * k + 8]
        fields["zero"].append(~byte.any())
        fields["leading"].append(count_leading_zeros(byte)[1])
        fields["trailing"].append(count_leading_zeros(byte[::-1])[1])
        fields["ones"].append(population_count(byte))
    return Cat(Cat(*fields["zero"]), *(Cat(*(v[:4] for v in fields[name]))
                                       for name in ("leading", "trailing", "ones")))


def count_combine(partials, clz, ctz):
    """``clz``/``ctz``/``cpop`` (as :func:`count_unit`) from registered
    :data:`COUNT_PARTIALS`: two levels of byte priority and a four-term sum."""
    p = data.View(COUNT_PARTIALS, partials)

    def first_nonzero(order, counts):
        # bytes in ``order`` (most significant first for clz, least for ctz)
        def pair(i, j):
            return (p.zero[i] & p.zero[j],
                    Mux(p.zero[i], Const(8, 5) + counts[j], counts[i]))
        (zero_a, count_a), (_, count_b) = pair(*order[:2]), pair(*order[2:])
        return Mux(zero_a, Const(16, 6) + count_b, count_a)

    leading = first_nonzero((3, 2, 1, 0), p.leading)
    trailing = first_nonzero((0, 1, 2, 3), p.trailing)
    ones = (p.ones[0] + p.ones[1]) + (p.ones[2] + p.ones[3])
    return Mux(clz, leading, Mux(ctz, trailing, ones))


class Alu(wiring.Component):
    """Combinational scalar execute unit.

    Ports:

    * ``ctrl`` (in, :data:`ALU_CONTROL`): the flags of the instruction in EX;
    * ``a``, ``b`` (in, 32): ``x[rs1]`` and ``x[rs2]`` (after forwarding), the operands
      of the branch condition; ``op2`` (in, 32): the second operand of the arithmetic
      (``b`` or the immediate, the shift amount in its low 5 bits);
    * ``const`` (in, 32): the result of ``sel_const`` instructions; ``csr_value`` (in,
      32): of ``sel_csr`` ones; ``product`` (in, 32): of ``sel_product`` ones;
    * ``result`` (out, 32): the OR of the selected unit outputs;
    * ``sum`` (out, 32): ``a + op2`` (``a - op2`` with ``sub``), e.g. the ``jalr`` target;
    * ``taken`` (out): the branch condition (meaningful for branches only).
    """

    def __init__(self):
        super().__init__({
            "ctrl": In(ALU_CONTROL),
            "a": In(XLEN), "b": In(XLEN), "op2": In(XLEN),
            "const": In(XLEN), "csr_value": In(XLEN), "product": In(XLEN),
            "result": Out(XLEN), "sum": Out(XLEN), "taken": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        c, a, b, op2 = self.ctrl, self.a, self.b, self.op2

        # One carry chain for add/sub and the slt/min/max comparison: operands extended
        # to 33 bits (sign or zero), the carry-in for a subtraction entering as bit 0.
        sub = c.sub
        a33 = Cat(a, a[-1] & c.signed)
        b33 = Cat(op2, op2[-1] & c.signed) ^ sub.replicate(XLEN + 1)
        total = (Cat(sub, a33) + Cat(sub, b33))[1:XLEN + 2]
        lt = total[XLEN]
        m.d.comb += self.sum.eq(total[:XLEN])

        amount = op2[:5]
        shl = (a << amount)[:XLEN]
        shr = (Cat(a, a[-1] & c.arith).as_signed() >> amount)[:XLEN]
        sext = Mux(c.half, a[:16].as_signed(), a[:8].as_signed())
        minmax = Mux(lt ^ c.max, a, op2)

        def gate(flag, value):
            """``value`` (extended to 32 bits by its signedness) if ``flag``, else 0."""
            wide = Signal(XLEN)
            m.d.comb += wide.eq(value)
            return flag.replicate(XLEN) & wide

        terms = [gate(c.sel_add, total[:XLEN]), gate(c.sel_lt, lt),
                 gate(c.sel_minmax, minmax), gate(c.sel_and, a & op2),
                 gate(c.sel_or, a | op2), gate(c.sel_xor, a ^ op2),
                 gate(c.sel_shl, shl), gate(c.sel_shr, shr),
                 gate(c.sel_sext, sext), gate(c.sel_const, self.const),
                 gate(c.sel_csr, self.csr_value), gate(c.sel_product, self.product)]
        result = terms[0]
        for term in terms[1:]:
            result = result | term
        m.d.comb += self.result.eq(result)

        # Branch condition: its own comparator on a and b (not the shared chain above).
        unsigned = c.cond_unsigned
        blt = (Cat(a, a[-1] & ~unsigned) - Cat(b, b[-1] & ~unsigned))[XLEN]
        m.d.comb += self.taken.eq(Mux(c.cond_eq, a == b, blt) ^ c.cond_negate)
        return m
