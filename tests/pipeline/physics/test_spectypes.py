import numpy as np
import pytest

from pipeline.physics import spectypes as S
from pipeline.physics.constants import C_KMS
from pipeline.physics.instruments import DESI
from pipeline.physics.params import validate
from pipeline.physics.simulate import SimulationConfig, chunk_params, render


@pytest.fixture(scope="module")
def survey():
    params, config = chunk_params(0, 600, 5, "survey", DESI)
    return params, render(params, SimulationConfig(instrument=DESI, noise="physical", igm=True))


def test_classes_come_in_survey_proportions(survey):
    params, _ = survey
    share = np.bincount(params["spectype"].astype(int), minlength=4) / len(params["z"])
    for code, name in S.SPECTYPES.items():
        assert abs(share[code] - S.SURVEY_FRACTIONS[name]) < 0.05


def test_stars_sit_at_their_radial_velocity_and_sky_fibres_at_zero(survey):
    params, _ = survey
    kind = params["spectype"].astype(int)
    star, sky = kind == S.CODES["STAR"], kind == S.CODES["SKY"]
    assert np.all(np.abs(params["z"][star]) * C_KMS <= S.STAR_RV_MAX_KMS)
    assert np.all(params["z"][sky] == 0)
    assert np.all(S.subtype_names(params["subtype"][star]) != "")
    validate(params)  # local redshifts are accepted for stars and sky


def test_a_galaxy_table_refuses_a_negative_redshift():
    params, _ = chunk_params(0, 4, 5, "default", DESI)
    params["z"][0] = -1e-4
    with pytest.raises(ValueError, match="'z'"):
        validate(params)


def test_sky_fibres_have_no_source_light_and_stars_quasars_do(survey):
    params, out = survey
    kind = params["spectype"].astype(int)
    assert np.all(out.model[kind == S.CODES["SKY"]] == 0)
    for name in ("QSO", "STAR"):
        rows = kind == S.CODES[name]
        covered = out.covered[rows]
        assert np.all(np.nanmedian(np.where(covered, out.model[rows], np.nan), axis=1) > 0)


def test_an_a_star_shows_halpha_at_its_radial_velocity():
    params, _ = chunk_params(0, 8, 5, "survey", DESI)
    a_star = [i for i, (_, sub, _) in enumerate(S.STELLAR_TEMPLATES) if sub == "A"][0]
    params.update(spectype=np.full(8, 2.0), star_template=np.full(8, float(a_star)), star_mix=np.zeros(8),
                  ebv_mw=np.zeros(8), z=np.linspace(-300, 300, 8) / C_KMS,
                  lambda_lo=np.full(8, 3600.0), lambda_hi=np.full(8, 9800.0))
    out = render(params, SimulationConfig(instrument=DESI, noise="physical"))
    for z, flux in zip(params["z"], out.model):
        window = np.abs(out.wavelength - 6564.6) < 20
        centre = out.wavelength[window][np.argmin(flux[window])]
        assert abs(centre / 6564.6 - 1 - z) * C_KMS < 40  # within ~one pixel
