"""The ZWARN bitmask: redrock-compatible numbers, bits set from data and p(z)."""

import numpy as np

from pipeline.assess import zwarning
from pipeline.assess.zwarning import ZWarn


def test_shared_bits_keep_redrock_numbers():
    assert ZWarn.LITTLE_COVERAGE == 2 and ZWarn.MULTIPLE_PEAKS == 4 and ZWarn.OUT_OF_RANGE == 32
    assert ZWarn.NODATA == 512 and ZWarn.BAD_INPUT == 2048
    assert len({int(b) for b in ZWarn}) == len(list(ZWarn))  # no two bits alike


def test_bits_from_pz_and_data():
    bits = zwarning.from_pz(z=np.array([1.0, 1.0, 9.0]), z_lo=np.array([0.995, 0.8, 8.96]),
                            z_hi=np.array([1.005, 1.2, 9.04]), p2=np.array([0.0, 0.3, 0.0]), z_range=(0.0, 7.0))
    assert bits[0] == 0
    assert zwarning.describe(bits[1]) == ["MULTIPLE_PEAKS", "BROAD_PZ"]
    assert zwarning.describe(bits[2]) == ["OUT_OF_RANGE"]
    data = zwarning.from_data(n_good=np.array([0, 100, 5000]), median_snr=np.array([0.0, 10.0, 1.0]))
    assert zwarning.describe(data[0]) == ["LITTLE_COVERAGE", "NODATA", "LOW_SNR"]
    assert zwarning.describe(data[1]) == ["LITTLE_COVERAGE"]
    assert zwarning.describe(data[2]) == ["LOW_SNR"]


def test_table_documents_every_bit():
    text = zwarning.table()
    assert all(f"`{bit.name}`" in text for bit in ZWarn)
