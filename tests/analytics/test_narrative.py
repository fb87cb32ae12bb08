"""The narrative: Chinese sentences from the figures alone, each resting on evidence that resolves."""

from __future__ import annotations

import copy

import pytest

from analytics.narrative import narrate, narrative, resolve


def fig(value, prev=None, last_year=None, **extra) -> dict:
    def change(base):
        return None if not base else round((value - base) / base, 4)

    return {
        "value": value,
        "prev": prev,
        "last_year": last_year,
        "mom": change(prev),
        "yoy": change(last_year),
        **extra,
    }


def rate(value, denominator, prev=None) -> dict:
    return {
        "value": value,
        "numerator": round(value * denominator, 4) if value is not None else 0,
        "denominator": denominator,
        "prev": prev,
        "last_year": None,
        "mom": None if value is None or prev is None else round(value - prev, 4),
        "yoy": None,
    }


def unit(pk, name, level="grid") -> dict:
    return {"id": pk, "code": f"C{pk}", "name": name, "level": level}


def sample_figures() -> dict:
    """A month of a district shaped like the contract, with something for every sentence and rule."""
    return {
        "schema": 1,
        "area": unit(1, "市北区", "district"),
        "month": "2026-07",
        "generated_at": "2026-08-01T02:00:00+08:00",
        "settings": {"basic_weight": 1.0, "min_volume": 5, "risk_weights": {}},
        "volume": {
            "total": fig(1234, 1469, 1100),
            "by_channel": [
                {"key": "hotline", "label": "12345热线", "count": fig(400, 420, 380)},
                {"key": "mobile", "label": "手机端", "count": fig(700, 800, 600)},
            ],
            "by_class": [],
            "by_closing_tier": [],
            "by_unit": [],
            "by_need": [],
        },
        "rates": {
            "response": rate(0.9903, 1030, 0.98),
            "resolution": rate(0.9981, 1000, 0.9981),
            "satisfaction": rate(0.9983, 1000, None),
            "satisfaction_every_round": rate(0.99, 1100),
            "by_tier": [],
            "by_unit": [
                {"unit": unit(2, "台东街道", "street"), "satisfaction": rate(0.95, 300), "rank": 1},
                {"unit": unit(3, "辽宁路街道", "street"), "satisfaction": rate(0.85, 40), "rank": 2},
                {"unit": unit(4, "宁夏路街道", "street"), "satisfaction": rate(0.5, 2), "rank": 3},
            ],
            "by_department": [],
        },
        "categories": {
            "top": [
                {"key": "0702", "label": "交通堵塞", "count": fig(200, 150, 100)},
                {"key": "0301", "label": "施工噪音", "count": fig(150, 150, 90)},
                {"key": "0107", "label": "路边烧烤", "count": fig(90, 60, 40)},
                {"key": "1901", "label": "流浪犬", "count": fig(3, 1, 2)},
            ],
            "risers": [
                {"key": "0702", "label": "交通堵塞", "count": fig(200, 150, 100, prev2=120), "delta": 50},
                {"key": "1902", "label": "遛狗不拴绳", "count": fig(2, 1, 1, prev2=0), "delta": 1},
            ],
            "fallers": [
                {"key": "0304", "label": "施工扬尘", "count": fig(1, 4, 2), "delta": -3},
                {"key": "0303", "label": "施工区域", "count": fig(84, 100, 90), "delta": -16},
            ],
            "seasonal": [
                {"key": "0107", "label": "路边烧烤", "count": fig(90, 60, 40)},
                {"key": "0502", "label": "游商浮贩", "count": fig(30, 20, 25)},
                {"key": "1802", "label": "老鼠", "count": fig(4, 2, 1)},
            ],
        },
        "repeats": {
            "count": fig(84, 100, 60),
            "by_unit": [],
            "by_category": [{"key": "0303", "label": "施工区域", "count": fig(40, 50, 1)}],
        },
        "overdue": {
            "overdue": fig(12, 15, 9),
            "escalated": fig(20, 25, 10),
            "auto_escalated": fig(7, 9, 3),
            "supervised": fig(3, 2, 1),
            "by_unit": [],
        },
        "returns": {
            "returns": fig(20, 18, 10),
            "disputes": fig(2, 1, 0),
            "by_department": [
                {"unit": {"id": 7, "code": "G01", "name": "区城市管理局", "kind": "district"}, "count": fig(9, 4, 2)},
                {"unit": {"id": 8, "code": "G02", "name": "区住建局", "kind": "district"}, "count": fig(2, 1, 0)},
            ],
        },
        "extensions": {"asked": fig(5, 4, 3), "granted": fig(4, 3, 3), "refused": fig(1, 1, 0)},
        "times": {},
        "self_check": None,
        "hotspots": {
            "grids": [
                {
                    "unit": unit(11, "和兴路社区第1网格"),
                    "petitions": 40,
                    "households": 350,
                    "per_1000": 114.3,
                    "repeats": 6,
                    "overdue": 2,
                    "unsatisfied": 1,
                    "risk": 0.73,
                    "rank": 1,
                },
                {
                    "unit": unit(12, "和兴路社区第2网格"),
                    "petitions": 12,
                    "households": 400,
                    "per_1000": 30.0,
                    "repeats": 2,
                    "overdue": 0,
                    "unsatisfied": 0,
                    "risk": 0.2,
                    "rank": 2,
                },
            ],
            "microgrids": [],
            "clusters": [
                {"id": 1, "lon": 120.37, "lat": 36.09, "count": 14, "radius_m": 180, "name": "延安路·萍乡里社区"},
                {"id": 2, "lon": 120.38, "lat": 36.1, "count": 3, "radius_m": 100, "name": "台东路"},
            ],
            "risk_weights": {"volume": 0.4, "repeats": 0.3, "overdue": 0.2, "unsatisfied": 0.1},
        },
        "narrative": [],
        "recommendations": [],
    }


