"""governance.privacy: the maskers every screen, API, Open311 answer and export use."""

import pytest

from governance.privacy import (
    MIN_HIDDEN_DIGITS,
    generalise_address,
    mask_id_number,
    mask_name,
    mask_phone,
    mask_text,
    reveals_personal_data,
)


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("13912342468", "139******68"),
        ("+8613912342468", "139******68"),
        ("008613912342468", "139******68"),
        ("139 1234 2468", "139******68"),
        ("053288886666", "053*******66"),
        ("0532-88886666", "053*******66"),
        ("88886666", "******66"),
        ("8888666", "******6"),
        ("12345", "*****"),
        ("", ""),
    ],
)
def test_mask_phone_hides_at_least_six_digits(phone, masked):
    assert mask_phone(phone) == masked
    assert masked.count("*") >= min(MIN_HIDDEN_DIGITS, len(masked))


@pytest.mark.parametrize(("name", "masked"), [("王小明", "王**"), ("欧阳娜娜", "欧***"), ("张", "张*"), ("", "")])
def test_mask_name_keeps_only_the_first_character(name, masked):
    assert mask_name(name) == masked


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("370202199001011234", "370*************34"),
        ("37020219900101123X", "370*************3X"),
        ("370202 19900101 1234", "370*************34"),
        ("370202900101123", "370**********23"),
        ("", ""),
    ],
)
def test_mask_id_number(number, masked):
    assert mask_id_number(number) == masked


MASKED = [
    # Mobiles in every format residents type.
    ("请联系我13912342468谢谢", "请联系我139******68谢谢"),
    ("电话 139 1234 2468", "电话 139******68"),
    ("电话139-1234-2468。", "电话139******68。"),
    ("电话+8613912342468", "电话+86139******68"),
    ("电话 +86 139 1234 2468", "电话 +86 139******68"),
    ("电话008613912342468", "电话0086139******68"),
    ("手机：１３９１２３４２４６８", "手机：139******68"),
    ("手机：１３９－１２３４－２４６８", "手机：139******68"),
    ("call 13912342468 or 13812345678", "call 139******68 or 138******78"),
    # Landlines with an area code.
    ("座机0532-88886666", "座机053*******66"),
    ("(0532)88886666", "053*******66"),
    ("（0532）8888 6666", "053*******66"),
    ("010-12345678转", "010-12345678转"),  # local numbers never start with 0 or 1
    ("010-62345678转", "010******78转"),
    ("电话 0532 8888666", "电话 053******66"),
    # Local numbers where a word says they are a phone.
    ("电话88886666", "电话******66"),
    ("座机：8888-6666", "座机：******66"),
    ("拨打是 2345678 找物业", "拨打是 ******8 找物业"),
    # ID numbers, spaced or not, 18 or 15 digits.
    ("身份证370202199001011234", "身份证370*************34"),
    ("身份证号 37020219900101123x。", "身份证号 370*************3x。"),
    ("身份证 370202 19900101 1234", "身份证 370*************34"),
    ("证件号3702-0219-9001-0112-34", "证件号370*************34"),
    ("老身份证370202900101123", "老身份证370**********23"),
    ("身份证：３７０２０２１９９００１０１１２３４", "身份证：370*************34"),
    # Names after a word that introduces one.
    ("我是王小明，住3号楼", "我是王**，住3号楼"),
    ("我叫李雷住在幸福路", "我叫李*住在幸福路"),
    ("联系人：张三 13912342468", "联系人：张* 139******68"),
    ("姓名：欧阳娜娜", "姓名：欧阳**"),
    ("本人是赵四，电话88886666", "本人是赵*，电话******66"),
    ("两个号码13912342468 13812345678", "两个号码139******68 138******78"),
]


@pytest.mark.parametrize(("text", "masked"), MASKED)
def test_mask_text_hides_personal_data_in_free_text(text, masked):
    assert mask_text(text) == masked


UNCHANGED = [
    "2024-05-12 08:30 发现垃圾",
    "2024年5月12日下午3点",
    "20240512",
    "罚款12000元，共计1,380.00元",
    "幸福路12号3号楼2单元502室",
    "3号楼2单元502",
    "追踪号260512123456",
    "快递单号SF1234567890123，中通73100012345678",
    "工单号12345202405120001",
    "请拨打12345热线",
    "400-800-1234 客服",
    "面积88.5平方米，高度13米",
    "订单13912342468001",
    "我是本小区业主",
    "我是房东，我是车主，我是周边商户",
    "我是王先生，联系王女士",
    "我姓王",
    "",
]


@pytest.mark.parametrize("text", UNCHANGED)
def test_mask_text_leaves_dates_amounts_house_and_tracking_numbers(text):
    assert mask_text(text) == text
    assert not reveals_personal_data(text)


def test_reveals_personal_data_is_what_the_access_log_keys_on():
    assert reveals_personal_data("电话13912342468")
    assert not reveals_personal_data("垃圾没人清运")


@pytest.mark.parametrize(
    ("address", "general"),
    [
        ("幸福路12号院门口", "幸福路"),
        ("青岛市市北区辽宁路128号3单元502", "辽宁路"),
        ("山东省青岛市市北区辽宁路街道辽宁路128号", "辽宁路"),
        ("市北区延安三路与威海路交叉口", "延安三路"),
        ("幸福小区3号楼2单元502", "幸福小区"),
        ("台东步行街12号", "台东步行街"),
        ("幸福路超市门口", "幸福路"),
        ("3号楼2单元502", ""),
        ("", ""),
    ],
)
def test_generalise_address_keeps_the_road_or_the_estate(address, general):
    assert generalise_address(address) == general


def test_generalise_address_falls_back_to_what_it_is_given():
    assert generalise_address("3号楼2单元502", fallback="第1街道1社区") == "第1街道1社区"
