"""The levers of a scenario and their documented effect models on indicator inputs.

A lever's value is a change **over and above the baseline trend** (zero: the trend goes on).
Each effect of a lever on a KPI is linear in the lever:

    exposure(year) = the lever's value in the year            (kind "level")
                   = the sum of its values since the start    (kind "cumulative")
    effect(year)   = coefficient × exposure(year)

and the scenario value of a KPI in a year is ``baseline × (1 + Σ relative effects) + Σ
absolute effects``, clipped to the KPI's range. A coefficient is the product of named
factors; each factor has a most likely value and a low–high range (drawn from a triangular
distribution in the Monte Carlo) and either a source or the label "assumption".

The sector shares are Sweden's territorial emissions in 2023 by sector, computed by bylab
from SMHI's Nationella emissionsdatabasen (``se_ghg_emissions_municipalities_by_sector_smhi.csv``
in the real-data bundle: 43.90 Mt in all; Transporter 13.68 Mt, El och fjärrvärme 5.40 Mt,
Egen uppvärmning 0.72 Mt, Avfall 1.00 Mt). They are national shares used for every place;
a place whose emissions are mostly industry will see smaller real effects.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from bylab.errors import NotFound

GHG = "EN: EN: AQ: 2C"  # t CO2e per inhabitant, lower is better
EV_SHARE = "EC: I: T: 8A"  # % of new passenger cars that are rechargeable, higher is better
DENSITY = "CTX: POPULATION-DENSITY"  # inhabitants per km²

SMHI_2023 = ("SMHI Nationella emissionsdatabasen, Sweden 2023, sector share of territorial "
             "emissions computed by bylab from se_ghg_emissions_municipalities_by_sector_smhi.csv")
ASSUMPTION = "assumption"


class Exposure(StrEnum):
    LEVEL = "level"  # the lever's value in the year
    CUMULATIVE = "cumulative"  # the sum of the lever's yearly values since the start year


class EffectKind(StrEnum):
    RELATIVE = "relative"  # a fraction of the baseline value
    ABSOLUTE = "absolute"  # in the KPI's own unit


@dataclass(frozen=True)
class Factor:
    """One factor of a coefficient: most likely value, range, and where it comes from."""

    name: str
    mode: float
    low: float
    high: float
    source: str  # ASSUMPTION when it is bylab's assumption

    @property
    def is_assumption(self) -> bool:
        return self.source == ASSUMPTION


@dataclass(frozen=True)
class Effect:
    """The effect of a lever on one KPI: sign × product of the factors × exposure."""

    kpi_code: str
    kind: EffectKind
    exposure: Exposure
    sign: float  # -1: the lever lowers the KPI
    factors: tuple[Factor, ...]
    note: str = ""

    @property
    def coefficient(self) -> float:
        """The most likely coefficient (every factor at its mode)."""
        return self.sign * math.prod(factor.mode for factor in self.factors)


@dataclass(frozen=True)
class Lever:
    key: str
    title: str
    unit: str
    minimum: float
    maximum: float
    effects: tuple[Effect, ...]
    note: str = ""


PER_PERCENT = Factor("percentage points to a fraction", 0.01, 0.01, 0.01, "definition")
TRANSPORT_SHARE = Factor("transport share of territorial emissions", 0.312, 0.28, 0.34,
                         SMHI_2023)
CAR_SHARE = Factor("passenger cars' share of transport emissions", 0.6, 0.5, 0.7, ASSUMPTION)
HEAT_POWER_SHARE = Factor("electricity and district heating share of emissions", 0.123,
                          0.10, 0.15, SMHI_2023)
OWN_HEATING_SHARE = Factor("own heating of homes and premises share of emissions", 0.0165,
                           0.012, 0.02, SMHI_2023)
FUEL_HEATED_AREA = Factor("1 / share of floor area still heated by own fuel boilers", 10.0,
                          6.0, 15.0, ASSUMPTION)


def _ghg(exposure: Exposure, *factors: Factor, note: str = "") -> Effect:
    return Effect(GHG, EffectKind.RELATIVE, exposure, -1.0, (*factors, PER_PERCENT), note)


LEVERS: tuple[Lever, ...] = (
    Lever("population_growth", "Population growth", "% per year above the trend", -3, 3,
          (Effect(DENSITY, EffectKind.RELATIVE, Exposure.CUMULATIVE, 1.0, (PER_PERCENT,),
                  "density grows with population (area fixed); linear in the summed growth, "
                  "which understates compounding by under 5 % of the effect for 30 years "
                  "at 0.3 % a year"),),
          note="Emissions are assumed to grow with population, so per-capita emissions do not "
               "change (assumption)."),
    Lever("ev_share_new_cars", "Electric share of new cars", "percentage points of new "
          "passenger cars (above the trend)", 0, 100,
          (Effect(EV_SHARE, EffectKind.ABSOLUTE, Exposure.LEVEL, 1.0,
                  (Factor("one point of new registrations", 1.0, 1.0, 1.0, "definition"),),
                  "the KPI is this share"),
           _ghg(Exposure.CUMULATIVE, TRANSPORT_SHARE, CAR_SHARE,
                Factor("share of the car fleet renewed per year", 0.059, 0.05, 0.08,
                       ASSUMPTION),
                Factor("cut in a rechargeable car's tailpipe emissions (BEV and PHEV mix)",
                       0.8, 0.7, 0.95, ASSUMPTION),
                note="new cars enter the fleet at its renewal rate, so each year of a higher "
                     "share adds to the electric part of the fleet")),
          note="Rechargeable = battery-electric + plug-in hybrid, as in the KPI."),
    Lever("building_retrofit_rate", "Building energy retrofit rate", "% of heated floor area "
          "deeply retrofitted per year (above the trend)", 0, 5,
          (_ghg(Exposure.CUMULATIVE,
                Factor("heating of buildings share of emissions (electricity, district heat "
                       "and own heating)", 0.139, 0.11, 0.17, SMHI_2023),
                Factor("part of those emissions that heats buildings", 0.75, 0.6, 0.9,
                       ASSUMPTION),
                Factor("energy saved by a deep retrofit", 0.4, 0.25, 0.55, ASSUMPTION)),)),
    Lever("heat_pump_share", "Heat pumps replacing fuel boilers", "percentage points of heated "
          "floor area moved from own fuel boilers to heat pumps", 0, 10,
          (_ghg(Exposure.LEVEL, OWN_HEATING_SHARE, FUEL_HEATED_AREA,
                Factor("cut in emissions of a building moved to a heat pump", 0.9, 0.8, 1.0,
                       ASSUMPTION)),)),
    Lever("district_heating_share", "District heating replacing fuel boilers", "percentage "
          "points of heated floor area moved from own fuel boilers to district heating", 0, 10,
          (_ghg(Exposure.LEVEL, OWN_HEATING_SHARE, FUEL_HEATED_AREA,
                Factor("cut in emissions of a building moved to district heating", 0.7, 0.5,
                       0.9, ASSUMPTION)),)),
    Lever("modal_shift", "Modal shift to public transport and cycling", "percentage points of "
          "car passenger-km moved to public transport, cycling and walking", 0, 40,
          (_ghg(Exposure.LEVEL, TRANSPORT_SHARE, CAR_SHARE,
                Factor("cut per passenger-km moved (public transport still emits)", 0.8, 0.6,
                       1.0, ASSUMPTION)),)),
    Lever("renewable_electricity_share", "Renewable share of electricity and district heat",
          "percentage points added to the renewable share of supply", 0, 30,
          (_ghg(Exposure.LEVEL, HEAT_POWER_SHARE,
                Factor("1 / fossil share of electricity and district-heat supply", 4.0, 2.5,
                       6.0, ASSUMPTION)),)),
    Lever("waste_recycling_rate", "Waste recycling rate", "percentage points added to the "
          "municipal waste recycling rate", 0, 50,
          (_ghg(Exposure.LEVEL,
                Factor("waste share of territorial emissions", 0.0228, 0.018, 0.028, SMHI_2023),
                Factor("cut in waste emissions per point recycled, relative to one point of "
                       "the sector", 2.0, 1.0, 3.0, ASSUMPTION)),)),
)
LEVERS_BY_KEY = {lever.key: lever for lever in LEVERS}
KPIS_WITH_LEVERS = tuple(dict.fromkeys(effect.kpi_code for lever in LEVERS
                                       for effect in lever.effects))
# The range a KPI can take (the projection is clipped to it).
KPI_RANGE = {GHG: (0.0, math.inf), EV_SHARE: (0.0, 100.0), DENSITY: (0.0, math.inf)}


def lever_show(key: str) -> Lever:
    """A lever by key; NotFound naming the levers otherwise."""
    try:
        return LEVERS_BY_KEY[key]
    except KeyError:
        raise NotFound("no lever '{lever}' (levers: {levers})", field="levers", lever=key,
                       levers=", ".join(LEVERS_BY_KEY)) from None
