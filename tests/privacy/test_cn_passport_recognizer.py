import pytest

E = "CN_PASSPORT"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("护照E12345678", ["E12345678"]),
        ("护照号EA1234567。", ["EA1234567"]),
        ("G12345678", ["G12345678"]),
        ("公务护照SE1234567", ["SE1234567"]),
    ],
)
def test_finds_valid(found, text, expected):
    assert found(text, E) == expected


@pytest.mark.parametrize("text", ["e12345678", "E1234567", "EI1234567", "ABE12345678", "E123456789"])
def test_ignores_invalid(found, text):
    assert found(text, E) == []
