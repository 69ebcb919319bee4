"""Stellar templates: real SDSS stars at rest, radial velocities, Milky Way extinction."""

import numpy as np
import pytest

from pipeline.physics.constants import C_KMS
from pipeline.physics.stars import NORM_RANGE, load_stellar_templates, neighbours, render_stars
from pipeline.sampling.grid import model_grid

# vacuum rest wavelengths, Å (Morton 1991 / NIST)
H_ALPHA, H_BETA, NA_D2 = 6564.61, 4862.68, 5891.58


@pytest.fixture(scope="module")
def templates():
    return load_stellar_templates()


def _minimum_near(wavelength, flux, centre, half=15.0):
    sel = np.abs(wavelength - centre) < half
    return wavelength[sel][np.argmin(flux[sel])]


def test_21_templates_with_their_subtypes(templates):
    assert templates.flux.shape == (21, model_grid().n)
    assert {"O", "A", "K", "M", "L", "WD", "WD+M", "CARBON"} <= set(templates.subtype)
    assert np.all(np.isfinite(templates.flux)) and np.all(templates.flux > 0)
    w = model_grid().wavelength
    norm = (w >= NORM_RANGE[0]) & (w <= NORM_RANGE[1])
    np.testing.assert_allclose(np.median(templates.flux[:, norm], axis=1), 1.0, rtol=1e-3)
    # measured between ~3830 and ~9200 Å; completed beyond
    assert np.all(templates.covered[:, (w > 4000) & (w < 9000)])
    assert not templates.covered[:, w < 3800].any() and not templates.covered[:, w > 9300].any()


def test_completion_meets_the_measured_spectrum(templates):
    for row, covered in zip(templates.flux, templates.covered):
        last = np.flatnonzero(covered)[-1]
        inside, beyond = row[last - 30:last].mean(), row[last + 1:last + 31].mean()
        assert 0.7 < beyond / inside < 1.4


def test_templates_are_at_rest(templates):
    """Balmer lines of the A star and Na D of the K star at their vacuum rest wavelengths
    (within one SDSS pixel, 69 km/s: 1.5 Å at Halpha)."""
    w = model_grid().wavelength
    a_star = templates.flux[list(templates.name).index("sdssAstar")]
    k_star = templates.flux[list(templates.name).index("sdssKstar")]
    for flux, line in ((a_star, H_ALPHA), (a_star, H_BETA), (k_star, NA_D2)):
        assert abs(_minimum_near(w, flux, line) - line) < line * 69.0 / C_KMS


def test_radial_velocity_shifts_the_lines(templates):
    w = model_grid().wavelength
    index = np.full(2, list(templates.name).index("sdssAstar"))
    flux = render_stars(index, np.zeros(2), np.array([0.0, 400.0]), np.zeros(2), np.ones(2), templates)
    moved = _minimum_near(w, flux[1], H_ALPHA * (1 + 400.0 / C_KMS)) - _minimum_near(w, flux[0], H_ALPHA)
    assert moved == pytest.approx(H_ALPHA * 400.0 / C_KMS, abs=1.0)  # 8.8 Å


def test_mixing_stays_in_the_family(templates):
    nxt = neighbours(templates.family)
    assert np.all(templates.family[nxt] == templates.family)
    m1 = list(templates.name).index("sdssM1star")
    half = render_stars([m1], [0.5], [0.0], [0.0], [1.0], templates)[0]
    np.testing.assert_allclose(half, 0.5 * (templates.flux[m1] + templates.flux[nxt[m1]]), rtol=1e-5)


def test_extinction_dims_most_in_the_blue(templates):
    flux = render_stars([3, 3], [0, 0], [0, 0], [0.0, 0.5], [1, 1], templates)
    ratio = flux[1] / flux[0]
    assert ratio[0] < ratio[-1] < 1
