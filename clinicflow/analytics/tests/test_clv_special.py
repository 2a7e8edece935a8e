"""The log-space Gaussian hypergeometric function against independent references."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, special

from clinicflow.analytics.clv.special import hyp2f1_log, log_sigmoid_parts


def euler_integral_log(a: float, b: float, c: float, z: float) -> float:
    """log 2F1 from Euler's integral (needs c > b > 0), integrated by QUADPACK.

    ``2F1 = G(c) / (G(b) G(c - b)) int_0^1 u^(b-1) (1-u)^(c-b-1) (1-zu)^(-a) du``.
    The halves ``u < 1/2`` and ``u > 1/2`` are integrated over ``s = log u`` and
    ``s = log(1 - u)`` (which removes the end-point singularities and resolves boundary
    layers), with the integrand divided by its maximum so nothing overflows.
    """

    def log_f(u: float, one_minus_u: float) -> float:
        return (b - 1) * math.log(u) + (c - b - 1) * math.log(one_minus_u) - a * math.log1p(-z * u)

    def lower(s: float) -> float:  # u = e^s, du = e^s ds
        u = math.exp(s)
        return log_f(u, -math.expm1(s)) + s

    def upper(s: float) -> float:  # 1 - u = e^s
        return log_f(-math.expm1(s), math.exp(s)) + s

    total = -math.inf
    parts = []
    for piece in (lower, upper):
        grid = np.linspace(-200.0, -math.log(2.0), 40_001)
        values = np.array([piece(float(s)) for s in grid])
        peak = float(grid[np.argmax(values)])
        top = float(values.max())
        # The integrand is negligible where it is below e^-80 of its peak.
        inside = grid[values > top - 80.0]
        lo, hi = float(inside.min()) - 1.0, min(float(inside.max()) + 1.0, -math.log(2.0))
        value, err = integrate.quad(
            lambda s, f=piece, top=top: math.exp(f(s) - top),
            max(lo, -200.0),
            hi,
            points=[min(max(peak, lo), hi)],
            limit=1000,
            epsabs=0,
            epsrel=1e-13,
        )
        assert err <= 1e-11 * value
        parts.append(top + math.log(value))
    total = float(np.logaddexp(parts[0], parts[1]))
    return float(special.gammaln(c) - special.gammaln(b) - special.gammaln(c - b) + total)


BGNBD_CASES = [
    # (r, alpha-free) BG/NBD parameter sets: r, a, b; low and high a, b around 1.
    (0.243, 0.793, 2.426),
    (1.5, 2.5, 0.6),
    (0.05, 1.2, 8.0),
]


@pytest.mark.parametrize(("r", "a", "b"), BGNBD_CASES)
@pytest.mark.parametrize("x", [0, 1, 2, 7, 30])
@pytest.mark.parametrize("z", [0.0, 1e-6, 0.1, 0.5, 0.9, 0.99, 0.999])
def test_log_hyp2f1_matches_scipy_on_bgnbd_arguments(r: float, a: float, b: float, x: int, z: float) -> None:
    log_f, sign = hyp2f1_log(r + x, b + x, a + b + x - 1.0, z)
    expected = special.hyp2f1(r + x, b + x, a + b + x - 1.0, z)
    if np.isfinite(expected) and (a - 1.0 - r) % 1.0 != 0.0:
        assert sign == np.sign(expected)
        assert float(log_f) == pytest.approx(math.log(abs(expected)), rel=1e-12, abs=1e-12)
    else:
        # c - a - b = a - 1 - r - x is an integer here: scipy's hyp2f1 is then inaccurate
        # or infinite, so Euler's integral is the reference.
        assert sign == 1.0
        assert float(log_f) == pytest.approx(euler_integral_log(b + x, r + x, a + b + x - 1.0, z), rel=1e-10)


@pytest.mark.parametrize("x", [100, 1_000, 20_000])
@pytest.mark.parametrize("z", [0.3, 0.9, 0.99])
def test_log_hyp2f1_matches_eulers_integral_where_scipy_overflows(x: int, z: float) -> None:
    r, a, b = 0.243, 0.793, 2.426
    # Euler's integral with the numerator parameter r + x in the role of b (c - b = a + b - 1 - r > 0).
    expected = euler_integral_log(b + x, r + x, a + b + x - 1.0, z)
    log_f, sign = hyp2f1_log(r + x, b + x, a + b + x - 1.0, z)
    assert sign == 1.0
    assert float(log_f) == pytest.approx(expected, rel=1e-10)
    if x >= 1_000 and z >= 0.9:
        assert not np.isfinite(special.hyp2f1(r + x, b + x, a + b + x - 1.0, z))


@pytest.mark.parametrize(
    ("a", "b", "c", "z"), [(0.5, 1.7, 2.9, 0.7), (2.0, 3.0, 5.5, 0.95), (0.3, 0.4, 1.2, 0.5)]
)
def test_log_hyp2f1_matches_eulers_integral_on_moderate_arguments(
    a: float, b: float, c: float, z: float
) -> None:
    log_f, _ = hyp2f1_log(a, b, c, z)
    assert float(log_f) == pytest.approx(euler_integral_log(a, b, c, z), rel=1e-11)


@pytest.mark.parametrize("z", [1e-8, 0.2, 0.75, 0.99, 0.999])
def test_log_hyp2f1_of_one_one_two_is_minus_log_one_minus_z_over_z(z: float) -> None:
    log_f, _ = hyp2f1_log(1.0, 1.0, 2.0, z)
    assert float(log_f) == pytest.approx(math.log(-math.log1p(-z) / z), rel=1e-11)


@pytest.mark.parametrize(("a", "z"), [(3.5, 0.5), (5_000.0, 0.9), (1e6, 0.999)])
def test_log_hyp2f1_with_b_equal_c_is_a_power_of_one_minus_z(a: float, z: float) -> None:
    with np.errstate(all="raise"):
        log_f, sign = hyp2f1_log(a, 2.5, 2.5, z)
    assert sign == 1.0
    assert float(log_f) == pytest.approx(-a * math.log1p(-z), rel=1e-12)


def test_log_hyp2f1_at_zero_is_zero_and_broadcasts() -> None:
    log_f, sign = hyp2f1_log(np.array([[1.0], [2.0]]), 3.0, 4.0, np.array([0.0, 0.0, 0.0]))
    assert log_f.shape == (2, 3)
    assert np.all(log_f == 0.0)
    assert np.all(sign == 1.0)


def test_log_hyp2f1_handles_negative_values_of_the_function() -> None:
    # 2F1(-1, b; c; z) = 1 - b z / c, negative for b z > c.
    log_f, sign = hyp2f1_log(-1.0, 4.0, 1.5, 0.8)
    assert sign == -1.0
    assert float(log_f) == pytest.approx(math.log(4.0 * 0.8 / 1.5 - 1.0), rel=1e-14)


def test_log_hyp2f1_raises_no_floating_point_errors_for_huge_frequencies() -> None:
    x = np.array([0.0, 1.0, 1e3, 1e5, 1e7])
    with np.errstate(all="raise"):
        log_f, sign = hyp2f1_log(0.243 + x, 2.426 + x, 0.793 + 2.426 + x - 1.0, 0.999)
    assert np.all(np.isfinite(log_f))
    assert np.all(sign == 1.0)
    # For large x, 2F1 ~ (1 - z)^(c - a - b): the log grows like (x + r + 1 - a) * log(1000).
    assert float(log_f[-1]) == pytest.approx((1e7 + 0.243 + 1 - 0.793) * math.log(1000.0), rel=1e-6)


def test_log_hyp2f1_rejects_z_outside_the_unit_interval() -> None:
    with pytest.raises(ValueError, match="0 <= z < 1"):
        hyp2f1_log(1.0, 1.0, 2.0, 1.0)
    with pytest.raises(ValueError, match="c = 0, -1, -2"):
        hyp2f1_log(1.0, 1.0, -2.0, 0.5)


def direct_series_log(a: float, b: float, c: float, z: float) -> float:
    """log of the plain series summed term by term in Python (all terms positive here)."""
    term, total, n = 1.0, 1.0, 0
    while True:
        term *= (a + n) * (b + n) / ((c + n) * (n + 1)) * z
        total += term
        n += 1
        if n > 50 and term < 1e-17 * total:
            return math.log(total)


@settings(max_examples=200, deadline=None)
@given(
    a=st.floats(0.01, 40.0),
    b=st.floats(0.01, 40.0),
    c=st.floats(0.05, 60.0),
    z=st.floats(0.0, 0.9),
)
def test_log_hyp2f1_agrees_with_direct_summation_for_random_positive_parameters(
    a: float, b: float, c: float, z: float
) -> None:
    log_f, sign = hyp2f1_log(a, b, c, z)
    assert sign == 1.0
    assert float(log_f) == pytest.approx(direct_series_log(a, b, c, z), rel=1e-11, abs=1e-12)


def test_log_sigmoid_parts_are_stable_at_extremes() -> None:
    d = np.array([-1e6, -50.0, 0.0, 50.0, 1e6])
    with np.errstate(all="raise"):
        softplus, sigmoid = log_sigmoid_parts(d)
    assert softplus.tolist() == pytest.approx([0.0, math.exp(-50.0), math.log(2.0), 50.0, 1e6], rel=1e-15)
    assert sigmoid.tolist() == pytest.approx([0.0, math.exp(-50.0), 0.5, 1.0, 1.0], rel=1e-15)
