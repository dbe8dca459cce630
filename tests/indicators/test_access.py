"""Values are read through the visibility of every dataset that fed them: a value derived
from a dataset shared with a network is never public."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from bylab.auth import actions as accounts
from bylab.auth.actions import actor_for_user
from bylab.auth.models import Role, User
from bylab.core import Bylab, Context
from bylab.errors import NotAuthorized
from bylab.indicators.actions import indicator_compute, indicator_values
from bylab.indicators.specs import load_definition, load_mapping

TEST_DATA = Path(__file__).parents[1] / "data" / "indicators"
KPI = "TEST: SHARED-UNEMPLOYMENT"


def _compute(ctx: Context, store: bool):  # noqa: ANN202
    definition = load_definition(TEST_DATA / "shared" / "definition.yaml")
    mapping = load_mapping(TEST_DATA / "shared" / "mapping.yaml")
    return indicator_compute(ctx, store=store, definitions={definition.code: definition},
                             mappings={"NO": mapping})


def _user_context(demo: Bylab, username: str) -> Context:
    with demo.db.session() as session:
        user = session.scalar(select(User).where(User.username == username))
        assert user is not None
        return demo.context(actor_for_user(session, user))


def test_values_from_a_shared_dataset_are_seen_only_by_its_readers(demo: Bylab) -> None:
    _compute(demo.system_context(), store=True)
    molde_analyst = _user_context(demo, "demo")  # editor in Molde, a Smart Molde member
    alesund_analyst = _user_context(demo, "alesund-analyst")  # Ålesund: also a member
    rows = indicator_values(molde_analyst, place="NO-15", kpi=KPI)
    assert len(rows) >= 15 and all(row.value is not None for row in rows)
    assert indicator_values(alesund_analyst, place="NO-15", kpi=KPI) == rows
    assert indicator_values(demo.context(), place="NO-15", kpi=KPI) == []
    assert indicator_values(demo.context(), place="NO-15", kpi=KPI, include_missing=True) == []
    assert indicator_values(_outsider(demo), place="NO-15", kpi=KPI) == []


def _outsider(demo: Bylab) -> Context:
    """An editor at Statistics Norway, which is outside the Smart Molde network."""
    system = demo.system_context()
    accounts.user_create(system, "ssb-analyst", "a long test password")
    accounts.membership_set(system, "ssb-analyst", "ssb", Role.EDITOR)
    return _user_context(demo, "ssb-analyst")


def test_computing_reads_only_datasets_the_actor_may_see(demo: Bylab) -> None:
    _report, records = _compute(demo.context(), store=False)
    assert records == []  # the only input is invisible: no periods, no values
    report, records = _compute(_user_context(demo, "demo"), store=False)
    assert records and report.problems == []


def test_only_a_system_administrator_stores_results(demo: Bylab) -> None:
    with pytest.raises(NotAuthorized):
        _compute(_user_context(demo, "demo"), store=True)
