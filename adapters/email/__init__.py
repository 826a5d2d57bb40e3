"""E-mail: the outbox's sender for `email:` destinations, over SMTP (aiosmtplib)."""
