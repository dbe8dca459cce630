"""Indicator visualisation: region overview, city profiles, comparison, KPI pages, embeds and
printable reports."""
