"""HMAC-SHA256 (RFC 2104) of many messages under one key, for pseudonyms and Bloom positions.

The key's inner and outer SHA-256 states are computed once and copied for each message, which is what makes a
column of values cheap; `hmac.new` per value would pad and hash the key again every time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

BLOCK_SIZE = 64  # SHA-256's block, in bytes


def keyed_states(key: bytes) -> tuple[hashlib._Hash, hashlib._Hash]:
    """The SHA-256 states after the key XOR ipad and the key XOR opad blocks."""
    if len(key) > BLOCK_SIZE:
        key = hashlib.sha256(key).digest()
    key = key.ljust(BLOCK_SIZE, b"\0")
    return hashlib.sha256(bytes(b ^ 0x36 for b in key)), hashlib.sha256(bytes(b ^ 0x5C for b in key))


def hmac_digests(key: bytes, messages: Iterable[bytes]) -> list[bytes]:
    inner, outer = keyed_states(key)
    out: list[bytes] = []
    for message in messages:
        i = inner.copy()
        i.update(message)
        o = outer.copy()
        o.update(i.digest())
        out.append(o.digest())
    return out


def hmac_hex(key: bytes, texts: list[str | None], length: int) -> list[str | None]:
    """The first `length` hex characters of each text's HMAC; None stays None."""
    present = [t.encode("utf-8") for t in texts if t is not None]
    hexes = iter([digest.hex()[:length] for digest in hmac_digests(key, present)])
    return [None if t is None else next(hexes) for t in texts]
