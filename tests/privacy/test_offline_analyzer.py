"""The analyzer builds with no model and only our recognizers; scanning a column equals Presidio per text."""

from collections import Counter

from flows.privacy.analyzer import redact_texts, scan_texts

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


def test_redacting_a_column_replaces_the_scanned_spans_of_each_text():
    texts = [*TEXTS, TEXTS[0], "", "无个人信息", "客户张伟来电\n\n手机13800138000"]
    redacted, found = redact_texts(texts)
    expected, counts = [], Counter()
    for text, hits in zip(texts, scan_texts(texts), strict=True):
        if text is None:
            expected.append(None)
            continue
        for hit in reversed(hits):
            text = f"{text[: hit.start]}<{hit.entity}>{text[hit.end :]}"
        expected.append(text)
        counts.update(hit.entity for hit in hits)
    assert redacted == expected and found == counts
    assert redacted[0] == "客户<PERSON>来电，手机<CN_MOBILE>，身份证<CN_ID_CARD>，地址<LOCATION>"
