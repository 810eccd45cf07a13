"""Encryption at rest for provider API keys (Fernet: AES-128-CBC with an HMAC).

The key comes from `ACCORD_SECRET_KEY` when set, so a team can share it between the server
and its workers; otherwise one is generated on first use into `data_dir()/secret.key`, readable
by its owner only. Losing that file makes stored keys unreadable, never readable by others.
"""

import base64
import hashlib
import os
import tempfile
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from accord.domain.errors import AccordError
from accord.storage.db import data_dir

SECRET_KEY_ENV = "ACCORD_SECRET_KEY"
SECRET_KEY_FILE = "secret.key"


class SecretUnreadable(AccordError):
    """A stored secret was encrypted with another key (ACCORD_SECRET_KEY or secret.key changed)."""

    code = "secret_unreadable"


def secret_key() -> bytes:
    """The Fernet key: `ACCORD_SECRET_KEY` (a Fernet key, or any passphrase, which is hashed
    into one), else the generated key file."""
    configured = os.environ.get(SECRET_KEY_ENV)
    if configured:
        return _as_fernet_key(configured)
    return _key_file_contents(data_dir() / SECRET_KEY_FILE)


def encrypt_secret(plaintext: str) -> str:
    return Fernet(secret_key()).encrypt(plaintext.encode()).decode()


def decrypt_secret(token: str) -> str:
    try:
        return Fernet(secret_key()).decrypt(token.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable(
            "A stored API key cannot be decrypted with the current secret key; set "
            f"{SECRET_KEY_ENV} to the key it was saved with, or enter the API key again"
        ) from None


def _as_fernet_key(value: str) -> bytes:
    try:
        Fernet(value.encode())
        return value.encode()
    except ValueError:
        return base64.urlsafe_b64encode(hashlib.sha256(value.encode()).digest())


def _key_file_contents(path: Path) -> bytes:
    """Read the key file, creating it (mode 0600) if it does not exist yet. The key is written
    to a private temporary file and hard-linked into place, so a concurrent process sees either
    no file or the whole key, and only one key ever wins."""
    if not path.exists():
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".secret-")  # mode 0600
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(Fernet.generate_key())
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
    return path.read_bytes().strip()
