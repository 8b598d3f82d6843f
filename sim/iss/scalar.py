"""Scalar semantics (RV32I, MUL, Zbb subset, read-only counter CSRs) as numba helpers.

:mod:`.kernel` dispatches scalar instructions on their timing class from the table (alu,
branch, jump, load/store, system) to the helpers here: :func:`alu`, :func:`branch_taken`
and :func:`jump_target` take and return plain integers (unsigned 32-bit register values
as int64; the kernel masks results to 32 bits and never writes x0), so the hot path
passes no arrays; :func:`exec_memory` does loads and stores on the ``uint8`` little-endian
scalar data memory ``dmem``.

Contract of :func:`exec_memory`: returns 0 when the access completed, else
``EXIT_LOAD_FAULT``/``EXIT_STORE_FAULT`` with nothing written and ``st[S_FAULT_ADDR]``,
``st[S_FAULT_DETAIL]`` saying why; stores leave their address in ``aux[A_ADDR]`` for the
trace.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from .ops import (A_ADDR, CSR_CYCLE, CSR_CYCLEH, CSR_INSTRET,
                  CSR_INSTRETH, EXIT_EBREAK, EXIT_ECALL, EXIT_LOAD_FAULT, EXIT_STORE_FAULT,
                  FD_MISALIGNED, FD_RANGE, MASK32, S_FAULT_ADDR, S_FAULT_DETAIL)
from .ops import (OP_LUI, OP_AUIPC, OP_JAL, OP_JALR, OP_BEQ, OP_BNE, OP_BLT, OP_BGE,
                  OP_BLTU, OP_BGEU, OP_LB, OP_LH, OP_LW, OP_LBU, OP_LHU, OP_SB, OP_SH,
                  OP_SW, OP_ADDI, OP_SLTI, OP_SLTIU, OP_XORI, OP_ORI, OP_ANDI, OP_SLLI,
                  OP_SRLI, OP_SRAI, OP_ADD, OP_SUB, OP_SLL, OP_SLT, OP_SLTU, OP_XOR,
                  OP_SRL, OP_SRA, OP_OR, OP_AND, OP_FENCE, OP_ECALL, OP_EBREAK, OP_CSRRS,
                  OP_CSRRC, OP_CSRRSI, OP_CSRRCI, OP_MUL, OP_CLZ, OP_CTZ, OP_CPOP,
                  OP_SEXT_B, OP_SEXT_H, OP_MIN, OP_MINU, OP_MAX, OP_MAXU)


@njit(cache=True)
def signed32(v):
    """The low 32 bits of ``v`` as a signed number."""
    v = v & MASK32
    return v - (1 << 32) if v & 0x80000000 else v


@njit(cache=True)
def mem_check(dmem, addr, size, st):
    """0 if a ``size``-byte access at ``addr`` is aligned and inside dmem, else record the
    fault in ``st`` and return nonzero."""
    if addr % size:
        st[S_FAULT_ADDR] = addr
        st[S_FAULT_DETAIL] = FD_MISALIGNED
        return 1
    if addr + size > dmem.shape[0]:
        st[S_FAULT_ADDR] = addr
        st[S_FAULT_DETAIL] = FD_RANGE
        return 1
    return 0


@njit(cache=True)
def mem_read(dmem, addr, size):
    value = np.int64(0)
    for b in range(size):
        value |= np.int64(dmem[addr + b]) << (8 * b)
    return value


@njit(cache=True)
def mem_write(dmem, addr, size, value):
    for b in range(size):
        dmem[addr + b] = (value >> (8 * b)) & 0xFF


@njit(cache=True)
def bit_count(v, op):
    """clz, ctz or cpop of the 32-bit value ``v`` (0 gives 32 for clz and ctz)."""
    n = 0
    if op == OP_CPOP:
        for b in range(32):
            n += (v >> b) & 1
        return n
    for b in range(32):
        bit = 31 - b if op == OP_CLZ else b
        if (v >> bit) & 1:
            break
        n += 1
    return n


@njit(cache=True)
def alu(op, a, b, imm, shamt, pc, cycles, instret):
    """Result of an ALU-class instruction (RV32I/M/Zbb arithmetic, lui, auipc, counter
    CSR reads) from unsigned operand values ``a``, ``b``; ``shamt`` is the rs2 field of
    the immediate shifts. Scalar arguments only: no arrays, so calls are cheap."""
    sa = signed32(a)
    sb = signed32(b)
    if op == OP_ADDI:
        return a + imm
    if op == OP_ADD:
        return a + b
    if op == OP_LUI:
        return imm << 12
    if op == OP_AUIPC:
        return pc + (imm << 12)
    if op == OP_SLTI:
        return 1 if sa < imm else 0
    if op == OP_SLTIU:
        return 1 if a < (imm & MASK32) else 0
    if op == OP_XORI:
        return a ^ (imm & MASK32)
    if op == OP_ORI:
        return a | (imm & MASK32)
    if op == OP_ANDI:
        return a & (imm & MASK32)
    if op == OP_SLLI or op == OP_SLL:
        return a << ((b if op == OP_SLL else shamt) & 31)
    if op == OP_SRLI or op == OP_SRL:
        return a >> ((b if op == OP_SRL else shamt) & 31)
    if op == OP_SRAI or op == OP_SRA:
        return sa >> ((b if op == OP_SRA else shamt) & 31)
    if op == OP_SUB:
        return a - b
    if op == OP_SLT:
        return 1 if sa < sb else 0
    if op == OP_SLTU:
        return 1 if a < b else 0
    if op == OP_XOR:
        return a ^ b
    if op == OP_OR:
        return a | b
    if op == OP_AND:
        return a & b
    if op == OP_MUL:
        # Low 32 bits of the product without int64 overflow: split a into 16-bit halves.
        return ((a & 0xFFFF) * b + ((((a >> 16) * b) & 0xFFFF) << 16)) & MASK32
    if op == OP_CLZ or op == OP_CTZ or op == OP_CPOP:
        return bit_count(a, op)
    if op == OP_SEXT_B:
        return (a & 0xFF) - ((a & 0x80) << 1)
    if op == OP_SEXT_H:
        return (a & 0xFFFF) - ((a & 0x8000) << 1)
    if op == OP_MIN:
        return sa if sa < sb else sb
    if op == OP_MAX:
        return sa if sa > sb else sb
    if op == OP_MINU:
        return a if a < b else b
    if op == OP_MAXU:
        return a if a > b else b
    if op == OP_CSRRS or op == OP_CSRRC or op == OP_CSRRSI or op == OP_CSRRCI:
        # Pre-decoding admits only the reading forms of the four counters.
        if imm == CSR_CYCLE:
            return cycles & MASK32
        if imm == CSR_CYCLEH:
            return cycles >> 32
        if imm == CSR_INSTRET:
            return instret & MASK32
        if imm == CSR_INSTRETH:
            return instret >> 32
    return 0                                 # fence


@njit(cache=True)
def branch_taken(op, a, b):
    """The condition of a conditional branch on unsigned operand values."""
    if op == OP_BEQ:
        return a == b
    if op == OP_BNE:
        return a != b
    if op == OP_BLT:
        return signed32(a) < signed32(b)
    if op == OP_BGE:
        return signed32(a) >= signed32(b)
    if op == OP_BLTU:
        return a < b
    return a >= b                            # OP_BGEU


@njit(cache=True)
def jump_target(op, pc, a, imm):
    """Target of jal (pc-relative) or jalr ((x[rs1] + imm) with bit 0 cleared)."""
    if op == OP_JAL:
        return pc + imm
    return (a + imm) & (MASK32 - 1)


@njit(cache=True)
def exec_memory(op, x, rd, a, b, imm, dmem, st, aux):
    """A scalar load or store. Returns 0, or EXIT_LOAD_FAULT/EXIT_STORE_FAULT with nothing
    written. Stores leave their address in ``aux[A_ADDR]``."""
    addr = (a + imm) & MASK32
    if op == OP_SB or op == OP_SH or op == OP_SW:
        size = 4 if op == OP_SW else (2 if op == OP_SH else 1)
        if mem_check(dmem, addr, size, st):
            return EXIT_STORE_FAULT
        mem_write(dmem, addr, size, b)
        aux[A_ADDR] = addr
        return 0
    size = 4 if op == OP_LW else (2 if op == OP_LH or op == OP_LHU else 1)
    if mem_check(dmem, addr, size, st):
        return EXIT_LOAD_FAULT
    value = mem_read(dmem, addr, size)
    if op == OP_LB and value & 0x80:
        value -= 0x100
    elif op == OP_LH and value & 0x8000:
        value -= 0x10000
    if rd != 0:
        x[rd] = value & MASK32
    return 0


@njit(cache=True)
def system(op):
    """ecall and ebreak stop the program after retiring."""
    return EXIT_ECALL if op == OP_ECALL else EXIT_EBREAK
