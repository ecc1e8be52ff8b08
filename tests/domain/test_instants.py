from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from ropa.domain.instants import format_instant, is_date, is_instant, parse_date, parse_instant


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
