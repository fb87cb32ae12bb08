"""The trend lines: twelve months and last year's line, from earlier published reports."""

from __future__ import annotations

from analytics.render.page import resolve, trend


def _figures(month: str, value: int, prev: int | None, last_year: int | None) -> dict:
    return {
        "month": month,
        "volume": {"total": {"value": value, "prev": prev, "last_year": last_year}},
        "rates": {"response": {"value": 0.99, "prev": 0.98, "last_year": None}},
    }


def test_each_earlier_report_gives_its_month_and_the_same_month_a_year_before():
    figures = _figures("2026-11", 761, 834, 703)
    earlier = {"2026-10": _figures("2026-10", 830, 1080, 790), "2026-03": _figures("2026-03", 740, 600, 610)}
    series = trend(figures, earlier)
    assert series["months"][0] == "2025-12" and series["months"][-1] == "2026-11"
    assert series["total"][-1] == 761
    assert series["total"][-2] == 834  # this report's own "last month" wins over the older report's value
    assert series["total_last_year"][-1] == 703
    assert series["total_last_year"][-2] == 790  # from October's report
    assert series["total"][3] == 740 and series["total_last_year"][3] == 610  # March
    assert series["total"][1] is None  # January: nobody reported it, a gap rather than a zero
    assert series["response_last_year"][-1] is None


def test_a_ref_leads_to_the_figure_or_to_nothing():
    figures = {"categories": {"risers": [{"key": "0103", "count": {"value": 64}}]}}
    assert resolve(figures, "categories.risers[0].count.value") == 64
    assert resolve(figures, "categories.risers[3]") is None
    assert resolve(figures, "nowhere.at.all") is None
