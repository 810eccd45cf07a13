"""Password hashes: argon2id through argon2-cffi, with its recommended parameters.

Only the hash is stored. A wrong password and an unknown email take the same time (a dummy
hash is checked), so sign-in does not tell which accounts exist.
"""

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from accord.domain.errors import InvalidInput, Problem

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1000

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("an unguessable password nobody has")


def check_strength(password: str) -> None:
    """Refuse passwords too short to resist guessing (or absurdly long)."""
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise InvalidInput(
            [
                Problem(
                    field="password",
                    message=f"a password needs {MIN_PASSWORD_LENGTH} to "
                    f"{MAX_PASSWORD_LENGTH} characters (this one has {len(password)})",
                    fix="choose a longer password, or a passphrase of a few words",
                )
            ]
        )


def hash_password(password: str) -> str:
    check_strength(password)
    return _hasher.hash(password)


def password_matches(password_hash: str | None, password: str) -> bool:
    """Whether `password` is the one hashed; False for a user without a password (still
    spending the time of one check)."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False
