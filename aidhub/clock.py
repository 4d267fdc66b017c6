"""The one home of the date rules: which day a record belongs to, and when a day-only record
happened.

A donation, an expense or a bank-statement row belongs to the local date of the group that
records it. Until groups carry their own zone, that is the site's `TIME_ZONE` (Asia/Bishkek by
default), never the zone a request happens to have activated and never UTC: Bishkek is six hours
ahead of UTC, so from 18:00 to 24:00 UTC the two dates differ, and an exchange rate stored under
one day must be found for money recorded on the same day.
"""

from datetime import date, datetime, time

from django.utils import timezone


def local_zone():
    """The zone whose calendar the records follow."""
    return timezone.get_default_timezone()


def local_day(moment: datetime | None = None) -> date:
    """The local date of `moment` (now by default) in the records' zone."""
    return timezone.localdate(moment or timezone.now(), local_zone())


def day_start(day: date) -> datetime:
    """The first instant of a local day."""
    return datetime.combine(day, time.min, local_zone())


def day_end(day: date) -> datetime:
    """The last instant of a local day."""
    return datetime.combine(day, time.max, local_zone())


def moment_on(day: date) -> datetime:
    """When something known only by its date happened: local noon of that day, or now when that
    day is today and noon has not come yet (a statement row dated today is not in the future)."""
    noon = datetime.combine(day, time(12), local_zone())
    return min(noon, timezone.now()) if day == local_day() else noon
