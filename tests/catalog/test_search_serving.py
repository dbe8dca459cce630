"""What makes catalogue reads cheap under load keeps them right: cached previews never show
another version's rows or a dataset the reader may not see, and each server worker builds
the same instance from the settings it is handed."""

from __future__ import annotations

from pathlib import Path

import pytest

from bylab.auth.actions import actor_from_token
from bylab.catalog.export import dataset_preview
from bylab.catalog.metadata import DatasetMetadata
from bylab.catalog.publish import dataset_add_version, dataset_publish, dataset_share_set
from bylab.cli import default_workers, settings_environment
from bylab.core import Bylab
from bylab.errors import NotFound
from bylab.settings import Settings
from tests.conftest import TEST_DATA

CATALOG_DATA = TEST_DATA / "catalog"


def test_cached_previews_follow_versions_and_access(bylab: Bylab,
                                                    accounts_setup: dict[str, str]) -> None:
    mia = bylab.context(actor_from_token(bylab.context(), accounts_setup["mia"]))
    dataset_publish(mia, DatasetMetadata(name="population", title={"en": "Population"},
                                         organisation="molde", visibility="public"),
                    CATALOG_DATA / "no_population_molde_region_cp1252.csv")
    anonymous = bylab.context()
    first = dataset_preview(anonymous, "population", limit=1)
    assert dataset_preview(anonymous, "population", limit=1) == first
    assert first.rows[0][:2] == ["1505", "Kristiansund"]
    dataset_add_version(mia, "population", CATALOG_DATA / "se_population_2023_2024.xlsx")
    assert dataset_preview(anonymous, "population", limit=1).rows[0][:2] == [
        "0114", "Upplands Väsby"]
    assert dataset_preview(anonymous, "population", version=1, limit=1) == first
    dataset_share_set(mia, "population", "private", [])
    with pytest.raises(NotFound):
        dataset_preview(anonymous, "population", version=1, limit=1)
    assert dataset_preview(mia, "population", version=1, limit=1) == first


def test_workers_rebuild_the_same_settings(monkeypatch: pytest.MonkeyPatch,
                                           tmp_path: Path) -> None:
    chosen = Settings(data_dir=tmp_path / "data", port=8123, secure_cookies=True,
                      database_url="sqlite:///" + str(tmp_path / "elsewhere.db"),
                      catalog_title="Kommune data", mqtt_topics=["city/+/air", "bylab/#"])
    for name in Settings.model_fields:
        monkeypatch.delenv(f"BYLAB_{name.upper()}", raising=False)
    for variable, value in settings_environment(chosen).items():
        monkeypatch.setenv(variable, value)
    assert Settings() == chosen
    assert 1 <= default_workers() <= 2
