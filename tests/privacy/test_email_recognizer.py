import pytest

E = "EMAIL_ADDRESS"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("邮箱a@b.com请回复", ["a@b.com"]),
        ("Email: Zhang.Wei+crm@mail.example.com.cn。", ["Zhang.Wei+crm@mail.example.com.cn"]),
        ("全角ｚｗ＠ｑｑ．ｃｏｍ谢谢", ["ｚｗ＠ｑｑ．ｃｏｍ"]),
    ],
)
def test_finds_valid(found, text, expected):
    assert found(text, E) == expected


@pytest.mark.parametrize("text", ["a@b", "@b.com", "用户名zhangwei", "a@b.c"])
def test_ignores_invalid(found, text):
    assert found(text, E) == []
