import numpy as np
import pytest

from pipeline.physics.params import COLUMNS


def make_params(n=1, **overrides):
    """A valid parameter table of n identical star-forming rows, with overrides."""
    base = dict(
        z=0.5, log_sfr=1.0, metallicity=8.4, log_q=7.5, log_pk=6.0, ebv=0.0, age_myr=100.0,
        log_mass_old=9.0, age_old_gyr=3.0, sigma_v=30.0, lya_fesc=0.1, snr=10.0,
        sigma_star=0.0, ism_ew_scale=0.0, v_ism=0.0, lambda_lo=3600.0, lambda_hi=11000.0,
    )
    base.update(overrides)
    assert set(base) == set(COLUMNS)
    return {k: np.broadcast_to(np.asarray(v, dtype=float), (n,)).copy() for k, v in base.items()}


@pytest.fixture
def params():
    return make_params
