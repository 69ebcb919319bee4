"""The default prior: populations with z-dependent fractions and correlated properties."""

import numpy as np
import pytest

from pipeline.physics import priors
from pipeline.physics.instruments import DEIMOS, get_instrument
from pipeline.physics.nebular import load_line_grid
from pipeline.physics.params import validate
from pipeline.physics.populations import CODES, POPULATIONS, names
from pipeline.physics.simulate import SimulationConfig, continuum, line_fluxes, render

HALPHA = 6564.6
NOISELESS = SimulationConfig(noise="none", igm=False)


def full_coverage(table):
    n = len(table["z"])
    return validate({**table, "lambda_lo": np.full(n, 3600.0), "lambda_hi": np.full(n, 11000.0)})


def rest_ew_halpha(p, model):
    """Rest-frame EW(Halpha) (Å) measured on noiseless spectra (B, npix): flux above the
    continuum within +-25 Å (rest) of Halpha, minus [NII], over the continuum there."""
    grid = load_line_grid()
    from pipeline.sampling.grid import model_grid

    wave = model_grid().wavelength
    width = np.gradient(wave)
    cont = continuum(p, NOISELESS)
    rest = wave[None, :] / (1 + p["z"][:, None])
    window = np.abs(rest - HALPHA) < 25
    line = ((model - cont) * width * window).sum(axis=1)
    nii = line_fluxes(p, NOISELESS)[:, [grid.index("NII6583"), grid.index("NII6548")]].sum(axis=1)
    level = np.array([np.median(c[w]) for c, w in zip(cont, window)])
    return (line - nii) / level / (1 + p["z"])


@pytest.fixture(scope="module")
def low_z():
    """Rows with Halpha on the model grid (z < 0.6), every population present."""
    return full_coverage(priors.draw_default(12000, np.random.default_rng(11), np.full(12000, 0.6)))


def test_population_codes_and_names():
    assert [POPULATIONS[c] for c in range(6)] == ["star-forming", "starburst", "quiescent", "quiescent-LIER",
                                                  "post-starburst", "EELG"]
    assert list(names(np.array([5.0, 0.0]))) == ["EELG", "star-forming"]


def test_fractions_depend_on_redshift_with_a_floor():
    f = priors.population_fractions([0.1, 1.0, 3.0, 5.5])
    np.testing.assert_allclose(f.sum(axis=1), 1.0)
    assert np.all(f >= priors.FLOOR - 1e-12)
    quiescent = f[:, CODES["quiescent"]] + f[:, CODES["quiescent-LIER"]]
    assert np.all(np.diff(quiescent) < 0) and quiescent[0] > 0.3 and quiescent[-1] < 0.15
    assert np.all(np.diff(f[:, CODES["EELG"]]) >= 0) and f[-1, CODES["EELG"]] > 4 * f[0, CODES["EELG"]]
    # and the draws follow them
    table = priors.draw_default(40000, np.random.default_rng(2), np.full(40000, 6.0))
    cls, z = table["galaxy_class"], table["z"]
    q = np.isin(cls, [CODES["quiescent"], CODES["quiescent-LIER"]])
    assert q[z < 0.5].mean() > 2.5 * q[z > 3].mean()
    assert (cls == CODES["EELG"])[z > 3].mean() > 3 * (cls == CODES["EELG"])[z < 0.5].mean()
    for code in POPULATIONS:
        assert (cls == code)[z > 4].mean() > 0.03 and (cls == code)[z < 0.3].mean() > 0.03


@pytest.mark.parametrize("instrument", ["deimos", "sdss", "desi"])
def test_every_draw_lies_inside_the_model_grids(instrument):
    table = priors.draw("default", 5000, np.random.default_rng(5), get_instrument(instrument))
    p = validate(table)
    assert set(np.unique(p["galaxy_class"])) == set(map(float, POPULATIONS))
    assert np.all(np.isfinite(p["log_mass"]))


