"""The report's narrative and recommendations in Chinese, written by rules from the figures alone.

`narrate(figures)` reads the finished figures document (REPORT_CONTRACT.md) and returns
`{"narrative": [...], "recommendations": [...]}`. It queries nothing for the narrative: what it
writes follows from the document, so a published report's text can be checked against its own
numbers. Recommendations come from the rules kept as data (`analytics.rules`).

Every sentence carries `evidence`: the figures it rests on, each with `ref`, a dotted path into the
same document ("volume.total", "categories.risers[0]"), so the page can show them. Nothing is
written that the figures do not support:

- a change (环比/同比) is written only when its base is at least `settings.min_volume` of the
  document (no "+100%" on one case), and only when it is not null;
- a share is written only when the month's total is at least min_volume;
- a section missing or empty in the document writes no sentence.
"""

from __future__ import annotations

from typing import Any

# When the document carries no min_volume (it always should): the report's default.
DEFAULT_MIN_VOLUME = 5
# A change smaller than this (relative, 0.05 = 5 %) reads "基本持平" rather than up or down.
FLAT_CHANGE = 0.05
# A rate change smaller than this (in rate points, 0.001 = 0.1 个百分点) reads "持平".
FLAT_RATE_CHANGE = 0.001
TOP_CATEGORIES_NAMED = 3
# A category's rise reads "增量明显" from this relative change on (0.2 = +20 %), "有所上升" below.
NOTABLE_CHANGE = 0.2


def resolve(figures: dict, ref: str) -> Any:
    """The value at a dotted path ("categories.risers[0].count.value"); KeyError/IndexError if absent."""
    node: Any = figures
    for part in ref.split("."):
        name, _, rest = part.partition("[")
        if name:
            node = node[name]
        while rest:
            index, _, rest = rest.partition("]")
            node = node[int(index)]
            rest = rest.removeprefix("[")
    return node


def fmt_count(value: int | float) -> str:
    return f"{int(value):,}"


def fmt_percent(value: float, digits: int = 0) -> str:
    """0.1612 → "16%"; drops a trailing ".0"."""
    text = f"{abs(value) * 100:.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text}%"


def fmt_rate(value: float) -> str:
    """0.9903 → "99.03%"."""
    return f"{value * 100:.2f}%"


def min_volume(figures: dict) -> int:
    return int((figures.get("settings") or {}).get("min_volume") or DEFAULT_MIN_VOLUME)


def change_phrase(fig: dict, which: str, floor: int, *, word: str) -> str | None:
    """ "环比上月减少16%" for which="mom" (base: prev) or "同比增长8%" for which="yoy" (base: last_year).

    None when the change is null or its base is below `floor`.
    """
    base = fig.get("prev" if which == "mom" else "last_year")
    change = fig.get(which)
    if change is None or base is None or base < floor:
        return None
    if abs(change) < FLAT_CHANGE:
        return f"{word}基本持平"
    direction = "增加" if change > 0 else "减少"
    return f"{word}{direction}{fmt_percent(change)}"


def rate_change_phrase(rate: dict, floor: int) -> str | None:
    """ "较上月提高0.5个百分点" when both months have a rate over at least `floor` ratings."""
    mom = rate.get("mom")
    if mom is None or rate.get("prev") is None or (rate.get("denominator") or 0) < floor:
        return None
    if abs(mom) < FLAT_RATE_CHANGE:
        return "与上月持平"
    points = f"{abs(mom) * 100:.1f}".rstrip("0").rstrip(".")
    return f"较上月{'提高' if mom > 0 else '下降'}{points}个百分点"


def _ev(label: str, value: Any, ref: str) -> dict:
    return {"label": label, "value": value, "ref": ref}


def _fig_evidence(label: str, fig: dict, ref: str, *, mom: bool = False, yoy: bool = False) -> list[dict]:
    items = [_ev(label, fig.get("value"), f"{ref}.value")]
    if mom:
        items.append(_ev(f"{label}（上月）", fig.get("prev"), f"{ref}.prev"))
    if yoy:
        items.append(_ev(f"{label}（去年同月）", fig.get("last_year"), f"{ref}.last_year"))
    return items


