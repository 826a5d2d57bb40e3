"""Platform adapters (console, Slack, Discord, e-mail) and the composition root (CLI)."""