def sentences(figures: dict) -> dict[str, dict]:
    return {s["id"]: s for s in narrative(figures)}


def texts(figures: dict) -> str:
    return "".join(s["text"] for s in narrative(figures))


def assert_evidence_resolves(figures: dict, items: list[dict]) -> None:
    for item in items:
        assert item["evidence"], item
        for evidence in item["evidence"]:
            assert resolve(figures, evidence["ref"]) == evidence["value"], evidence


def test_it_reads_like_the_monthly_report():
    said = sentences(sample_figures())
    assert said["volume"]["text"] == "本月共受理诉求1,234件，环比上月减少16%，同比增加12%。"
    assert said["categories"]["text"] == (
        "施工区域类诉求有所下降，由上月100件降至84件，环比减少16%，"
        "但交通堵塞、施工噪音、路边烧烤等问题仍占比较高，合计440件，占全部诉求的36%。"
    )
    assert said["risers"]["text"] == "交通堵塞类诉求增量明显，由上月150件增至200件，环比上升33%。"
    assert "响应率99.03%，较上月提高1个百分点" in said["rates"]["text"]
    assert "解决率99.81%，与上月持平" in said["rates"]["text"]
    assert said["seasonal"]["text"] == (
        "与去年同期相比，路边烧烤（去年同月40件，本月90件）、游商浮贩（去年同月25件，本月30件）等问题的投诉增量明显。"
    )
    assert said["overdue"]["text"] == "办理超期12件次，其中到期自动升级7件次，环比上月减少20%。"
    assert "和兴路社区第1网格综合风险最高" in said["hotspots"]["text"]
    assert "延安路·萍乡里社区一带（14件）" in said["hotspots"]["text"]


def test_every_sentence_rests_on_figures_that_resolve_in_the_document():
    figures = sample_figures()
    result = narrate(figures, rules=[])
    assert len(result["narrative"]) >= 9
    assert_evidence_resolves(figures, result["narrative"])


def test_it_writes_no_change_on_a_base_below_the_minimum_volume():
    figures = sample_figures()
    said = texts(figures)
    # 施工扬尘 fell from 4 to 1 (-75 %) and 遛狗不拴绳 rose from 1 to 2 (+100 %): bases below 5.
    assert "施工扬尘" not in said and "遛狗不拴绳" not in said and "100%" not in said
    # 老鼠 is above last year (4 vs 1) but on one case: not called seasonal.
    assert "老鼠" not in said
    # 宁夏路街道's 50 % rests on two ratings.
    assert "宁夏路街道" not in said


