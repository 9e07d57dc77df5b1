import pytest

from flows.privacy.recognizers.cn.cn_id_card_recognizer import CnIdCardRecognizer

E = "CN_ID_CARD"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("身份证11010519491231002X", ["11010519491231002X"]),
        ("身份证号11010519491231002x请核对", ["11010519491231002x"]),
        ("440306199003071232", ["440306199003071232"]),
        ("证件320102 19851201 0026", ["320102 19851201 0026"]),
        ("全角３２０１０２１９８５１２０１００２６", ["３２０１０２１９８５１２０１００２６"]),
    ],
)
def test_finds_valid(found, text, expected):
    assert found(text, E) == expected


@pytest.mark.parametrize(
    "text",
    [
        "110105194912310021",  # wrong check digit
        "990105194912310028",  # no such province
        "110105194902300027",  # 30 February
        "1101051949123100211",  # 19 digits
        "订单号2023110519491231002",
    ],
)
def test_ignores_invalid(found, text):
    assert found(text, E) == []


def test_structured_validation_uses_same_rules():
    rec = CnIdCardRecognizer()
    assert rec.is_valid(" 11010519491231002x ")
    assert not rec.is_valid("11010519491231002X extra")
