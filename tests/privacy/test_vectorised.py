"""The vectorised paths give exactly what the one-value-at-a-time definitions give."""

import hashlib
import hmac
import random
import re

import numpy as np
import pandas as pd
from pypinyin import lazy_pinyin

from benchmarks.pii_fixture import labelled_notes
from flows.privacy.analyzer import _best_of_overlaps, load_recognizers
from flows.privacy.bloom import BloomEncoder, bigrams, pinyin_texts, to_bits
from flows.privacy.keyed_hash import hmac_digests, hmac_hex
from flows.privacy.normalize import LONG_TEXT, WIDTH_TABLE, halfwidth, halfwidth_many, normalize_for, normalize_many
from flows.privacy.operators import Column, hmac_token, hmac_tokens
from flows.privacy.recognizers.cn.cn_bank_card_recognizer import CnBankCardRecognizer
from flows.privacy.recognizers.cn.cn_id_card_recognizer import CnIdCardRecognizer, id_check_char
from flows.privacy.recognizers.cn.cn_mobile_recognizer import CnMobileRecognizer
from flows.privacy.recognizers.cn.cn_uscc_recognizer import CnUsccRecognizer, org_code_check_char, uscc_check_char
from flows.privacy.recognizers.generic.ip_recognizer import IpRecognizer


def test_id_checksum_many_equals_one_by_one():
    rng = random.Random(3)
    values = []
    for _ in range(3000):
        body = f"{rng.choice(['11', '31', '99'])}0105{rng.randint(1, 9999):04d}{rng.randint(0, 13):02d}"
        body += f"{rng.randint(0, 32):02d}{rng.randint(0, 999):03d}"
        values.append(body + (id_check_char(body) if rng.random() < 0.5 else rng.choice("0123456789Xx")))
    values += ["11010520000229002X", "11010519000229002X", "110105 19491231 002x", "١١٠١٠٥١٩٤٩١٢٣١٠٠٢X", "1101051949"]
    rec = CnIdCardRecognizer()
    assert rec.validate_many(values) == [rec.validate_result(v) for v in values]
    assert 0 < sum(rec.validate_many(values)) < len(values)


def test_ip_validate_many_equals_the_standard_librarys_parser():
    rng = random.Random(5)
    octets = ["0", "00", "01", "7", "10", "99", "100", "199", "255", "256", "300", "999", "0255", "", "１２", "٣"]
    values = [".".join(rng.choice(octets) for _ in range(rng.choice([3, 4, 4, 4, 5]))) for _ in range(5000)]
    values += ["fe80::1", "::", "1::2:3", "12:30:45", "gggg::1", "1.2.3.4", "255.255.255.255", "0.0.0.0"]
    rec = IpRecognizer()
    assert rec.validate_many(values) == [rec.validate_result(v) for v in values]
    assert 100 < sum(rec.validate_many(values)) < len(values) - 100


def test_valid_many_equals_is_valid():
    values = ["13800138000", "+86 138-0013-8000", "１３８００１３８０００", "12345", "138001380001", " 13900139000 "]
    values.append("")
    rec = CnMobileRecognizer()
    assert rec.valid_many(values) == [rec.is_valid(v) for v in values] == [True, True, True, False, False, True, False]


def test_bloom_and_hmac_batches_equal_single_values():
    enc = BloomEncoder(b"k" * 32, "name")
    names = ["张伟", "王小明", "欧阳娜娜", "张伟"]
    many = enc.encode_many([bigrams(n) for n in names])
    for name, code in zip(names, many, strict=True):
        expected = bytearray(b"0" * enc.bits)
        for gram in bigrams(name):
            for pos in enc.positions(gram):
                expected[pos] = ord("1")
        assert to_bits(code) == expected.decode("ascii")
        assert code == f"{int(expected.decode('ascii'), 2):0{enc.bits // 4}x}"  # hex, position 0 the high bit
    assert hmac_tokens(b"k" * 32, ["13800138000", None]) == [hmac_token(b"k" * 32, "13800138000"), None]


def test_bloom_of_texts_equals_bloom_of_their_bigram_lists():
    enc = BloomEncoder(b"k" * 32, "address", bits=1000, hashes=15)
    texts = ["上海市徐汇区漕溪北路12号", "", "张伟", "x", "张伟", "欧阳娜娜", "a\x00b", "𠀀𠀁"]
    assert enc.encode_texts(texts) == enc.encode_many([bigrams(t) for t in texts])
    assert enc.encode_texts([]) == [] and enc.encode_texts([""]) == ["0" * 250]


def test_pinyin_of_many_names_is_the_pinyin_of_each_character():
    names = ["张伟", "吕布", "欧阳娜娜", "zhang", "", "李2"]
    assert pinyin_texts(names) == ["".join("".join(lazy_pinyin(ch)) for ch in n) for n in names]


