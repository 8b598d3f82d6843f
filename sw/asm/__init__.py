"""spikevec.sw.asm: the assembler, the program builder and the disassembler.

* :func:`assemble` - GNU-style assembly text to a :class:`Program`;
* :class:`ProgramBuilder` - the same machinery as a Python API for the compiler;
* :func:`disassemble_word`, :func:`disassemble` - words back to assembly text;
* :class:`AsmError` - every assembly error, ``file:line:col: error: sentence``.
"""
from .assembler import assemble
from .builder import ProgramBuilder
from .disasm import disassemble, disassemble_word
from .lexer import AsmError
from .program import Program

__all__ = ["assemble", "ProgramBuilder", "disassemble", "disassemble_word", "AsmError",
           "Program"]
