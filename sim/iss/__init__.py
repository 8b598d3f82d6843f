"""spikevec.sim.iss: the bit-exact golden model (instruction-set simulator).

Public API::

    m = Machine(config)                      # architectural state of one core
    m.load_program(program)                  # text, data, vdata of a Program
    result = m.run(max_instructions=None, trace=False, check=False)  # -> RunResult
    m.step(); m.state_dict(); m.format_state()
    compare_traces(expected, actual)         # None or a report of the first divergence

Semantics come from :mod:`spikevec.hw.isa.table` only: words are pre-decoded through the
table (:mod:`.predecode`) and executed by one numba kernel (:mod:`.kernel`, with the
scalar and vector semantics in :mod:`.scalar` and :mod:`.vector`). Set
``NUMBA_DISABLE_JIT=1`` to run the same code as plain Python for debugging.
"""
from .machine import Machine, MachineFault, RunResult
from .trace import TRACE_KINDS, TraceRecord, compare_traces, first_divergence

__all__ = ["Machine", "MachineFault", "RunResult", "TraceRecord", "TRACE_KINDS",
           "compare_traces", "first_divergence"]
