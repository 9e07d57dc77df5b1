"""The PCRE2 matcher (the _pcre2_spans C extension, patterns rewritten by pcre2_syntax) finds exactly what each
pattern's own engine (re, or the regex module) finds: every recognizer pattern and helper regex on the benchmark
fixture, the demo generator's notes, hostile and random strings; every class escape over all code points; the
finditer rules for empty matches; and the privacy stage writes the same bytes with and without it."""

from __future__ import annotations

import pickle
import random
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import regex

from benchmarks.bench_pii_accuracy import from_generator, generated, read_deliveries
from benchmarks.pii_fixture import labelled_notes
from flows.privacy.analyzer import SEPARATOR, load_recognizers, redact_texts, scan_texts
from flows.privacy.deidentify import Keys, deidentify, load_policy
from flows.privacy.normalize import halfwidth
from flows.privacy.policy import REPO_POLICY
from flows.privacy.recognizers import pattern_spans
from flows.privacy.recognizers.cn import cn_location_recognizer, cn_person_recognizer
from flows.privacy.recognizers.pattern_spans import PatternSpans, extension_loaded, spans_of

built = pytest.mark.skipif(not extension_loaded(), reason="the PCRE2 extension is not built here")

HELPERS = {
    "location _LEVEL": cn_location_recognizer._LEVEL,
    "location _UNIT": cn_location_recognizer._UNIT,
    "location _ROAD_AFTER": cn_location_recognizer._ROAD_AFTER,
    "location DETAIL": cn_location_recognizer.DETAIL,
    "person _TITLE": cn_person_recognizer._TITLE,
}
MATCHERS = {f"{rec.ENTITY} {p.name}": m for rec in load_recognizers() for p, m in rec._matchers} | HELPERS
ANCHORED = {"location _ROAD_AFTER", "location DETAIL"}  # used with match_ends

HOSTILE = [
    "",
    "\x00",
    "\n",
    "客户张伟来电，手机１３８００１３８０００，身份证１１０１０５１９４９１２３１００２Ｘ",  # full-width digits
    "手机١٣٨٠٠١٣٨٠٠٠，卡号٦٢٢٢٠٢١٢٣٤٥٦٧٨٩٠١٢٨",  # Arabic-Indic digits
    "手机१३८००१३८०००；身份证११०१०५१९४९१२३१००२x",  # Devanagari digits
    "📞13800138000😀张伟来电，邮箱a@b.com😀",  # emoji: astral characters
    "𠀀𠀁客户𠮷野家来电，上海市徐汇区𠀀路12号",  # CJK Extension B
    "\U00031350\U00031351路12号，客户\U00031350伟来电",  # CJK Extension H (Unicode 15: letters to regex, not to re)
    "张\u0301伟来电，和\u0301平路3号",  # a combining mark (a word character to regex, not to re)
    "门牌²³号，编号¹²³⁴⁵⁶⁷⁸⁹⁰，½",  # superscript digits and fractions (word characters to re, not to regex)
    "联系人\x1c张伟\x1d来电\u180e手机13800138000\x1f",  # \\s: re counts \\x1c-\\x1f, PCRE2 \\u180e
    "姓名：李娜\n\n客户王芳来电\r\n已处理\u2028收件人陈静\u2029",
    "\ud800张伟来电\udfff\ud800\udc00 13800138000",  # lone surrogates (a Python str may hold them)
    "a" * 3000 + "13800138000" + "\n" * 2000 + "上海市徐汇区漕溪北路88号" * 200,
]


def python_spans(matcher: PatternSpans, text: str) -> np.ndarray:
    return np.array(matcher.python(text), dtype=np.int64).reshape(-1, 2)


def assert_same(matcher: PatternSpans, text: str, label: str) -> int:
    """PCRE2's spans equal the engine's (and, for a helper used anchored, its match ends at every position)."""
    expected = python_spans(matcher, text)
    assert np.array_equal(matcher.pcre2(text), expected), label
    if label in ANCHORED:
        every = np.arange(0, len(text) + 1, 1 if len(text) < 5000 else 7)
        assert np.array_equal(matcher.pcre2_match_ends(text, every), matcher.python_match_ends(text, every)), label
    return len(expected)


def joined(texts: list[str]) -> str:
    return halfwidth(SEPARATOR.join(dict.fromkeys(texts)))


