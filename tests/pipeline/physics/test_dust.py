import numpy as np
import pytest

from pipeline.physics.dust import attenuation, calzetti_k, ccm89_a_over_av


def test_calzetti_values_at_balmer_lines():
    # Calzetti et al. (2000): k(Halpha) = 3.33, k(Hbeta) = 4.60, k(V=5500 Å) = 4.05 (R_V).
    k = calzetti_k([6564.61, 4862.68, 5500.0])
    np.testing.assert_allclose(k, [3.33, 4.60, 4.05], atol=0.01)


def test_law_is_monotonic_and_finite_beyond_its_range():
    lam = np.geomspace(400, 40000, 2000)
    k = calzetti_k(lam)
    assert np.all(np.isfinite(k)) and k.min() >= 0
    # The two published fits meet at 0.63 µm with a 0.015 step; elsewhere k falls with lambda.
    rising = np.diff(k) > 0
    assert np.all(np.abs(lam[1:][rising] - 6300) < 20) and np.diff(k)[rising].max() < 0.02


def test_attenuation_is_ten_to_minus_04_k_ebv():
    np.testing.assert_allclose(attenuation(6564.61, 0.3), 10 ** (-0.4 * 3.3258 * 0.3), rtol=1e-3)


def test_ccm89_colour_excess():
    """A(B) - A(V) = E(B-V) = A(V) / R_V at the B and V effective wavelengths (CCM89)."""
    a_b, a_v = ccm89_a_over_av(np.array([4405.0, 5495.0]), 3.1)
    assert a_v == pytest.approx(1.0, abs=0.01)
    assert a_b - a_v == pytest.approx(1 / 3.1, rel=0.03)