def _volume(figures: dict, floor: int) -> dict | None:
    total = (figures.get("volume") or {}).get("total")
    if not total:
        return None
    value = total.get("value") or 0
    ref = "volume.total"
    if value < floor:
        return {
            "id": "volume",
            "text": f"本月共受理诉求{fmt_count(value)}件，件数较少，不作趋势和占比分析。",
            "evidence": _fig_evidence("本月诉求量", total, ref),
        }
    parts = [f"本月共受理诉求{fmt_count(value)}件"]
    mom = change_phrase(total, "mom", floor, word="环比上月")
    yoy = change_phrase(total, "yoy", floor, word="同比")
    parts += [p for p in (mom, yoy) if p]
    return {
        "id": "volume",
        "text": "，".join(parts) + "。",
        "evidence": _fig_evidence("本月诉求量", total, ref, mom=bool(mom), yoy=bool(yoy)),
    }


def _channels(figures: dict, floor: int) -> dict | None:
    volume = figures.get("volume") or {}
    total = (volume.get("total") or {}).get("value") or 0
    channels = volume.get("by_channel") or []
    if total < floor or not channels:
        return None
    index, top = max(enumerate(channels), key=lambda item: ((item[1].get("count") or {}).get("value") or 0, -item[0]))
    count = (top.get("count") or {}).get("value") or 0
    if not count:
        return None
    return {
        "id": "channels",
        "text": f"其中通过{top['label']}反映{fmt_count(count)}件，占{fmt_percent(count / total)}。",
        "evidence": [
            _ev(f"{top['label']}诉求量", count, f"volume.by_channel[{index}].count.value"),
            _ev("本月诉求量", total, "volume.total.value"),
        ],
    }


def _rates(figures: dict, floor: int) -> dict | None:
    rates = figures.get("rates") or {}
    names = (("response", "响应率"), ("resolution", "解决率"), ("satisfaction", "满意率"))
    parts, evidence = [], []
    for key, label in names:
        rate = rates.get(key)
        if not rate or rate.get("value") is None or (rate.get("denominator") or 0) < floor:
            continue
        phrase = f"{label}{fmt_rate(rate['value'])}"
        change = rate_change_phrase(rate, floor)
        if change:
            phrase += f"，{change}"
            evidence.append(_ev(f"{label}（上月）", rate.get("prev"), f"rates.{key}.prev"))
        parts.append(phrase)
        evidence.append(_ev(label, rate["value"], f"rates.{key}.value"))
        evidence.append(_ev(f"{label}分母", rate.get("denominator"), f"rates.{key}.denominator"))
    if not parts:
        return None
    return {"id": "rates", "text": "诉求办理方面，" + "；".join(parts) + "。", "evidence": evidence}


def _top_categories(figures: dict, floor: int, *, leave_out: str | None = None) -> dict | None:
    """The largest categories (at least `floor` each), `leave_out` (a category key) left out."""
    categories = figures.get("categories") or {}
    top = [
        (i, c)
        for i, c in enumerate(categories.get("top") or [])
        if ((c.get("count") or {}).get("value") or 0) >= floor and (leave_out is None or c.get("key") != leave_out)
    ]
    total = ((figures.get("volume") or {}).get("total") or {}).get("value") or 0
    if not top or total < floor:
        return None
    named = [c for _i, c in top[:TOP_CATEGORIES_NAMED]]
    labels = "、".join(c["label"] for c in named)
    share = sum(c["count"]["value"] for c in named) / total
    evidence = [
        _ev(c["label"], c["count"]["value"], f"categories.top[{i}].count.value") for i, c in top[:TOP_CATEGORIES_NAMED]
    ]
    evidence.append(_ev("本月诉求量", total, "volume.total.value"))
    return {
        "id": "top_categories",
        "text": f"从问题类型看，{labels}等问题占比较高，合计{fmt_count(sum(c['count']['value'] for c in named))}件，"
        f"占全部诉求的{fmt_percent(share)}。",
        "evidence": evidence,
    }


