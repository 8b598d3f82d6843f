"""The golden model's public face: :class:`Machine`, :class:`RunResult`, :class:`MachineFault`.

A :class:`Machine` owns the architectural state of one core as numpy arrays (``x``
uint32[32], ``v`` int16[32, lanes], ``rng`` uint16[2, lanes] holding s0/s1 per lane,
``dmem``/``vmem`` uint8 bytes, ``lmem`` int16[lanes, lane_mem_elements], the
instruction words ``imem``) plus pc and the 64-bit cycle/instret counters. The arrays
may be read and written directly between runs; call :meth:`Machine.set_imem` (not a raw
write to ``imem``) to change the program so it is pre-decoded again.

Running is done by the numba kernel (:mod:`.kernel`); this module pre-decodes, drives the
kernel in chunks (so Ctrl-C works and traces can grow), and turns exit codes into
:class:`RunResult` objects with full-sentence messages.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ...hw.config import CoreConfig
from ...hw.isa import INSTRUCTIONS
from ...hw.isa.registers import ABI_NAMES
from . import ops as O
from .predecode import decode_word, mnemonic, predecode
from .trace import rows_to_records

__all__ = ["Machine", "RunResult", "MachineFault"]

CHUNK = 50_000_000          # instructions per kernel call (Ctrl-C is checked in between)
TRACE_ROWS = 16384          # rows of the trace buffer before it is flushed to records
_SCALAR_SIZE = {"lb": 1, "lbu": 1, "sb": 1, "lh": 2, "lhu": 2, "sh": 2, "lw": 4, "sw": 4}


class MachineFault(RuntimeError):
    """The program stopped for another reason than ``ecall`` (``run(check=True)``).
    ``result`` is the :class:`RunResult`; the message is the result's message."""

    def __init__(self, result: "RunResult"):
        super().__init__(result.message)
        self.result = result


@dataclass
class RunResult:
    """How a run ended. ``exit_reason`` is one of ``ecall``, ``ebreak``,
    ``illegal_instruction``, ``load_fault``, ``store_fault``, ``pc_fault``,
    ``max_instructions`` (or ``running`` after :meth:`Machine.step`). ``pc`` is the
    address of the stopping (ecall/ebreak) or faulting instruction. ``fault`` holds
    details for faults: pc, word, mnemonic, address, lane (or None). ``trace`` is the
    list of :class:`~.trace.TraceRecord` when tracing was on, else ``None``."""
    exit_reason: str
    message: str
    pc: int
    instret: int
    cycles: int
    fault: dict | None = None
    trace: list | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return self.exit_reason == "ecall"


def _check_fresh(dummy):
    """Recompile the kernels if the numba cache was built from another table or other
    kernel sources (numba does not notice changes to imported globals)."""
    from . import kernel, scalar, vector
    st = np.zeros(O.N_STATUS, dtype=np.int64)
    kernel.run_kernel(*dummy(st))
    if st[O.S_FPRINT] == O.FINGERPRINT:
        return
    for module in (scalar, vector, kernel):
        for obj in list(vars(module).values()):
            if hasattr(obj, "recompile") and hasattr(obj, "py_func"):
                obj.recompile()
    kernel.run_kernel(*dummy(st))
    if st[O.S_FPRINT] != O.FINGERPRINT:
        raise RuntimeError("The numba kernel of the golden model does not match the "
                           "instruction table even after recompiling; delete "
                           "sim/iss/__pycache__ and try again.")


_FRESH = False


