import pytest

E = "CN_MOBILE"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("手机13800138000", ["13800138000"]),
        ("电话：+86 138-0013-8000，谢谢", ["+86 138-0013-8000"]),
        ("0086 19912345678请回电", ["0086 19912345678"]),
        ("号码138 0013 8000", ["138 0013 8000"]),
        ("全角１３９００１３９０００号码", ["１３９００１３９０００"]),
        ("客户张伟17712345678投诉", ["17712345678"]),
        ("(+86)15012345678", ["(+86)15012345678"]),
    ],
)
def test_finds_valid(found, text, expected):
    assert found(text, E) == expected


@pytest.mark.parametrize(
    "text",
    [
        "订单号202311051380013800",  # inside a longer digit run
        "热线400-820-8820",
        "客服95588",
        "金额13800元",
        "12345678901",  # 12x is not a carrier segment
        "15412345678",  # 154 unallocated
        "运单SF13800138000123",
        "日期20231105",
    ],
)
def test_ignores_invalid(found, text):
    assert found(text, E) == []
