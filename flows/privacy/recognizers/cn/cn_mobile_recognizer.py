"""Mainland mobile numbers: real carrier prefixes, optional +86 / 0086, 3-4-4 grouping with spaces or dashes."""

from __future__ import annotations

from presidio_analyzer import Pattern

from flows.privacy.recognizers.base import CnPatternRecognizer

# Carrier number segments (MIIT allocations): 13x, 145-149, 15x but 154, 162/165/166/167, 170-178, 18x, 19x but 194.
MOBILE = r"1(?:3\d|4[5-9]|5[0-35-9]|6[2567]|7[0-8]|8\d|9[0-35-9])[ \-]?\d{4}[ \-]?\d{4}"
PREFIX = r"(?:\(?(?:\+|00)86\)?[ \-]?|86[ \-])?"


class CnMobileRecognizer(CnPatternRecognizer):
    ENTITY = "CN_MOBILE"
    # (?=[(+081]): the characters a match can start with. It changes no match; it lets the regex engine leave
    # the other positions at once (half the time of a pass over a column of notes).
    PATTERNS = [Pattern("cn_mobile", rf"(?=[(+081])(?<![0-9A-Za-z+])(?P<pii>{PREFIX}{MOBILE})(?!\d)", 0.85)]
    CONTEXT = ["手机", "电话", "联系方式", "手机号", "mobile", "phone", "tel"]
