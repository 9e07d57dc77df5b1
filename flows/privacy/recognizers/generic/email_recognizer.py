"""E-mail addresses bounded by ASCII classes, so `邮箱a@b.com请回复` yields exactly `a@b.com`.

Presidio's own EmailRecognizer uses `\b` (CJK counts as a word character) and tldextract (network): neither fits.
"""

from __future__ import annotations

from typing import ClassVar

from presidio_analyzer import Pattern

from flows.privacy.recognizers.base import CnPatternRecognizer

LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?"
PATTERN = (
    rf"(?<![A-Za-z0-9._%+\-])(?P<pii>[A-Za-z0-9][A-Za-z0-9._%+\-]{{0,63}}@{LABEL}(?:\.{LABEL})*\.[A-Za-z]{{2,24}})"
    r"(?![A-Za-z0-9\-])"
)


class EmailRecognizer(CnPatternRecognizer):
    ENTITY = "EMAIL_ADDRESS"
    PATTERNS = [Pattern("email", PATTERN, 0.85)]
    CONTEXT = ["邮箱", "电子邮件", "email", "mail"]
    COUNTRY_CODE: ClassVar[str | None] = None  # type: ignore[misc]
