"""Constants of the golden model, all derived from the instruction table by name.

numba freezes module globals into compiled code, so the kernel refers to instructions
through the ``OP_*`` integers defined here (``OP_VMUL`` is the position of ``vmul`` in
:data:`spikevec.hw.isa.INSTRUCTIONS`), never through literal numbers. The same goes for
the cycle model (:data:`PREDICTED_PENALTY`, :data:`MISPREDICT_PENALTY`, the latencies).

Besides the opcode constants this module defines the layout of the pre-decoded code
array (``C_*`` columns), of the machine status array (``S_*``), of the per-instruction
scratch array (``A_*``), of the trace buffer (``T_*``), the exit codes (``EXIT_*``) and
the write and load-destination classes. :data:`FINGERPRINT` hashes all of it together
with the source of the kernel files, so :mod:`.machine` can detect a numba cache that was
compiled against another table (numba does not track globals imported from other
modules) and recompile.
"""
from __future__ import annotations

import hashlib
import os

from ...hw.isa import BY_NAME, CSRS, INSTRUCTIONS, TIMING, Timing
from ...hw.isa.operands import ROUND

# Opcode constants: OP_<NAME> with dots replaced by underscores (OP_VADDI_SAT, OP_SEXT_B).
OPS = {}
for _i, _ins in enumerate(INSTRUCTIONS):
    OPS["OP_" + _ins.name.upper().replace(".", "_")] = _i
globals().update(OPS)
OP_ILLEGAL = -1

# Explicit names for the linters and readers (the loop above defines them all).
OP_VMUL = INSTRUCTIONS.index(BY_NAME["vmul"])
N_OPS = len(INSTRUCTIONS)

# The CSR forms that only read (the table: every CSR is a read-only counter; "csrrs/csrrc
# with rs1 = x0 and csrrsi/csrrci with uimm = 0 only read").
CSR_READ_FORMS = ("csrrs", "csrrc", "csrrsi", "csrrci")

# Rounding modes, from the table's ROUND modifier.
RND_FLOOR, RND_HALF_UP, RND_STOCHASTIC = (ROUND.suffixes[s] for s in ("", ".rn", ".rs"))

# CSR numbers, by name from the table.
CSR_CYCLE, CSR_CYCLEH = CSRS["cycle"], CSRS["cycleh"]
CSR_INSTRET, CSR_INSTRETH = CSRS["instret"], CSRS["instreth"]

# Cycle model.
# Static branch prediction (CycleModel): jal and backward branches are predicted taken.
PREDICTED_PENALTY = TIMING.predicted_penalty
MISPREDICT_PENALTY = TIMING.mispredict_penalty
OP_JAL = INSTRUCTIONS.index(BY_NAME["jal"])
OP_JALR = INSTRUCTIONS.index(BY_NAME["jalr"])
# Result latency of each timing class, indexed by TIMING_CODE (defined below).

# Columns of the pre-decoded code array (one int64 row per instruction word).
C_OP, C_RD, C_RS1, C_RS2, C_IMM, C_SHIFT, C_ROUND, C_SAT = range(8)
C_VECTOR = 8      # VC_SCALAR, VC_ARITH (lane-wise register ops) or VC_OTHER
C_SRC0, C_SRC1, C_SRC2 = 9, 10, 11   # registers read (REG_V + n for v<n>), or NO_REG
C_DEST = 12       # register written (x0 excluded), or NO_REG
C_WRITES = 13     # write class W_* (for the trace)
C_TIMING = 14     # timing class TM_*
C_LATENCY = 15    # cycles until C_DEST is ready for a reader (the table's cycle model)
C_WAIT = 16       # cycles it waits after its operands are ready (CycleModel.lane_wait)
N_COLS = 17
SOURCE_COLUMNS = (C_SRC0, C_SRC1, C_SRC2)

# Register ids of the scoreboard: x<n> is n, v<n> is REG_V + n.
REG_V = 32
N_REGS = 64
NO_REG = -1

# Operand field -> code column; fields not listed (immediates) go to C_IMM.
FIELD_COLUMN = {"rd": C_RD, "rs1": C_RS1, "rs2": C_RS2, "shift": C_SHIFT}
MODIFIER_COLUMN = {"sat": C_SAT, "round": C_ROUND}


