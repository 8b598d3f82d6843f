"""The RTL ``Core`` (scalar core + vector unit) in lockstep with the golden model.

Directed programs exercise every vector instruction with all modifiers, edge values,
packed and lane-local memory, faults and every hazard distance; constrained-random
vector + scalar programs follow. Each run is compared with ``spikevec.sim.iss.Machine``
started from the same state: final x and v registers, vector, lane and data memory,
generator state, instret, exit reason, trap pc and address, the CYCLE count (exact) and
the retire ports' writes in program order (see ``vector_core_harness``).
"""
from __future__ import annotations

import random

import pytest

from vector_core_harness import TINY8, TINY32, Lockstep, compare

EDGE = [-32768, -32767, -1, 0, 1, 2, 32767, 12345, -12345, 255, -256, 16384, 7, -7, 100, 3]


def edge_registers(lanes, seed):
    rnd = random.Random(seed)
    regs = []
    for r in range(32):
        vals = EDGE[r % len(EDGE):] + EDGE[:r % len(EDGE)]
        regs.append([vals[i] if i < len(vals) and rnd.random() < 0.6
                     else rnd.randint(-32768, 32767) for i in range(lanes)])
    return regs


def small_vmem(cfg, seed):
    rnd = random.Random(seed)
    data = bytearray(rnd.getrandbits(8) for _ in range(cfg.vmem_bytes))
    data[0:4] = bytes([0x7F, 0x80, 0xFF, 0x00])        # int8 edges at the start
    data[16:20] = bytes([0xFF, 0x7F, 0x00, 0x80])      # int16 edges in row 1
    return bytes(data)


def arithmetic_program():
    lines = []
    for name in ("vadd", "vsub", "vsll"):
        for sat in ("", ".sat"):
            lines.append(f"{name}{sat} v20, v1, v2")
            lines.append(f"{name}{sat} v21, v20, v3")      # back-to-back use: bypass P2
    for name in ("vand", "vor", "vxor", "vmin", "vmax", "vsrl"):
        lines.append(f"{name} v22, v4, v5")
    for shift in (0, 1, 7, 8, 14, 15):
        for rnd in ("", ".rn", ".rs"):
            for sat in ("", ".sat"):
                lines.append(f"vmul{rnd}{sat} v23, v6, v7, {shift}")
    for rnd in ("", ".rn", ".rs"):
        lines.append(f"vsra{rnd} v24, v8, v9")
        for sh in (0, 1, 5, 15):
            lines.append(f"vsrai{rnd} v25, v10, {sh}")
    for sh in (0, 1, 8, 15):
        lines += [f"vslli v26, v11, {sh}", f"vslli.sat v27, v11, {sh}",
                  f"vsrli v28, v11, {sh}"]
    for imm in (-2048, -1, 0, 1, 2047):
        lines += [f"vaddi v29, v12, {imm}", f"vaddi.sat v30, v29, {imm}"]
    for imm in ("-32768", "0xffff", "0", "32767", "-1"):
        lines.append(f"vlui v31, {imm}")
    return "\n".join(lines)


def misc_program():
    return """
        li a0, -1
        vfill v20, a0
        li a1, 0x12345
        vfill v21, a1
        li a2, 0xa5
        vsel v3, a2, v4
        vsel v5, zero, v6
        vsel v7, a0, v8
        vseed v1, v2
        vrds0 v22
        vrds1 v23
        vrng v24
        vrng v25
        vrds0 v26
        vmul.rs v27, v24, v25, 9
        vsra.rs v28, v27, v25
        vrds1 v29
        vandadd v9, v10, a1, 0
        vandadd v11, v12, a0, 5
        vandadd v13, v14, a2, 15
        vteq a3, v1, v1
        vtne a4, v1, v2
        vtlt a5, v2, v4
        vtge a6, v2, v4
        vteq zero, v1, v2
        vextract s2, v2, 0
        vextract s3, v2, 7
        vextract s4, v14, 3
        add s5, s2, s3
        vtlt t0, v22, v23
        vfill v30, t0
        vseed v0, v0
        vrng v31
        ecall
    """


