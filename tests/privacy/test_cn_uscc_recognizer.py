import pytest

E = "CN_USCC"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("统一社会信用代码91350100M000100Y43", ["91350100M000100Y43"]),
        ("税号91110000600037341L。", ["91110000600037341L"]),
    ],
)
def test_finds_valid(found, text, expected):
    assert found(text, E) == expected


# 443624358266038875 is a demo "system serial" that passes MOD 31 but names no authority/type pair; the last one has
# Arabic-Indic digits, which the pattern's \d matches (it stopped the stage with a ValueError).
@pytest.mark.parametrize(
    "text",
    [
        "91350100M000100Y44",
        "91350100M000100Y4",
        "9135010OM000100Y43",
        "流水号443624358266038875",
        "税号9131١٢٣٤M000100Y43",
    ],
)
def test_ignores_invalid(found, text):
    assert found(text, E) == []