def test_hmac_batches_equal_hmac_new_for_every_key_length():
    for key in (b"", b"k", b"k" * 64, b"k" * 65, b"k" * 200):
        messages = [b"", b"13800138000", "张伟".encode(), b"x" * 500]
        assert hmac_digests(key, messages) == [hmac.new(key, m, hashlib.sha256).digest() for m in messages]
        assert hmac_hex(key, ["a", None], 32) == [hmac.new(key, b"a", hashlib.sha256).hexdigest()[:32], None]


def test_halfwidth_of_a_long_text_maps_each_character_like_the_table():
    text = "客户１３８－００１３－８０００，邮箱ＡＢＣ＠ｑｑ．ｃｏｍ\u3000😀\u2014x" * 40
    assert len(text) >= LONG_TEXT
    assert halfwidth(text) == "".join(WIDTH_TABLE.get(ord(ch), ch) for ch in text)
    assert halfwidth_many([text, "", "１"]) == [halfwidth(text), "", "1"]
    assert halfwidth_many(["a\0１", "２"]) == ["a\x001", "2"]


def test_halfwidth_points_are_the_code_points_of_halfwidth():
    from flows.privacy.normalize import code_points, halfwidth_points

    wide = "客户１３８－００１３－８０００，邮箱ＡＢＣ＠ｑｑ．ｃｏｍ\u3000\u2014x"
    for text in ["", "１", "abc", wide, wide * 40, (wide + "😀") * 40, "\ud800\udc00１" * 300, "plain ascii" * 300]:
        narrow, points = halfwidth_points(text)
        assert narrow == halfwidth(text)
        assert points.tolist() == [ord(ch) for ch in narrow] == code_points(narrow).tolist()


def test_normalising_many_values_equals_normalising_each():
    values = [
        "+86 138-0013-8000",
        "0086 13800138000",
        "8613800138000",
        "86 21 1234 5678",
        "0086-10-12345678",
        " Zhang.Wei@Example.COM ",
        "110105 19491231 002x",
        "6222-0212-3456-7890",
        "",
        "a b",
        "张 伟",
    ]
    for entity in ("CN_MOBILE", "CN_LANDLINE", "EMAIL_ADDRESS", "CN_ID_CARD", "CN_BANK_CARD", "CN_PASSPORT", None):
        narrow = [halfwidth(v) for v in values]
        assert normalize_many(entity, narrow) == [normalize_for(entity, v) for v in values], entity
        assert normalize_many(entity, [*narrow, "1\n2"]) == [normalize_for(entity, v) for v in [*values, "1\n2"]]


def test_a_column_keeps_each_distinct_non_blank_value_once():
    series = pd.Series(["a", None, " ", "b", "a", float("nan"), "", 7, "b "], index=range(10, 19))
    column = Column.of(series)
    assert column.values == ["a", "b", "b "]
    assert column.map(str.upper).tolist() == ["A", None, None, "B", "A", None, None, None, "B "]
    assert list(column.map(str.upper).index) == list(range(10, 19))


def test_bank_card_and_credit_code_checks_many_equal_one_by_one():
    rng = random.Random(5)
    cards = CnBankCardRecognizer()
    numbers = ["6222 0212 3456 7890 128", "4111-1111-1111-1111", "440306199003071232", "٦٢٢٢٠٢١٢٣٤٥٦٧٨٩٠١٢٨", "123"]
    numbers += ["".join(rng.choice("0123456789") for _ in range(rng.choice((16, 18, 19)))) for _ in range(3000)]
    assert cards.validate_many(numbers) == [cards.validate_result(n) for n in numbers]
    assert 100 < sum(bool(v) for v in cards.validate_many(numbers)) < len(numbers)
    codes = CnUsccRecognizer()
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    values = ["91350100M000100Y43", "91350100m000100y43", "91350100M000100Y44", "443624358266038875", "9135"]
    for _ in range(3000):
        org8 = "".join(rng.choice(alphabet) for _ in range(8))
        body = f"{rng.choice(['91', '11', '99', 'Y1'])}{rng.choice(['31', '44', '00'])}{rng.randint(0, 9999):04d}{org8}"
        body += org_code_check_char(org8) if rng.random() < 0.7 else rng.choice(alphabet)
        values.append(body + (uscc_check_char(body) if rng.random() < 0.7 else rng.choice(alphabet)))
    assert codes.validate_many(values) == [codes.validate_result(v) for v in values]
    assert 100 < sum(bool(v) for v in codes.validate_many(values)) < len(values)
    # all of 18 ASCII characters: the one-matrix path, with letters outside the alphabet and lower case too
    ascii18 = [v for v in values if len(v) == 18] + ["91350100M000100IOZ", "9135 100M000100Y43", "n1350100m000100y43"]
    ascii18 += [v[:5] + rng.choice("ioszvISZV-@a") + v[6:] for v in ascii18[:300]]
    assert codes.validate_many(ascii18) == [codes.validate_result(v) for v in ascii18]
    assert 100 < sum(bool(v) for v in codes.validate_many(ascii18)) < len(ascii18)