def memory_program(cfg):
    n, vb = cfg.lanes, cfg.vector_bytes
    return f"""
        li s0, {vb * 4}
        vload v20, 0(x0)
        vload v21, {vb}(x0)
        vload8 v22, 0(x0), 0
        vload8 v23, {n}(x0), 3
        vload8 v24, 0(x0), 15
        vlacc v1, 0(s0), 0
        vlacc v2, -{vb}(s0), 15
        vlacc8 v3, {n}(x0), 0
        vlacc8 v4, 0(s0), 7
        vlacc8 v5, -{n}(s0), 15
        vstore v1, {vb * 2}(s0)
        vload v25, {vb * 2}(s0)
        vstore v25, 0(x0)
        vload8 v26, {n}(x0), 1
        vandadd v10, v10, zero, 3
        vstorel v11, 0(v10)
        vloadl v27, 0(v10)
        vloadl v28, 1(v10)
        vlui v12, -2
        vaddi v13, v10, -4
        vstorel v14, 2(v13)
        vloadl v29, 2(v13)
        vloadl v30, {cfg.lane_mem_elements - 8}(v10)
        vstorel v30, {cfg.lane_mem_elements - 8}(v12)
        vloadl v31, 1(v12)
        ecall
    """


def hazard_program(half):
    """Every producer class at distances 1-4 from a consumer (exact stall cycles); half
    of the producers per program."""
    lines = ["li s0, 64", "li s1, 3"]
    producers = ["vadd v20, v1, v2", "vmul v20, v1, v2, 3", "vload v20, 0(s0)",
                 "vlacc v20, 0(s0), 1", "vlacc8 v20, 8(s0), 2", "vload8 v20, 8(s0), 2",
                 "vloadl v20, 1(v3)", "vsel v20, s1, v2", "vfill v20, s1", "vrng v20"]
    consumers = ["vadd v21, v20, v1", "vsub v21, v1, v20", "vsel v20, s1, v1",
                 "vlacc v20, 0(s0), 0", "vstore v20, 32(s0)", "vstorel v20, 3(v3)",
                 "vtlt t1, v20, v1", "vextract t2, v20, 5", "vseed v20, v1",
                 "vandadd v20, v20, zero, 4\n vloadl v22, 0(v20)"]
    for p in producers[half::2]:
        for c in consumers:
            for gap in range(4):
                lines.append("vandadd v3, v3, zero, 4")
                lines.append(p)
                lines += ["addi s2, s2, 1"] * gap
                lines.append(c)
    lines += ["lw t3, 0(zero)", "vfill v23, t3", "mul t4, s1, s1", "vfill v24, t4",
              "vtlt t5, v1, v2", "vfill v25, t5", "vextract t6, v25, 1", "beq t6, t6, skip",
              "vadd v26, v26, v26", "skip: vadd v27, v26, v25", "ecall"]
    return "\n".join(lines)


def fault_programs(cfg):
    n, vb, size = cfg.lanes, cfg.vector_bytes, cfg.vmem_bytes
    E = cfg.lane_mem_elements
    return [
        f"li a0, 2\n vload v1, 0(a0)",                       # misaligned
        f"li a0, {size}\n vload v1, 0(a0)",                  # just past the end
        f"li a0, {size - vb}\n vload v1, 0(a0)\n vstore v1, {vb}(a0)",
        f"li a0, -{vb}\n vstore v1, 0(a0)",                  # wraps: huge address
        f"li a0, {vb + 1}\n vstore v1, -1(a0)\n vstore v1, 0(a0)",
        f"li a0, {n // 2}\n vlacc8 v1, 0(a0), 1",            # half-vector misaligned
        f"li a0, {size - n}\n vload8 v1, 0(a0), 0\n vlacc8 v1, {n}(a0), 0",
        f"li a0, {n}\n vlacc v1, 0(a0), 0",                  # half aligned is not enough
        f"vlui v1, {E - 1}\n vadd v2, v2, v2\n vloadl v3, 0(v1)\n vloadl v3, 1(v1)",
        f"vlui v1, -5\n vadd v2, v2, v2\n vstorel v3, 4(v1)\n vstorel v3, {E + 5}(v1)",
        f"vlui v1, 32767\n vadd v2, v2, v2\n vloadl v3, 2047(v1)",
    ]


def _run(cfg, cases, label):
    results = Lockstep(cfg).run(cases)
    for index, (words, init, rtl) in enumerate(results):
        compare(cfg, words, init, rtl, label=f"{label} #{index}")
    return results


