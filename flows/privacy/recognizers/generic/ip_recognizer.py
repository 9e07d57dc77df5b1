"""IPv4 and IPv6 addresses, confirmed by the standard library's parser (no leading zeros, octets <= 255)."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from typing import ClassVar

from presidio_analyzer import Pattern

from flows.privacy.recognizers.base import CnPatternRecognizer


class IpRecognizer(CnPatternRecognizer):
    ENTITY = "IP_ADDRESS"
    # Each pattern opens with the characters a match can start with, (?=...): it changes no match and lets the
    # regex engine leave every other position at once.
    PATTERNS = [
        Pattern("ipv4", r"(?=\d)(?<![0-9.])(?P<pii>(?:\d{1,3}\.){3}\d{1,3})(?![0-9]|\.\d)", 0.6),
        Pattern(
            "ipv6",
            r"(?=[0-9A-Fa-f:])(?<![0-9A-Fa-f:])(?P<pii>[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7})(?![0-9A-Fa-f:])",
            0.6,
        ),
    ]
    CONTEXT = ["ip", "IP地址", "登录"]
    COUNTRY_CODE: ClassVar[str | None] = None  # type: ignore[misc]

    def validate_result(self, pattern_text: str) -> bool:
        try:
            ipaddress.ip_address(pattern_text)
        except ValueError:
            return False
        return True

    def validate_many(self, values: Sequence[str]) -> list[bool | None]:
        """validate_result's verdicts, with IPv4's dotted digits checked by one regex: the standard library's
        parser costs 6 us a value, a fifth of a column's scan time on the benchmark's notes. The same rules: four
        ASCII decimal octets, no leading zero, at most 255; a text of ASCII digits and dots that is not that is no
        address (never IPv6); anything else goes to the parser."""
        return [
            True if _IPV4.fullmatch(v) else False if _DOTTED.fullmatch(v) else self.validate_result(v) for v in values
        ]


_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = re.compile(rf"{_OCTET}(?:\.{_OCTET}){{3}}")
_DOTTED = re.compile(r"[0-9.]*")
