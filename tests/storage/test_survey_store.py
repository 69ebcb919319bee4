"""The survey store's float16 packing: round trip, range, and the scale-free view."""

import numpy as np

from storage import survey_store


def spectra():
    rng = np.random.default_rng(3)
    flux = (rng.normal(5.0, 1.0, (4, 300)) * np.array([1e-3, 1.0, 1e3, 1e6])[:, None]).astype(np.float32)
    ivar = (np.full((4, 300), 4.0) / np.array([1e-3, 1.0, 1e3, 1e6])[:, None] ** 2).astype(np.float32)
    ivar[:, :50] = 0.0  # uncovered
    return flux, ivar


def test_pack_unpack_round_trip_at_any_flux_scale():
    flux, ivar = spectra()
    packed = survey_store.pack(flux, ivar)
    back_flux, back_ivar = survey_store.unpack(packed)
    good = ivar > 0
    np.testing.assert_allclose(back_flux[good], flux[good], rtol=1e-3)
    np.testing.assert_allclose(back_ivar[good], ivar[good], rtol=1e-3)
    assert np.all(back_ivar[~good] == 0) and np.all(back_flux[~good] == 0)


def test_normalised_is_the_unpacked_data_divided_by_the_scale():
    flux, ivar = spectra()
    packed = survey_store.pack(flux, ivar)
    n_flux, n_ivar = survey_store.normalised(packed)
    assert n_flux.dtype == np.float32 and n_flux.shape == flux.shape
    scale = packed["flux_scale"][:, None]
    u_flux, u_ivar = survey_store.unpack(packed)
    np.testing.assert_allclose(n_flux * scale, u_flux, rtol=1e-6)
    np.testing.assert_allclose(n_ivar / scale**2, u_ivar, rtol=1e-6)
    rms = np.sqrt((n_flux[:, 50:] ** 2).mean(axis=1))
    np.testing.assert_allclose(rms, 1.0, rtol=1e-3)  # stored flux is in units of its rms


def test_normalised_into_buffers_matches_and_reuses_them():
    flux, ivar = spectra()
    packed = survey_store.pack(flux, ivar)
    buffers = tuple(np.full((6, 300), np.nan, np.float32) for _ in range(2))
    got = survey_store.normalised(packed, out=buffers)
    for g, want, buffer in zip(got, survey_store.normalised(packed), buffers):
        np.testing.assert_array_equal(g, want)
        assert g.shape == (4, 300) and np.shares_memory(g, buffer)


def test_packed_arrays_do_not_depend_on_the_flux_level_from_1e_minus_30_to_1e30():
    """float64 input far outside float32's range packs like the ordinary input; powers of
    two, including the ``unit`` ingest passes, give exactly the same bytes."""
    flux, ivar = spectra()
    ref = survey_store.pack(flux, ivar)
    for s in (2.0**90, 2.0**-90):
        for packed in (survey_store.pack(flux * np.float64(s), ivar / np.float64(s) ** 2),
                       survey_store.pack(flux, ivar, unit=np.full(len(flux), s))):
            for key in ("flux", "ivar"):
                np.testing.assert_array_equal(packed[key], ref[key])
            np.testing.assert_array_equal(packed["flux_scale"], (ref["flux_scale"] * s).astype(np.float32))
    for s in (1e30, 1e-30):
        packed = survey_store.pack(flux * np.float64(s), ivar / np.float64(s) ** 2)
        assert np.isfinite(packed["flux_scale"]).all()
        np.testing.assert_allclose(packed["flux_scale"] / ref["flux_scale"], s, rtol=1e-6)
        for key in ("flux", "ivar"):  # float16: at most one unit in the last place apart
            np.testing.assert_allclose(packed[key].astype(np.float32), ref[key].astype(np.float32), rtol=1e-3,
                                       atol=1e-7)
