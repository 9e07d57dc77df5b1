import pytest

E = "LOCATION"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("地址上海市徐汇区漕溪北路88号3栋201室，谢谢", ["上海市徐汇区漕溪北路88号3栋201室"]),
        ("收货地址：广东省深圳市南山区科苑路15号", ["广东省深圳市南山区科苑路15号"]),
        ("寄到北京市朝阳区", ["北京市朝阳区"]),
        ("我家在漕溪北路88号", ["漕溪北路88号"]),
        ("阳光花园5栋2单元301室", ["阳光花园5栋2单元301室"]),
        ("我住沈阳市和平区和平路62号幸福里30栋2单元1604室", ["沈阳市和平区和平路62号幸福里30栋2单元1604室"]),
        ("改为宁波市鄞州区南京路986号东方名苑23栋5单元2201室，", ["宁波市鄞州区南京路986号东方名苑23栋5单元2201室"]),
    ],
)
def test_finds_valid(found, text, expected):
    assert found(text, E) == expected


@pytest.mark.parametrize("text", ["我在上海出差", "订单20231105已发货", "金额88元", "一路顺风"])
def test_ignores_invalid(found, text):
    assert found(text, E) == []
