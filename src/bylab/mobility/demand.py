"""Traffic demand from simple inputs (the scenario engine passes these): population, trips per
person per day and mode share give the number of car trips in the simulated period; SUMO's
randomTrips spreads them over the network and duarouter routes them.

Origins and destinations are random over the network (no land-use data): the demand is
synthetic even where the inputs are real, and runs say so."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field, model_validator

from bylab.errors import InvalidInput
from bylab.mobility.sumo import run_tool


class ModeShare(BaseModel):
    """Shares of person trips by main mode; they add up to 1. Only car trips are simulated."""

    car: float = Field(default=0.6, ge=0, le=1)
    public_transport: float = Field(default=0.15, ge=0, le=1)
    bicycle: float = Field(default=0.1, ge=0, le=1)
    walk: float = Field(default=0.15, ge=0, le=1)

    @model_validator(mode="after")
    def _adds_up_to_one(self) -> ModeShare:
        total = self.car + self.public_transport + self.bicycle + self.walk
        if abs(total - 1) > 1e-6:
            raise ValueError(f"mode shares must add up to 1 (they add up to {total:g})")
        return self


class DemandInput(BaseModel):
    """The inputs of a run's demand. Defaults other than population are assumptions, not
    statistics: pass real values where the municipality has them."""

    population: int = Field(ge=1, le=10_000_000)
    trips_per_person_per_day: float = Field(default=3.0, gt=0, le=20)
    mode_share: ModeShare = Field(default_factory=ModeShare)
    persons_per_car: float = Field(
        default=1.0, ge=1, le=9, description="Persons per car trip (1: car share is drivers).")
    peak_hour_share: float = Field(
        default=0.1, gt=0, le=1, description="Share of a day's trips made in each simulated hour.")
    start_hour: int = Field(default=7, ge=0, le=23, description="Hour of day the period starts.")
    simulated_hours: float = Field(default=1.0, gt=0, le=24)

    @property
    def begin_s(self) -> int:
        return self.start_hour * 3600

    @property
    def end_s(self) -> int:
        return self.begin_s + round(self.simulated_hours * 3600)

    def person_trips(self) -> dict[str, float]:
        """Person trips in the simulated period, by mode."""
        in_period = (self.population * self.trips_per_person_per_day * self.peak_hour_share
                     * self.simulated_hours)
        return {mode: in_period * share for mode, share in self.mode_share.model_dump().items()}

    def car_trips(self) -> int:
        """Car (vehicle) trips in the simulated period: the vehicles SUMO simulates."""
        return round(self.person_trips()["car"] / self.persons_per_car)


# The demo town's demand: 20 000 inhabitants with the default (assumed) travel behaviour
# give 3 600 car trips from 07:00 to 08:00.
DEMO_DEMAND = DemandInput(population=20_000)


def demand_generate(network: Path, demand: DemandInput, seed: int, target: Path) -> int:
    """Write the routed car trips of ``demand`` to ``target``; return how many there are."""
    count = demand.car_trips()
    if count < 1:
        raise InvalidInput("the demand gives no car trips in the simulated period",
                           field="population")
    random_routes(network, demand.begin_s, demand.end_s, count, seed, target)
    return count


def random_routes(network: Path, begin_s: int, end_s: int, count: int, seed: int,
                  target: Path, prefix: str = "") -> None:
    """``count`` trips with random origins and destinations departing evenly between
    ``begin_s`` and ``end_s``, routed by duarouter (fastest path) into ``target``."""
    trips = target.with_name(target.name.replace(".rou.xml", "") + ".trips.xml")
    run_tool("randomTrips.py", [
        "--net-file", str(network), "--output-trip-file", str(trips),
        "--route-file", str(target), "--begin", str(begin_s), "--end", str(end_s),
        "--period", repr((end_s - begin_s) / count), "--seed", str(seed),
        "--prefix", prefix, "--validate", "--remove-loops",
    ], cwd=target.parent)
