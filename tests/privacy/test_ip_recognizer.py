import pytest

E = "IP_ADDRESS"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("登录IP192.168.1.10异常", ["192.168.1.10"]), ("来自10.0.0.1。", ["10.0.0.1"]), ("v6 fe80::1 登录", ["fe80::1"])],
)
def test_finds_valid(found, text, expected):
    assert found(text, E) == expected


@pytest.mark.parametrize("text", ["256.1.1.1", "1.2.3", "时间12:30:45", "版本1.2.3.4.5"])
def test_ignores_invalid(found, text):
    assert found(text, E) == []
