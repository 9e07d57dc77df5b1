import pytest

E = "CN_LANDLINE"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("座机010-62345678", ["010-62345678"]),
        ("电话(021)64381234转", ["(021)64381234"]),
        ("0755 8888 1234", ["0755 8888 1234"]),
        ("办公电话０５７１－８８８８１２３４", ["０５７１－８８８８１２３４"]),
        ("+86 21 64381234", ["+86 21 64381234"]),
        ("分机010-62345678-123号", ["010-62345678-123"]),
    ],
)
def test_finds_valid(found, text, expected):
    assert found(text, E) == expected


@pytest.mark.parametrize("text", ["热线400-820-8820", "95588", "13800138000", "010-6234567890123", "订单20231105"])
def test_ignores_invalid(found, text):
    assert found(text, E) == []