def test_quiescent_classes_have_no_star_forming_lines(low_z):
    p = low_z
    grid = load_line_grid()
    f = line_fluxes(p, NOISELESS)
    ew = rest_ew_halpha(p, render(p, NOISELESS).model)
    cls = p["galaxy_class"]
    for quiet in ("quiescent", "post-starburst"):
        assert np.all(np.abs(ew[cls == CODES[quiet]]) < 0.1), quiet
    lier = cls == CODES["quiescent-LIER"]
    n2 = f[lier, grid.index("NII6583")] / f[lier, grid.index("Halpha")]
    assert np.all(n2 > 0.6)
    assert np.all((ew[lier] > 0.1) & (ew[lier] < 3.5))  # Belfiore et al. 2016: EW(Halpha) < 3 Å before dust
    psb = cls == CODES["post-starburst"]
    assert np.all((p["age_old_gyr"][psb] >= 0.3) & (p["age_old_gyr"][psb] <= 1.5))


def test_extreme_emission_line_dwarfs_span_200_to_2000_angstrom(low_z):
    """Rest EW(Halpha) against stars plus nebular continuum: the nebular continuum of the
    youngest bursts caps it near 1,100-1,500 Å (measured 2nd-98th percentiles ~270-1,100 Å)."""
    p = {k: v[low_z["galaxy_class"] == CODES["EELG"]] for k, v in low_z.items()}
    assert len(p["z"]) > 100
    ew = rest_ew_halpha(p, render(p, NOISELESS).model)
    lo, hi = np.percentile(ew, [2, 98])
    assert 150 < lo < 400 and 1000 < hi < 2500
    assert np.all((p["metallicity"] >= 7.2) & (p["metallicity"] <= 8.0)) and np.all(p["log_mass"] < 9.1)


def test_properties_follow_the_scaling_relations():
    table = priors.draw_default(60000, np.random.default_rng(8), np.full(60000, 6.0))
    sf = (table["galaxy_class"] == CODES["star-forming"])
    mid = sf & (table["z"] > 0.5) & (table["z"] < 1.5)
    slope = lambda x, y: np.polyfit(x, y, 1)[0]  # noqa: E731
    assert 0.25 < slope(table["log_mass"][mid], table["log_sfr"][mid]) < 0.9  # Speagle+14 ~0.7, diluted
    assert slope(table["log_mass"][mid], table["metallicity"][mid]) > 0.1  # MZR
    assert slope(table["metallicity"][sf], table["log_q"][sf]) < -0.2  # U-Z anticorrelation
    assert slope(table["log_mass"][sf], table["ebv"][sf]) > 0.03  # dust rises with mass
    near = sf & (np.abs(table["log_mass"] - 10.0) < 0.2)
    assert np.median(table["metallicity"][near & (table["z"] < 0.3)]) > np.median(
        table["metallicity"][near & (table["z"] > 2.5)]) + 0.15  # MZR evolves
    offset = table["log_sfr"] - priors.main_sequence_log_sfr(table["log_mass"], table["z"])
    sb = table["galaxy_class"] == CODES["starburst"]
    assert np.median(offset[sb]) > np.median(offset[sf]) + 0.5
    # the broad component keeps support far from the relations
    assert 0.06 < np.mean(np.abs(offset[sf]) > 1.0) < 0.3


def test_main_sequence_is_speagle_eq_28():
    # log SFR = (0.84 - 0.026 t) log M - (6.51 - 0.11 t); at log M = 10: 1.89 - 0.15 t.
    s = priors.main_sequence_log_sfr(np.array([10.0, 11.0]), np.array([1.0, 1.0]))
    t = (1.89 - s[0]) / 0.15
    assert 5.5 < t < 6.3  # the age of the universe at z = 1, Gyr
    np.testing.assert_allclose(s[1] - s[0], 0.84 - 0.026 * t)


def test_thesis_prior_is_unchanged():
    table = priors.draw("thesis", 500, np.random.default_rng(0), DEIMOS)
    assert "galaxy_class" not in table and np.all(table["log_mass_old"] == 0)
    assert set(np.unique(table["log_sfr"])) <= set(np.arange(-1.0, 2.51, 0.5))
