"""Golden model: statistics of the three rounding modes of vmul with shift 15 over
100,000 random products (compare FeNN's hardware measurements in the reference notes:
floor -0.4995 LSB, round-half-up about 0, stochastic about 0 with std 0.408)."""
from __future__ import annotations

import numpy as np
import pytest

from iss_helpers import ROUND, machine, program, rerun

N_PRODUCTS = 100_000


def rounding_errors(mode: str) -> np.ndarray:
    """Error (result - exact product / 2^15) in LSB of vmul.<mode>.sat with shift 15 on
    random int16 operands, over N_PRODUCTS lanes."""
    m = machine("default")
    cfg = m.config
    L = cfg.lanes
    m = machine("default", program(cfg, ("vmul", {"round": ROUND[mode], "sat": 1},
                                          dict(vd=3, vs1=1, vs2=2, shift=15))))
    gen = np.random.default_rng(2024)
    m.rng[0] = gen.integers(1, 1 << 16, L)
    m.rng[1] = gen.integers(1, 1 << 16, L)
    a = gen.integers(-32768, 32768, (N_PRODUCTS // L, L), dtype=np.int64)
    b = gen.integers(-32768, 32768, (N_PRODUCTS // L, L), dtype=np.int64)
    out = np.empty_like(a)
    for k in range(a.shape[0]):
        m.v[1], m.v[2] = a[k], b[k]
        rerun(m)
        out[k] = m.v[3]
    exact = (a * b) / 2.0 ** 15
    keep = exact < 32767                   # drop the saturated (-32768)^2 corner
    return (out - exact)[keep]


def test_stochastic_rounding_is_unbiased_with_std_0_41():
    err = rounding_errors("stochastic")
    assert err.size > 0.99 * N_PRODUCTS
    assert abs(err.mean()) <= 0.01, err.mean()
    assert 0.40 <= err.std() <= 0.42, err.std()
    assert err.min() > -1 and err.max() < 1


def test_floor_is_biased_by_minus_half():
    err = rounding_errors("floor")
    assert err.mean() == pytest.approx(-0.5, abs=0.01)
    assert err.std() == pytest.approx(0.2887, abs=0.01)
    assert err.max() <= 0 and err.min() > -1


def test_round_half_up_is_unbiased():
    err = rounding_errors("half_up")
    assert abs(err.mean()) <= 0.01, err.mean()
    assert err.std() == pytest.approx(0.2887, abs=0.01)
    assert err.min() > -0.5 - 1e-9 and err.max() <= 0.5
