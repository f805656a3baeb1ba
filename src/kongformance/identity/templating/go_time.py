"""Go's time.Time behaviour for claim templates, where gotpl's Sprig port departs from it.

Printing (`time.Time.String()`), JSON encoding (RFC 3339), time.Local taken as UTC (Kong's
servers), year-0 times from layouts without a year, and time-typed parameters. Each entry was
found by the differential tests (tests/templating/test_differential.py) and is listed in
docs/fidelity/templating.md.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from functools import wraps
from typing import Any

from goduration.go import SECOND, Duration
from gotime.go import Location as GoLocation
from gotime.go import Time as GoTime
from gotpl.funcs.sprig import dates

_GO_TIME_STRING_LAYOUT = "2006-01-02 15:04:05.999999999 -0700 MST"


class GoDateTime(dates._GoDateTime):
    """A datetime (with Go's nanoseconds) that prints like Go's time.Time.String().

    No monotonic clock reading is printed (Go's time.Now() would add " m=+..."; see the ledger).
    """

    def __str__(self) -> str:
        layout = _GO_TIME_STRING_LAYOUT
        unnamed = not self.tzname() or (
            isinstance(self.tzinfo, timezone) and self.utcoffset() != timedelta(0)
        )
        if unnamed:
            layout = layout.replace("MST", "-0700")  # Go names an unnamed fixed offset by itself
        return _as_go_time(self).format(layout)


def _nanosecond(value: datetime) -> int:
    return int(getattr(value, "nanosecond", value.microsecond * 1_000))


def _as_go_time(value: datetime) -> GoTime:
    return dates._go_time_from_datetime(value, _nanosecond(value))


def as_go_datetime(value: Any) -> Any:
    """`value` as a GoDateTime when it is a datetime, unchanged otherwise."""
    if isinstance(value, datetime) and not isinstance(value, GoDateTime):
        converted = GoDateTime(
            value.year,
            value.month,
            value.day,
            value.hour,
            value.minute,
            value.second,
            value.microsecond,
            tzinfo=value.tzinfo,
            fold=value.fold,
        )
        converted.nanosecond = _nanosecond(value)
        return converted
    return value


def to_date(layout: str, text: str) -> Any:
    """Sprig `toDate`: parse in time.Local, which is UTC for Kong (the zero time on failure)."""
    try:
        return must_to_date(layout, text)
    except ValueError:
        return as_go_datetime(datetime(1, 1, 1, tzinfo=UTC))


def must_to_date(layout: str, text: str) -> Any:
    """Sprig `mustToDate`: parse in time.Local (UTC for Kong); an error when `text` does not fit.

    A layout without a year gives Go's year 0, which Python's datetime cannot hold: such a time
    stays a gotime Time, which the time-taking functions below also accept.
    """
    parsed = GoTime.parse_in_location(layout, text, GoLocation.from_tzinfo(UTC))
    if 1 <= parsed.year <= 9999:
        return as_go_datetime(dates._parse_go_time(layout, text, UTC))
    return parsed


def _require_time(name: str, value: Any) -> None:
    if not isinstance(value, datetime | GoTime):
        raise TypeError(f"{name}: wrong type for value; expected time.Time; got {type(value).__name__}")


def unix_epoch(value: Any) -> str:
    """Sprig `unixEpoch` (its parameter is a time.Time)."""
    _require_time("unixEpoch", value)
    if isinstance(value, GoTime):
        return str(value.unix())
    return dates.unix_epoch(value)


def date_modify(duration_text: str, value: Any) -> Any:
    """Sprig `dateModify`: `value` moved by a Go duration; unchanged when the duration is bad."""
    try:
        return must_date_modify(duration_text, value)
    except ValueError:
        return value


def must_date_modify(duration_text: str, value: Any) -> Any:
    """Sprig `mustDateModify`: like dateModify, but a bad duration is an error."""
    _require_time("dateModify", value)
    if isinstance(value, GoTime):
        return value.add(Duration.parse(duration_text))
    return as_go_datetime(dates.must_date_modify(duration_text, value))


TIME_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "toDate": to_date,
    "mustToDate": must_to_date,
    "unixEpoch": unix_epoch,
    "dateModify": date_modify,
    "mustDateModify": must_date_modify,
}


def date_in_zone(layout: str, value: Any, zone: str, *, clock: Callable[[], datetime]) -> str:
    """Sprig `dateInZone`, with zone "Local" meaning UTC (Kong's servers) and year-0 times handled."""
    zone = "UTC" if zone == "Local" else zone
    if isinstance(value, GoTime):
        return value.in_location(GoLocation.from_tzinfo(dates._load_zone(zone))).format(layout)
    return dates.date_in_zone(layout, value, zone, clock=clock)


def ago(value: Any, *, clock: Callable[[], datetime]) -> str:
    """Sprig `ago`, also for year-0 times (Go's duration saturates at its int64 limit)."""
    if isinstance(value, GoTime):
        nanoseconds = dates._instant_age_nanoseconds(clock(), value)
        return str(dates._duration_clamped(nanoseconds).round(SECOND))
    return dates.ago(value, clock=clock)


def date_functions(clock: Callable[[], datetime]) -> dict[str, Callable[..., Any]]:
    """The Sprig date-formatting functions, in UTC for time.Local, reading `now` from `clock`."""
    return {
        "date": lambda layout, value: date_in_zone(layout, value, "UTC", clock=clock),
        "dateInZone": lambda layout, value, zone: date_in_zone(layout, value, zone, clock=clock),
        "htmlDate": lambda value: date_in_zone("2006-01-02", value, "UTC", clock=clock),
        "htmlDateInZone": lambda value, zone: date_in_zone("2006-01-02", value, zone, clock=clock),
        "ago": lambda value: ago(value, clock=clock),
    }


def _times_as_rfc3339(value: Any) -> Any:
    if isinstance(value, datetime):
        return _as_go_time(value).format("2006-01-02T15:04:05.999999999Z07:00")
    if isinstance(value, GoTime):
        return value.format("2006-01-02T15:04:05.999999999Z07:00")
    if isinstance(value, list):
        return [_times_as_rfc3339(item) for item in value]
    if isinstance(value, dict):
        return {key: _times_as_rfc3339(item) for key, item in value.items()}
    return value


def encoding_times_as_go(function: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a Sprig JSON encoder so a time.Time encodes as Go's MarshalJSON does (RFC 3339)."""

    @wraps(function)
    def wrapper(value: Any) -> Any:
        return function(_times_as_rfc3339(value))

    return wrapper


JSON_ENCODERS = ("toJson", "toRawJson", "toPrettyJson", "mustToJson", "mustToRawJson", "mustToPrettyJson")
