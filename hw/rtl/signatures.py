"""Interface signatures of the scalar core: vector issue, host memory access, status.

Directions are given from the scalar core's side: a core port ``Out(sig)`` drives the
members marked ``Out`` and receives the members marked ``In``; the other party (vector
unit, host bridge) uses ``In(sig)`` (the flipped signature).
"""
from __future__ import annotations

from amaranth.hdl import signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from .enums import Op, TrapCause

__all__ = ["VectorIssueSignature", "HostMemorySignature", "StatusSignature",
           "ScalarRetireSignature", "VectorRetireSignature"]


class VectorIssueSignature(wiring.Signature):
    """Core -> vector unit issue interface.

    Issue (EX stage). ``valid`` is high while a legal vector instruction sits in EX and
    has its scalar operands (a function of registers only); ``squash`` (late: it comes
    from the core's MEM stage) is high when an older mispredicted branch, ``jalr`` or
    faulting instruction cancels it. It *issues* in a cycle where
    ``valid & ~squash & ~stall``, and then leaves EX at the next clock edge. Only issued
    instructions may have side effects, and an issued instruction that faults (below)
    must have none: the unit holds back what it would change until the fault is known,
    or changes it and undoes the change before anything can see it. Memory writes may
    use ``valid & ~stall`` (no ``squash`` in front of the block RAMs) if a squashed
    write is undone likewise; the core issues nothing in the two cycles after a squash.

    * ``op`` (:data:`Op`), ``word`` (32): the instruction and its raw word (read format
      fields such as ``shift``/``round``/``sat``/``imm16``/``imm8`` through
      ``data.View(FORMATS[...].layout, word)``);
    * ``pc`` (32): the instruction's address (for the vector unit's retire trace only);
    * ``rd``, ``rs1``, ``rs2`` (5): register fields; ``imm`` (signed 32): the decoder's
      immediate (I and S formats);
    * ``rs1_value``, ``rs2_value`` (32): ``x[rs1]`` and ``x[rs2]`` after forwarding;
    * ``stall`` (in): hold the instruction in EX (and everything younger) this cycle.
      It fans out to the whole front end: drive it from a register where possible;
    * ``x_result`` (in, 32): for instructions that write ``x[rd]`` (``vtst*``,
      ``vextract``), the value, due ``latency(VTOX) = lane_delay + 3`` cycles after the
      issue (from a register of the unit: the lanes run behind the core and sit far
      from it); the core writes it then through its register file's late write port
      and forwards it from there; 0 after any other vector instruction;
    * ``fault`` (in), ``fault_addr`` (in, 32): both due in the cycle after an
      instruction issued (its MEM cycle), and only then meaningful: ``fault`` high
      refuses that instruction (for example a vector address outside vector memory, or
      a lane address outside lane memory), the core halts with
      ``TrapCause.VECTOR_FAULT`` and ``fault_addr``, and the younger instruction then
      in EX is squashed. The fault belongs to the instruction's cycle-model issue cycle
      (``stall`` wins). Being a cycle late lets the unit compute both from registered
      addresses (no lane-address adder or OR over lanes feeds the core's EX control);
      ``fault`` still feeds the core's squash logic directly, so keep it a shallow
      function of registers. ``stall`` feeds the core's hold and fetch logic directly
      and must come from a register.

    Look-ahead (ID stage), so the unit can start reading its register file one cycle early:
    ``id_valid``/``id_word`` describe the (possibly illegal or scalar)
    instruction in ID; ``id_advance`` is high in a cycle at whose end it moves into EX,
    unless the core squashes or traps in that cycle (``id_advance`` leaves those out so
    it is a function of registers; EX then holds no valid instruction in the next
    cycle, so the unit may take the ID instruction as a phantom that never has
    ``valid``). Advancing does not promise issuing: in EX the instruction may wait with ``valid`` low
    (for a scalar operand from a load, ``mul`` or count) or be squashed (``squash``) by an
    older mispredicted branch, ``jalr`` or faulting instruction.
    """

    def __init__(self):
        super().__init__({
            "valid": Out(1), "squash": Out(1), "op": Out(Op), "word": Out(32), "pc": Out(32),
            "rd": Out(5), "rs1": Out(5), "rs2": Out(5), "imm": Out(signed(32)),
            "rs1_value": Out(32), "rs2_value": Out(32),
            "stall": In(1), "x_result": In(32), "fault": In(1), "fault_addr": In(32),
            "id_valid": Out(1), "id_word": Out(32), "id_advance": Out(1),
        })


