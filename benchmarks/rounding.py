"""Rounding error of ``vmul`` with a 15-bit shift on the golden model, for the three
rounding modes, over 100,000 random int16 products (FeNN's measured figures are in
shared/reference/fenn.md: floor -0.4995 LSB mean, half-up +0.0008, stochastic -0.0002
with std 0.408). Prints mean and standard deviation of (result - exact) in LSB. The
logic lives in :func:`spikevec.sw.bench.micro.rounding` (also ``spikevec bench rounding``).

Run: python benchmarks/rounding.py [N]
"""
from __future__ import annotations

import sys

from spikevec.sw.bench.micro import ROUNDING_MODES, rounding


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    print(f"vmul with shift 15, {n} random products, error in LSB (result - exact)")
    res = rounding(n)
    for name, _ in ROUNDING_MODES:
        print(f"  {name:14s} mean {res[name]['mean_lsb']:+.4f}  std {res[name]['std_lsb']:.4f}")


if __name__ == "__main__":
    main()
