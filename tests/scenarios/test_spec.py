"""Scenario files: validation errors name the field; presets parse; the annotated examples
in docs/scenarios/ are the packaged presets; YAML round-trips."""

from __future__ import annotations

from pathlib import Path

import pytest

from bylab.core import Bylab
from bylab.errors import InvalidInput, NotFound
from bylab.scenarios.actions import scenario_run
from bylab.scenarios.levers import LEVERS
from bylab.scenarios.spec import preset_show, preset_texts, spec_from_yaml, spec_to_yaml

DOCS = Path(__file__).resolve().parents[2] / "docs" / "scenarios"
GOOD = """
name: plan
places: [no-4003]
horizon: 2040
levers:
  modal_shift: {path: {2030: 10}, spread: 0.1}
"""


def error_of(text: str) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        spec_from_yaml(text, "plan.yaml")
    return caught.value


def test_a_good_file_parses_and_round_trips() -> None:
    spec = spec_from_yaml(GOOD)
    assert spec.places == ["NO-4003"] and spec.levers["modal_shift"].path == {2030: 10.0}
    assert spec_from_yaml(spec_to_yaml(spec)) == spec


@pytest.mark.parametrize(("text", "field", "words"), [
    (GOOD.replace("modal_shift", "teleportation"), "levers", "unknown lever 'teleportation'"),
    (GOOD.replace("2030: 10", "2030: 90"), "levers", "outside 0–40"),
    (GOOD.replace("spread: 0.1", "spread: -1"), "levers.modal_shift.spread", "must be"),
    (GOOD.replace("name: plan", "name: Bad Name"), "name", "pattern"),
    (GOOD.replace("horizon: 2040", "horizon: 2020"), "horizon", "after the start year"),
    (GOOD.replace("places: [no-4003]", "places: []"), "places", "at least 1"),
    (GOOD + "colour: blue\n", "colour", "is not a known field"),
    (GOOD.replace("2030: 10", "1800: 10"), "levers.modal_shift.path", "outside 1990"),
])
def test_errors_name_the_field(text: str, field: str, words: str) -> None:
    error = error_of(text)
    assert error.file == "plan.yaml" and error.field == field and words in error.message


def test_bad_yaml_and_unknown_place_are_clear(towns: Bylab) -> None:
    assert "not valid YAML" in error_of("name: [unclosed").message
    spec = spec_from_yaml(GOOD.replace("no-4003", "NO-9999"))
    with pytest.raises(NotFound) as missing:
        scenario_run(towns.system_context(), spec)
    assert missing.value.field == "places.0"


def test_every_preset_parses_and_uses_only_known_levers() -> None:
    assert set(preset_texts()) == {"baseline", "electrify-transport", "buildings-and-heat",
                                   "fossil-free-2045"}
    used = set()
    for name in preset_texts():
        spec = preset_show(name)
        assert spec.name == name
        used |= set(spec.levers)
    assert used == {lever.key for lever in LEVERS}  # every lever has an example


def test_docs_hold_the_annotated_presets() -> None:
    for name, text in preset_texts().items():
        assert (DOCS / f"{name}.yaml").read_text(encoding="utf-8") == text, name
    readme = (DOCS / "README.md").read_text(encoding="utf-8")
    for lever in LEVERS:
        assert f"`{lever.key}`" in readme
