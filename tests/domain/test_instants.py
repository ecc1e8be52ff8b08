from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from ropa.domain.instants import (
    format_instant,
    in_future,
    is_date,
    is_instant,
    parse_date,
    parse_instant,
    read_instant,
)


def test_an_instant_reads_as_aware_utc_and_writes_back_identically() -> None:
    text = "2026-11-22T10:04:05.123456Z"
    moment = parse_instant(text)
    assert moment == datetime(2026, 11, 22, 10, 4, 5, 123456, tzinfo=UTC)
    assert format_instant(moment) == text


def test_other_zones_are_written_in_utc() -> None:
    moment = datetime(2026, 11, 22, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    assert format_instant(moment) == "2026-11-22T10:00:00.000000Z"


def test_naive_datetimes_have_no_spelling() -> None:
    with pytest.raises(ValueError):
        format_instant(datetime(2026, 11, 22))


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-22T10:04:05Z",
        "2026-11-22T10:04:05.123Z",
        "2026-11-22T10:04:05.123456+00:00",
        "2026-11-22 10:04:05.123456Z",
        "2026-13-22T10:04:05.123456Z",
        "2026-11-22",
    ],
)
def test_only_the_state_spelling_is_an_instant(text: str) -> None:
    assert not is_instant(text)


def test_dates() -> None:
    assert parse_date("2026-02-28") == date(2026, 2, 28)
    assert not is_date("2026-02-30")
    assert not is_date("2026-2-28")
    assert not is_date("2026-02-28T00:00:00.000000Z")


# --- the one rule for instants that callers write -------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-01", datetime(2024, 3, 1, 23, 59, 59, 999999, tzinfo=UTC)),
        ("2024-03-01T00:00:00Z", datetime(2024, 3, 1, tzinfo=UTC)),
        ("2024-03-01t00:00:00z", datetime(2024, 3, 1, tzinfo=UTC)),
        ("2024-03-01T05:30:00+05:30", datetime(2024, 3, 1, tzinfo=UTC)),
        ("2027-01-01T00:00:00.5Z", datetime(2027, 1, 1, 0, 0, 0, 500000, tzinfo=UTC)),
        ("2027-01-01T00:00:00.123456789Z", datetime(2027, 1, 1, 0, 0, 0, 123456, tzinfo=UTC)),
    ],
)
def test_callers_write_rfc3339_with_an_offset_or_a_date_meaning_its_end(
    text: str, expected: datetime
) -> None:
    assert read_instant(text) == expected


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("2024-03-01T00:00:00", "no time zone offset"),
        ("2024-02-30", "not a calendar date"),
        ("yesterday", "not an RFC 3339 instant"),
        ("0001-01-01T00:00:00+05:00", "not a representable instant"),
        ("9999-12-31T23:00:00-05:00", "not a representable instant"),
        ("2024-03-01T24:00:00Z", "not a representable instant"),
    ],
)
def test_an_instant_without_offset_or_out_of_range_is_refused_with_what_to_write(
    text: str, says: str
) -> None:
    with pytest.raises(ValueError, match=says):
        read_instant(text)


def test_the_future_begins_beyond_a_minute_of_clock_skew() -> None:
    now = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    assert not in_future(now + timedelta(seconds=30), now)
    assert in_future(now + timedelta(minutes=2), now)


def test_today_alone_is_now_and_a_future_day_stays_in_the_future() -> None:
    now = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    assert read_instant("2026-11-29", now) == now
    assert read_instant("2026-11-28", now) == datetime(2026, 11, 28, 23, 59, 59, 999999, UTC)
    assert in_future(read_instant("2026-11-30", now), now)
