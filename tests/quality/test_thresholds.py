from __future__ import annotations

import pytest
import yaml

from expectations import DEFAULT_THRESHOLDS, ThresholdsError, load_thresholds


def _write(tmp_path, change):
    data = yaml.safe_load(DEFAULT_THRESHOLDS.read_text(encoding="utf-8"))
    change(data)
    path = tmp_path / "thresholds.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_shipped_thresholds_load():
    t = load_thresholds()
    assert t.status_bands.pass_ >= t.status_bands.warn


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["status_bands"].update({"warn": 99, "pass": 90}), "status_bands.warn"),
        (lambda d: d["null_share"]["customer"].update({"mobil": 0.3}), "unknown field 'mobil'"),
        (lambda d: d["null_share"]["customer"].update({"mobile": 3}), "null_share.customer.mobile"),
        (lambda d: d["volume"].update({"band_width": -1}), "volume.band_width"),
        (lambda d: d.pop("timeliness_max_age_days"), "timeliness_max_age_days"),
        (lambda d: d.update({"surprise": 1}), "surprise"),
        (lambda d: d["channel_spellings"].update({"飞书": "feishu"}), "feishu"),
    ],
)
def test_bad_thresholds_name_the_key(tmp_path, change, message):
    path = _write(tmp_path, change)
    with pytest.raises(ThresholdsError) as err:
        load_thresholds(path)
    assert message in str(err.value) and str(path) in str(err.value)


def test_not_yaml(tmp_path):
    path = tmp_path / "t.yml"
    path.write_text("status_bands: [", encoding="utf-8")
    with pytest.raises(ThresholdsError, match="cannot read"):
        load_thresholds(path)
