"""The ZWARN bitmask: redrock-compatible numbers, bits set from data, p(z) and the fit."""

import numpy as np

from pipeline.assess import zwarning
from pipeline.assess.zwarning import ZWarn


def test_shared_bits_keep_redrock_numbers():
    assert ZWarn.LITTLE_COVERAGE == 2 and ZWarn.SMALL_DELTA_CHI2 == 4 and ZWarn.OUT_OF_RANGE == 32
    assert ZWarn.NODATA == 512 and ZWarn.BAD_MINFIT == 1024 and ZWarn.BAD_INPUT == 2048
    assert len({int(b) for b in ZWarn}) == len(list(ZWarn))  # no two bits alike


def test_bits_from_pz_and_data():
    bits = zwarning.from_pz(z=np.array([1.0, 1.0, 9.0]), z_lo=np.array([0.995, 0.8, 8.96]),
                            z_hi=np.array([1.005, 1.2, 9.04]), p2=np.array([0.0, 0.3, 0.0]), z_range=(0.0, 7.0))
    assert bits[0] == 0
    assert zwarning.describe(bits[1]) == ["SMALL_DELTA_CHI2", "BROAD_PZ"]
    refined = zwarning.from_pz(z=np.array([1.0]), z_lo=np.array([0.8]), z_hi=np.array([1.2]), p2=np.array([0.3]),
                               z_range=(0.0, 7.0), refined=True)
    assert zwarning.describe(refined[0]) == ["BROAD_PZ"]  # with a fit, Δχ² decides ambiguity
    assert zwarning.describe(bits[2]) == ["OUT_OF_RANGE"]
    data = zwarning.from_data(n_good=np.array([0, 100, 5000]), median_snr=np.array([0.0, 10.0, 1.0]))
    assert zwarning.describe(data[0]) == ["LITTLE_COVERAGE", "NODATA", "LOW_SNR"]
    assert zwarning.describe(data[1]) == ["LITTLE_COVERAGE"]
    assert zwarning.describe(data[2]) == ["LOW_SNR"]


def test_table_documents_every_bit():
    text = zwarning.table()
    assert all(f"`{bit.name}`" in text for bit in ZWarn)


def test_bits_from_the_fit():
    z = np.array([1.0, 1.0, 1.0, 1.0])
    bits = zwarning.from_fit(z=z, zerr=np.full(4, 1e-4), z_net=np.array([1.0, 1.0, 1.0, 1.1]),
                             zerr_net=np.full(4, 1e-3), chi2=np.array([1000.0, 1000.0, 50000.0, 1000.0]),
                             npix=np.full(4, 1000), n_templates=14, deltachi2=np.array([50.0, 3.0, 5000.0, 50.0]),
                             bracketed=np.array([True, True, True, True]))
    assert bits[0] == 0
    assert zwarning.describe(bits[1]) == ["SMALL_DELTA_CHI2"]
    assert zwarning.describe(bits[2]) == ["BAD_MINFIT"]  # reduced χ² 51
    # Δχ² is judged in errors inflated by the reduced χ²: 500 at reduced χ² 51 is ambiguous
    inflated = zwarning.from_fit(z[:1], np.full(1, 1e-4), z[:1], np.full(1, 1e-3), np.array([50000.0]),
                                 np.array([1000]), 14, np.array([300.0]), np.array([True]))
    assert zwarning.describe(inflated[0]) == ["SMALL_DELTA_CHI2", "BAD_MINFIT"]
    assert zwarning.describe(bits[3]) == ["NET_FIT_DISAGREE"]  # 0.05 in ln(1+z), ~50 sigma apart
    unbracketed = zwarning.from_fit(z[:1], np.full(1, 1e-4), z[:1], np.full(1, 1e-3), np.array([1000.0]),
                                    np.array([1000]), 14, np.array([50.0]), np.array([False]))
    assert zwarning.describe(unbracketed[0]) == ["BAD_MINFIT"]


def test_the_readme_table_is_current():
    from pathlib import Path

    readme = (Path(__file__).parents[3] / "README.md").read_text()
    assert zwarning.table() in readme
