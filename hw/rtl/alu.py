"""The scalar execute unit: RV32I arithmetic, MUL (low word), the Zbb subset, branches.

Operations are selected by :data:`~spikevec.hw.rtl.enums.Op` members looked up by mnemonic,
never by opcode numbers. The unit is purely combinational (zero latency): the core places
it in the EX stage.
"""
from __future__ import annotations

from amaranth.hdl import Cat, Const, Module, Mux, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from .enums import Op, op_of

__all__ = ["Alu", "count_leading_zeros", "population_count"]

XLEN = 32


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


class Alu(wiring.Component):
    """Combinational scalar execute unit.

    Ports:

    * ``op`` (in, :data:`Op`): the instruction in EX;
    * ``a``, ``b`` (in, 32): the values of ``x[rs1]`` and ``x[rs2]`` (after forwarding);
    * ``imm`` (in, signed 32): the decoder's immediate; ``shamt`` (in, 5): the ``rs2``
      field, the shift amount of ``slli``/``srli``/``srai`` and the Zbb function code;
    * ``pc`` (in, 32): the address of the instruction; ``csr_value`` (in, 32): the value of
      the CSR the instruction reads (the core selects it); ``product`` (in, 32): the
      :class:`Multiplier` output, the result of ``mul`` when the multiplier has no latency;
    * ``result`` (out, 32): the value written to ``x[rd]`` (``pc + 4`` for jumps);
    * ``taken`` (out): the instruction changes the pc (a taken branch, or any jump);
    * ``target`` (out, 32): the new pc when ``taken`` (``jalr`` clears bit 0);
      ``target_plus_4`` (out, 32): ``target + 4``, from a parallel adder (the fetch
      address after the target, without a second carry chain in series).

    Operations absent from this unit (loads, stores, vector instructions, system) give
    ``result = 0`` and ``taken = 0``.
    """

    def __init__(self):
        super().__init__({
            "op": In(Op),
            "a": In(XLEN),
            "b": In(XLEN),
            "imm": In(signed(XLEN)),
            "shamt": In(5),
            "pc": In(XLEN),
            "csr_value": In(XLEN),
            "product": In(XLEN),
            "result": Out(XLEN),
            "taken": Out(1),
            "target": Out(XLEN),
            "target_plus_4": Out(XLEN),
        })

    def elaborate(self, platform):
        m = Module()
        a, b, imm = self.a, self.b, self.imm
        sa, sb, simm = a.as_signed(), b.as_signed(), imm.as_signed()
        link = (self.pc + 4)[:XLEN]

        def shifts(amount):
            return {"sll": (a << amount)[:XLEN], "srl": a >> amount,
                    "sra": (sa >> amount).as_unsigned()}

        reg_shift = shifts(b[:5])
        imm_shift = shifts(self.shamt)
        _, clz = count_leading_zeros(a)
        _, ctz = count_leading_zeros(a[::-1])
        results = {
            "lui": imm.as_unsigned(),
            "auipc": (self.pc + imm.as_unsigned())[:XLEN],
            "jal": link, "jalr": link,
            "addi": (a + imm.as_unsigned())[:XLEN],
            "slti": sa < simm,
            "sltiu": a < imm.as_unsigned(),
            "xori": a ^ imm.as_unsigned(),
            "ori": a | imm.as_unsigned(),
            "andi": a & imm.as_unsigned(),
            "slli": imm_shift["sll"], "srli": imm_shift["srl"], "srai": imm_shift["sra"],
            "add": (a + b)[:XLEN],
            "sub": (a - b)[:XLEN],
            "sll": reg_shift["sll"], "srl": reg_shift["srl"], "sra": reg_shift["sra"],
            "slt": sa < sb,
            "sltu": a < b,
            "xor": a ^ b, "or": a | b, "and": a & b,
            "mul": self.product,
            "clz": clz, "ctz": ctz, "cpop": population_count(a),
            "sext.b": a[:8].as_signed(), "sext.h": a[:16].as_signed(),
            "min": Mux(sa < sb, a, b), "max": Mux(sa < sb, b, a),
            "minu": Mux(a < b, a, b), "maxu": Mux(a < b, b, a),
            "csrrw": self.csr_value, "csrrs": self.csr_value, "csrrc": self.csr_value,
            "csrrwi": self.csr_value, "csrrsi": self.csr_value, "csrrci": self.csr_value,
        }
        with m.Switch(self.op):
            for name, value in results.items():
                with m.Case(op_of(name)):
                    m.d.comb += self.result.eq(value)

        conditions = {"beq": a == b, "bne": a != b, "blt": sa < sb, "bge": sa >= sb,
                      "bltu": a < b, "bgeu": a >= b, "jal": Const(1, 1), "jalr": Const(1, 1)}
        with m.Switch(self.op):
            for name, condition in conditions.items():
                with m.Case(op_of(name)):
                    m.d.comb += self.taken.eq(condition)

        base = Mux(self.op == op_of("jalr"), a, self.pc)
        target = (base + imm.as_unsigned())[:XLEN]
        target4 = (base + (imm + 4).as_unsigned())[:XLEN]
        keep_bit0 = self.op != op_of("jalr")
        m.d.comb += [self.target.eq(Cat(target[0] & keep_bit0, target[1:])),
                     self.target_plus_4.eq(Cat(target4[0] & keep_bit0, target4[1:]))]
        return m
