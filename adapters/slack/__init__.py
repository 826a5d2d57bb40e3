"""Slack adapter: Bolt AsyncApp (Socket Mode or HTTP), Block Kit rendering, outbox sender, thread source."""
