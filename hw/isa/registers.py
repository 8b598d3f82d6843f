"""Register names of the assembly language: x0..x31 with RISC-V ABI names, v0..v31."""
from __future__ import annotations

__all__ = ["ABI_NAMES", "XREG_NUMBERS", "VREG_NUMBERS", "xreg_name", "vreg_name"]

ABI_NAMES = ("zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1",
             "a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7",
             "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11",
             "t3", "t4", "t5", "t6")

XREG_NUMBERS = {f"x{i}": i for i in range(32)}
XREG_NUMBERS.update({name: i for i, name in enumerate(ABI_NAMES)})
XREG_NUMBERS["fp"] = 8
VREG_NUMBERS = {f"v{i}": i for i in range(32)}


def xreg_name(n: int) -> str:
    """The ABI name the disassembler prints for scalar register ``n``."""
    return ABI_NAMES[n]


def vreg_name(n: int) -> str:
    return f"v{n}"
