"""Vector semantics as numba helpers: lane arithmetic, rounding, the per-lane generator,
vector and lane-local memory.

State: ``v`` is ``int16[32, lanes]``; ``rng`` is ``uint16[2, lanes]`` (``s0``, ``s1`` of
every lane); ``vmem16``/``vmem8`` are int16 and int8 views of the same little-endian
vector memory bytes; ``lmem`` is ``int16[lanes, lane_mem_elements]``.

Contract of :func:`exec_vector`: returns 0 when the instruction completed, or
``EXIT_LOAD_FAULT``/``EXIT_STORE_FAULT`` when it did not execute (nothing written;
``st[S_FAULT_ADDR]``, ``st[S_FAULT_DETAIL]`` and, for lane-local accesses,
``st[S_FAULT_LANE]`` say why). It sets ``aux[A_ADDR]`` to the vector-memory address of a
``vstore``, for the trace. Every stochastic-rounding instruction and ``vrng`` step every
lane's generator exactly once, whatever the shift.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from .ops import (A_ADDR, C_IMM, C_RD, C_ROUND, C_RS1, C_RS2, C_SAT, C_SHIFT,
                  EXIT_LOAD_FAULT, EXIT_STORE_FAULT, FD_MISALIGNED, FD_RANGE, MASK32,
                  RND_FLOOR, RND_HALF_UP, RND_STOCHASTIC, S_FAULT_ADDR, S_FAULT_DETAIL,
                  S_FAULT_LANE)
from .ops import (OP_VADD, OP_VSLL, OP_VSUB, OP_VAND, OP_VMUL, OP_VSRA, OP_VOR, OP_VXOR,
                  OP_VLUI, OP_VTEQ, OP_VTNE, OP_VTLT, OP_VTGE, OP_VSEL, OP_VLOAD,
                  OP_VLOADL, OP_VSTORE, OP_VSTOREL, OP_VFILL, OP_VEXTRACT, OP_VRNG,
                  OP_VANDADD, OP_VSEED, OP_VRDS0, OP_VRDS1, OP_VSLLI, OP_VSRAI, OP_VSRLI,
                  OP_VADDI, OP_VADDI_SAT, OP_VMIN, OP_VMAX, OP_VSRL, OP_VLACC, OP_VLACC8,
                  OP_VLOAD8)


@njit(cache=True)
def wrap16(x):
    return ((x + 32768) & 0xFFFF) - 32768


@njit(cache=True)
def sat16(x):
    return -32768 if x < -32768 else (32767 if x > 32767 else x)


@njit(cache=True)
def sat_or_wrap(x, sat):
    return sat16(x) if sat else wrap16(x)


@njit(cache=True)
def rotl16(x, k):
    return ((x << k) | (x >> (16 - k))) & 0xFFFF


@njit(cache=True)
def rng_next(rng, i):
    """Xoroshiro32++ of lane ``i``: return the output of the current state (uint16 as an
    int), then step the state once."""
    s0 = np.int64(rng[0, i])
    s1 = np.int64(rng[1, i])
    r = (rotl16((s0 + s1) & 0xFFFF, 9) + s0) & 0xFFFF
    s1 ^= s0
    rng[0, i] = rotl16(s0, 13) ^ s1 ^ ((s1 << 5) & 0xFFFF)
    rng[1, i] = rotl16(s1, 10)
    return r


@njit(cache=True)
def rshift(x, s, mode, r):
    """The table's rounding right shift of ``x`` by ``s`` (0..15); ``r`` is the lane's
    16-bit generator output (stochastic mode uses its high ``s`` bits)."""
    if s == 0 or mode == RND_FLOOR:
        return x >> s
    if mode == RND_HALF_UP:
        return (x + (1 << (s - 1))) >> s
    return (x + (r >> (16 - s))) >> s


@njit(cache=True)
def vmem_check(vmem16, addr, align, size, st):
    """0 if ``size`` bytes at ``addr`` are ``align``-aligned and inside vector memory."""
    if addr % align:
        st[S_FAULT_ADDR] = addr
        st[S_FAULT_DETAIL] = FD_MISALIGNED
        return 1
    if addr + size > 2 * vmem16.shape[0]:
        st[S_FAULT_ADDR] = addr
        st[S_FAULT_DETAIL] = FD_RANGE
        return 1
    return 0


@njit(cache=True)
def lmem_check(v, r1, imm, lmem, st):
    """0 if every enabled lane's element address ``v[r1, i] + imm`` is inside its
    lane-local memory, else record the first bad lane in ``st``."""
    for i in range(v.shape[1]):
        e = np.int64(v[r1, i]) + imm
        if e >= lmem.shape[1]:
            st[S_FAULT_ADDR] = e
            st[S_FAULT_DETAIL] = FD_RANGE
            st[S_FAULT_LANE] = i
            return 1
    return 0


@njit(cache=True)
def exec_arith(op, v, rng, rd, r1, r2, imm, sh, rnd, sat):
    """Lane-wise register operations (the ``ARITH_OPS`` of :mod:`.ops`), results to
    ``v[rd]``. One lane loop per operation, so the compiler can vectorise it; only
    ``v`` and ``rng`` are passed (array arguments cost reference counting per call)."""
    L = v.shape[1]
    if op == OP_VADD or op == OP_VSUB:
        neg = op == OP_VSUB
        for i in range(L):
            b = np.int64(v[r2, i])
            v[rd, i] = sat_or_wrap(np.int64(v[r1, i]) + (-b if neg else b), sat)
    elif op == OP_VMUL:
        for i in range(L):
            r = rng_next(rng, i) if rnd == RND_STOCHASTIC else 0
            p = np.int64(v[r1, i]) * np.int64(v[r2, i])
            v[rd, i] = sat_or_wrap(rshift(p, sh, rnd, r), sat)
    elif op == OP_VSRA or op == OP_VSRAI:
        for i in range(L):
            s = (np.int64(v[r2, i]) & 15) if op == OP_VSRA else r2
            r = rng_next(rng, i) if rnd == RND_STOCHASTIC else 0
            v[rd, i] = rshift(np.int64(v[r1, i]), s, rnd, r)
    elif op == OP_VSLL or op == OP_VSLLI:
        for i in range(L):
            s = (np.int64(v[r2, i]) & 15) if op == OP_VSLL else r2
            v[rd, i] = sat_or_wrap(np.int64(v[r1, i]) << s, sat)
    elif op == OP_VSRL or op == OP_VSRLI:
        for i in range(L):
            s = (np.int64(v[r2, i]) & 15) if op == OP_VSRL else r2
            v[rd, i] = wrap16((np.int64(v[r1, i]) & 0xFFFF) >> s)
    elif op == OP_VAND:
        for i in range(L):
            v[rd, i] = v[r1, i] & v[r2, i]
    elif op == OP_VOR:
        for i in range(L):
            v[rd, i] = v[r1, i] | v[r2, i]
    elif op == OP_VXOR:
        for i in range(L):
            v[rd, i] = v[r1, i] ^ v[r2, i]
    elif op == OP_VMIN:
        for i in range(L):
            v[rd, i] = min(v[r1, i], v[r2, i])
    elif op == OP_VMAX:
        for i in range(L):
            v[rd, i] = max(v[r1, i], v[r2, i])
    elif op == OP_VADDI or op == OP_VADDI_SAT:
        for i in range(L):
            v[rd, i] = sat_or_wrap(np.int64(v[r1, i]) + imm, op == OP_VADDI_SAT)
    elif op == OP_VLUI:
        for i in range(L):
            v[rd, i] = imm
    elif op == OP_VRNG:
        for i in range(L):
            v[rd, i] = wrap16(rng_next(rng, i))
    else:  # OP_VRDS0, OP_VRDS1
        half = 0 if op == OP_VRDS0 else 1
        for i in range(L):
            v[rd, i] = wrap16(np.int64(rng[half, i]))


@njit(cache=True)
def exec_vector(op, code, k, x, v, rng, vmem16, vmem8, lmem, st, aux):
    lanes = v.shape[1]
    rd = code[k, C_RD]
    r1 = code[k, C_RS1]
    r2 = code[k, C_RS2]
    imm = code[k, C_IMM]
    sh = code[k, C_SHIFT]
    if op == OP_VLACC or op == OP_VLACC8 or op == OP_VLOAD8 or op == OP_VLOAD:
        wide = op == OP_VLACC or op == OP_VLOAD
        size = 2 * lanes if wide else lanes
        addr = (np.int64(x[r1]) + imm) & MASK32
        if vmem_check(vmem16, addr, size, size, st):
            return EXIT_LOAD_FAULT
        for i in range(lanes):
            w = np.int64(vmem16[(addr >> 1) + i]) if wide else np.int64(vmem8[addr + i])
            if op == OP_VLOAD:
                v[rd, i] = w
            elif op == OP_VLOAD8:
                v[rd, i] = sat16(w << sh)
            else:
                v[rd, i] = sat16(np.int64(v[rd, i]) + (w << sh))
    elif op == OP_VTEQ or op == OP_VTNE or op == OP_VTLT or op == OP_VTGE:
        mask = np.int64(0)
        for i in range(lanes):
            a = v[r1, i]
            b = v[r2, i]
            if op == OP_VTEQ:
                c = a == b
            elif op == OP_VTNE:
                c = a != b
            elif op == OP_VTLT:
                c = a < b
            else:
                c = a >= b
            if c:
                mask |= np.int64(1) << i
        if rd != 0:
            x[rd] = mask & MASK32
    elif op == OP_VSEL:
        m = np.int64(x[r1])
        for i in range(lanes):
            if (m >> i) & 1:
                v[rd, i] = v[r2, i]
    elif op == OP_VSTORE:
        addr = (np.int64(x[r1]) + imm) & MASK32
        if vmem_check(vmem16, addr, 2 * lanes, 2 * lanes, st):
            return EXIT_STORE_FAULT
        for i in range(lanes):
            vmem16[(addr >> 1) + i] = v[r2, i]
        aux[A_ADDR] = addr
    elif op == OP_VLOADL:
        if lmem_check(v, r1, imm, lmem, st):
            return EXIT_LOAD_FAULT
        for i in range(lanes):
            e = np.int64(v[r1, i]) + imm
            v[rd, i] = lmem[i, e] if e >= 0 else 0
    elif op == OP_VSTOREL:
        if lmem_check(v, r1, imm, lmem, st):
            return EXIT_STORE_FAULT
        for i in range(lanes):
            e = np.int64(v[r1, i]) + imm
            if e >= 0:
                lmem[i, e] = v[r2, i]
    elif op == OP_VFILL:
        y = wrap16(np.int64(x[r1]))
        for i in range(lanes):
            v[rd, i] = y
    elif op == OP_VEXTRACT:
        if rd != 0:
            x[rd] = np.int64(v[r1, imm]) & MASK32
    elif op == OP_VANDADD:
        s = np.int64(x[r2])
        for i in range(lanes):
            v[rd, i] = wrap16((np.int64(v[r1, i]) & ((1 << sh) - 1)) + s)
    elif op == OP_VSEED:
        for i in range(lanes):
            rng[0, i] = np.int64(v[r1, i]) & 0xFFFF
            rng[1, i] = np.int64(v[r2, i]) & 0xFFFF
    else:
        exec_arith(op, v, rng, rd, r1, r2, imm, sh, code[k, C_ROUND], code[k, C_SAT])
    return 0

