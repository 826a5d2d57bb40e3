"""Command handlers, one module per concept. Importing this package registers them all."""

from bot.services import groups, members, proposals  # noqa: F401
