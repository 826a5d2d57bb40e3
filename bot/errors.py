"""Errors a user can fix. Their message is shown as is, so it must be short, specific and safe."""

from __future__ import annotations


class UserError(Exception):
    """Bad input or a missing permission: the transaction is rolled back and the speaker is told why."""

    def __init__(self, message: str, usage: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.usage = usage


class NotFound(UserError):
    pass


class Forbidden(UserError):
    pass
