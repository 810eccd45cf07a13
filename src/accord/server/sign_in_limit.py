"""Slow down password guessing: after `MAX_FAILURES` wrong passwords for one email within
`WINDOW_S`, sign-in for that email is refused (429) until the oldest failure leaves the
window. Kept in the server's memory: a restart forgets, and each server process counts its
own, which still bounds guessing to a few attempts a minute per process."""

import time
from collections import deque

from accord.domain.errors import AccordError

MAX_FAILURES = 10
WINDOW_S = 15 * 60


class TooManyAttempts(AccordError):
    code = "rate_limited"


class SignInLimit:
    def __init__(self, *, max_failures: int = MAX_FAILURES, window_s: float = WINDOW_S) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self._failures: dict[str, deque[float]] = {}

    def check(self, email: str) -> None:
        """Raise `TooManyAttempts` while `email` has had too many recent failures."""
        recent = self._recent(email)
        if len(recent) >= self.max_failures:
            wait = int(recent[0] + self.window_s - time.monotonic()) + 1
            raise TooManyAttempts(
                f"too many wrong passwords for this email: try again in {wait // 60 + 1} "
                "minutes, or ask an administrator to reset the password"
            )

    def failed(self, email: str) -> None:
        self._recent(email).append(time.monotonic())

    def succeeded(self, email: str) -> None:
        self._failures.pop(email.strip().lower(), None)

    def _recent(self, email: str) -> deque[float]:
        window = self._failures.setdefault(email.strip().lower(), deque())
        while window and window[0] < time.monotonic() - self.window_s:
            window.popleft()
        return window
