"""Personal data: the one place that masks phones, names, ID numbers and free text (docs/personal-data.md).

Anywhere an outsider or a masked role can read a phone number, at least six of its digits are
hidden: a mobile shows its first three and last two digits (`139******68`), so the hidden middle
has a million possibilities and cannot be tried out against the tracking form. Names keep the
surname (`王**`), ID numbers the first three and the last two characters.

`mask_text` finds the same data inside free text that residents and staff type: mobiles written
with spaces, dashes, `+86` or full-width digits, landlines with an area code, short local numbers
after a word that says "phone", ID numbers (18 or 15 digits, spaced or not) and names after
我是 / 我叫 / 姓名 / 联系人. Dates, amounts, house numbers and tracking numbers stay as written.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

MASK = "*"
# Never fewer than this many hidden digits in a phone number anyone but its handler can read.
MIN_HIDDEN_DIGITS = 6
PHONE_KEEP_HEAD = 3
PHONE_KEEP_TAIL = 2

# Full-width forms residents type on Chinese keyboards, mapped one character to one character, so
# that a match in the normalised text has the same span in the original.
_FULL_WIDTH = {ord("０") + i: ord("0") + i for i in range(10)}
_FULL_WIDTH.update({ord("＋"): ord("+"), ord("－"): ord("-"), ord("（"): ord("("), ord("）"): ord(")")})
_FULL_WIDTH.update({ord("\u3000"): ord(" "), ord("Ｘ"): ord("X"), ord("ｘ"): ord("x")})
_FULL_WIDTH_RE = re.compile("[" + "".join(map(chr, _FULL_WIDTH)) + "]")
_SEVEN_DIGITS_RE = re.compile(r"\d(?:\D{0,3}\d){6}")
# One optional separator between the digits of a number: "138 1234 5678", "138-1234-5678".
_SEP = r"[ \-\u00a0]?"
# No digit or Latin letter may touch a number on either side: it would be part of a longer code
# (an order number, an express tracking number such as SF1234567890123).
_BEFORE = r"(?<![0-9A-Za-z])"
_AFTER = r"(?![0-9A-Za-z])"


def _digits(*atoms: str) -> str:
    return _SEP.join(atoms)


def _phone_digits(value: str) -> str:
    return re.sub(r"\D", "", value.translate(_FULL_WIDTH))


def mask_phone(phone: str) -> str:
    """`13912342468` → `139******68`; any number keeps at most 3 + 2 digits and hides at least 6."""
    digits = _phone_digits(phone or "")
    if not digits:
        return MASK * len(phone) if phone else ""
    for country in ("86", "0086"):  # +86 / 0086 mobile: mask the national number
        if len(digits) == len(country) + 11 and digits.startswith(country + "1"):
            digits = digits[len(country) :]
    hidden = max(MIN_HIDDEN_DIGITS, len(digits) - PHONE_KEEP_HEAD - PHONE_KEEP_TAIL)
    keep = max(0, len(digits) - hidden)
    tail = min(PHONE_KEEP_TAIL, keep)
    head = keep - tail
    return digits[:head] + MASK * (len(digits) - head - tail) + (digits[len(digits) - tail :] if tail else "")


def mask_name(name: str) -> str:
    """`王小明` → `王**`; a one-character name still hides something: `王*`."""
    name = (name or "").strip()
    if not name:
        return ""
    return name[0] + MASK * max(1, len(name) - 1)


def mask_id_number(number: str) -> str:
    """`370202199001011234` → `370*************34` (spaces and dashes dropped)."""
    compact = re.sub(r"[\s\-]", "", (number or "").translate(_FULL_WIDTH))
    if not compact:
        return ""
    if len(compact) <= 8:
        return MASK * len(compact)
    return compact[:3] + MASK * (len(compact) - 5) + compact[-2:]


# --- Free text -------------------------------------------------------------------------------------

_ID18_RE = re.compile(
    _BEFORE
    + _digits(
        r"[1-9]", *[r"\d"] * 5, r"(?:1[89]|20)", r"\d", r"\d", r"[01]", r"\d", r"[0-3]", r"\d", *[r"\d"] * 3, r"[\dXx]"
    )
    + _AFTER
)
_ID15_RE = re.compile(_BEFORE + _digits(r"[1-9]", *[r"\d"] * 7, r"[01]", r"\d", r"[0-3]", r"\d", *[r"\d"] * 3) + _AFTER)
_MOBILE_RE = re.compile(
    r"(?<![0-9A-Za-z+])(?P<prefix>(?:\+|00)?86[ \-\u00a0]?)?" + _digits(r"1", r"[3-9]", *[r"\d"] * 9) + _AFTER
)
# An area code (010, 02x or 0xxx) and a local number of 7 or 8 digits: 0532-88886666, (0532)88886666.
_LANDLINE_RE = re.compile(
    _BEFORE
    + r"(?:\(0\d{2,3}\)|0\d{2,3})"
    + _SEP
    + _digits(r"[2-9]", r"\d", r"\d", r"\d?", r"\d", r"\d", r"\d", r"\d")
    + _AFTER
)
# A bare local number only where a word says it is a phone: 电话88886666, 座机：8888-6666.
_LOCAL_RE = re.compile(
    r"(?P<word>电话|手机|座机|固话|联系方式|致电|拨打|tel|Tel|TEL|phone|Phone)"
    r"(?P<glue>[\s:：是为]{0,3})"
    r"(?P<number>" + _digits(r"[2-9]", r"\d", r"\d", r"\d?", r"\d", r"\d", r"\d", r"\d") + r")" + _AFTER
)

# The commonest surnames (about 90 % of people); a name is only masked after a word that
# introduces one and when it starts with a surname, so 我是本小区业主 stays readable.
COMPOUND_SURNAMES = (
    "欧阳",
    "司马",
    "上官",
    "诸葛",
    "东方",
    "皇甫",
    "令狐",
    "慕容",
    "司徒",
    "夏侯",
    "尉迟",
    "公孙",
    "长孙",
)
SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭"
    "陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易"
    "乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴"
    "蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边"
    "卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝"
)
# Words after a surname that make it a form of address, not a full name: 王先生 stays.
_TITLES = (
    "先生",
    "女士",
    "小姐",
    "师傅",
    "阿姨",
    "大爷",
    "大妈",
    "大娘",
    "老师",
    "同志",
    "经理",
    "主任",
    "书记",
    "老人",
    "某",
)
# Words that start with a surname's character but name a role or a place: 我是房东 stays.
_NOT_NAMES = (
    "周边",
    "周围",
    "房东",
    "房主",
    "房客",
    "车主",
    "商户",
    "商家",
    "单位",
    "党员",
    "高层",
    "高龄",
    "全家",
    "全体",
    "明年",
    "司机",
    "管理",
    "安装",
    "方便",
    "华润",
    "万科",
    "金融",
    "文明",
    "温馨",
    "常住",
    "江边",
    "海边",
    "路过",
    "路人",
    "关于",
    "孔子",
    "钱多",
    "邻居",
    "楼上",
    "楼下",
    "对面",
    "隔壁",
    "附近",
    "本人",
    "本楼",
    "东方",
)
# Characters that end a name: punctuation, digits and the particles and verbs that usually follow.
_NAME_STOP = set("，。、；：！？,.;:!? \n\t()（）0123456789的在住家电手联系反映请想要和与及是就也都从向对给被把")
_NAME_INTRO_RE = re.compile(r"(?:我是|我叫|本人是|本人叫|姓名|联系人|名字叫|名字是)[\s:：是为]{0,2}")
_CJK_RE = re.compile(r"[\u4e00-\u9fff]")
NAME_MAX_GIVEN = 2


def _valid_birth_date(year: str, month: str, day: str) -> bool:
    try:
        date(int(year), int(month), int(day))
    except ValueError:
        return False
    return True


def _id_replacement(match: re.Match[str], century: str | None) -> str | None:
    compact = re.sub(r"[^\dXx]", "", match.group(0))
    birth = compact[6:14] if century is None else century + compact[6:12]
    if not _valid_birth_date(birth[:4], birth[4:6], birth[6:8]):
        return None
    return mask_id_number(compact)


def _mobile_replacement(match: re.Match[str]) -> str:
    prefix = match.group("prefix") or ""
    return prefix + mask_phone(match.group(0)[len(prefix) :])


def _landline_replacement(match: re.Match[str]) -> str:
    return mask_phone(match.group(0))


def _name_spans(text: str) -> list[tuple[int, int, str]]:
    spans = []
    for intro in _NAME_INTRO_RE.finditer(text):
        start = intro.end()
        surname_len = 2 if text.startswith(COMPOUND_SURNAMES, start) else 1
        if surname_len == 1 and (start >= len(text) or text[start] not in SURNAMES):
            continue
        given_start = start + surname_len
        if text.startswith(_TITLES, given_start) or text.startswith(_NOT_NAMES, start):
            continue
        end = given_start
        while end < len(text) and end - given_start < NAME_MAX_GIVEN:
            char = text[end]
            if char in _NAME_STOP or not _CJK_RE.match(char):
                break
            end += 1
        if end > given_start:
            spans.append((given_start, end, MASK * (end - given_start)))
    return spans


_Replacer = Callable[[re.Match[str]], "str | None"]
# In order of priority: a span taken by an earlier pattern is not matched again.
_PATTERNS: tuple[tuple[re.Pattern[str], _Replacer], ...] = (
    (_ID18_RE, lambda m: _id_replacement(m, None)),
    (_ID15_RE, lambda m: _id_replacement(m, "19")),
    (_MOBILE_RE, _mobile_replacement),
    (_LANDLINE_RE, _landline_replacement),
)


def mask_text(text: str) -> str:
    """`text` with phone numbers, ID numbers and introduced names masked; everything else as written."""
    if not text:
        return text or ""
    normal = text.translate(_FULL_WIDTH) if _FULL_WIDTH_RE.search(text) else text
    spans: list[tuple[int, int, str]] = []
    # Every number pattern needs seven digits close together: most text is spared the scans.
    patterns = _PATTERNS if _SEVEN_DIGITS_RE.search(normal) else ()

    def free(start: int, end: int) -> bool:
        return all(end <= s or start >= e for s, e, _ in spans)

    for pattern, replace in patterns:
        for match in pattern.finditer(normal):
            replacement = replace(match)
            if replacement is not None and free(*match.span()):
                spans.append((*match.span(), replacement))
    # The word that says "phone" stays; only the number after it is replaced.
    found = [(*m.span("number"), mask_phone(m.group("number"))) for m in _LOCAL_RE.finditer(normal)] if patterns else []
    for start, end, replacement in found + _name_spans(normal):
        if free(start, end):
            spans.append((start, end, replacement))
    if not spans:
        return text
    out, position = [], 0
    for start, end, replacement in sorted(spans):
        out.append(text[position:start])
        out.append(replacement)
        position = end
    out.append(text[position:])
    return "".join(out)


def reveals_personal_data(text: str) -> bool:
    """True when `text` holds something `mask_text` would hide: showing it unmasked is logged."""
    return bool(text) and mask_text(text) != text


# --- Addresses -------------------------------------------------------------------------------------

# Administrative prefixes a written address often starts with; what follows them is the street part.
# 超市, 小区, 社区 … end like a city or district but are places in it.
_ADMIN_PREFIX_RE = re.compile(
    r"^(?:[\u4e00-\u9fff]{1,8}?(?:省|自治区))?"
    r"(?:[\u4e00-\u9fff]{1,8}?(?<![超菜集夜门])市)?"
    r"(?:[\u4e00-\u9fff]{1,8}?(?<![小社园景校厂片营])[区县])?"
    r"(?:[\u4e00-\u9fff]{1,8}?(?:街道办事处|街道|镇|乡))?"
)
_ROAD_RE = re.compile(r"[\u4e00-\u9fff]{1,12}?(?:大道|大街|胡同|路|街|巷)")
_ESTATE_RE = re.compile(r"[\u4e00-\u9fff]{1,12}?(?:社区|小区|花园|家园|村|公寓|大厦|广场|苑)")


def generalise_address(address: str, *, fallback: str = "") -> str:
    """The road (幸福路) or, without one, the estate or community of `address`; never a house number.

    `fallback` (e.g. the community's name) is returned when neither can be found.
    """
    text = re.sub(r"\s+", "", (address or "").translate(_FULL_WIDTH))
    rest = _ADMIN_PREFIX_RE.sub("", text, count=1)
    for pattern in (_ROAD_RE, _ESTATE_RE):
        match = pattern.match(rest) or pattern.search(rest)
        if match:
            return match.group(0)
    return fallback


def mask_birth_date(value: date | None) -> str:
    """`1949-12-31` → `1949-**-**`: the year (and so the age band) stays, the day is hidden."""
    if value is None:
        return ""
    return f"{value.year:04d}-**-**"


# The personal fields of a person's record and how each is masked (residents' record pages, exports).
PERSON_MASKERS: dict[str, Callable[[object], str]] = {
    "name": lambda value: mask_name(str(value or "")),
    "id_number": lambda value: mask_id_number(str(value or "")),
    "phone": lambda value: mask_phone(str(value or "")),
    "birth_date": lambda value: mask_birth_date(value),  # type: ignore[arg-type]
    "notes": lambda value: shown_text(str(value or ""), unmasked=False),  # the numbers and names in it
}


def shown_text(text: str, *, unmasked: bool) -> str:
    """Free text about a person (a note) as shown: in full (the caller logs the view) or masked."""
    return (text or "") if unmasked else mask_text(text)


def person_fields(values: dict[str, object], *, unmasked: bool) -> dict[str, str]:
    """A person's personal fields as shown: in full (caller logs the view) or masked."""
    shown: dict[str, str] = {}
    for field, value in values.items():
        if unmasked or field not in PERSON_MASKERS:
            shown[field] = "" if value is None else str(value)
        else:
            shown[field] = PERSON_MASKERS[field](value)
    return shown
