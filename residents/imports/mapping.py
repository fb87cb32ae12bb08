"""Which column of an upload feeds which field: the fields of each kind and their usual headers.

A mapping is `{field: header}`. `suggest_mapping` proposes one from the header: first the
community's remembered mapping (`ImportMapping`) where its headers are present, then the usual
Chinese names below (姓名, 身份证号 / 公民身份号码, 联系电话 / 手机号, 门牌 / 房屋编码 …).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

RESIDENT, HOUSE, BUILDING = "resident", "house", "building"


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: str | Promise
    synonyms: tuple[str, ...]
    required: bool = False
    help: str | Promise = ""


def _f(name: str, label: Promise, *synonyms: str, required: bool = False, help: Promise | str = "") -> FieldSpec:
    return FieldSpec(name=name, label=label, synonyms=synonyms, required=required, help=help)


FIELDS: dict[str, tuple[FieldSpec, ...]] = {
    RESIDENT: (
        _f("name", gettext_lazy("Name"), "姓名", "居民姓名", "人员姓名", "名字", required=True),
        _f(
            "id_number",
            gettext_lazy("ID number"),
            "身份证号",
            "身份证号码",
            "公民身份号码",
            "公民身份证号",
            "证件号码",
            "身份证",
            required=True,
            help=gettext_lazy("the key: a resident already on record with this number is updated"),
        ),
        _f("gender", gettext_lazy("Gender"), "性别", help=gettext_lazy("empty: taken from the ID number")),
        _f("birth_date", gettext_lazy("Birth date"), "出生日期", "出生年月", "生日"),
        _f("phone", gettext_lazy("Phone"), "联系电话", "手机号", "手机号码", "手机", "电话", "联系方式"),
        _f(
            "house_code",
            gettext_lazy("Doorplate code"),
            "门牌编码",
            "房屋编码",
            "门牌号",
            "门牌",
            "电子门牌",
            "房屋编号",
        ),
        _f(
            "house_address",
            gettext_lazy("House address"),
            "地址",
            "住址",
            "房屋地址",
            "居住地址",
            "现住址",
            "现居住地址",
            help=gettext_lazy("finds the house when there is no doorplate code"),
        ),
        _f("relation", gettext_lazy("Relation to householder"), "与户主关系", "关系", "家庭关系"),
        _f("registration", gettext_lazy("Registration"), "户籍类型", "人口类型", "户籍性质", "人员类型", "户籍"),
        _f("moved_in", gettext_lazy("Moved in"), "迁入日期", "入住日期", "入住时间", "迁入时间"),
        _f("moved_out", gettext_lazy("Moved out"), "迁出日期", "迁出时间"),
        _f("status", gettext_lazy("Status"), "状态", "人员状态", "居住状态"),
        _f("notes", gettext_lazy("Notes"), "备注", "说明"),
        _f(
            "tags",
            gettext_lazy("Tags"),
            "标签",
            "人员标签",
            "居民标签",
            "人员类别",
            help=gettext_lazy(
                "names separated by ; (退役军人;低保): the district's and the community's tags; added, never removed"
            ),
        ),
    ),
    HOUSE: (
        _f(
            "doorplate_code",
            gettext_lazy("Doorplate code"),
            "门牌编码",
            "房屋编码",
            "门牌号",
            "门牌",
            "电子门牌",
            "房屋编号",
            help=gettext_lazy("the key: a house already on record with this code is updated"),
        ),
        _f("address", gettext_lazy("Address"), "地址", "房屋地址", "门牌地址", "详细地址", "住址", required=True),
        _f("building_code", gettext_lazy("Building code"), "楼栋编码", "楼栋编号", "楼栋", "楼号"),
        _f("unit", gettext_lazy("Unit"), "单元", "单元号"),
        _f("floor", gettext_lazy("Floor"), "楼层", "层"),
        _f("room", gettext_lazy("Room"), "房号", "室", "房间号", "户号"),
        _f("use", gettext_lazy("Use"), "房屋用途", "用途", "房屋性质", "居住类型", "房屋类型"),
        _f(
            "microgrid",
            gettext_lazy("Micro-grid"),
            "微网格",
            "微网格编码",
            "所属微网格",
            help=gettext_lazy("code or name; empty: the building's micro-grid"),
        ),
    ),
    BUILDING: (
        _f(
            "code",
            gettext_lazy("Building code"),
            "楼栋编码",
            "楼栋编号",
            "编码",
            required=True,
            help=gettext_lazy("the key: a building already on record with this code is updated"),
        ),
        _f("name", gettext_lazy("Name"), "楼栋名称", "楼栋", "名称", "楼号", required=True),
        _f("address", gettext_lazy("Address"), "地址", "楼栋地址", "详细地址"),
        _f("units", gettext_lazy("Units"), "单元数", "单元"),
        _f("floors", gettext_lazy("Floors"), "楼层数", "层数", "总层数"),
        _f(
            "microgrid",
            gettext_lazy("Micro-grid"),
            "微网格",
            "微网格编码",
            "所属微网格",
            required=True,
            help=gettext_lazy("code or name of a micro-grid of the community"),
        ),
    ),
}
KINDS = tuple(FIELDS)


def kind_label(kind: str) -> str:
    return {RESIDENT: _("Residents"), HOUSE: _("Houses"), BUILDING: _("Buildings")}[kind]


def field_specs(kind: str) -> tuple[FieldSpec, ...]:
    return FIELDS[kind]


# Record fields a report shows under the label of the column that feeds them.
CHANGE_FIELDS = {
    "house_id": "house_code",
    "moved_in_on": "moved_in",
    "moved_out_on": "moved_out",
    "building_id": "building_code",
    "microgrid_id": "microgrid",
}


def field_label(kind: str, name: str) -> str:
    if kind == RESIDENT and name == "house_id":
        return _("House")
    name = CHANGE_FIELDS.get(name, name)
    for spec in FIELDS[kind]:
        if spec.name == name:
            return str(spec.label)
    return name


_NOISE = re.compile(r"[\s*＊:：()（）\[\]【】]")


def header_key(header: str) -> str:
    """Headers compare without spaces, brackets or the asterisk templates put on required columns."""
    return _NOISE.sub("", header or "").lower()


def suggest_mapping(kind: str, header: Iterable[str], remembered: Mapping[str, str] | None = None) -> dict[str, str]:
    """{field: header} for the fields this header can feed; each column feeds at most one field."""
    present = {header_key(h): h for h in header if h}
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for name, column in (remembered or {}).items():
        key = header_key(column)
        if key in present and key not in used and any(spec.name == name for spec in FIELDS[kind]):
            mapping[name] = present[key]
            used.add(key)
    for spec in FIELDS[kind]:
        if spec.name in mapping:
            continue
        for synonym in (spec.name, *spec.synonyms):
            key = header_key(synonym)
            if key in present and key not in used:
                mapping[spec.name] = present[key]
                used.add(key)
                break
    return mapping


def mapping_problems(kind: str, header: Iterable[str], mapping: Mapping[str, str]) -> list[str]:
    """What is wrong with a mapping for this header, in words for the person uploading (empty: fine)."""
    present = set(header)
    problems = []
    names = {spec.name for spec in FIELDS[kind]}
    for name, column in mapping.items():
        if name not in names:
            problems.append(_("Unknown field %(field)s.") % {"field": name})
        elif column not in present:
            problems.append(
                _("The file has no column “%(column)s” (mapped to %(field)s).")
                % {"column": column, "field": field_label(kind, name)}
            )
    columns = [column for column in mapping.values() if column]
    for column in sorted({c for c in columns if columns.count(c) > 1}):
        problems.append(_("Column “%(column)s” is mapped to more than one field.") % {"column": column})
    missing = [str(spec.label) for spec in FIELDS[kind] if spec.required and not mapping.get(spec.name)]
    if missing:
        problems.append(_("Required column(s) missing: %(columns)s.") % {"columns": "、".join(missing)})
    if kind == RESIDENT and not (mapping.get("house_code") or mapping.get("house_address")):
        problems.append(_("Map a doorplate code or a house address column: each resident needs a house."))
    return problems
