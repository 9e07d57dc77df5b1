"""IPv4 and IPv6 addresses, confirmed by the standard library's parser (no leading zeros, octets <= 255)."""

from __future__ import annotations

import ipaddress
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
