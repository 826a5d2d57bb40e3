"""The Discord adapter (discord.py 2.x): the `/wg` command group, rendering, persistent components,
the outbox sender and the thread port. Nothing outside this package imports discord."""
