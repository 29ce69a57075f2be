"""Locating and loading the sample data (zgc_space.datasets)."""

from __future__ import annotations

from pathlib import Path

import pytest

from zgc_space import datasets
from zgc_space.datasets import sample
from zgc_space.errors import DataFileError

SAMPLE_DIR = Path(__file__).resolve().parent.parent / "sample_data"


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(datasets.ENV_VAR, raising=False)


@pytest.mark.parametrize("name", datasets.NAMES)
def test_path_finds_the_checkout_files(name: str) -> None:
    found = datasets.path(name)
    assert found == SAMPLE_DIR / name and found.is_file()


def test_unknown_name_lists_the_available_ones() -> None:
    with pytest.raises(DataFileError, match=r"unknown sample file 'blocks.gpkg'; available: zgc_blocks.gpkg"):
        datasets.path("blocks.gpkg")


def test_loaders() -> None:
    blocks = datasets.load_blocks()
    assert len(blocks) == 164 and blocks.crs.to_epsg() == 4548
    assert list(blocks.columns[:2]) == ["block_id", "name"]
    assert len(datasets.load_panel()) == 492
    assert len(datasets.load_candidates()) == 20
    assert sorted(datasets.load_districts()["name"])[:1] == ["东城区"]


def test_env_var_directory_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "districts.LICENSE.txt").write_text("x")
    monkeypatch.setenv(datasets.ENV_VAR, str(tmp_path))
    assert datasets.path("districts.LICENSE.txt") == tmp_path / "districts.LICENSE.txt"
    with pytest.raises(DataFileError, match=r"ZGC_SPACE_DATA=.* has no zgc_blocks.gpkg; write the sample there"):
        datasets.path("zgc_blocks.gpkg")


def test_unreadable_file_is_a_data_file_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "zgc_blocks.gpkg").write_bytes(b"not a geopackage")
    monkeypatch.setenv(datasets.ENV_VAR, str(tmp_path))
    with pytest.raises(DataFileError, match=r"cannot read sample file .*zgc_blocks.gpkg.*make sample"):
        datasets.load_blocks()


def test_installed_package_regenerates_into_the_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(datasets, "_CHECKOUT", tmp_path / "no_checkout")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    cache = datasets.cache_dir()
    assert cache.parent == tmp_path / "cache" / "zgc_space"
    found = datasets.path("rasters/landcover_10m.tif")
    assert found == cache / "rasters" / "landcover_10m.tif" and found.is_file()
    assert sorted(p.relative_to(cache).as_posix() for p in cache.rglob("*") if p.is_file()) == sorted(sample.FILES)
    assert not [p for p in cache.parent.iterdir() if p.name.startswith(".")], "temporary directory left behind"
    for name in ("dynamic_rules.yaml", "proposals/p03_consolidate_scattered.yaml"):  # copied from the package
        assert datasets.path(name).read_bytes() == (SAMPLE_DIR / name).read_bytes()

    def fail(out_dir: object, **kwargs: object) -> None:
        raise AssertionError("the cache is filled once")

    monkeypatch.setattr(sample, "generate", fail)
    assert len(datasets.load_blocks()) == 164


def test_cache_home_defaults_to_dot_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert datasets.cache_dir().parent == tmp_path / ".cache" / "zgc_space"
