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


class UnknownCommand(UserError):
    """Text whose first word is no command; `typed` is what was typed, without the `/wg` prefix."""

    def __init__(self, message: str, usage: str | None, typed: str) -> None:
        super().__init__(message, usage)
        self.typed = typed
