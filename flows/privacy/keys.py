"""Where the secret keys come from: environment / settings, a Prefect Secret block, or (demo only) a generated
key file in the restricted zone. The key itself is never logged or put in an error message."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field

from flows.errors import CrmgovError
from flows.settings import Settings
from flows.workdir import Workdir


class MissingKeyError(CrmgovError):
    """No pseudonymisation key is configured outside demo mode."""


@dataclass(frozen=True)
class Keys:
    pseudonym: bytes = field(repr=False)
    encryption: bytes | None = field(default=None, repr=False)


def _decode(value: str) -> bytes:
    """64 hex characters are the key's bytes; anything else is taken as UTF-8 text."""
    text = value.strip()
    if len(text) == 64:
        try:
            return bytes.fromhex(text)
        except ValueError:
            pass
    return text.encode("utf-8")


def _from_block(name: str) -> str:
    from prefect.blocks.system import Secret

    try:
        return str(Secret.load(name).get())
    except Exception as exc:  # noqa: BLE001 - any Prefect failure means the same thing to the operator
        raise MissingKeyError(
            f"could not load the Prefect Secret block {name!r} named by CRMGOV_PSEUDONYM_KEY_BLOCK: "
            f"{type(exc).__name__}; create it (`prefect block create secret`) or set CRMGOV_PSEUDONYM_KEY"
        ) from exc


def load_pseudonym_key(settings: Settings, workdir: Workdir, *, demo: bool) -> bytes:
    """The HMAC key: env / settings, else a Prefect Secret block, else (demo only) a key file made once."""
    value = os.environ.get("CRMGOV_PSEUDONYM_KEY") or settings.pseudonym_key
    if value:
        return _decode(value)
    if settings.pseudonym_key_block:
        return _decode(_from_block(settings.pseudonym_key_block))
    if not demo:
        raise MissingKeyError(
            "no pseudonymisation key: set CRMGOV_PSEUDONYM_KEY (64 hex characters, e.g. from "
            "`python -c 'import secrets; print(secrets.token_hex(32))'`), or name a Prefect Secret block in "
            "CRMGOV_PSEUDONYM_KEY_BLOCK; only demo mode may generate one"
        )
    path = workdir.key_file
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _decode(path.read_text(encoding="utf-8"))
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(secrets.token_hex(32))
    return _decode(path.read_text(encoding="utf-8"))


def load_encryption_key(settings: Settings) -> bytes | None:
    """The AES-256-GCM key (64 hex characters) or None when reversible encryption is not configured."""
    value = os.environ.get("CRMGOV_ENCRYPTION_KEY") or settings.encryption_key
    if not value:
        return None
    try:
        key = bytes.fromhex(value.strip())
    except ValueError:
        key = b""
    if len(key) != 32:
        raise MissingKeyError("CRMGOV_ENCRYPTION_KEY must be 64 hex characters (a 256-bit AES key)")
    return key


def load_keys(settings: Settings, workdir: Workdir, *, demo: bool) -> Keys:
    return Keys(load_pseudonym_key(settings, workdir, demo=demo), load_encryption_key(settings))