def random_texts(seed: int, count: int) -> list[str]:
    """Strings from the characters the patterns care about, in every script and width."""
    rng = random.Random(seed)
    pieces = (
        list("0123456789０１２３４５６７８９١٣٨٢")
        + list(" -+()（）:：，,。.;；!！?？\n@_")
        + list("EGDSPXxabcdefABCDEF")
        + list("张王李欧阳司马伟芳娜来电客户联系人先生女士路街号楼室单元弄栋省市区县和平中山")
        + ["😀", "𠀀", "\U00031350", "\u0301", "²", "\x1c", "\u180e", "\x00", "\ud800"]
        + ["13800138000", "110105194912310021", "6222021234567890128", "91310000MA1FL0AB3X", "10.0.0.1"]
        + ["a.b@c.com", "E12345678", "010-62345678", "(0755)8765 4321", "::1"]
        + ["上海市徐汇区", "漕溪北路88号", "3号楼2单元501室", "，张伟来电", "张伟投诉", "王小明先生", "联系人：李娜，"]
        + ["表示", "咨询", "已", "欧阳娜娜女士"]
    )
    return ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 40))) for _ in range(count)]


@pytest.fixture(scope="module")
def demo_notes(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    return [item.text for item in from_generator(generated(300, 42, tmp_path_factory.mktemp("demo")))]


def test_the_extension_is_built_where_make_test_installed_its_headers():
    """`make test` installs libpcre2-dev (scripts/system_deps.sh) before it builds the package, so there the C
    matcher must exist: this fails on CI if the build silently left it out."""
    if not Path("/usr/include/pcre2.h").exists():
        pytest.skip("libpcre2-dev is not installed (make test installs it): the recognizers use Python's re")
    assert extension_loaded(), "PCRE2's headers are installed but the extension is not built: rm .venv/.installed; make"


@built
def test_every_pattern_is_translated():
    assert [label for label, matcher in MATCHERS.items() if matcher.fast is None] == []


@built
def test_patterns_share_one_pass_with_the_same_spans():
    text = joined([item.text for item in labelled_notes(3000)])
    matchers = [m for rec in load_recognizers() for m in rec.pattern_matchers]
    assert sum(m.tried_where_they_start(text) for m in matchers) > 5
    together, alone = spans_of(text, matchers), [python_spans(m, text) for m in matchers]
    assert all(np.array_equal(a, b) for a, b in zip(together, alone, strict=True))


@built
def test_same_spans_on_the_benchmark_fixture_and_the_demo_notes(demo_notes):
    fixture = joined([item.text for item in labelled_notes(3000)])
    demo = joined(demo_notes)
    found = {label: assert_same(m, fixture, label) + assert_same(m, demo, label) for label, m in MATCHERS.items()}
    assert all(found[f"{e} {p}"] for e, p in [("CN_MOBILE", "cn_mobile"), ("PERSON", "cn_name_after_role")])


@built
@pytest.mark.parametrize("index", range(len(HOSTILE)))
def test_same_spans_on_hostile_strings(index):
    text = HOSTILE[index]
    for wrapped in (text, f"客户{text}来电", text * 3, SEPARATOR.join([text, "手机13800138000", text])):
        for label, matcher in MATCHERS.items():
            assert_same(matcher, wrapped, label)


@built
def test_same_spans_on_random_strings():
    texts = random_texts(7, 1500)
    found = 0
    for label, matcher in MATCHERS.items():
        for text in texts[:300]:
            assert_same(matcher, text, label)
        found += assert_same(matcher, SEPARATOR.join(texts), label)
        found += assert_same(matcher, "".join(texts), label)
    assert found > 1000
    text = "".join(texts)
    together = spans_of(text, list(MATCHERS.values()))
    assert all(np.array_equal(a, python_spans(m, text)) for a, m in zip(together, MATCHERS.values(), strict=True))


CLASSES = [r"\d", r"\D", r"\w", r"\W", r"\s", r"\S", r"[^\W\d_]", r"[^\W\d_路街号]", r"[\d\s]", r"[^\s\d]"]


@built
@pytest.mark.parametrize("engine", [re, regex])
@pytest.mark.parametrize("pattern", CLASSES)
def test_classes_hold_the_engines_code_points(engine, pattern):
    """Every code point, in a UCS-4 str (PCRE2's 32-bit library), a BMP one (16-bit) and a Latin-1 one (widened);
    runs of at most 64 matched at a time (a longer run of a corrected class may exhaust PCRE2's JIT stack: see
    test_a_text_pcre2_cannot_finish_goes_through_python)."""
    every = np.arange(0x110000, dtype="<u4").tobytes().decode("utf-32-le", "surrogatepass")
    matcher = PatternSpans(engine.compile(pattern + "{1,64}"))
    assert matcher.fast is not None
    for text in (every, every[:0x10000], every[:0x100]):
        assert np.array_equal(matcher.pcre2(text), python_spans(matcher, text)), (len(text), pattern)


@built
def test_a_text_pcre2_cannot_finish_goes_through_python(caplog):
    """\\S as re means it is PCRE2's \\S without \\x1c-\\x1f, plus \\u180e: a repeated group whose run over a
    million code points needs more JIT stack than PCRE2 may use; that text is matched with re instead."""
    every = np.arange(0x110000, dtype="<u4").tobytes().decode("utf-32-le", "surrogatepass")
    matcher = PatternSpans(re.compile(r"\S+"))
    with pytest.raises(RuntimeError, match="JIT stack"):
        matcher.pcre2(every)
    with caplog.at_level("INFO", logger="flows.privacy.recognizers.pattern_spans"):
        assert np.array_equal(matcher(every), python_spans(matcher, every))
    assert "matched with Python" in caplog.text


FINDITER_CASES = [
    (r"(?=a)|a", 0),
    (r"x*", 0),
    (r"a|", 0),
    (r"\b", 0),
    (r"\B", 0),
    (r"^", 0),
    (r"^", re.MULTILINE),
    (r"$", 0),
    (r"$", re.MULTILINE),
    (r"^$", re.MULTILINE),
    (r"\Aa|\Z|a\Z", 0),
    (r".", 0),
    (r".", re.DOTALL),
    (r"(?s:.)(?m:$)", 0),
    (r"a*?", 0),
    (r"(?<=a)b*", 0),
    (r"(a)|b", 0),
    (r"[^\n]+$", re.MULTILINE),
    (r"(?:ab|a)(?:bc|c)?", 0),
    (r"\w+?(?=\W)|\s", 0),
    (r"[\x00-\x1f]+|\U0001F600+", 0),
    # tried only where they can start (a PatternSet): empty matches there, look-behinds on the character before
    (r"(?=[中文])", 0),
    (r"(?=中)(?:中文)*?", 0),
    (r"(?<![a-z])(?=[中\d])\w*", 0),
    (r"(?<!\n)\d+|(?<![a])文", 0),
    (r"(?<![a])[中文]\d?", 0),  # one character can be a match: no second-character rule
    (r"(?<!x)中(?:\d|文{2,})", 0),  # two at least: not at the last character
    # not where the run of characters a match consumes is too short or lacks one every match needs
    (r"(?<![0-9])\d{3,}", 0),
    (r"(?<![a-z])[a-z\d]+(?:@|中文)[a-z]+", 0),
    (r"(?<![.])(?:\d{1,3}\.){2}\d", 0),
    (r"(?<!x)(?:a|\d+)(?:b|1)\d{66,}", 0),  # a run still going after 64 characters is tried
    (r"(?<!x)a(?=\d)|a\d{2}", 0),  # what a look-ahead looks at is not consumed
]
FINDITER_TEXTS = ["", "a", "aaa", "a\nb\n", "\n\n", "xaxbx", "ab abc  abbc\n", "中文\n文", "a\x00😀😀b", "\na\n"]
FINDITER_TEXTS += ["中中文a中1\n23", "a12文中文文", "中文文x中", "中"]
FINDITER_TEXTS += ["1 12 123 1234", "a1@b ab@ 1@ @a a中文b a中b", "1.2.3 1.2. 12.3.4.5", "xa1 a a12 a😀12"]
FINDITER_TEXTS += ["a" + "1" * 70, "1" * 68, "a1" + "1" * 66, "1" * 63 + "b", "b" + "1" * 61, "😀" * 3 + "1.2.3😀"]


@built
@pytest.mark.parametrize(("pattern", "flags"), FINDITER_CASES)
def test_finditer_rules_for_empty_matches_anchors_and_groups(pattern, flags):
    compiled = re.compile(pattern, flags)
    matcher = PatternSpans(compiled, 1 if compiled.groups else 0)
    assert matcher.fast is not None
    for text in FINDITER_TEXTS:
        assert np.array_equal(matcher.pcre2(text), python_spans(matcher, text)), (pattern, text)
        every = np.arange(-2, len(text) + 3)
        assert np.array_equal(matcher.pcre2_match_ends(text, every), matcher.python_match_ends(text, every)), pattern


@built
@pytest.mark.parametrize("pattern", [r"(?r)\d+", r"(?r)[a-z]+\d", r"(?r)(?:ab|a)c?", r"(?r)(x)?\d{2,3}?y"])
def test_right_to_left_patterns_are_mirrored(pattern):
    compiled = regex.compile(pattern)
    matcher = PatternSpans(compiled, 1 if compiled.groups else 0)
    assert matcher.fast is not None and matcher.fast.reverse
    rng = random.Random(3)
    for _ in range(300):
        text = "".join(rng.choice("abcxy0123 ") for _ in range(rng.randint(0, 30)))
        assert np.array_equal(matcher.pcre2(text), python_spans(matcher, text)), (pattern, text)


@pytest.mark.parametrize(
    ("engine", "pattern", "flags"),
    [
        (regex, r"(?r)a*", 0),
        (re, r"(a)\1", 0),
        (re, r"abc", re.IGNORECASE),
        (re, r"\w", re.ASCII),
        (regex, r"\p{Han}", 0),
    ],
)
def test_what_is_not_translated_stays_with_its_engine(engine, pattern, flags):
    matcher = PatternSpans(engine.compile(pattern, flags))
    assert matcher.fast is None
    assert np.array_equal(matcher("xaab" * 1000), python_spans(matcher, "xaab" * 1000))


def deidentified(frames: dict[str, tuple[str, pd.DataFrame]]) -> dict[str, tuple[pd.DataFrame, list]]:
    policy, keys = load_policy(REPO_POLICY), Keys(b"test-key" * 4)
    return {
        name: deidentify(entity, df, policy, keys, as_of=date(2026, 11, 20)) for name, (entity, df) in frames.items()
    }


def test_the_stage_writes_the_same_with_python_engines_only(demo_notes, tmp_path, monkeypatch):
    """Every text through re / regex instead of PCRE2 (as when the extension is not built): the same bytes."""
    notes = [item.text for item in labelled_notes(2000)] + HOSTILE + demo_notes[:500]
    frames = {
        "notes": ("ticket", pd.DataFrame({"source_name": "desk", "record_id": range(len(notes)), "notes": notes})),
    }
    workdir = generated(120, 7, tmp_path)
    frames |= {n: f for n, f in read_deliveries(workdir).items() if f[0] in ("customer", "ticket", "survey")}
    fast, fast_hits = deidentified(frames), scan_texts(notes)
    monkeypatch.setattr(pattern_spans, "LONG_TEXT", sys.maxsize)
    slow, slow_hits = deidentified(frames), scan_texts(notes)
    for name in frames:
        assert fast[name][0].equals(slow[name][0]) and fast[name][1] == slow[name][1], name
    assert fast_hits == slow_hits


def test_without_the_extension_the_same_redaction_and_one_log_line():
    """A process where the extension cannot be imported (as when it was not built) redacts the same, and says so
    once, at info level."""
    notes = [item.text for item in labelled_notes(800)] + HOSTILE
    script = (
        "import logging, pickle, sys\n"
        "sys.modules['flows.privacy.recognizers._pcre2_spans'] = None\n"
        "records = []\n"
        "handler = logging.Handler(); handler.emit = records.append\n"
        "logger = logging.getLogger('flows.privacy.recognizers.pattern_spans')\n"
        "logger.addHandler(handler); logger.setLevel(logging.DEBUG)\n"
        "from flows.privacy.analyzer import redact_texts\n"
        "redacted, found = redact_texts(pickle.load(sys.stdin.buffer))\n"
        "pickle.dump([redacted, found, [(r.levelname, r.getMessage()) for r in records]], sys.stdout.buffer)\n"
    )
    run = subprocess.run([sys.executable, "-c", script], input=pickle.dumps(notes), capture_output=True, check=True)
    redacted, found, logged = pickle.loads(run.stdout)
    assert (redacted, found) == redact_texts(notes)
    assert len(logged) == 1 and logged[0][0] == "INFO" and "not built" in logged[0][1]


@built
def test_redaction_copied_by_the_extension_equals_numpys_gather(monkeypatch):
    """The extension's redact (one copy per distinct text) writes the strings numpy's gather writes: on the
    fixture, the demo-like hostile strings (astral characters, lone surrogates, Latin-1 and ASCII-only texts) and
    tags wider than the text; it refuses spans that are not ordered, apart and inside their text."""
    from flows.privacy.analyzer import _redacted_distinct, _scan_distinct, _wanted
    from flows.privacy.recognizers.pattern_spans import _extension

    texts = [item.text for item in labelled_notes(1500)] + HOSTILE + ["café 13800138000", "a@b.com", "x", ""]
    spans = _scan_distinct(texts, _wanted(None, None))
    for tags in ([f"<{e}>" for e in "ABCDEFGHIJ"], ["<人名>", "", "<😀>", "x"] * 3):
        fast = _redacted_distinct(spans, tags)
        with monkeypatch.context() as patched:
            patched.setattr(pattern_spans, "_extension", lambda: None)
            assert fast == _redacted_distinct(spans, tags)
    redact = _extension().redact
    one = np.array([0], dtype=np.int64)
    for start, end in [(2, 1), (1, 1), (0, 9), (-1, 2)]:
        with pytest.raises(ValueError, match="spans must be"):
            redact("abcd", np.array([start]), np.array([end]), np.array([0]), ("x",), one * 0, one * 4)
    with pytest.raises(ValueError, match="spans must be"):
        redact("abcdef", np.array([0, 1]), np.array([2, 3]), np.array([0, 0]), ("x",), one * 0, one * 6)
