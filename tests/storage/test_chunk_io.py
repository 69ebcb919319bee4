"""Whole-chunk reads: the fast path returns exactly what zarr returns, or falls back."""

import numpy as np
import pytest
import zarr
from zarr.codecs import ZstdCodec

from storage import chunk_io, store, survey_store


@pytest.fixture
def partial_store(tmp_path):
    """A 10-spectrum survey store in chunks of 4 (the last one short), chunk 1 unwritten."""
    path = tmp_path / "s.zarr"
    npix, rng = 64, np.random.default_rng(0)
    store.create(path, survey_store.variables(), {store.SPECTRUM: 10, store.PIXEL: npix, survey_store.FILE: 1}, 4,
                 {"store": {"kind": survey_store.KIND}}, fixed={"wavelength": np.arange(npix, dtype=float),
                                                          "file_path": np.array(["x"])})
    for index in (0, 2):
        rows = store.chunk_rows(10, 4, index)
        n = rows.stop - rows.start
        flux, ivar = rng.normal(size=(n, npix)).astype(np.float32), rng.uniform(size=(n, npix)).astype(np.float32)
        ids = np.arange(rows.start, rows.stop)
        store.write_chunk(path, index, {**survey_store.pack(flux, ivar), "targetid": ids * 7, "source_file": np.zeros(n),
                                        "source_row": ids, "zwarn_input": ids % 3})
    return path


def test_fast_path_reads_what_zarr_reads_including_the_short_last_chunk(partial_store):
    group = zarr.open_group(partial_store, mode="r")
    for name in ("flux", "ivar", "targetid", "zwarn_input", "flux_scale"):
        assert chunk_io.chunk_file(group[name], 0) is not None  # the fast path is taken
        for index, rows in ((0, slice(0, 4)), (2, slice(8, 10))):
            got = chunk_io.read_chunk(group[name], index)
            assert got.dtype == group[name].dtype
            np.testing.assert_array_equal(got, group[name][rows])
    assert chunk_io.read_rows(group, ("targetid",), 2)["targetid"].tolist() == [56, 63]


def test_unwritten_chunk_falls_back_to_the_fill_value(partial_store):
    group = zarr.open_group(partial_store, mode="r")
    got = chunk_io.read_chunk(group["flux"], 1)
    assert got.shape == (4, 64) and not got.any()


def test_other_codecs_go_through_zarr(tmp_path):
    group = zarr.open_group(tmp_path / "z.zarr", mode="w", zarr_format=3)
    array = group.create_array("a", shape=(6, 5), chunks=(4, 5), dtype="float32", compressors=ZstdCodec())
    array[...] = np.arange(30, dtype=np.float32).reshape(6, 5)
    assert chunk_io.chunk_file(array, 0) is None
    np.testing.assert_array_equal(chunk_io.read_chunk(array, 1), array[4:6])


def test_corrupt_chunk_names_its_file(partial_store):
    group = zarr.open_group(partial_store, mode="r")
    path = chunk_io.chunk_file(group["flux"], 0)
    path.write_bytes(path.read_bytes()[:20])
    with pytest.raises(ValueError, match=str(path.name)):
        chunk_io.read_chunk(group["flux"], 0)


def test_read_ahead_touches_written_chunks_only(partial_store):
    group = zarr.open_group(partial_store, mode="r")
    thread = chunk_io.read_ahead(group, ("flux", "ivar"), [1, 2, 7])  # 1: unwritten, 7: no such chunk
    assert thread is not None
    thread.join(timeout=10)
    assert not thread.is_alive()
    np.testing.assert_array_equal(chunk_io.read_chunk(group["flux"], 2), group["flux"][8:10])
