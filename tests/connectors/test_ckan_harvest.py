"""The CKAN harvester against a second bylab instance served over real HTTP (bylab answers
CKAN's Action API at /api/3/action/): metadata and CSV resources imported with their source
link, re-runs that change nothing, remote changes picked up, a bad package set aside."""

from __future__ import annotations

from pathlib import Path

import pytest

from bylab.auth import actions as accounts
from bylab.catalog.metadata import DatasetMetadata
from bylab.catalog.models import Visibility
from bylab.catalog.publish import dataset_add_version, dataset_create, dataset_publish, dataset_update
from bylab.catalog.queries import dataset_show
from bylab.connectors import ckan_harvest
from bylab.connectors.models import RunStatus
from bylab.connectors.sources import SourceInput, dead_letters, source_create, source_run
from bylab.core import Bylab, Context
from bylab.errors import NotFound
from bylab.testing.backends import embedded_instance
from bylab.testing.server import running_server
from tests.conftest import TEST_DATA
from tests.connectors.conftest import organisations_and_a_taken_name

AIR_QUALITY = TEST_DATA / "catalog" / "no_air_quality_valand_hourly.csv"
POPULATION = TEST_DATA / "catalog" / "no_population_molde_region_cp1252.csv"


def _metadata(name: str, title: str, visibility: Visibility) -> DatasetMetadata:
    return DatasetMetadata(name=name, title={"en": title}, organisation="stavanger",
                           visibility=visibility, keywords=["air"], licence_id="NLOD-2.0",
                           description={"en": f"{title}, published by Stavanger"})


@pytest.fixture
def remote(tmp_path: Path) -> Bylab:
    """Another portal: two public datasets with data, one without, one private."""
    instance = embedded_instance(tmp_path / "remote")
    ctx = instance.system_context()
    accounts.organisation_create(ctx, "stavanger", "Stavanger kommune")
    dataset_publish(ctx, _metadata("air-quality", "PM2.5 at Valand", Visibility.PUBLIC),
                    AIR_QUALITY)
    dataset_publish(ctx, _metadata("population", "Population", Visibility.PUBLIC), POPULATION)
    dataset_create(ctx, _metadata("bike-lanes", "Bike lanes (metadata only)", Visibility.PUBLIC))
    dataset_publish(ctx, _metadata("internal", "Internal", Visibility.PRIVATE), POPULATION)
    yield instance
    instance.close()


def test_harvest_a_ckan_portal(embedded: Bylab, remote: Bylab,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ckan_harvest, "PAGE_SIZE", 2)  # three pages for four-odd packages
    ctx = embedded.system_context()
    organisations_and_a_taken_name(ctx)
    with running_server(remote) as url:
        source_create(ctx, SourceInput(
            name="stavanger-portal", kind="ckan", url=url, organisation="molde",
            dataset="stavanger", visibility=Visibility.PUBLIC,
            query={"resource_formats": ["CSV"]}))
        first = source_run(ctx, "stavanger-portal")
        assert (first.status, first.rows_read, first.rows_stored, first.rows_rejected) == (
            RunStatus.STORED, 3, 2, 1), first.message
        assert first.notes == ["new: stavanger-air-quality, stavanger-bike-lanes"]
        [letter] = dead_letters(ctx, first.id)
        assert letter.location == "package population"
        assert "belongs to another organisation" in letter.reason
        assert letter.payload["url"] == f"{url}/dataset/population"

        air = dataset_show(ctx, "stavanger-air-quality")
        assert air.title == {"en": "PM2.5 at Valand"}
        assert (air.landing_page, air.licence_id, air.keywords, air.visibility) == (
            f"{url}/dataset/air-quality", "NLOD-2.0", ["air"], "public")
        assert f"Harvested from {url}/dataset/air-quality" in air.source_note
        remote_air = dataset_show(remote.system_context(), "air-quality")
        assert air.versions[-1].row_count == remote_air.versions[-1].row_count == 30
        assert dataset_show(ctx, "stavanger-bike-lanes").versions == []
        with pytest.raises(NotFound):
            dataset_show(ctx, "stavanger-internal")  # private over there: never seen

        again = source_run(ctx, "stavanger-portal")
        assert (again.status, again.rows_stored, again.rows_rejected) == (
            RunStatus.UNCHANGED, 0, 1)
        assert dataset_show(ctx, "stavanger-air-quality").latest_version == 1

        remote_ctx = remote.system_context()
        dataset_add_version(remote_ctx, "air-quality", POPULATION)
        dataset_update(remote_ctx, "bike-lanes", _metadata(
            "bike-lanes", "Bike lanes 2024", Visibility.PUBLIC))
        changed = source_run(ctx, "stavanger-portal")
        assert (changed.status, changed.rows_stored) == (RunStatus.STORED, 2)
        assert dataset_show(ctx, "stavanger-air-quality").latest_version == 2
        assert dataset_show(ctx, "stavanger-bike-lanes").title == {"en": "Bike lanes 2024"}


def test_unreachable_portal_fails_the_run(embedded: Bylab) -> None:
    ctx: Context = embedded.system_context()
    accounts.organisation_create(ctx, "molde", "Molde kommune")
    source_create(ctx, SourceInput(name="nowhere", kind="ckan", url="http://127.0.0.1:9",
                                   organisation="molde", dataset="nowhere"))
    run = source_run(ctx, "nowhere")
    assert run.status == RunStatus.FAILED
    assert "could not reach the server" in run.message and "127.0.0.1:9" in run.message