class HostMemorySignature(wiring.Signature):
    """Host access to one memory (each owner documents when it is honoured: some only
    while the core is stopped, others, on their own RAM port, at any time).

    ``addr`` is a word index; ``rdata`` shows the word addressed ``latency`` cycles
    before (default 1: the previous cycle); ``we`` has one bit per byte lane
    (``byte_lanes`` bits) and writes in the same pipeline (a read issued after a write
    sees it). ``latency`` is an attribute of the signature, not a port: the host router
    reads it from the core's ports.
    """

    def __init__(self, depth: int, byte_lanes: int = 1, latency: int = 1):
        if latency < 1:
            raise ValueError(f"HostMemorySignature latency {latency!r} is not allowed; a "
                             "block-RAM port needs at least 1 cycle.")
        self.latency = latency
        super().__init__({
            "addr": In(range(depth)), "wdata": In(32), "we": In(byte_lanes),
            "rdata": Out(32),
        })


class StatusSignature(wiring.Signature):
    """Core status for the host port.

    * ``running``: the core is executing; ``halted``: it stopped (``cause`` says why;
      ``NONE``: stopped by the ``halt`` input at an instruction boundary);
    * ``trap_pc``, ``trap_word``: pc and word of the instruction that halted the core
      (after ``halt``: the next instruction, which did not execute: the pc to resume at);
    * ``trap_addr``: the faulting address (FETCH_FAULT and ILLEGAL: the pc;
      LOAD/STORE_FAULT: the data byte address; VECTOR_FAULT: from the vector unit), 0 for
      ECALL/EBREAK and a halt;
    * ``cycles``, ``instret``: the cycle-model cycle count and retired-instruction count
      (the values the ``cycle``/``instret`` CSRs would read next; at a fault stop
      ``cycles`` is the faulting instruction's issue cycle, see ``CycleModel``).
    """

    def __init__(self):
        super().__init__({
            "running": Out(1), "halted": Out(1), "cause": Out(TrapCause),
            "trap_pc": Out(32), "trap_word": Out(32), "trap_addr": Out(32),
            "cycles": Out(64), "instret": Out(64),
        })


class ScalarRetireSignature(wiring.Signature):
    """The scalar core's architectural writes, in program order, for lockstep comparison
    with the golden model's write-back trace (simulation only: nothing in the SoC reads
    these outputs, so synthesis removes them).

    * ``x_valid``: ``x[x_rd] = x_value`` was written by the instruction at ``x_pc``
      (never for ``x0``), whether by a scalar instruction or a vector one that writes a
      scalar register (``vtst*``, ``vextract``);
    * ``mem_valid``: the store at ``mem_pc`` wrote the bytes of ``mem_data`` selected by
      ``mem_byte_en`` into data-memory word ``mem_word_addr``.

    Both are reported when the latest writes (those of ``vtst*``/``vextract``, through
    the late port) happen, ``latency(VTOX)`` cycles after an instruction issues, so that
    they come out in program order; the others were made earlier.
    """

    def __init__(self):
        super().__init__({
            "x_valid": Out(1), "x_pc": Out(32), "x_rd": Out(5), "x_value": Out(32),
            "mem_valid": Out(1), "mem_pc": Out(32), "mem_word_addr": Out(30),
            "mem_byte_en": Out(4), "mem_data": Out(32),
        })


class VectorRetireSignature(wiring.Signature):
    """The vector unit's architectural writes, in program order (simulation only).

    * ``v_valid``: ``v[v_reg] = v_value`` (``lanes`` x 16 bits, lane 0 in the low bits),
      written by the instruction at ``v_pc``;
    * ``vmem_valid``: a vector store at ``vmem_pc`` writes ``vmem_value`` at vector-memory
      byte address ``vmem_addr``;
    * ``lmem_valid``: a lane-local store at ``lmem_pc`` writes, in every lane ``i`` whose
      bit of ``lmem_lanes`` is set, element ``lmem_addr[i]`` of lane memory ``i`` with
      ``lmem_value[i]`` (lane ``i`` in bits ``16*i`` up of both);
    * ``rng_valid``: ``vseed`` at ``rng_pc`` set the generators to ``rng_s0``/``rng_s1``.
    """

    def __init__(self, lanes: int):
        width = 16 * lanes
        super().__init__({
            "v_valid": Out(1), "v_pc": Out(32), "v_reg": Out(5), "v_value": Out(width),
            "vmem_valid": Out(1), "vmem_pc": Out(32), "vmem_addr": Out(32),
            "vmem_value": Out(width),
            "lmem_valid": Out(1), "lmem_pc": Out(32), "lmem_lanes": Out(lanes),
            "lmem_addr": Out(width), "lmem_value": Out(width),
            "rng_valid": Out(1), "rng_pc": Out(32), "rng_s0": Out(width),
            "rng_s1": Out(width),
        })
