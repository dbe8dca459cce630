"""When a saved source runs: ``every 6h`` (an interval: s, m, h or d) or ``daily 03:00``
(a time of day, UTC). An empty schedule means the source runs only when asked."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from bylab.errors import InvalidInput

__all__ = ["Schedule", "parse_schedule"]

INTERVAL = re.compile(r"every\s+(\d+)\s*([smhd])")
DAILY = re.compile(r"daily\s+([01]\d|2[0-3]):([0-5]\d)")
UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
SHORTEST_INTERVAL_S = 60


@dataclass(frozen=True)
class Schedule:
    interval: timedelta | None = None
    daily_at: time | None = None

    def next_after(self, moment: datetime) -> datetime | None:
        """The first run time after ``moment`` (None: never on its own)."""
        if self.interval is not None:
            return moment + self.interval
        if self.daily_at is not None:
            today = moment.replace(hour=self.daily_at.hour, minute=self.daily_at.minute,
                                   second=0, microsecond=0)
            return today if today > moment else today + timedelta(days=1)
        return None


def parse_schedule(text: str) -> Schedule:
    """``""``, ``every <n><s|m|h|d>`` (at least a minute) or ``daily HH:MM`` (UTC)."""
    folded = text.strip().casefold()
    if not folded:
        return Schedule()
    if interval := INTERVAL.fullmatch(folded):
        seconds = int(interval.group(1)) * UNIT_SECONDS[interval.group(2)]
        if seconds < SHORTEST_INTERVAL_S:
            raise InvalidInput("run at most once a minute", field="schedule")
        return Schedule(interval=timedelta(seconds=seconds))
    if daily := DAILY.fullmatch(folded):
        return Schedule(daily_at=time(int(daily.group(1)), int(daily.group(2))))
    raise InvalidInput("unknown schedule {text!r}: use 'every 6h' (s, m, h, d), "
                       "'daily 03:00' (UTC) or nothing to run by hand", field="schedule",
                       text=text)
