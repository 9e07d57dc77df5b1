"""The vectorised paths give exactly what the one-value-at-a-time definitions give."""

import random

from flows.privacy.bloom import BloomEncoder, bigrams
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
