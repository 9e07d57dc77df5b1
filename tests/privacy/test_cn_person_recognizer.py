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
        ("服务很好。——李甜宣", ["李甜宣"]),
        ("由家属吕果智代为办理", ["吕果智"]),
        ("来电人自称张媚雯，要求退款", ["张媚雯"]),
        ("谢谢王先生", ["王"]),
    ],
)
def test_finds_valid(found, text, expected):
    assert found(text, E) == expected


@pytest.mark.parametrize(
    "text",
    ["周末很高兴", "金额已退回", "订单已发货，请查收", "上海市徐汇区漕溪北路88号", "顾客到店，咨询会员权益", "我和张"],
)
def test_ignores_invalid(found, text):
    assert found(text, E) == []