def test_arithmetic_and_modifiers():
    cfg = TINY8
    cases = [{"text": "vseed v13, v14\n" + arithmetic_program() + "\necall",
              "v": edge_registers(cfg.lanes, seed)} for seed in range(3)]
    _run(cfg, cases, "arithmetic")


def test_masks_moves_generators():
    cfg = TINY8
    cases = [{"text": misc_program(), "v": edge_registers(cfg.lanes, seed)} for seed in (5, 6)]
    _run(cfg, cases, "misc")


def test_vector_and_lane_memory():
    cfg = TINY8
    cases = [{"text": memory_program(cfg), "v": edge_registers(cfg.lanes, seed),
              "vmem": small_vmem(cfg, seed),
              "lmem": [[random.Random(seed + i).randint(-32768, 32767)
                        for _ in range(cfg.lane_mem_elements)] for i in range(cfg.lanes)]}
             for seed in (1, 2)]
    _run(cfg, cases, "memory")


def test_hazard_distances_cycle_exact():
    cfg = TINY8
    regs = edge_registers(cfg.lanes, 9)
    regs[3] = list(range(cfg.lanes))
    _run(cfg, [{"text": hazard_program(half), "v": regs, "vmem": small_vmem(cfg, 3)}
               for half in (0, 1)], "hazard")


def test_faults():
    cfg = TINY8
    cases = [{"text": text + "\n ecall", "v": edge_registers(cfg.lanes, 4)}
             for text in fault_programs(cfg)]
    results = _run(cfg, cases, "faults")
    causes = [rtl["cause"] for _, _, rtl in results]
    assert causes.count("VECTOR_FAULT") == len(cases), causes


