"""spikevec.hw.rtl: the scalar core in Amaranth 0.5.

* :mod:`.enums` - ``Op``/``Fmt``/``TimingClass`` generated from the instruction table,
  and ``TrapCause``;
* :mod:`.decoder` - :class:`Decoder`, generated from the table;
* :mod:`.alu`, :mod:`.load_store_unit`, :mod:`.register_file` - :mod:`.multiplier` - EX/MEM building blocks;
* :mod:`.scalar_core` - :class:`ScalarCore`, the 6-stage pipeline (IF1 IF2 ID EX MEM WB) and its memories;
* :mod:`.front_end`, :mod:`.hazard_unit`, :mod:`.run_control` - its IF1/IF2/ID stages,
  forwarding and operand waits, run state and counters;
* :mod:`.signatures` - vector issue, host memory and status interfaces;
* :mod:`.null_vector_unit`, :mod:`.scalar_top` - the core with vector instructions as
  no-ops, for scalar tests and synthesis;
* :mod:`.synth_check` - ECP5 synthesis / place-and-route sanity script.
"""
from .decoder import Decoder
from .enums import Fmt, Op, TimingClass, TrapCause, op_of
from .null_vector_unit import NullVectorUnit
from .scalar_core import ScalarCore
from .scalar_top import ScalarTop
from .signatures import HostMemorySignature, StatusSignature, VectorIssueSignature

__all__ = ["Decoder", "Fmt", "Op", "TimingClass", "TrapCause", "op_of", "NullVectorUnit",
           "ScalarCore", "ScalarTop", "HostMemorySignature", "StatusSignature",
           "VectorIssueSignature"]
