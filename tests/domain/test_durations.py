import pytest

from ropa.domain.durations import Duration, is_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("P2Y", Duration(years=2)),
        ("P18M", Duration(months=18)),
        ("P1Y6M", Duration(years=1, months=6)),
        ("P4W", Duration(weeks=4)),
        ("P30D", Duration(days=30)),
        ("PT36H", Duration(hours=36)),
        ("PT1M", Duration(minutes=1)),
        ("P1Y2M3W4DT5H6M7S", Duration(1, 2, 3, 4, 5, 6, 7)),
        ("P0D", Duration()),
    ],
)
def test_iso_8601_durations_parse_into_their_parts(text: str, parts: Duration) -> None:
    assert parse_duration(text) == parts


@pytest.mark.parametrize(
    "text",
    ["", "P", "PT", "P1YT", "2Y", "P1.5Y", "P1,5Y", "P-1Y", "P1D2Y", "PT1H2D", "p1y", "P1Y ",
     " P1Y", "P1H", "PT1Y", "P\u0662Y", "P2 years"],
)  # fmt: skip
def test_anything_else_is_refused(text: str) -> None:
    assert not is_duration(text)
    with pytest.raises(ValueError):
        parse_duration(text)
