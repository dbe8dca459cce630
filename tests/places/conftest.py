"""An instance with the bundled boundaries loaded, shared by the read-only tests of a worker
(loading everything takes a couple of seconds)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bylab.core import Bylab
from bylab.places.loading import LoadReport, places_load_bundled
from bylab.testing.backends import embedded_instance


@pytest.fixture(scope="session")
def loaded_places(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Bylab, LoadReport]]:
    """Read-only: an embedded instance with every bundled place loaded, and the load report.
    Tests that change places (KLASS imports) build their own instance."""
    instance = embedded_instance(tmp_path_factory.mktemp("places") / "data")
    report = places_load_bundled(instance.system_context())
    yield instance, report
    instance.close()


@pytest.fixture(scope="session")
def places(loaded_places: tuple[Bylab, LoadReport]) -> Bylab:
    return loaded_places[0]
