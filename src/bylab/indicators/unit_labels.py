"""The units of KPIs as pages show them: each definition's ``unit_label`` and the catalogue's
unit text are messages of the UI catalogues, listed here for extraction. Pages translate them
with the ``translated`` filter, code with ``bylab.web.i18n.translated_text``; the unit codes
and their conversions (``bylab.indicators.units``, pint) stay as they are."""

from __future__ import annotations

from bylab.indicators.kpis import u4ssc_kpis
from bylab.indicators.specs import bundled_definitions


def unit_labels() -> list[str]:
    """Every unit text a page may show for a KPI, sorted."""
    labels = {definition.unit_label for definition in bundled_definitions().values()}
    labels |= {kpi.unit_text for kpi in u4ssc_kpis()}
    return sorted(label for label in labels if label)