def test_partial_lane_fault_changes_nothing():
    """A lane-memory store or load whose addresses are out of range in some lanes only
    writes nothing - not even its in-range lanes (the lane memories write a cycle after
    issue, when the fault is known) - and the younger instructions (a scalar store, a
    vector-memory store, a lane store, a register write) are squashed."""
    cfg = TINY8
    E = cfg.lane_mem_elements
    regs = edge_registers(cfg.lanes, 4)
    regs[7] = [0, E // 2, E - 1, -1, E, 3, E + 7, 1][:cfg.lanes]     # lanes 4 and 6 over
    regs[9] = [5, 6, 7, 8, 9, 10, 11, 12][:cfg.lanes]
    tail = "\n sw a0, 0(zero)\n vstore v9, 0(zero)\n vstorel v9, 0(v9)\n vadd v9, v9, v9"
    lmem = [[random.Random(i).randint(-32768, 32767) for _ in range(E)]
            for i in range(cfg.lanes)]
    cases = [{"text": f"li a0, 77\n {head}{tail}\n ecall", "v": regs, "lmem": lmem,
              "vmem": small_vmem(cfg, 8)}
             for head in ("vstorel v3, 0(v7)", "vloadl v9, 0(v7)", "vloadl v7, 0(v7)")]
    results = _run(cfg, cases, "partial lane faults")
    for words, init, rtl in results:
        assert rtl["cause"] == "VECTOR_FAULT"
        assert rtl["lmem"] == [list(row) for row in lmem], "a faulting lane access wrote"
        assert rtl["dmem"][0] == 0, "the scalar store after the fault was not squashed"


def squashed_store_programs(cfg):
    """A vector or lane store, or a generator step or seed, squashed in EX by the older
    instruction in MEM: a taken forward branch, a ``jalr``, a scalar fault, or a
    faulting store to the same or to another row/element (the memories write and the
    generators change before the squash is known, and undo it; two undos in a row must
    leave the older store's old data)."""
    vb = cfg.vector_bytes
    return [
        ("ECALL", "li a0, 1\n bnez a0, skip\n vstore v9, 0(zero)\n"
                  " skip: vstore v3, {vb}(zero)".replace("{vb}", str(vb))),
        ("ECALL", "li a0, 1\n bnez a0, skip\n vstorel v9, 0(v9)\n skip: vadd v1, v1, v1"),
        ("ECALL", "auipc a1, 0\n jalr zero, 16(a1)\n vstore v9, 0(zero)\n"
                  " vstorel v9, 0(v9)\n vstore v3, 0(zero)"),
        ("LOAD_FAULT", "lw a1, 1(zero)\n vstore v9, 0(zero)"),
        ("STORE_FAULT", "sw a1, 2(zero)\n vstorel v9, 0(v9)"),
        ("VECTOR_FAULT", "li a0, 2\n vstore v9, 0(a0)\n vstore v3, 0(zero)"),   # same row
        ("VECTOR_FAULT", f"li a0, 2\n vstore v9, 0(a0)\n vstore v3, {vb}(zero)"),
        ("VECTOR_FAULT", "vstorel v3, 0(v7)\n vstorel v9, 0(v7)"),              # same elements
        ("VECTOR_FAULT", "vstorel v3, 0(v7)\n vstorel v9, 0(v9)"),
        ("VECTOR_FAULT", "vstorel v3, 0(v7)\n vstore v9, 0(zero)"),
        # generator changes: stepped or seeded before the squash is known, then undone
        ("ECALL", "li a0, 1\n bnez a0, skip\n vmul.rs v1, v2, v3, 4\n skip: vrng v5"),
        ("ECALL", "li a0, 1\n bnez a0, skip\n vseed v9, v3\n skip: vrng v5"),
        ("VECTOR_FAULT", "li a0, 2\n vstore v9, 0(a0)\n vmul.rs v1, v2, v3, 4"),
        ("LOAD_FAULT", "vrng v4\n lw a1, 1(zero)\n vseed v9, v3"),
    ]


def test_squashed_stores_are_undone():
    cfg = TINY8
    E = cfg.lane_mem_elements
    regs = edge_registers(cfg.lanes, 4)
    regs[7] = [0, E // 2, E - 1, -1, E, 3, E + 7, 1][:cfg.lanes]     # lanes 4 and 6 over
    regs[9] = [5, 6, 7, 8, 9, 10, 11, 12][:cfg.lanes]
    lmem = [[random.Random(i).randint(-32768, 32767) for _ in range(E)]
            for i in range(cfg.lanes)]
    vmem = small_vmem(cfg, 8)
    programs = squashed_store_programs(cfg)
    cases = [{"text": f"{text}\n ecall", "v": regs, "lmem": lmem, "vmem": vmem}
             for _, text in programs]
    results = _run(cfg, cases, "squashed stores")
    assert [rtl["cause"] for _, _, rtl in results] == [c for c, _ in programs]
    for (cause, text), (_, _, rtl) in zip(programs, results):
        if cause != "ECALL":        # nothing stored: the faulting store nor the squashed
            assert rtl["lmem"] == [list(row) for row in lmem], text
            rows = [[int.from_bytes(vmem[a:a + 2], "little", signed=True)
                     for a in range(r, r + cfg.vector_bytes, 2)]
                    for r in range(0, len(vmem), cfg.vector_bytes)]
            assert rtl["vmem"] == rows, text


def fault_after_stall_programs(cfg):
    """Faulting instructions that first wait for an operand: at the stop the cycle counter
    reads the faulting instruction's issue cycle (CycleModel), in the RTL and the model."""
    E, vb = cfg.lane_mem_elements, cfg.vector_bytes
    return [
        ("LOAD_FAULT", "lw a1, 0(zero)\n lw a2, 3(a1)"),                # load-use wait 2
        ("LOAD_FAULT", "lw a1, 0(zero)\n addi s2, s2, 1\n lh a2, 1(a1)"),  # wait 1
        ("STORE_FAULT", "li a0, 5\n mul a1, a0, a0\n sw a0, 0(a1)"),       # mul wait
        ("STORE_FAULT", "ctz a1, zero\n sb a0, 1000(a1)"),                  # count wait
        ("VECTOR_FAULT", "lw a1, 0(zero)\n vload v1, 2(a1)"),               # scalar wait
        ("VECTOR_FAULT", f"li a0, 2\n vadd v2, v3, v3\n vstore v2, 0(a0)"),  # vector stall
        ("VECTOR_FAULT", f"li a0, {vb + 2}\n vadd v1, v3, v3\n vlacc v1, 0(a0), 0"),  # reads vd
        ("VECTOR_FAULT", f"vlui v1, {E}\n vloadl v2, 0(v1)"),             # lane address
        ("VECTOR_FAULT", f"vlui v1, {E - 1}\n vaddi v1, v1, 1\n vstorel v3, 0(v1)"),
        ("VECTOR_FAULT", f"lw a1, 0(zero)\n vlui v1, {E}\n vfill v4, a1\n"
                         f" vloadl v2, 0(v1)"),
    ]


def test_faults_after_stalls_read_the_issue_cycle():
    cfg = TINY8
    programs = fault_after_stall_programs(cfg)
    cases = [{"text": text + "\n ecall", "v": edge_registers(cfg.lanes, 4)}
             for _, text in programs]
    results = _run(cfg, cases, "faults after stalls")
    assert [rtl["cause"] for _, _, rtl in results] == [cause for cause, _ in programs]
    # The stop reads the issue cycle: later than the cycle the front end delivered it.
    from spikevec.hw.isa import TIMING
    assert TIMING.latency_of("load") == 3
    assert results[0][2]["cycles"] == 1 + 2                      # lw at 0, lw issues at 3


def test_load_shadowed_by_a_younger_write_costs_no_wait():
    """A reader of a register that a load wrote and the next instruction wrote again waits
    for the younger writer only (found by the SoC lockstep run: lbu ra; auipc ra; blt ra)."""
    text = ("lbu ra, 1(zero)\n auipc ra, 0\n blt ra, s7, skip\n addi s2, s2, 1\n"
            "skip: lw a1, 0(zero)\n addi a1, zero, 5\n vfill v1, a1\n lw a3, 4(zero)\n"
            " mul a3, a1, a1\n add a4, a3, a3\n csrr a5, cycle\n ecall")
    _run(TINY8, [{"text": text, "x": [0] * 23 + [-1]}], "shadowed load")


def late_value_program():
    """``vt*``/``vextract`` results (written late, through the register file's second
    port) read at distances 0-4 by every kind of scalar reader, shadowed by a younger
    write at each distance (also in the very cycle of the late write), written twice in
    a row, and followed at once by the stop (the late write must still land)."""
    readers = ["add s2, t0, s2", "sw t0, 0(s0)", "vfill v5, t0", "bne t0, s3, {skip}",
               "mul s4, t0, t0", "vandadd v6, v6, t0, 2"]
    lines = ["li s0, 64", "li s3, -1"]
    for k, reader in enumerate(readers):
        for gap in range(5):
            skip = f"skip{k}_{gap}"
            lines += ["vtlt t0, v1, v2"] + ["addi s1, s1, 1"] * gap
            lines.append(reader.format(skip=skip))
            if "skip" in reader:
                lines += ["addi s5, s5, 1", f"{skip}:"]
    for gap in range(5):
        for where in range(gap + 1):
            fill = ["addi s1, s1, 1"] * gap
            fill.insert(where, "addi t0, zero, 7")
            lines += ["vextract t0, v2, 3"] + fill + ["add s6, t0, s6"]
    lines += ["vteq t1, v1, v1", "vtne t1, v1, v2", "add s7, t1, t1",
              "vextract t2, v1, 1", "vextract t3, v2, 2", "ecall"]
    return "\n".join(lines)


def test_late_lane_values_cycle_exact():
    cfg = TINY8
    _run(cfg, [{"text": late_value_program(), "v": edge_registers(cfg.lanes, seed)}
               for seed in (11, 12)], "late values")


# Constrained-random programs ----------------------------------------------------------------
SCRATCH_X = ["t0", "t1", "t2", "t3", "t4", "t5", "t6", "a4", "a5", "a6", "a7"]
RR_VECTOR = ["vadd", "vsub", "vsll", "vand", "vor", "vxor", "vmin", "vmax", "vsrl", "vsra",
             "vmul"]


def random_program(cfg, rnd, length):
    """Straight-line vector + scalar code with legal addresses: s0-s3 hold vector-memory
    bases, v30 lane addresses (made by vandadd right before each lane access)."""
    n, vb, rows = cfg.lanes, cfg.vector_bytes, cfg.vmem_bytes // cfg.vector_bytes
    mask_bits = (cfg.lane_mem_elements - 1).bit_length()
    lines = [f"li s{i}, {rnd.randrange(rows) * vb}" for i in range(4)]
    lines += ["vseed v1, v2", "li s4, 0"]
    v = lambda: f"v{rnd.randrange(30)}"
    x = lambda: rnd.choice(SCRATCH_X + ["zero", "s0"])
    while len(lines) < length:
        k = rnd.random()
        vd, v1, v2 = v(), v(), v()
        if k < 0.30:
            name = rnd.choice(RR_VECTOR)
            sat = rnd.choice(["", ".sat"]) if name in ("vadd", "vsub", "vsll", "vmul") else ""
            rm = rnd.choice(["", ".rn", ".rs"]) if name in ("vsra", "vmul") else ""
            extra = f", {rnd.randrange(16)}" if name == "vmul" else ""
            lines.append(f"{name}{rm}{sat} {vd}, {v1}, {v2}{extra}")
        elif k < 0.42:
            name = rnd.choice(["vslli", "vslli.sat", "vsrai", "vsrai.rn", "vsrai.rs", "vsrli",
                               "vaddi", "vaddi.sat", "vlui", "vfill", "vsel", "vandadd",
                               "vrng", "vrds0", "vrds1", "vseed"])
            base = name.split(".")[0]
            if base in ("vslli", "vsrai", "vsrli"):
                lines.append(f"{name} {vd}, {v1}, {rnd.randrange(16)}")
            elif base == "vaddi":
                lines.append(f"{name} {vd}, {v1}, {rnd.randrange(-2048, 2048)}")
            elif base == "vlui":
                lines.append(f"vlui {vd}, {rnd.randrange(-32768, 32768)}")
            elif base == "vfill":
                lines.append(f"vfill {vd}, {x()}")
            elif base == "vsel":
                lines.append(f"vsel {vd}, {x()}, {v2}")
            elif base == "vandadd":
                lines.append(f"vandadd {vd}, {v1}, {x()}, {rnd.randrange(16)}")
            elif base == "vseed":
                lines.append(f"vseed {v1}, {v2}")
            else:
                lines.append(f"{name} {vd}")
        elif k < 0.50:
            name = rnd.choice(["vteq", "vtne", "vtlt", "vtge", "vextract"])
            rd = rnd.choice(SCRATCH_X)
            lines.append(f"vextract {rd}, {v1}, {rnd.randrange(n)}" if name == "vextract"
                         else f"{name} {rd}, {v1}, {v2}")
        elif k < 0.70:
            name = rnd.choice(["vload", "vstore", "vlacc", "vlacc8", "vload8"])
            base = rnd.randrange(4)
            row = int(lines[base].split(", ")[1]) // vb
            if name in ("vload", "vstore"):
                off = (rnd.randrange(rows) - row) * vb
                off = max(-2048, min(2047 // vb * vb, off))
                if row * vb + off < 0 or row * vb + off >= cfg.vmem_bytes:
                    off = 0
                lines.append(f"{name} {v2 if name == 'vstore' else vd}, {off}(s{base})")
            else:
                size = vb if name == "vlacc" else n
                lo = max(-128, -(row * vb) // size)
                hi = min(127, (cfg.vmem_bytes - row * vb) // size - 1)
                off = rnd.randrange(lo, hi + 1) * size
                lines.append(f"{name} {vd}, {off}(s{base}), {rnd.randrange(16)}")
        elif k < 0.78:
            lines.append(f"vandadd v30, {v1}, s4, {mask_bits}")
            imm = rnd.randrange(-8, 1)
            lines.append(f"vloadl {vd}, {imm}(v30)" if rnd.random() < 0.5
                         else f"vstorel {v2}, {imm}(v30)")
        else:
            name = rnd.choice(["add", "sub", "xor", "mul", "addi", "slli", "ctz", "lw", "sw"])
            rd, r1, r2 = rnd.choice(SCRATCH_X), x(), x()
            if name in ("addi", "slli"):
                lines.append(f"{name} {rd}, {r1}, {rnd.randrange(32)}")
            elif name == "ctz":
                lines.append(f"ctz {rd}, {r1}")
            elif name == "lw":
                lines.append(f"lw {rd}, {4 * rnd.randrange(cfg.dmem_bytes // 4)}(zero)")
            elif name == "sw":
                lines.append(f"sw {r2}, {4 * rnd.randrange(cfg.dmem_bytes // 4)}(zero)")
            else:
                lines.append(f"{name} {rd}, {r1}, {r2}")
    lines.append("ecall")
    return "\n".join(lines)


def random_cases(cfg, seeds, length):
    cases = []
    for seed in seeds:
        rnd = random.Random(seed)
        cases.append({"text": random_program(cfg, rnd, length),
                      "v": edge_registers(cfg.lanes, seed), "vmem": small_vmem(cfg, seed),
                      "x": [rnd.getrandbits(32) for _ in range(32)],
                      "lmem": [[rnd.randint(-32768, 32767)
                                for _ in range(cfg.lane_mem_elements)]
                               for _ in range(cfg.lanes)]})
    return cases


def test_random_programs_8_lanes():
    _run(TINY8, random_cases(TINY8, range(100, 104), 300), "random8")


def test_random_and_directed_32_lanes():
    cfg = TINY32
    cases = random_cases(cfg, [7], 200)
    cases.append({"text": memory_program(cfg), "v": edge_registers(cfg.lanes, 1),
                  "vmem": small_vmem(cfg, 1)})
    cases.append({"text": misc_program().replace("vextract s3, v2, 7", "vextract s3, v2, 31"),
                  "v": edge_registers(cfg.lanes, 2)})
    _run(cfg, cases, "lanes32")


def test_halt_stops_at_an_instruction_boundary_and_start_pc_resumes():
    """``halt`` stops a running program cleanly: cause NONE, ``trap_pc`` the next
    instruction, counters as the golden model's after the same instructions; host XREG
    writes land in the register file; ``start`` with ``start_pc`` resumes there."""
    from amaranth.sim import Simulator

    from spikevec.hw.rtl.core import Core
    from spikevec.sim.iss import Machine
    from spikevec.sw.asm import assemble
    cfg = TINY8
    text = ("li a1, 3\n li a5, 500\nloop: addi a0, a0, 1\n lw a2, 0(zero)\n"
            " add a3, a2, a0\n vfill v1, a3\n vadd v2, v2, v1\n mul a4, a0, a1\n"
            " blt a0, a5, loop\n ecall")
    words = list(assemble(text, cfg).text)
    core = Core(cfg, words)
    seen = []

    async def testbench(ctx):
        for halt_after in (37, 52):
            for i in range(32):
                core.scalar.regfile.sim_set(ctx, i, 0)
            ctx.set(core.start, 1)
            await ctx.tick()
            ctx.set(core.start, 0)
            for _ in range(halt_after):
                await ctx.tick()
            ctx.set(core.halt, 1)
            for _ in range(20):
                await ctx.tick()
                if not ctx.get(core.status.running):
                    break
            ctx.set(core.halt, 0)
            for _ in range(5):                  # drain
                await ctx.tick()
            st = core.status
            seen.append({k: ctx.get(getattr(st, k)) for k in
                         ("running", "halted", "cycles", "instret", "trap_pc", "trap_addr")}
                        | {"cause": ctx.get(st.cause).name,
                           "a0": core.scalar.regfile.sim_get(ctx, 10)})
        # Host write of x10 while stopped, then resume at the stop pc.
        ctx.set(core.xreg_host.addr, 10)
        ctx.set(core.xreg_host.wdata, 1000)
        ctx.set(core.xreg_host.we, 1)
        await ctx.tick()
        ctx.set(core.xreg_host.we, 0)
        seen.append(core.scalar.regfile.sim_get(ctx, 10))
        ctx.set(core.start_pc, seen[-2]["trap_pc"])
        ctx.set(core.start, 1)
        await ctx.tick()
        ctx.set(core.start, 0)
        for _ in range(100):
            await ctx.tick()
            if ctx.get(core.status.halted):
                break
        seen.append((ctx.get(core.status.cause).name, ctx.get(core.status.instret)))

    sim = Simulator(core)
    sim.add_clock(1e-8)
    sim.add_testbench(testbench)
    sim.run()
    for stop in seen[:2]:
        assert (stop["running"], stop["halted"], stop["cause"], stop["trap_addr"]) == \
            (0, 1, "NONE", 0), stop
        m = Machine(cfg)
        m.set_imem(words)
        res = m.run(max_instructions=stop["instret"])
        assert (res.exit_reason, res.pc, res.cycles) == \
            ("max_instructions", stop["trap_pc"], stop["cycles"]), (res, stop)
        assert int(m.x[10]) == stop["a0"]
    assert seen[2] == 1000
    # Resumed with a0 = 1000: the rest of one loop pass, blt falls through, ecall.
    assert seen[3][0] == "ECALL" and 2 <= seen[3][1] <= 8, seen[3]
