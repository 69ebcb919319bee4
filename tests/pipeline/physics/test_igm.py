"""Physics tests of pipeline.physics.igm (Inoue, Shimizu, Iwata & Tanaka 2014, MNRAS 442, 1805)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from pipeline.physics import igm

GRID = np.geomspace(3600.0, 11000.0, 10240)  # the survey model grid, Å


def _table2() -> np.ndarray:
    """Inoue+2014 Table 2 rows (lambda_j, A_LAF_j1..3, A_DLA_j1..2), read independently."""
    root = Path(importlib.util.find_spec("bagpipes").submodule_search_locations[0])
    return np.loadtxt(root / "models/grids/lyman_series_coefs_inoue_2014_table2.txt")[:, 1:]


def _reference_tau(lam: np.ndarray, z: float) -> np.ndarray:
    """Straightforward Inoue+2014 optical depth for one source redshift: loop over the
    39 lines for eqs. 21-22, then the z_S-branch of eqs. 25-27 and 28-29 (float64)."""
    tau = np.zeros_like(lam)
    for lam_j, a1, a2, a3, d1, d2 in _table2():
        y = lam / lam_j
        seen = (lam > lam_j) & (lam < lam_j * (1 + z))
        laf = np.where(lam < 2.2 * lam_j, a1 * y**1.2,
                       np.where(lam < 5.7 * lam_j, a2 * y**3.7, a3 * y**5.5))  # eq. 21
        dla = np.where(lam < 3.0 * lam_j, d1 * y**2, d2 * y**3)  # eq. 22
        tau += np.where(seen, laf + dla, 0.0)

    x = lam / 911.8
    lc = (x > 1) & (x < 1 + z)
    if z < 1.2:  # eq. 25
        laf_lc = 0.325 * (x**1.2 - (1 + z) ** -0.9 * x**2.1)
    elif z < 4.7:  # eq. 26
        laf_lc = np.where(
            x < 2.2,
            2.55e-2 * (1 + z) ** 1.6 * x**2.1 + 0.325 * x**1.2 - 0.250 * x**2.1,
            2.55e-2 * ((1 + z) ** 1.6 * x**2.1 - x**3.7),
        )
    else:  # eq. 27
        laf_lc = np.select(
            [x < 2.2, x < 5.7],
            [5.22e-4 * (1 + z) ** 3.4 * x**2.1 + 0.325 * x**1.2 - 3.14e-2 * x**2.1,
             5.22e-4 * (1 + z) ** 3.4 * x**2.1 + 0.218 * x**2.1 - 2.55e-2 * x**3.7],
            5.22e-4 * ((1 + z) ** 3.4 * x**2.1 - x**5.5),
        )
    if z < 2.0:  # eq. 28
        dla_lc = 0.211 * (1 + z) ** 2 - 7.66e-2 * (1 + z) ** 2.3 * x**-0.3 - 0.135 * x**2
    else:  # eq. 29
        dla_lc = np.where(
            x < 3.0,
            0.634 + 4.7e-2 * (1 + z) ** 3 - 1.78e-2 * (1 + z) ** 3.3 * x**-0.3
            - 0.135 * x**2 - 0.291 * x**-0.3,
            4.7e-2 * (1 + z) ** 3 - 1.78e-2 * (1 + z) ** 3.3 * x**-0.3 - 2.92e-2 * x**3,
        )
    return tau + np.where(lc, laf_lc + dla_lc, 0.0)


def _rest_mean(trans: np.ndarray, z: float, lo: float, hi: float) -> float:
    """Mean transmission over rest-frame lo..hi Å on GRID."""
    rest = GRID / (1 + z)
    return float(trans[(rest > lo) & (rest < hi)].mean())


def test_transmission_is_one_redward_of_lya_and_below_one_blueward():
    z = np.random.default_rng(1).uniform(0.0, 7.5, 200)
    trans = igm.igm_transmission(GRID, z)
    assert trans.dtype == np.float32
    assert np.all((trans >= 0) & (trans <= 1))
    red = GRID[None, :] >= igm.LYA_REST * (1 + z[:, None])
    assert np.all(trans[red] == 1.0)
    # Ly-alpha itself absorbs every pixel between the source and 1215.67 Å observed.
    assert np.all(trans[~red] < 1.0)


def test_low_redshift_leaves_the_grid_untouched():
    # 1215.67 * (1 + 1.96) = 3598.4 Å < 3600 Å: no pixel is blueward of Ly-alpha.
    assert np.all(igm.igm_transmission(GRID, np.linspace(0.0, 1.96, 50)) == 1.0)
    assert igm.igm_transmission(GRID, np.array([1.97]))[0, 0] < 1.0


def test_matches_reference_loop_across_all_branches():
    zs = np.array([0.5, 1.5, 2.5, 3.5, 5.0, 6.5])
    lines = _table2()[[0, 1, 2, 38], 0]  # Ly-alpha, -beta, -gamma, last line
    # Both sides of every breakpoint: 2.2, 3.0, 5.7 x lambda_j (and x 911.8), the
    # source's Lyman limit and line cut-offs; plus a dense grid from 880 Å.
    marks = np.concatenate([np.outer([2.2, 3.0, 5.7], np.append(lines, 911.8)).ravel(),
                            np.outer(1 + zs, np.append(lines, 911.8)).ravel()])
    lam = np.unique(np.concatenate([np.geomspace(880.0, 11000.0, 3000),
                                    marks * (1 - 1e-5), marks * (1 + 1e-5)]))
    trans = igm.igm_transmission(lam, zs)
    for z, row in zip(zs, trans):
        ref = np.exp(-_reference_tau(lam, z))
        np.testing.assert_allclose(row, ref, rtol=1e-5, atol=1e-7, err_msg=f"z={z}")
    # The comparison really spans the LC branches x < 2.2, 2.2-3, 3-5.7, > 5.7 at z=6.5.
    x = lam[lam < 911.8 * 7.5] / 911.8
    assert all(np.any((x > a) & (x < b)) for a, b in [(1, 2.2), (2.2, 3), (3, 5.7), (5.7, 7.5)])


def test_lya_forest_decrements_with_redshift_like_observations():
    zs = np.arange(2.5, 6.01, 0.25)
    trans = igm.igm_transmission(GRID, zs)
    forest = np.array([_rest_mean(t, z, 1050.0, 1170.0) for z, t in zip(zs, trans)])
    assert np.all(np.diff(forest) < 0)
    # Faucher-Giguere et al. (2008): tau_eff(z=3) ~ 0.36, i.e. <T> ~ 0.70.
    assert 0.6 < forest[zs == 3.0][0] < 0.8
    assert forest[zs == 5.5][0] < 0.25


def test_lyman_continuum_is_dark_at_high_redshift():
    zs = np.array([3.0, 3.5, 4.0, 4.5, 5.0, 5.5, 6.0, 6.5, 7.0])
    trans = igm.igm_transmission(GRID, zs)
    lyc = np.array([_rest_mean(t, z, 880.0, 905.0) for z, t in zip(zs, trans)])
    forest = np.array([_rest_mean(t, z, 1050.0, 1170.0) for z, t in zip(zs, trans)])
    assert np.all(lyc < forest)  # a Lyman break at every redshift
    assert np.all(np.diff(lyc) < 0)
    # Just below 912 Å only nearby absorbers matter: Inoue+2014 give <T> ~ 0.23 at
    # z = 4 and < 1e-2 only from z ~ 6; deeper in the continuum it is dark by z = 4.5.
    assert np.all(lyc[zs >= 6.0] < 1e-2)
    deep = [_rest_mean(t, z, 700.0, 800.0) for z, t in zip(zs, trans) if z >= 4.5]
    assert np.all(np.array(deep) < 1e-2)


def test_batch_equals_single_spectrum_calls():
    rng = np.random.default_rng(7)
    zs = np.concatenate([rng.uniform(0.0, 7.0, 60), [1.2, 2.0, 4.7, 3.0, 3.0, 0.0, 6.9]])
    rng.shuffle(zs)
    batch = igm.igm_transmission(GRID, zs)
    single = np.concatenate([igm.igm_transmission(GRID, zs[i : i + 1]) for i in range(zs.size)])
    np.testing.assert_array_equal(batch, single)
    flux = np.full((zs.size, GRID.size), 2.0, dtype=np.float32)
    np.testing.assert_array_equal(igm.apply_igm_transmission(flux, GRID, zs), 2.0 * batch)


def test_table2_is_read_from_bagpipes_and_missing_bagpipes_is_explained(monkeypatch):
    coef = igm.lyman_series_coefficients()
    assert coef.shape == (39, 6) and coef[0, 0] == igm.LYA_REST
    assert np.all(np.diff(coef[:, 0]) < 0) and coef[-1, 0] > igm.LYMAN_LIMIT
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ImportError, match="install"):
        igm._table2_path()
