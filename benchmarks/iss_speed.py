"""Speed of the golden model (not a test): instructions per second on a vector-heavy loop
and on a scalar loop, excluding JIT compilation, which is reported separately. The logic
lives in :mod:`spikevec.sw.bench.tools` (also ``spikevec bench tools``).

Run: ``python benchmarks/iss_speed.py [--preset default] [--iterations 1000000]``.
For the cold compile time, point numba at an empty cache:
``NUMBA_CACHE_DIR=$(mktemp -d) python benchmarks/iss_speed.py``.
"""
from __future__ import annotations

import argparse


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--preset", default="default")
    ap.add_argument("--iterations", type=int, default=1_000_000)
    args = ap.parse_args(argv)
    from spikevec.hw.config import preset
    from spikevec.sw.bench.tools import iss_speed
    r = iss_speed(preset(args.preset), args.iterations)
    print(f"JIT compile or cache load {r['jit_or_cache_seconds']:.2f} s")
    for label in ("vector", "scalar"):
        f = r[label]
        print(f"{label:6} loop: {f['instructions']:>10,} instructions, {f['cycles']:>10,} "
              f"cycles in {f['seconds']:.3f} s = {f['instructions_per_second'] / 1e6:.1f} M "
              f"instructions/s ({r['lanes']} lanes)")
    t = r["traced_scalar"]
    print(f"traced scalar loop: {t['instructions']:,} instructions, {t['records']:,} "
          f"records in {t['seconds']:.3f} s = {t['instructions_per_second'] / 1e6:.2f} M "
          f"instructions/s")


if __name__ == "__main__":
    main()
