"""Error messages of the mobility runs are translatable templates (issue 4), including those
of its own error classes (SumoFailed, Cancelled), which are marked ``N_``; the English text
API clients compare is unchanged."""

from __future__ import annotations

import inspect
import sys
from pathlib import Path

import pytest

from bylab.core import Bylab
from bylab.errors import Conflict, InvalidInput
from bylab.mobility.calibration import counts_read
from bylab.mobility import models
from bylab.mobility.models import FINISHED, RunStatus
from bylab.mobility.runs import ALREADY_FINISHED, NOT_QUEUED, run_cancel, run_execute, run_submit
from bylab.mobility.sumo import SumoFailed, run_program
from tests.mobility.conftest import small_request, system_with_molde, write_counts
from tests.scenarios.test_error_templates import (
    ErrorCall,
    error_templates,
    extracted_messages,
    template_problems,
)


def test_mobility_errors_are_catalogued_templates_with_their_fields() -> None:
    calls = [call for call in error_templates("bylab.mobility") if not _rebuilds_a_run_error(call)]
    assert template_problems(calls) == []
    templates = {template for call in calls for template in call.templates}
    assert templates - extracted_messages() == set()
    assert len(templates) >= 30
    assert {"{program} failed: {tail}", "the run was cancelled", "the run has already succeeded",
            "hour {hour} is not 0-23"} <= templates


def _rebuilds_a_run_error(call: ErrorCall) -> bool:
    """The one error made from a computed message: a failed run's stored error, rebuilt to be
    shown in the reader's language (its template was checked where it was raised)."""
    lines, first = inspect.getsourcelines(models.error_from_detail)
    file, line = call.where.split(":")
    return file == "models.py" and first <= int(line) < first + len(lines)


def test_each_status_has_its_own_sentence() -> None:
    assert set(ALREADY_FINISHED) == FINISHED
    assert set(NOT_QUEUED) == set(RunStatus) - {RunStatus.QUEUED}
    assert ALREADY_FINISHED == {RunStatus.SUCCEEDED: "the run has already succeeded",
                                RunStatus.FAILED: "the run has already failed",
                                RunStatus.CANCELLED: "the run has already been cancelled"}
    assert NOT_QUEUED == {RunStatus.RUNNING: "the run is already running", **ALREADY_FINISHED}


def test_a_cancelled_run_says_so_when_cancelled_or_executed_again(embedded: Bylab) -> None:
    ctx = system_with_molde(embedded)
    run = run_cancel(ctx, run_submit(ctx, small_request()).id)  # queued: cancelled at once
    with pytest.raises(Conflict) as again:
        run_cancel(ctx, run.id)
    assert (again.value.message, again.value.field) == ("the run has already been cancelled",
                                                        "status")
    with pytest.raises(Conflict) as executed:
        run_execute(ctx, run.id)
    assert executed.value.message == executed.value.message_id == (
        "the run has already been cancelled")


def test_a_failing_program_names_itself_in_a_template() -> None:
    failing = [sys.executable, "-c", "import sys; sys.exit('no edges')"]
    with pytest.raises(SumoFailed) as raised:
        run_program(failing, name="netgenerate")
    assert raised.value.message == "netgenerate failed: no edges"
    assert raised.value.message_id == "{program} failed: {tail}"
    assert raised.value.params == {"program": "netgenerate", "tail": "no edges"}


def test_a_bad_count_keeps_its_english_text_and_shows_translated(tmp_path: Path) -> None:
    path = write_counts(tmp_path / "counts.csv", [("A0A1", 24, 3)])
    with pytest.raises(InvalidInput) as raised:
        counts_read(path, {"A0A1"})
    assert raised.value.message == "hour 24 is not 0-23"
    assert raised.value.message_id == "hour {hour} is not 0-23"
    polish = {"hour {hour} is not 0-23": "godzina {hour} nie mieści się w 0–23"}
    shown = raised.value.in_language(lambda text: polish.get(text, text))
    assert shown.message == "godzina 24 nie mieści się w 0–23"
    assert str(raised.value) == "counts.csv, row 2, field 'hour': hour 24 is not 0-23"
