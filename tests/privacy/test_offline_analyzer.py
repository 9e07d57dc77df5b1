"""The analyzer builds with no model and only our recognizers; scanning a column equals Presidio per text."""

from flows.privacy.analyzer import scan_texts

TEXTS = [
    "客户张伟来电，手机+86 138-0013-8000，身份证11010519491231002x，地址上海市徐汇区漕溪北路88号",
    "邮箱a@b.com请回复，热线400-820-8820，订单2023110512345678",
    None,
    "卡号6222021234567890128，登录IP 10.0.0.1",
]


def test_registry_is_lean(analyzer):
    assert sorted(analyzer.get_supported_entities(language="zh")) == sorted(
        [
            "CN_ID_CARD",
            "CN_USCC",
            "CN_BANK_CARD",
            "CN_MOBILE",
            "CN_LANDLINE",
            "CN_PASSPORT",
            "EMAIL_ADDRESS",
            "IP_ADDRESS",
            "LOCATION",
            "PERSON",
        ]
    )


def test_scanner_matches_presidio(analyzer):
    fast = scan_texts(TEXTS)
    for text, hits in zip(TEXTS, fast, strict=True):
        if text is None:
            assert hits == []
            continue
        slow = analyzer.analyze(text=text, language="zh")
        assert {(r.entity_type, r.start, r.end) for r in slow} == {(h.entity, h.start, h.end) for h in hits}
