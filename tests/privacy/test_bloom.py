import pytest

from flows.privacy.bloom import BloomEncoder, bigrams, dice, normalize_name, pinyin_bigrams


def enc(encoder: BloomEncoder, grams: list[str]) -> str:
    return encoder.encode(tuple(grams))


def test_traditional_and_simplified_agree_and_typos_stay_close():
    e = BloomEncoder(b"k" * 32, "name")
    same = dice(enc(e, bigrams(normalize_name("張偉"))), enc(e, bigrams(normalize_name("张伟"))))
    other = dice(enc(e, bigrams(normalize_name("张伟"))), enc(e, bigrams(normalize_name("李娜"))))
    assert same == 1.0 and other < 0.1


def test_pinyin_matches_homophones_and_key_matters():
    p = BloomEncoder(b"k" * 32, "pinyin")
    assert dice(enc(p, pinyin_bigrams("张伟")), enc(p, pinyin_bigrams("张玮"))) == 1.0
    q = BloomEncoder(b"q" * 32, "pinyin")
    assert enc(p, pinyin_bigrams("张伟")) != enc(q, pinyin_bigrams("张伟"))
    assert len(enc(p, pinyin_bigrams("张伟"))) == 250  # 1000 bits as hex


def test_bits_are_whole_bytes():
    with pytest.raises(ValueError, match="multiple of 8"):
        BloomEncoder(b"k" * 32, "name", bits=1001)
