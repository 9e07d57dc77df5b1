import pytest

E = "PERSON"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("客户张伟来电投诉", ["张伟"]),
        ("联系人：李娜，电话", ["李娜"]),
        ("王小明先生表示不满意", ["王小明"]),
        ("请转告陈先生", ["陈"]),
        ("收件人刘德华", ["刘德华"]),
        ("欧阳娜娜已到店", ["欧阳娜娜"]),
    ],
)
def test_finds_valid(found, text, expected):
    assert found(text, E) == expected


@pytest.mark.parametrize("text", ["周末很高兴", "金额已退回", "订单已发货，请查收", "上海市徐汇区漕溪北路88号"])
def test_ignores_invalid(found, text):
    assert found(text, E) == []