def _movers(figures: dict, floor: int, key: str) -> dict | None:
    """The first riser (key="risers") or faller ("fallers") whose base and change are both at
    least `floor` cases: a move of three cases is not a trend."""
    rows = (figures.get("categories") or {}).get(key) or []
    for index, row in enumerate(rows):
        count = row.get("count") or {}
        prev, value = count.get("prev"), count.get("value")
        if prev is None or value is None or prev < floor or count.get("mom") is None:
            continue
        if key == "risers" and value <= prev or key == "fallers" and value >= prev or abs(value - prev) < floor:
            continue
        ref = f"categories.{key}[{index}].count"
        if key == "risers":
            how = "增量明显" if count["mom"] >= NOTABLE_CHANGE else "有所上升"
            # "+2483 %" reads as noise; a multiple reads as what it is.
            change = f"为上月的{value / prev:.1f}倍" if value >= 2 * prev else f"环比上升{fmt_percent(count['mom'])}"
            text = f"{row['label']}类诉求{how}，由上月{fmt_count(prev)}件增至{fmt_count(value)}件，{change}。"
        else:
            text = (
                f"{row['label']}类诉求有所下降，由上月{fmt_count(prev)}件降至{fmt_count(value)}件，"
                f"环比减少{fmt_percent(count['mom'])}。"
            )
        return {
            "id": key,
            "key": row.get("key"),
            "text": text,
            "evidence": [_ev(row["label"], value, f"{ref}.value"), _ev(f"{row['label']}（上月）", prev, f"{ref}.prev")],
        }
    return None


def _seasonal(figures: dict, floor: int) -> dict | None:
    rows = (figures.get("categories") or {}).get("seasonal") or []
    named, evidence = [], []
    for index, row in enumerate(rows):
        count = row.get("count") or {}
        last_year, value = count.get("last_year"), count.get("value")
        if last_year is None or value is None or value < floor or last_year < floor:
            continue
        if value - last_year < floor or value < last_year * (1 + NOTABLE_CHANGE):
            continue
        named.append(f"{row['label']}（去年同月{fmt_count(last_year)}件，本月{fmt_count(value)}件）")
        ref = f"categories.seasonal[{index}].count"
        evidence += [
            _ev(row["label"], value, f"{ref}.value"),
            _ev(f"{row['label']}（去年同月）", last_year, f"{ref}.last_year"),
        ]
        if len(named) == TOP_CATEGORIES_NAMED:
            break
    if not named:
        return None
    return {
        "id": "seasonal",
        "text": f"与去年同期相比，{'、'.join(named)}等问题的投诉增量明显。",
        "evidence": evidence,
    }


def _repeats(figures: dict, floor: int) -> dict | None:
    repeats = figures.get("repeats") or {}
    count = repeats.get("count")
    if not count or count.get("value") is None:
        return None
    value = count["value"]
    if value == 0:
        return {
            "id": "repeats",
            "text": "本月未发生重复投诉。",
            "evidence": [_ev("重复投诉", 0, "repeats.count.value")],
        }
    parts = [f"重复投诉{fmt_count(value)}件"]
    mom = change_phrase(count, "mom", floor, word="环比上月")
    if mom:
        parts.append(mom)
    evidence = _fig_evidence("重复投诉", count, "repeats.count", mom=bool(mom))
    by_category = [c for c in repeats.get("by_category") or [] if (c.get("count") or {}).get("value")]
    if by_category and value >= floor:
        first = by_category[0]
        parts.append(f"主要集中在{first['label']}（{fmt_count(first['count']['value'])}件）")
        evidence.append(_ev(first["label"], first["count"]["value"], "repeats.by_category[0].count.value"))
    return {"id": "repeats", "text": "，".join(parts) + "。", "evidence": evidence}


def _overdue(figures: dict, floor: int) -> dict | None:
    overdue = figures.get("overdue") or {}
    fig = overdue.get("overdue")
    if not fig or fig.get("value") is None:
        return None
    value = fig["value"]
    if value == 0:
        return {"id": "overdue", "text": "本月无超期办理。", "evidence": [_ev("超期件次", 0, "overdue.overdue.value")]}
    parts = [f"办理超期{fmt_count(value)}件次"]
    evidence = [_ev("超期件次", value, "overdue.overdue.value")]
    escalated = overdue.get("auto_escalated") or {}
    if escalated.get("value"):
        parts.append(f"其中到期自动升级{fmt_count(escalated['value'])}件次")
        evidence.append(_ev("到期自动升级", escalated["value"], "overdue.auto_escalated.value"))
    mom = change_phrase(fig, "mom", floor, word="环比上月")
    if mom:
        parts.append(mom)
        evidence.append(_ev("超期件次（上月）", fig.get("prev"), "overdue.overdue.prev"))
    return {"id": "overdue", "text": "，".join(parts) + "。", "evidence": evidence}


