"""The store contract on small hand-made arrays: template, chunk writes, records, checks."""

import numpy as np
import pytest
import zarr

from storage import store
from storage.store import PIXEL, SPECTRUM, Variable

VARIABLES = {
    "flux": Variable((SPECTRUM, PIXEL), "float16", {"units": "1e-17 erg / (s cm2 Angstrom)"}),
    "z": Variable((SPECTRUM,), "float64", {"units": ""}),
    "wavelength": Variable((PIXEL,), "float64", {"units": "Angstrom"}),
}
ATTRS = {"store": {"kind": "test", "schema_version": 1}, "generator": {"seed": 1, "n": 10}}


def make(path, n=10, chunk=4, npix=6):
    store.create(path, VARIABLES, {SPECTRUM: n, PIXEL: npix}, chunk, ATTRS,
                 fixed={"wavelength": np.linspace(4000, 5000, npix)})


def chunk_arrays(rows, npix=6, start=0):
    return {"flux": np.arange(rows * npix, dtype=float).reshape(rows, npix) + start, "z": np.full(rows, 0.5 + start)}


def test_template_layout_and_attrs(tmp_path):
    path = tmp_path / "s.zarr"
    make(path)
    assert store.layout(path) == (10, 4)
    assert store.incomplete_chunks(path) == [0, 1, 2]
    assert store.read_attrs(path)["generator"] == {"seed": 1, "n": 10}
    ds = store.open_dataset(path)
    assert ds["flux"].dims == (SPECTRUM, PIXEL) and ds["flux"].dtype == np.float16
    assert ds["flux"].data.chunks[0] == (4, 4, 2)  # lazy: one dask chunk per Zarr chunk
    assert ds["wavelength"].attrs["units"] == "Angstrom"
    np.testing.assert_allclose(ds["wavelength"].values, np.linspace(4000, 5000, 6))


def test_chunks_written_in_any_order_land_in_their_rows(tmp_path):
    path = tmp_path / "s.zarr"
    make(path)
    for index in (2, 0, 1):
        rows = store.chunk_rows(10, 4, index)
        crc = store.write_chunk(path, index, chunk_arrays(rows.stop - rows.start, start=index))
        store.mark_complete(path, index, crc)
    z = store.open_dataset(path)["z"].values
    np.testing.assert_array_equal(z, [0.5] * 4 + [1.5] * 4 + [2.5] * 2)
    assert store.incomplete_chunks(path) == []
    assert store.verify(path).ok


def test_write_chunk_refuses_wrong_shape_or_names(tmp_path):
    path = tmp_path / "s.zarr"
    make(path)
    with pytest.raises(ValueError, match="has shape"):
        store.write_chunk(path, 0, chunk_arrays(3))
    with pytest.raises(ValueError, match="expected arrays"):
        store.write_chunk(path, 0, {"flux": chunk_arrays(4)["flux"]})
    with pytest.raises(IndexError, match="chunk 3"):
        store.chunk_rows(10, 4, 3)


def test_verify_finds_missing_corrupt_and_nonfinite_chunks(tmp_path):
    path = tmp_path / "s.zarr"
    make(path)
    for index in (0, 1):
        values = chunk_arrays(4)
        if index == 1:
            values["flux"][0, 0] = np.nan
        store.mark_complete(path, index, store.write_chunk(path, index, values))
    zarr.open_array(str(path), path="z", mode="r+")[0] = 9.0  # changed behind the record's back
    report = store.verify(path)
    assert report.incomplete == [2]
    assert report.bad_checksum == [0]
    assert report.nan_counts["flux"] == 1
    assert not report.ok and "NOT OK" in report.summary()


def test_plan_create_resume_complete(tmp_path):
    path = tmp_path / "s.zarr"
    keys = ("store", "generator")
    assert store.plan(path, ATTRS, keys) == "create"
    make(path)
    assert store.plan(path, ATTRS, keys) == "resume"
    for index in range(3):
        rows = store.chunk_rows(10, 4, index)
        store.mark_complete(path, index, store.write_chunk(path, index, chunk_arrays(rows.stop - rows.start)))
    assert store.plan(path, ATTRS, keys) == "complete"
    assert store.plan(path, ATTRS, keys, overwrite=True, dry_run=True) == "create"
    assert store.exists(path)  # a dry run removes nothing
    assert store.plan(path, ATTRS, keys, overwrite=True) == "create"
    assert not path.exists()


def test_plan_names_every_difference(tmp_path):
    path = tmp_path / "s.zarr"
    make(path)
    other = {**ATTRS, "generator": {"seed": 2, "n": 12}}
    with pytest.raises(ValueError) as err:
        store.plan(path, other, ("store", "generator"))
    message = str(err.value)
    assert "generator.seed: store has 1, this run asks for 2" in message
    assert "generator.n: store has 10, this run asks for 12" in message
    assert "--overwrite" in message


def test_plan_never_removes_what_is_not_a_store(tmp_path):
    precious = tmp_path / "thesis"
    precious.mkdir()
    (precious / "chapter1.tex").write_text("...")
    with pytest.raises(ValueError, match="not a spectra store"):
        store.plan(precious, ATTRS, ("store",), overwrite=True)
    assert (precious / "chapter1.tex").exists()
    with pytest.raises(ValueError, match="does not exist"):
        store.plan(tmp_path / "missing" / "s.zarr", ATTRS, ("store",))


def test_remove_partial_files(tmp_path):
    path = tmp_path / "s.zarr"
    make(path)
    (path / "flux" / "c").mkdir(parents=True, exist_ok=True)
    (path / "flux" / "c" / "0.1234.partial").write_bytes(b"half a chunk")
    assert store.remove_partial_files(path) == 1
    assert not list(path.rglob("*.partial"))
