"""The vectorised paths give exactly what the one-value-at-a-time definitions give."""

import hashlib
import hmac
import random

from pypinyin import lazy_pinyin

from flows.privacy.bloom import BloomEncoder, bigrams, pinyin_texts
from flows.privacy.keyed_hash import hmac_digests, hmac_hex
from flows.privacy.operators import hmac_token, hmac_tokens
from flows.privacy.recognizers.cn.cn_id_card_recognizer import CnIdCardRecognizer, id_check_char
from flows.privacy.recognizers.cn.cn_mobile_recognizer import CnMobileRecognizer


def test_id_checksum_many_equals_one_by_one():
    rng = random.Random(3)
    values = []
    for _ in range(3000):
        body = f"{rng.choice(['11', '31', '99'])}0105{rng.randint(1890, 2030)}{rng.randint(0, 13):02d}"
        body += f"{rng.randint(0, 32):02d}{rng.randint(0, 999):03d}"
        values.append(body + (id_check_char(body) if rng.random() < 0.5 else rng.choice("0123456789Xx")))
    rec = CnIdCardRecognizer()
    assert rec.validate_many(values) == [rec.validate_result(v) for v in values]
    assert 0 < sum(rec.validate_many(values)) < len(values)


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
        assert code == expected.decode("ascii")
    assert hmac_tokens(b"k" * 32, ["13800138000", None]) == [hmac_token(b"k" * 32, "13800138000"), None]


def test_bloom_of_texts_equals_bloom_of_their_bigram_lists():
    enc = BloomEncoder(b"k" * 32, "address", bits=1000, hashes=15)
    texts = ["上海市徐汇区漕溪北路12号", "", "张伟", "x", "张伟", "欧阳娜娜", "a\x00b", "𠀀𠀁"]
    assert enc.encode_texts(texts) == enc.encode_many([bigrams(t) for t in texts])
    assert enc.encode_texts([]) == [] and enc.encode_texts([""]) == ["0" * 1000]


def test_pinyin_of_many_names_is_the_pinyin_of_each_character():
    names = ["张伟", "吕布", "欧阳娜娜", "zhang", "", "李2"]
    assert pinyin_texts(names) == ["".join("".join(lazy_pinyin(ch)) for ch in n) for n in names]


def test_hmac_batches_equal_hmac_new_for_every_key_length():
    for key in (b"", b"k", b"k" * 64, b"k" * 65, b"k" * 200):
        messages = [b"", b"13800138000", "张伟".encode(), b"x" * 500]
        assert hmac_digests(key, messages) == [hmac.new(key, m, hashlib.sha256).digest() for m in messages]
        assert hmac_hex(key, ["a", None], 32) == [hmac.new(key, b"a", hashlib.sha256).hexdigest()[:32], None]