# Vector classes: lane-wise register-to-register operations (vector.exec_arith, which
# needs only v and the generators) and the rest (memories, masks, moves: exec_vector).
VC_SCALAR, VC_ARITH, VC_OTHER = 0, 1, 2
ARITH_OPS = ("vadd", "vsll", "vsub", "vand", "vmul", "vsra", "vor", "vxor", "vlui",
             "vslli", "vsrai", "vsrli", "vaddi", "vaddi.sat", "vmin", "vmax", "vsrl",
             "vrng", "vrds0", "vrds1")

# Write classes, in the table's ``writes`` vocabulary.
W_NONE, W_X, W_V, W_XMEM, W_VMEM, W_LMEM, W_RNG = range(7)
WRITES_CODE = {"": W_NONE, "x": W_X, "v": W_V, "xmem": W_XMEM, "vmem": W_VMEM,
               "lmem": W_LMEM, "rng": W_RNG}

TIMING_NAMES = tuple(name for name, _ in TIMING.latency)
TIMING_CODE = {name: i for i, name in enumerate(TIMING_NAMES)}
TM_ALU, TM_BRANCH = TIMING_CODE[Timing.ALU], TIMING_CODE[Timing.BRANCH]
TM_JUMP, TM_SYSTEM = TIMING_CODE[Timing.JUMP], TIMING_CODE[Timing.SYSTEM]
TM_MUL, TM_COUNT = TIMING_CODE[Timing.MUL], TIMING_CODE[Timing.COUNT]

# Machine status array (int64).
S_PC, S_CYCLES, S_INSTRET, S_EXIT, S_FAULT_ADDR, S_FAULT_DETAIL, S_FAULT_LANE = range(7)
S_PREV_PC, S_TRACE_N, S_FPRINT = range(7, 10)
S_READY = 10      # N_REGS entries: the cycle at which each register is ready
N_STATUS = S_READY + N_REGS

# Per-instruction scratch (int64): the effective address of a store (for the trace).
A_ADDR = 0
N_AUX = 4

# Exit codes. 0 = still running. TRACE_FULL and CHUNK are internal (the Python driver
# resumes the kernel); the others end the run.
EXIT_RUNNING = 0
EXIT_ECALL, EXIT_EBREAK, EXIT_ILLEGAL, EXIT_LOAD_FAULT, EXIT_STORE_FAULT = range(1, 6)
EXIT_PC_FAULT, EXIT_MAX, EXIT_TRACE_FULL, EXIT_CHUNK = range(6, 10)
EXIT_NAMES = {EXIT_RUNNING: "running", EXIT_ECALL: "ecall", EXIT_EBREAK: "ebreak",
              EXIT_ILLEGAL: "illegal_instruction", EXIT_LOAD_FAULT: "load_fault",
              EXIT_STORE_FAULT: "store_fault", EXIT_PC_FAULT: "pc_fault",
              EXIT_MAX: "max_instructions"}

# Fault details (S_FAULT_DETAIL).
FD_MISALIGNED, FD_RANGE = 1, 2

# Trace buffer rows (int64): fixed columns, then one column per lane.
T_KIND, T_PC, T_INSTRET, T_WHERE, T_LANE, T_SIZE, T_VALUE, T_LANES = range(8)
TK_X, TK_V, TK_MEM, TK_VMEM, TK_LMEM, TK_RNG = range(1, 7)
TRACE_KIND_NAMES = {TK_X: "x", TK_V: "v", TK_MEM: "mem", TK_VMEM: "vmem", TK_LMEM: "lmem",
                    TK_RNG: "rng"}

MASK32 = 0xFFFFFFFF


def _fingerprint() -> int:
    h = hashlib.sha256()
    h.update(repr(sorted(OPS.items())).encode())
    h.update(repr((PREDICTED_PENALTY, MISPREDICT_PENALTY, TIMING.latency, TIMING_NAMES, sorted(CSRS.items()),
                   sorted(ROUND.suffixes.items()))).encode())
    here = os.path.dirname(os.path.abspath(__file__))
    for name in ("ops.py", "scalar.py", "vector.py", "kernel.py"):
        with open(os.path.join(here, name), "rb") as f:
            h.update(f.read())
    return int.from_bytes(h.digest()[:7], "little")


FINGERPRINT = _fingerprint()
