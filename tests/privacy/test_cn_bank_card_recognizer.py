import pytest

E = "CN_BANK_CARD"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("卡号6222021234567890128", ["6222021234567890128"]),
        ("银行卡6222 0212 3456 7890 128请查", ["6222 0212 3456 7890 128"]),
        ("4111-1111-1111-1111", ["4111-1111-1111-1111"]),
        ("退款到6217001234567890122", ["6217001234567890122"]),
        ("全角６２２２０２１２３４５６７８９０１２８", ["６２２２０２１２３４５６７８９０１２８"]),
    ],
)
def test_finds_valid(found, text, expected):
    assert found(text, E) == expected


@pytest.mark.parametrize(
    "text",
    [
        "6222021234567890123",  # Luhn fails
        "订单2023110512345678",  # date-led order number
        "4111111111",  # too short
        "11010519491231002X",  # an ID card
        "440306199003071232",  # valid ID that is not a card even if Luhn passed
    ],
)
def test_ignores_invalid(found, text):
    assert found(text, E) == []
