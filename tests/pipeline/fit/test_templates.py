"""The fit's template basis: drawn from the simulator, and able to describe it."""

import numpy as np

from pipeline.fit.templates import ISM_GROUPS, N_CONTINUUM, basis_id, line_names, load_basis, n_templates
from pipeline.physics.instruments import DESI
from pipeline.physics.simulate import SimulationConfig, continuum, simulate_chunk
from pipeline.sampling.grid import model_grid


def test_basis_layout():
    basis = load_basis()
    assert basis.flux.shape[0] == basis.n == n_templates() == N_CONTINUUM + len(line_names()) + len(ISM_GROUPS)
    assert np.allclose(np.linalg.norm(basis.flux, axis=1), 1.0, atol=1e-5)
    emission = slice(N_CONTINUUM, N_CONTINUUM + len(line_names()))
    assert (basis.flux[emission] >= 0).all() and (basis.flux[-len(ISM_GROUPS):] <= 0).all()
    assert basis.is_line.sum() == len(line_names()) + len(ISM_GROUPS)
    assert basis_id() == basis_id() and basis_id().startswith("fit-basis-")


def test_basis_describes_the_simulators_continua():
    """Noiseless simulated continua (stars, nebular continuum, interstellar troughs) are
    fitted by the basis at their redshift to a few per cent rms (measured median 2.5 %)."""
    basis, grid = load_basis(), model_grid()
    sp = simulate_chunk(0, 60, seed=5, instrument=DESI)
    cont = continuum(sp.labels, SimulationConfig(instrument=DESI))
    residual = []
    for flux, z, ivar in zip(cont, sp.labels["z"], sp.ivar):
        covered = (ivar > 0) & (grid.wavelength / (1 + z) > 1250.0)  # redward of the Lyman-alpha forest
        x = np.arange(grid.n) + basis.offset - np.log1p(z) / basis.dln
        i0 = np.floor(x).astype(int)
        t = (basis.flux[:, i0] * (1 - (x - i0)) + basis.flux[:, i0 + 1] * (x - i0))[:, covered]
        c = np.linalg.lstsq(t.T, flux[covered], rcond=None)[0]
        residual.append(np.sqrt(np.mean((flux[covered] - c @ t) ** 2) / np.mean(flux[covered] ** 2)))
    assert np.median(residual) < 0.03
