"""Command handlers, one module per concept. Importing this package registers them all."""

from bot.services import checkins, groups, meetings, members, proposals, todo  # noqa: F401