class Machine:
    """One spikevec core. Contract: every method leaves the state consistent; a run ends
    with a :class:`RunResult` (faults are results, not exceptions, unless ``check``)."""

    def __init__(self, config: CoreConfig):
        self.config = config
        L = config.lanes
        self.imem = np.zeros(config.imem_words, dtype=np.uint32)
        self.dmem = np.zeros(config.dmem_bytes, dtype=np.uint8)
        self.vmem = np.zeros(config.vmem_bytes, dtype=np.uint8)
        self.lmem = np.zeros((L, config.lane_mem_elements), dtype=np.int16)
        self.x = np.zeros(32, dtype=np.uint32)
        self.v = np.zeros((32, L), dtype=np.int16)
        self.rng = np.zeros((2, L), dtype=np.uint16)
        self._st = np.zeros(O.N_STATUS, dtype=np.int64)
        self._code = predecode([], config, config.imem_words)
        self.exit_reason = None
        self.last_result = None
        self._ensure_fresh()

    # Construction helpers ---------------------------------------------------------------
    def _ensure_fresh(self):
        global _FRESH
        if not _FRESH:
            tr = np.zeros((0, O.T_LANES + self.config.lanes), dtype=np.int64)
            _check_fresh(lambda st: (self._code[:1], self.x.copy(), self.v.copy(),
                                     self.rng.copy(), self.dmem[:4].copy(),
                                     self.vmem[:64].view(np.int16), self.vmem[:64].view(np.int8),
                                     self.lmem.copy(), st, 0, tr, False))
            _FRESH = True

    # State access ---------------------------------------------------------------------
    pc = property(lambda self: int(self._st[O.S_PC]),
                  lambda self, value: self._set_status(O.S_PC, value))
    cycles = property(lambda self: int(self._st[O.S_CYCLES]))
    instret = property(lambda self: int(self._st[O.S_INSTRET]))

    def _set_status(self, index, value):
        self._st[index] = int(value)

    def reset(self):
        """Zero registers, generator state, counters and pc; keep the memories."""
        self.x[:] = 0
        self.v[:] = 0
        self.rng[:] = 0
        self._st[:] = 0
        self.exit_reason = None

    def restart(self, pc: int = 0):
        """Set pc, zero the counters and the exit state; keep registers, generator state
        and memories (run the same program again on new inputs)."""
        self._st[:] = 0
        self._st[O.S_PC] = pc
        self.exit_reason = None

    def set_counters(self, cycles: int, instret: int):
        """Set the 64-bit cycle and instret counters (e.g. to restore a checkpoint)."""
        for value, what in ((cycles, "cycles"), (instret, "instret")):
            if not 0 <= value < 1 << 63:
                raise ValueError(f"{what} = {value} is outside the counter range; give "
                                 f"0 <= {what} < 2**63.")
        self._st[O.S_CYCLES], self._st[O.S_INSTRET] = cycles, instret
        self._st[O.S_READY:O.S_READY + O.N_REGS] = 0     # every register ready now

    def set_imem(self, words, offset_words: int = 0):
        """Write instruction words from word ``offset_words`` and pre-decode them."""
        words = np.asarray(list(words), dtype=np.uint64)
        self._range_check("instruction memory", offset_words * 4, 4 * len(words),
                          self.config.imem_bytes)
        self.imem[offset_words:offset_words + len(words)] = words & 0xFFFFFFFF
        self._code = predecode(self.imem.tolist(), self.config, self.config.imem_words)

    def set_dmem(self, data: bytes, offset: int = 0):
        """Write bytes into scalar data memory at byte ``offset``."""
        self._range_check("scalar data memory", offset, len(data), self.config.dmem_bytes)
        self.dmem[offset:offset + len(data)] = np.frombuffer(bytes(data), dtype=np.uint8)

    def set_vmem(self, data: bytes, offset: int = 0):
        """Write bytes into vector memory at byte ``offset``."""
        self._range_check("vector memory", offset, len(data), self.config.vmem_bytes)
        self.vmem[offset:offset + len(data)] = np.frombuffer(bytes(data), dtype=np.uint8)

    def set_lane_mem(self, lane: int, values, offset: int = 0):
        """Write int16 ``values`` into lane ``lane``'s local memory from element
        ``offset``."""
        values = np.asarray(values, dtype=np.int64)
        if not 0 <= lane < self.config.lanes:
            raise ValueError(f"Lane {lane} does not exist; this core has lanes 0 to "
                             f"{self.config.lanes - 1}.")
        self._range_check(f"lane {lane}'s local memory", 2 * offset, 2 * len(values),
                          self.config.lane_mem_bytes)
        self.lmem[lane, offset:offset + len(values)] = values.astype(np.int16)

    def set_seeds(self, s0, s1):
        """Set every lane's generator state (``s0``, ``s1``: sequences of lanes ints)."""
        self.rng[0] = np.asarray(s0, dtype=np.int64) & 0xFFFF
        self.rng[1] = np.asarray(s1, dtype=np.int64) & 0xFFFF

    @staticmethod
    def _range_check(what, offset, size, limit):
        if offset < 0 or offset + size > limit:
            raise ValueError(f"Cannot write {size} bytes at offset {offset} of the {what}: "
                             f"it holds {limit} bytes. Use a smaller image or a "
                             f"configuration with more memory.")

    def load_program(self, program):
        """Load a :class:`~spikevec.sw.asm.program.Program` (text, data, vdata), clear
        the other memory contents and reset the registers, counters and pc."""
        self.config.check_compatible(program.config, "program")
        self.dmem[:] = 0
        self.vmem[:] = 0
        self.lmem[:] = 0
        self.imem[:] = 0
        self.set_imem(program.text)
        self.set_dmem(program.data)
        self.set_vmem(program.vdata)
        self.reset()

    # Running --------------------------------------------------------------------------
    def run(self, max_instructions: int | None = None, trace: bool = False,
            check: bool = False) -> RunResult:
        """Run from the current pc until ecall, ebreak, a fault or ``max_instructions``
        instructions (counted from this call). With ``trace`` the result holds the
        write-back trace; with ``check`` any exit but ``ecall`` raises
        :class:`MachineFault`."""
        if max_instructions is not None and max_instructions < 0:
            raise ValueError(f"max_instructions = {max_instructions} is negative; give a "
                             f"count >= 0 or None for no limit.")
        result = self._run(max_instructions, trace, "max_instructions")
        if check and not result.ok:
            raise MachineFault(result)
        return result

    def step(self, trace: bool = False) -> RunResult:
        """Execute one instruction; ``exit_reason`` is ``running`` unless it stopped."""
        return self._run(1, trace, "running")

    def _run(self, count, tracing, limit_reason) -> RunResult:
        from .kernel import run_kernel
        from .ops import S_EXIT, S_INSTRET, S_TRACE_N
        st = self._st
        end = None if count is None else st[S_INSTRET] + count
        rows = O.T_LANES + self.config.lanes
        buf = np.zeros((TRACE_ROWS if tracing else 0, rows), dtype=np.int64)
        records = [] if tracing else None
        vmem16, vmem8 = self.vmem.view(np.int16), self.vmem.view(np.int8)
        while True:
            limit = st[S_INSTRET] + CHUNK if end is None else min(end, st[S_INSTRET] + CHUNK)
            st[S_TRACE_N] = 0
            code = run_kernel(self._code, self.x, self.v, self.rng, self.dmem, vmem16, vmem8,
                              self.lmem, st, limit, buf, tracing)
            if tracing:
                records.extend(rows_to_records(buf[:st[S_TRACE_N]], self.config.lanes))
            if code == O.EXIT_TRACE_FULL or (code == O.EXIT_CHUNK and st[S_INSTRET] != end):
                continue
            break
        st[S_EXIT] = code
        reason = limit_reason if code == O.EXIT_CHUNK else O.EXIT_NAMES[code]
        self.exit_reason = reason
        fault, message = self._describe(reason, count)
        self.last_result = RunResult(reason, message, self.pc, self.instret, self.cycles,
                                     fault, records)
        return self.last_result

    # Messages -------------------------------------------------------------------------
    def _instr_at(self, pc):
        if 0 <= pc < self.config.imem_bytes and pc % 4 == 0:
            word = int(self.imem[pc // 4])
            return word, mnemonic(word, self.config)
        return None, None

    def _describe(self, reason, count):
        pc = self.pc
        word, mn = self._instr_at(pc)
        where = (f"pc 0x{pc:08x} ({mn}, word 0x{word:08x})" if word is not None
                 else f"pc 0x{pc:08x}")
        n = self.instret
        if reason in ("ecall", "ebreak", "running"):
            return None, f"{reason} at {where} after {n} instructions and {self.cycles} cycles."
        fault = {"pc": pc, "word": word, "mnemonic": mn, "address": None, "lane": None}
        if reason == "max_instructions":
            return fault, (f"Stopped at {where} after {count} instructions of this run "
                           f"(max_instructions = {count}); raise the limit if the program "
                           f"is still doing useful work, or look for an endless loop.")
        if reason == "illegal_instruction":
            why = decode_word(word, self.config)[1]
            fault["address"] = pc
            return fault, (f"Illegal instruction at pc 0x{pc:08x}: word 0x{word:08x} "
                           f"({mn}): {why}. Check that the program was assembled for this "
                           f"core configuration and that execution did not run into data.")
        if reason == "pc_fault":
            prev = int(self._st[O.S_PREV_PC])
            pword, pmn = self._instr_at(prev)
            fault["address"] = pc
            problem = ("is not a multiple of 4" if pc % 4 else
                       f"is outside instruction memory ({self.config.imem_bytes} bytes)")
            origin = (f"the instruction at 0x{prev:08x} ({pmn}, word 0x{pword:08x}) jumped, "
                      f"branched or fell through to it" if n else "execution started there")
            return fault, (f"pc fault: pc 0x{pc:08x} {problem}; {origin}. End the program "
                           f"with ecall and check jump targets.")
        return fault, self._memory_fault(reason, fault, where)

    def _memory_fault(self, reason, fault, where):
        st, cfg = self._st, self.config
        addr, detail = int(st[O.S_FAULT_ADDR]), int(st[O.S_FAULT_DETAIL])
        name = INSTRUCTIONS[int(self._code[self.pc // 4, O.C_OP])].name
        verb = "load" if reason == "load_fault" else "store"
        fault["address"] = addr
        if name in ("vloadl", "vstorel"):
            lane = int(st[O.S_FAULT_LANE])
            fault["lane"] = lane
            return (f"{verb.capitalize()} fault at {where}: lane {lane} element address "
                    f"{addr} is outside its lane-local memory (elements 0 to "
                    f"{cfg.lane_mem_elements - 1}); negative addresses disable a lane.")
        if name in _SCALAR_SIZE:
            space, size, limit = "scalar data memory", _SCALAR_SIZE[name], cfg.dmem_bytes
            align = size
        else:
            space, limit = "vector memory", cfg.vmem_bytes
            size = align = cfg.lanes if name in ("vlacc8", "vload8") else cfg.vector_bytes
        problem = (f"is not a multiple of {align}" if detail == O.FD_MISALIGNED else
                   f"is outside {space} ({limit} bytes)")
        return (f"{verb.capitalize()} fault at {where}: the {size}-byte {verb} address "
                f"0x{addr:08x} {problem}. Check the base register and offset.")

    # Results --------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """JSON-able state: exit_reason, message, pc, instret, cycles, x (32 unsigned
        ints), v (32 lists of signed lane values), rng (s0, s1 lists), fault."""
        res = self.last_result
        return {"exit_reason": self.exit_reason, "message": res.message if res else None,
                "pc": self.pc, "instret": self.instret, "cycles": self.cycles,
                "x": [int(a) for a in self.x], "v": self.v.astype(int).tolist(),
                "rng": {"s0": self.rng[0].astype(int).tolist(),
                        "s1": self.rng[1].astype(int).tolist()},
                "fault": res.fault if res else None, "config": self.config.name}

    def format_state(self) -> str:
        """Readable final state: exit, counters, non-zero x (ABI names) and v registers."""
        lines = [f"exit: {self.exit_reason}",
                 self.last_result.message if self.last_result else "",
                 f"pc 0x{self.pc:08x}  instret {self.instret}  cycles {self.cycles}"]
        for i, val in enumerate(self.x):
            if val:
                lines.append(f"  x{i:<2} {ABI_NAMES[i]:>4} = 0x{int(val):08x} "
                             f"({int(np.int32(np.uint32(val)))})")
        for i, vec in enumerate(self.v):
            if vec.any():
                lines.append(f"  v{i:<2} = {vec.astype(int).tolist()}")
        return "\n".join(line for line in lines if line)