def test_first_character_guards_change_no_match():
    text = "\n\n".join(
        [it.text for it in labelled_notes(1500)]
        + ["+86 (21) 1234-5678 (021)12345678-123 0086-10-12345678 86 138 0013 8000 (+86)13800138000", "a::1 fe80::1:2"]
    )
    guarded = [p for rec in load_recognizers() for p in rec.patterns if p.regex.startswith("(?=")]
    assert {p.name for p in guarded} >= {"cn_mobile", "cn_landline", "cn_passport", "ipv4", "ipv6"}
    for pattern in guarded:
        guard = re.match(r"\(\?=(\[[^\]]*\]|\\d)\)", pattern.regex)
        assert guard, pattern.name
        plain = re.compile(pattern.regex[guard.end() :], re.DOTALL | re.MULTILINE)
        fast = re.compile(pattern.regex, re.DOTALL | re.MULTILINE)
        assert [m.span("pii") for m in fast.finditer(text)] == [m.span("pii") for m in plain.finditer(text)]


def test_overlaps_resolved_in_rounds_keep_what_one_by_one_keeps():
    """_best_of_overlaps keeps, per cluster, the best span and drops what overlaps it, round after round: the
    same spans as taking them one by one (higher score, then longer, then registry order, then first)."""
    rng = random.Random(11)
    for _ in range(300):
        n = rng.randint(0, 40)
        start = np.array([rng.randint(0, 60) for _ in range(n)], dtype=np.int64)
        end = start + np.array([rng.randint(1, 12) for _ in range(n)], dtype=np.int64)
        score = np.array([rng.choice([0.5, 0.7, 1.0]) for _ in range(n)])
        rank = np.array([rng.randint(0, 9) for _ in range(n)], dtype=np.int64)
        order = sorted(range(n), key=lambda i: (-score[i], start[i] - end[i], rank[i], start[i], i))
        kept: list[int] = []
        for i in order:
            if all(end[i] <= start[k] or start[i] >= end[k] for k in kept):
                kept.append(i)
        assert np.flatnonzero(_best_of_overlaps(start, end, score, rank)).tolist() == sorted(kept)


def test_candidates_read_from_code_points_get_the_verdicts_of_their_strings():
    """verdicts() of the recognizers that check many candidates with numpy (ID, USCC, bank card, person) equal the
    checks of the candidates as strings: on the spans their patterns find in the fixture, and on random spans of
    random text (ASCII and other digits, spaces, dashes, letters, CJK, astral characters)."""
    from flows.privacy.analyzer import SEPARATOR
    from flows.privacy.normalize import code_points, halfwidth
    from flows.privacy.recognizers.base import CnPatternRecognizer

    rng = random.Random(17)
    fixture = halfwidth(SEPARATOR.join(item.text for item in labelled_notes(1500)))
    pieces = list("0123456789") * 6 + list(" -xXaAZz") + ["٣", "１", "张", "伟", "路", "花园", "小区", "高兴", "😀"]
    values = ["110105194912310021", "11010519491231002x", "91350100M000100Y43", "91350100m000100y43"]
    values += ["6222021234567890128", "6222 0212 3456 7890 128", "4111-1111-1111-1111", "440306199003071232"]
    pieces += values
    noise = "".join(rng.choice(pieces) for _ in range(6000))
    checked = 0
    for rec in load_recognizers():
        if type(rec).verdicts is CnPatternRecognizer.verdicts:
            continue
        for text in (fixture, noise, noise.replace("😀", "")):
            points = code_points(text)
            found = np.concatenate([m(text) for m in rec.pattern_matchers])
            spans = [(a, a + rng.choice(WIDTHS)) for a in (rng.randrange(0, len(text) - 40) for _ in range(3000))]
            spans += [m.span() for value in values for m in re.finditer(re.escape(value), text)]  # whole values
            spans = np.array([(a, b) for a, b in spans if _checkable(rec, text[a:b])], dtype=np.int64)
            for start, end in ((found[:, 0], found[:, 1]), (spans[:, 0], spans[:, 1])):
                expected = CnPatternRecognizer.verdicts(rec, text, start, end)
                assert np.array_equal(rec.verdicts(text, start, end, points), expected), rec.ENTITY
                checked += int((expected > 0).sum())
    assert checked > 1000


WIDTHS = [1, 2, 3, 4, 16, 17, 18, 19, 20, 23, 32, 33]


def _checkable(rec, value: str) -> bool:
    """Whether the string check takes the value (a validator may raise on what its pattern never matches)."""
    try:
        rec._checks([value])
    except ValueError:
        return False
    return True