def test_a_small_month_gets_its_count_and_nothing_else():
    figures = sample_figures()
    figures["volume"]["total"] = fig(3, 1, 0)
    figures["settings"]["min_volume"] = 5
    said = sentences(figures)
    assert said["volume"]["text"] == "本月共受理诉求3件，件数较少，不作趋势和占比分析。"
    assert "channels" not in said and "categories" not in said and "top_categories" not in said


def test_the_minimum_volume_comes_from_the_document():
    figures = sample_figures()
    figures["settings"]["min_volume"] = 2000
    said = sentences(figures)
    assert said["volume"]["text"] == "本月共受理诉求1,234件，件数较少，不作趋势和占比分析。"
    assert not {"categories", "fallers", "risers", "rates"} & set(said)


def test_a_change_with_a_null_base_is_not_written():
    figures = sample_figures()
    figures["volume"]["total"] = fig(120, 0, None)
    assert sentences(figures)["volume"]["text"] == "本月共受理诉求120件。"


def test_a_small_change_reads_as_flat():
    figures = sample_figures()
    figures["volume"]["total"] = fig(1010, 1000, 1000)
    assert sentences(figures)["volume"]["text"] == "本月共受理诉求1,010件，环比上月基本持平，同比基本持平。"


def test_an_empty_document_says_nothing():
    assert narrative({"settings": {"min_volume": 5}}) == []


def test_missing_sections_are_skipped_not_guessed():
    figures = sample_figures()
    for key in ("repeats", "overdue", "hotspots", "categories"):
        del figures[key]
    said = sentences(figures)
    assert set(said) == {"volume", "channels", "rates"}


def test_no_repeats_is_said_plainly():
    figures = sample_figures()
    figures["repeats"]["count"] = fig(0, 3, 2)
    assert sentences(figures)["repeats"]["text"] == "本月未发生重复投诉。"


@pytest.mark.django_db
def test_narrate_applies_the_seeded_rules():
    figures = sample_figures()
    result = narrate(copy.deepcopy(figures))
    rules = {r["rule"] for r in result["recommendations"]}
    assert rules == {
        "category_rising_twice",
        "grid_many_repeats",
        "unit_low_satisfaction",
        "department_many_returns",
        "seasonal_riser",
    }
    assert_evidence_resolves(figures, result["recommendations"])


def test_a_multiple_reads_as_a_multiple_and_a_small_move_is_not_a_trend():
    figures = sample_figures()
    figures["categories"]["risers"] = [
        {"key": "1301", "label": "供暖", "count": fig(155, 6, 184), "delta": 149},
    ]
    figures["categories"]["fallers"] = [
        {"key": "0101", "label": "暴露垃圾", "count": fig(2, 5, 3), "delta": -3},  # three cases: no trend
        {"key": "0501", "label": "占道经营", "count": fig(10, 38, 20), "delta": -28},
    ]
    said = sentences(figures)
    assert said["risers"]["text"] == "供暖类诉求增量明显，由上月6件增至155件，为上月的25.8倍。"
    assert said["categories"]["text"].startswith("占道经营类诉求有所下降，由上月38件降至10件，环比减少74%，但")


def test_a_small_rise_on_last_year_is_not_called_marked():
    figures = sample_figures()
    figures["categories"]["seasonal"] = [{"key": "1202", "label": "下水管堵塞", "count": fig(17, 6, 15)}]
    assert "seasonal" not in sentences(figures)


def test_what_fell_is_not_named_among_what_still_weighs_most():
    figures = sample_figures()
    figures["categories"]["fallers"] = [
        {"key": "0301", "label": "施工噪音", "count": fig(150, 200, 90), "delta": -50},
    ]
    said = sentences(figures)
    assert said["categories"]["text"] == (
        "施工噪音类诉求有所下降，由上月200件降至150件，环比减少25%，"
        "但交通堵塞、路边烧烤等问题仍占比较高，合计290件，占全部诉求的24%。"
    )
    assert_evidence_resolves(figures, [said["categories"]])
