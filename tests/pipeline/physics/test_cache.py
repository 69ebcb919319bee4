"""The on-disk array cache: round trip, damaged files, unwritable or disabled cache."""

import numpy as np
import pytest

from pipeline.physics import cache
from pipeline.physics.nebular import load_line_grid
from pipeline.physics.stellar import load_stellar_library
from pipeline.sampling.grid import model_grid, rest_grid

FIELDS = ("a", "b")


class Builder:
    """Counts calls; returns small arrays of mixed dtypes, strings included."""

    def __init__(self):
        self.calls = 0

    def __call__(self):
        self.calls += 1
        return {"a": np.arange(12, dtype=np.float32).reshape(3, 4) / 7, "b": np.array(["Ha", "OIII5007"])}


def fetch(build, deps=(1, "x", np.linspace(0, 1, 5))):
    return cache.cached_arrays("test", FIELDS, deps, build)


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv(cache.ENV_VAR, str(tmp_path / "cache"))
    return tmp_path / "cache"


def assert_same(x, y):
    for f in FIELDS:
        assert x[f].dtype == y[f].dtype and np.array_equal(x[f], y[f])


def test_round_trip_is_identical_and_read_only(cache_dir):
    build = Builder()
    first, second = fetch(build), fetch(build)
    assert build.calls == 1
    assert_same(first, build())
    assert_same(second, build())
    assert type(second["a"]) is np.ndarray and not second["a"].flags.writeable
    assert not first["a"].flags.writeable
    assert sorted(p.suffix for p in cache_dir.iterdir()) == [".npy", ".npy"]  # no temp files left


def test_changed_deps_rebuild(cache_dir):
    build = Builder()
    fetch(build, deps=(np.array([0.1, 0.2]),))
    fetch(build, deps=(np.array([0.1, 0.2 + 1e-15]),))  # same repr, different bytes
    assert build.calls == 2


@pytest.mark.parametrize("damage", ["truncate", "garble", "extend"])
def test_damaged_file_is_rebuilt(cache_dir, damage):
    build = Builder()
    fetch(build)
    path = next(cache_dir.glob("*.a.npy"))
    data = path.read_bytes()
    path.write_bytes({"truncate": data[:-5], "garble": b"not an npy file", "extend": data + b"\0" * 8}[damage])
    assert_same(fetch(build), build())
    assert build.calls == 3  # two fetches built, plus the reference build
    assert_same(fetch(build), build())  # the rebuilt file is good again
    assert build.calls == 4


def test_unwritable_cache_dir_falls_back(tmp_path, monkeypatch):
    # A directory below a regular file cannot be created, even by root.
    (tmp_path / "file").write_text("")
    monkeypatch.setenv(cache.ENV_VAR, str(tmp_path / "file" / "cache"))
    build = Builder()
    assert_same(fetch(build), build())
    assert_same(fetch(build), build())
    assert build.calls == 4


@pytest.mark.parametrize("value", ["off", ""])
def test_disabled_cache_writes_nothing(tmp_path, monkeypatch, value):
    monkeypatch.setenv(cache.ENV_VAR, value)
    monkeypatch.chdir(tmp_path)
    build = Builder()
    fetch(build), fetch(build)
    assert build.calls == 2 and cache.cache_dir() is None
    assert not list(tmp_path.iterdir())


def test_real_libraries_identical_from_warm_cache(cache_dir):
    """Cold build (writes) vs warm load (memory map), bypassing the per-process lru_caches."""
    rest, _ = rest_grid(model_grid())
    cold, warm = (load_stellar_library.__wrapped__(rest) for _ in range(2))
    for name in ("young", "old"):
        a, b = getattr(cold, name), getattr(warm, name)
        assert a.dtype == b.dtype == np.float32 and a.tobytes() == b.tobytes()
    cold, warm = (load_line_grid.__wrapped__() for _ in range(2))
    assert cold.names == warm.names and all(type(n) is str for n in warm.names)
    for x, y in zip((*cold.axes, cold.log_ratio, cold.wavelength), (*warm.axes, warm.log_ratio, warm.wavelength)):
        assert x.dtype == y.dtype and x.tobytes() == y.tobytes()
    assert len(list(cache_dir.glob("stellar-*.npy"))) == 2