def _hotspots(figures: dict, floor: int) -> dict | None:
    hotspots = figures.get("hotspots") or {}
    grids = hotspots.get("grids") or []
    parts, evidence = [], []
    if grids and grids[0].get("petitions", 0) >= floor:
        top = grids[0]
        name = top["unit"]["name"]
        phrase = f"从网格看，{name}综合风险最高，本月诉求{fmt_count(top['petitions'])}件"
        evidence += [
            _ev(f"{name}风险分", top.get("risk"), "hotspots.grids[0].risk"),
            _ev(f"{name}诉求量", top["petitions"], "hotspots.grids[0].petitions"),
        ]
        if top.get("per_1000") is not None:
            phrase += f"，每千户{top['per_1000']:g}件"
            evidence.append(_ev(f"{name}每千户诉求", top["per_1000"], "hotspots.grids[0].per_1000"))
        if top.get("repeats"):
            phrase += f"，其中重复投诉{fmt_count(top['repeats'])}件"
            evidence.append(_ev(f"{name}重复投诉", top["repeats"], "hotspots.grids[0].repeats"))
        parts.append(phrase)
    clusters = [c for c in hotspots.get("clusters") or [] if c.get("count", 0) >= floor]
    if clusters:
        named = clusters[:2]
        places = "、".join(f"{c['name']}一带（{fmt_count(c['count'])}件）" for c in named)
        parts.append(f"诉求点位集中在{places}")
        for c in named:
            index = hotspots["clusters"].index(c)
            evidence.append(_ev(c["name"], c["count"], f"hotspots.clusters[{index}].count"))
    if not parts:
        return None
    return {"id": "hotspots", "text": "；".join(parts) + "。", "evidence": evidence}


def _categories(figures: dict, floor: int) -> list[dict]:
    """What fell, then what still weighs most, in one sentence as the seed's report writes it:
    "施工区域类诉求有所下降……，但交通堵塞、施工噪音等问题仍占比较高……"; then what rose."""
    faller = _movers(figures, floor, "fallers")
    riser = _movers(figures, floor, "risers")
    # "X fell, but Y and Z still weigh most": X is not among the Y and Z.
    top = _top_categories(figures, floor, leave_out=faller["key"] if faller else None)
    for moved in (faller, riser):
        if moved:
            moved.pop("key")
    said = []
    if faller and top:
        said.append(
            {
                "id": "categories",
                "text": faller["text"].removesuffix("。")
                + "，但"
                + top["text"].removeprefix("从问题类型看，").replace("等问题占比较高", "等问题仍占比较高"),
                "evidence": faller["evidence"] + top["evidence"],
            }
        )
    else:
        said += [s for s in (faller, top) if s]
    if riser:
        said.append(riser)
    return said


def narrative(figures: dict) -> list[dict]:
    """The narrative's sentences in reading order; sections without support write nothing."""
    floor = min_volume(figures)
    sentences = [s for s in (_volume(figures, floor), _channels(figures, floor), _rates(figures, floor)) if s]
    sentences += _categories(figures, floor)
    for build in (_seasonal, _repeats, _overdue, _hotspots):
        sentence = build(figures, floor)
        if sentence:
            sentences.append(sentence)
    return sentences


def narrate(figures: dict, *, rules=None) -> dict:
    """{"narrative": [...], "recommendations": [...]} for a figures document (see the module docstring).

    `rules`: the recommendation rules to apply; the active rules kept in the database by default.
    """
    from analytics.rules import active_rules, recommend

    return {
        "narrative": narrative(figures),
        "recommendations": recommend(figures, active_rules() if rules is None else rules),
    }
