"""The interpreter loop: fetch, cycle model, dispatch, write-back trace.

:func:`run_kernel` runs pre-decoded code until the program stops, faults, reaches
``limit`` retired instructions or (when tracing) fills the trace buffer. All machine
state lives in the arrays passed in, so the Python driver (:mod:`.machine`) can resume
after ``EXIT_TRACE_FULL``/``EXIT_CHUNK`` with no loss.

Status array ``st`` (see ``S_*`` in :mod:`.ops`): pc, cycles, instret, exit code, fault
details, previous pc, the trace row count, the table fingerprint the kernel was compiled
with, and the scoreboard: for every register, the cycle at which it is ready.

Dispatch: scalar instructions by their timing class in the table (alu, branch, jump,
load/store, system) to the integer-only helpers of :mod:`.scalar`; lane-wise vector
register operations to :func:`.vector.exec_arith`; other vector instructions (memories,
masks, moves, seeding) to :func:`.vector.exec_vector`. Passing few arrays per call keeps
numba's reference counting off the hot path.

Cycle model (the table's ``TIMING``, a scoreboard): an instruction issues at the later of
the cycle counter (``f``, when the front end delivers it) and the ready cycle of each
register it reads; the counter then becomes ``issue + 1``, except for control transfers
(static prediction, see :class:`spikevec.hw.isa.CycleModel`): a taken backward branch
or ``jal`` gives ``max(issue + 1, f + 1 + PREDICTED_PENALTY)``; a taken forward branch,
a not-taken backward branch or ``jalr`` gives ``issue + 1 + MISPREDICT_PENALTY``. The
destination is ready ``latency`` cycles (of its timing class) after it issues. A CSR read of ``cycle`` gives the issue
cycle. Faulting and illegal instructions do not retire; at a fault (a load, store or
vector instruction refused for its address) the counter reads the faulting instruction's
issue cycle, so its operand waits count (illegal instructions and pc faults read no
registers: their issue cycle is ``f``); ``ecall``/``ebreak`` retire and leave pc on
themselves.

Trace rows (``T_*`` columns): kind, pc, instret, where, lane, size, value, lane values.
The kernel checks there is room for ``lanes + 2`` rows before each instruction.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from .ops import (A_ADDR, C_DEST, C_IMM, C_LATENCY, C_OP, C_WAIT, C_RD, C_ROUND, C_RS1, C_RS2,
                  C_SAT, C_SHIFT, C_SRC0, C_SRC1, C_SRC2, C_TIMING, C_VECTOR, C_WRITES,
                  EXIT_CHUNK, EXIT_EBREAK, EXIT_ECALL, EXIT_ILLEGAL, EXIT_PC_FAULT,
                  EXIT_TRACE_FULL, FINGERPRINT, MASK32, MISPREDICT_PENALTY, N_AUX, OP_JALR,
                  OP_SB, OP_SH, PREDICTED_PENALTY, S_CYCLES,
                  S_EXIT, S_FAULT_ADDR, S_FPRINT, S_INSTRET, S_PC, S_PREV_PC, S_READY,
                  S_TRACE_N, T_INSTRET, T_KIND, T_LANE, T_LANES, T_PC, T_SIZE, T_VALUE,
                  T_WHERE, TK_LMEM, TK_MEM, TK_RNG, TK_V, TK_VMEM, TK_X,
                  TM_ALU, TM_BRANCH, TM_COUNT, TM_JUMP, TM_MUL, TM_SYSTEM, VC_ARITH, VC_OTHER, W_LMEM,
                  W_RNG, W_V, W_VMEM, W_X, W_XMEM)
from .scalar import alu, branch_taken, exec_memory, jump_target, mem_read, system
from .vector import exec_arith, exec_vector


@njit(cache=True)
def trace_row(trace, n, kind, pc, instret, where, lane, size, value):
    trace[n, T_KIND] = kind
    trace[n, T_PC] = pc
    trace[n, T_INSTRET] = instret
    trace[n, T_WHERE] = where
    trace[n, T_LANE] = lane
    trace[n, T_SIZE] = size
    trace[n, T_VALUE] = value
    return n + 1


@njit(cache=True)
def record(trace, n, op, code, k, pc, instret, x, v, rng, dmem, vmem16, lmem, aux):
    """Append the architectural writes of the instruction just executed; return the new
    row count."""
    lanes = v.shape[1]
    w = code[k, C_WRITES]
    rd = code[k, C_RD]
    if w == W_X:
        if rd != 0:
            n = trace_row(trace, n, TK_X, pc, instret, rd, -1, 4, np.int64(x[rd]))
    elif w == W_V:
        trace[n, T_LANES:T_LANES + lanes] = v[rd]
        n = trace_row(trace, n, TK_V, pc, instret, rd, -1, 2 * lanes, 0)
    elif w == W_XMEM:
        addr = aux[A_ADDR]
        size = 1 if op == OP_SB else (2 if op == OP_SH else 4)
        n = trace_row(trace, n, TK_MEM, pc, instret, addr, -1, size,
                      mem_read(dmem, addr, size))
    elif w == W_VMEM:
        addr = aux[A_ADDR]
        trace[n, T_LANES:T_LANES + lanes] = vmem16[addr >> 1:(addr >> 1) + lanes]
        n = trace_row(trace, n, TK_VMEM, pc, instret, addr, -1, 2 * lanes, 0)
    elif w == W_LMEM:
        r1 = code[k, C_RS1]
        imm = code[k, C_IMM]
        for i in range(lanes):
            e = np.int64(v[r1, i]) + imm
            if e >= 0:
                n = trace_row(trace, n, TK_LMEM, pc, instret, e, i, 2, lmem[i, e])
    elif w == W_RNG:
        for half in range(2):
            trace[n, T_LANES:T_LANES + lanes] = rng[half]
            n = trace_row(trace, n, TK_RNG, pc, instret, half, -1, 2 * lanes, 0)
    return n


@njit(cache=True)
def run_kernel(code, x, v, rng, dmem, vmem16, vmem8, lmem, st, limit, trace, tracing):
    """Run until an exit condition; the exit code is left in ``st[S_EXIT]``."""
    st[S_FPRINT] = FINGERPRINT
    aux = np.zeros(N_AUX, dtype=np.int64)
    imem_bytes = 4 * code.shape[0]
    room = v.shape[1] + 2
    pc = st[S_PC]
    cycles = st[S_CYCLES]
    instret = st[S_INSTRET]
    prev_pc = st[S_PREV_PC]
    tn = st[S_TRACE_N]
    exit_code = 0
    while True:
        if instret >= limit:
            exit_code = EXIT_CHUNK
            break
        if pc < 0 or pc >= imem_bytes or pc & 3:
            st[S_FAULT_ADDR] = pc
            exit_code = EXIT_PC_FAULT
            break
        k = pc >> 2
        op = code[k, C_OP]
        if op < 0:
            exit_code = EXIT_ILLEGAL
            break
        if tracing and tn + room > trace.shape[0]:
            exit_code = EXIT_TRACE_FULL
            break
        issue = cycles
        for column in (C_SRC0, C_SRC1, C_SRC2):
            src = code[k, column]
            if src >= 0 and st[S_READY + src] > issue:
                issue = st[S_READY + src]
        issue += code[k, C_WAIT]             # an answer from the lanes (CycleModel)
        nxt = issue + 1                      # the front-end cycle of the next instruction
        next_pc = pc + 4
        r = 0
        vc = code[k, C_VECTOR]
        if vc == VC_ARITH:
            exec_arith(op, v, rng, code[k, C_RD], code[k, C_RS1], code[k, C_RS2],
                       code[k, C_IMM], code[k, C_SHIFT], code[k, C_ROUND], code[k, C_SAT])
        elif vc == VC_OTHER:
            r = exec_vector(op, code, k, x, v, rng, vmem16, vmem8, lmem, st, aux)
        else:
            # Scalar: dispatch on the table's timing class; the helpers take integers.
            tm = code[k, C_TIMING]
            rd = code[k, C_RD]
            imm = code[k, C_IMM]
            a = np.int64(x[code[k, C_RS1]])
            b = np.int64(x[code[k, C_RS2]])
            if tm == TM_ALU or tm == TM_MUL or tm == TM_COUNT:
                if rd != 0:
                    x[rd] = alu(op, a, b, imm, code[k, C_RS2], pc, issue,
                                instret) & MASK32
            elif tm == TM_BRANCH:
                taken = branch_taken(op, a, b)
                if taken:
                    next_pc = pc + imm
                if imm < 0 and taken:        # predicted taken, and it is
                    nxt = max(nxt, cycles + 1 + PREDICTED_PENALTY)
                elif (imm < 0) != taken:     # mispredicted
                    nxt += MISPREDICT_PENALTY
            elif tm == TM_JUMP:
                next_pc = jump_target(op, pc, a, imm)
                if op == OP_JALR:
                    nxt += MISPREDICT_PENALTY
                else:                        # jal: predicted taken
                    nxt = max(nxt, cycles + 1 + PREDICTED_PENALTY)
                if rd != 0:
                    x[rd] = pc + 4
            elif tm == TM_SYSTEM:
                r = system(op)
            else:
                r = exec_memory(op, x, rd, a, b, imm, dmem, st, aux)
        if r != 0 and r != EXIT_ECALL and r != EXIT_EBREAK:
            exit_code = r                    # a fault: nothing retired; the counter
            cycles = issue                   # reads the faulting instruction's issue cycle
            break
        if tracing:
            tn = record(trace, tn, op, code, k, pc, instret, x, v, rng, dmem, vmem16,
                        lmem, aux)
        dest = code[k, C_DEST]
        if dest >= 0:
            st[S_READY + dest] = issue + code[k, C_LATENCY]
        cycles = nxt
        instret += 1
        prev_pc = pc
        if r != 0:
            exit_code = r                    # ecall/ebreak: retired, pc stays
            break
        pc = next_pc & MASK32
    st[S_PC] = pc
    st[S_CYCLES] = cycles
    st[S_INSTRET] = instret
    st[S_PREV_PC] = prev_pc
    st[S_TRACE_N] = tn
    st[S_EXIT] = exit_code
    return exit_code

