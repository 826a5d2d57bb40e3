"""Command handlers, one module per concept. Importing this package registers them all."""

from bot.services import checkins, datarights, digests, groups, link, meetings, members, proposals, todo  # noqa: F401
