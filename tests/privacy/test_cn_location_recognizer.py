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


def test_chains_of_a_column_are_those_found_one_hit_at_a_time():
    """admin_run_arrays (a column's texts joined) takes the names that overlap no other at once and goes one by one
    only through those that do: the same chains as admin_runs, on random overlapping hits and the fixture."""
    import random

    import numpy as np

    from benchmarks.pii_fixture import labelled_notes
    from flows.privacy.analyzer import SEPARATOR, recognizer_for
    from flows.privacy.normalize import halfwidth
    from flows.privacy.recognizers.cn.cn_location_recognizer import (
        address_windows,
        admin_run_arrays,
        admin_runs,
        gazetteer_hits,
    )

    rng = random.Random(11)
    text = "".join(rng.choice("省市区县路街中东和平1号 ") for _ in range(3000))
    for count in (0, 1, 2, 5, 50, 400):
        starts = np.array(sorted(rng.randrange(0, 2990) for _ in range(count)), dtype=np.int64)
        hits = np.column_stack((starts, starts + np.array([rng.randint(1, 6) for _ in range(count)], dtype=np.int64)))
        hits = hits.reshape(-1, 2)
        assert admin_run_arrays(text, hits).tolist() == [list(run) for run in admin_runs(text, hits)]
    joined = halfwidth(SEPARATOR.join(item.text for item in labelled_notes(2000)))
    hits = gazetteer_hits(joined, address_windows(joined))
    runs = admin_run_arrays(joined, hits)
    assert len(runs) > 500 and runs.tolist() == [list(run) for run in admin_runs(joined, hits)]
    location = recognizer_for("LOCATION")
    arrays = location.more_span_arrays(joined)
    spans = zip(arrays.start.tolist(), arrays.end.tolist(), arrays.score.tolist(), strict=True)
    assert list(spans) == location.more_spans(joined)
