"""Development keys, generated on first start and kept under .sentinel/ (never committed)."""

from __future__ import annotations

import os
import secrets

from cryptography.fernet import Fernet

from sentinel.embedded import state_dir

_GENERATORS = {
    "secret_key": lambda: secrets.token_urlsafe(50),
    "encryption_key": lambda: Fernet.generate_key().decode(),
}


def development_key(name: str) -> str:
    """Read the named key from .sentinel/, creating it (mode 600) the first time."""
    path = state_dir() / name
    if not path.exists():
        # Write aside, then link into place: concurrent first starts agree on one key.
        draft = path.with_name(f".{name}.{os.getpid()}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, _GENERATORS[name]().encode())
        finally:
            os.close(fd)
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()
