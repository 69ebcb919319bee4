import numpy as np
from astropy import units as u
from astropy.cosmology import Planck18

from pipeline.physics.cosmology import age_of_universe_yr, luminosity_distance_cm


def test_tables_match_astropy():
    z = np.array([0.005, 0.1, 0.77, 2.4, 5.8, 7.0])
    np.testing.assert_allclose(luminosity_distance_cm(z), Planck18.luminosity_distance(z).to_value(u.cm), rtol=1e-6)
    np.testing.assert_allclose(age_of_universe_yr(z), Planck18.age(z).to_value(u.yr), rtol=1e-6)
