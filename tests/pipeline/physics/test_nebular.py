import numpy as np

from pipeline.physics.constants import LOG_C_CMS
from pipeline.physics.nebular import line_ratios, load_line_grid
from pipeline.physics.params import validate
from pipeline.physics.populations import CODES
from pipeline.physics.priors import draw_default
from pipeline.physics.simulate import SimulationConfig, line_fluxes


def test_grid_axes_are_the_thesis_axes():
    grid = load_line_grid()
    u, p, z = grid.axes
    assert (len(u), len(p), len(z)) == (9, 12, 12)
    assert grid.bounds["log_q"] == (-4 + LOG_C_CMS, -2 + LOG_C_CMS)
    assert np.all(np.diff(grid.wavelength[[grid.index("Hbeta"), grid.index("Halpha")]]) > 0)


def test_interpolation_reproduces_grid_nodes():
    grid = load_line_grid()
    u, p, z = grid.axes
    r = line_ratios(grid, np.array([u[3] + LOG_C_CMS]), np.array([p[5]]), np.array([z[4]]))
    np.testing.assert_allclose(np.log10(r[0]), grid.log_ratio[3, 5, 4], atol=1e-12)


def test_case_b_balmer_decrement_at_moderate_metallicity():
    # Case B at 10^4 K: Halpha/Hbeta = 2.86 (Osterbrock & Ferland 2006). The grid's cool,
    # metal-rich nebulae exceed it, so test below 12+log(O/H) = 8.6.
    grid = load_line_grid()
    rng = np.random.default_rng(0)
    n = 500
    r = line_ratios(grid, rng.uniform(6.6, 8.4, n), rng.uniform(4.3, 8.5, n), rng.uniform(7.1, 8.6, n))
    decrement = r[:, grid.index("Halpha")] / r[:, grid.index("Hbeta")]
    assert np.all(np.abs(decrement / 2.86 - 1) < 0.04)


def test_derived_doublet_ratios_from_atomic_physics():
    grid = load_line_grid()
    r = line_ratios(grid, np.array([7.5]), np.array([6.0]), np.array([8.5]))[0]
    # Storey & Zeippen (2000): [OIII]5007/4959 = 2.98, [NII]6583/6548 = 2.94.
    np.testing.assert_allclose(r[grid.index("OIII5007")] / r[grid.index("OIII4959")], 2.98, atol=0.02)
    np.testing.assert_allclose(r[grid.index("NII6583")] / r[grid.index("NII6548")], 2.94, atol=0.02)


def test_star_forming_prior_lies_below_kewley_maximum_starburst_line():
    # Kewley et al. (2001): log([OIII]/Hbeta) < 0.61 / (log([NII]/Halpha) - 0.47) + 1.19.
    grid = load_line_grid()
    rng = np.random.default_rng(3)
    table = draw_default(4000, rng, np.full(4000, 6.0))
    table["lambda_lo"], table["lambda_hi"] = np.full(4000, 3600.0), np.full(4000, 11000.0)
    hii = table["galaxy_class"] != CODES["quiescent-LIER"]
    f = line_fluxes(validate(table), SimulationConfig())[hii]
    x = np.log10(f[:, grid.index("NII6583")] / f[:, grid.index("Halpha")])
    y = np.log10(f[:, grid.index("OIII5007")] / f[:, grid.index("Hbeta")])
    assert np.all(x < 0.47)
    assert np.all(y < 0.61 / (x - 0.47) + 1.19)


def test_nlr_grid_carries_the_hii_line_list_at_low_ionisation():
    hii, nlr = load_line_grid(), load_line_grid("NLR")
    assert nlr.names == hii.names
    np.testing.assert_array_equal(nlr.wavelength, hii.wavelength)
    u, p, z = nlr.axes
    assert (u[0], u[-1], len(p), len(z)) == (-4.2, -0.2, 12, 12)
    # LIER-like at low U and high Z: [NII]/Halpha > 0.6, unlike any HII-grid node there.
    r = line_ratios(nlr, np.full(3, -3.7 + LOG_C_CMS), np.array([5.0, 6.0, 7.0]), np.full(3, 8.9))
    assert np.all(r[:, nlr.index("NII6583")] / r[:, nlr.index("Halpha")] > 0.6)


def test_lier_rows_take_nlr_ratios_in_line_fluxes():
    table = draw_default(200, np.random.default_rng(4), np.full(200, 6.0))
    table["lambda_lo"], table["lambda_hi"] = np.full(200, 3600.0), np.full(200, 11000.0)
    table["galaxy_class"] = np.full(200, float(CODES["quiescent-LIER"]))
    grid = load_line_grid()
    lier = line_fluxes(validate(table), SimulationConfig())
    hii = line_fluxes(validate({**table, "galaxy_class": np.zeros(200)}), SimulationConfig())
    ratio = lambda f: f[:, grid.index("SII6716")] / f[:, grid.index("Halpha")]  # noqa: E731
    assert not np.allclose(ratio(lier), ratio(hii))
    np.testing.assert_allclose(lier[:, grid.index("Halpha")], hii[:, grid.index("Halpha")])
