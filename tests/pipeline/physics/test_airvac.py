import numpy as np

from pipeline.physics.airvac import air_to_vacuum, vacuum_to_air


def test_known_lines_match_nist_vacuum_wavelengths():
    # NIST ASD: Halpha 6562.80 air / 6564.61 vacuum; [OIII] 5006.843 / 5008.240.
    vac = air_to_vacuum([6562.80, 5006.843])
    np.testing.assert_allclose(vac, [6564.61, 5008.24], atol=0.02)


def test_round_trip_and_uv_convention():
    lam = np.array([1215.67, 2500.0, 4000.0, 9000.0, 11000.0])
    np.testing.assert_allclose(vacuum_to_air(air_to_vacuum(lam)), lam, atol=1e-8)
    assert air_to_vacuum([1215.67])[0] == 1215.67  # vacuum below 2000 Å by convention
