"""Sharing levels are enforced in every listing: public, shared with organisations or
networks, private to the publisher."""

from __future__ import annotations

import pytest

from bylab.auth.actions import actor_from_token
from bylab.catalog.metadata import DatasetMetadata
from bylab.catalog.publish import dataset_create, dataset_delete, dataset_share_set
from bylab.catalog.queries import DatasetQuery, dataset_search, dataset_show
from bylab.core import Bylab
from bylab.errors import Conflict, InvalidInput, NotAuthorized, NotFound


def _ctx(bylab: Bylab, token: str):  # noqa: ANN202
    return bylab.context(actor_from_token(bylab.context(), token))


def _visible_names(bylab: Bylab, ctx) -> set[str]:  # noqa: ANN001
    return {dataset.name for dataset in dataset_search(ctx, DatasetQuery(rows=100)).datasets}


@pytest.fixture
def three_levels(bylab: Bylab, accounts_setup: dict[str, str]) -> dict[str, str]:
    mia = _ctx(bylab, accounts_setup["mia"])
    for name, visibility, shared in (
        ("molde-open", "public", []),
        ("molde-network", "shared", ["smart-molde"]),
        ("molde-internal", "private", []),
    ):
        dataset_create(mia, DatasetMetadata(name=name, title={"en": name}, organisation="molde",
                                            visibility=visibility, shared_with=shared))
    return accounts_setup


def test_each_actor_sees_what_is_shared_with_it(bylab: Bylab, three_levels: dict[str, str]) -> None:
    assert _visible_names(bylab, bylab.context()) == {"molde-open"}
    assert _visible_names(bylab, _ctx(bylab, three_levels["mia"])) == {
        "molde-open", "molde-network", "molde-internal"}
    assert _visible_names(bylab, _ctx(bylab, three_levels["ola"])) == {
        "molde-open", "molde-network"}
    assert _visible_names(bylab, _ctx(bylab, three_levels["ada"])) == {"molde-open"}
    with pytest.raises(NotFound):
        dataset_show(_ctx(bylab, three_levels["ada"]), "molde-internal")


def test_only_publisher_editors_change_sharing(bylab: Bylab, three_levels: dict[str, str]) -> None:
    with pytest.raises(NotAuthorized):
        dataset_share_set(_ctx(bylab, three_levels["ola"]), "molde-network", "public", [])
    dataset_share_set(_ctx(bylab, three_levels["mia"]), "molde-internal", "shared", ["acme"])
    assert "molde-internal" in _visible_names(bylab, _ctx(bylab, three_levels["ada"]))
    dataset_delete(_ctx(bylab, three_levels["mia"]), "molde-internal")
    assert "molde-internal" not in _visible_names(bylab, bylab.system_context())


def test_metadata_errors_name_the_field(bylab: Bylab, three_levels: dict[str, str]) -> None:
    mia = _ctx(bylab, three_levels["mia"])
    with pytest.raises(Conflict) as duplicate:
        dataset_create(mia, DatasetMetadata(name="molde-open", title={"en": "x"},
                                            organisation="molde"))
    assert duplicate.value.field == "name"
    with pytest.raises(InvalidInput) as place:
        dataset_create(mia, DatasetMetadata(name="new", title={"en": "x"}, organisation="molde",
                                            spatial=["NO-9999"]))
    assert place.value.field == "spatial" and "NO-9999" in str(place.value)
    with pytest.raises(NotAuthorized):
        dataset_create(_ctx(bylab, three_levels["ada"]),
                       DatasetMetadata(name="x2", title={"en": "x"}, organisation="molde"))


def test_search_folds_accents_and_filters(bylab: Bylab, three_levels: dict[str, str]) -> None:
    mia = _ctx(bylab, three_levels["mia"])
    dataset_create(mia, DatasetMetadata(name="air", title={"nb": "Luftkvalitet i Ålesund"},
                                        organisation="molde", visibility="public"))
    found = dataset_search(bylab.context(), DatasetQuery(text="alesund luft"))
    assert [dataset.name for dataset in found.datasets] == ["air"]
    by_org = dataset_search(bylab.context(), DatasetQuery(organisation="alesund"))
    assert by_org.count == 0
