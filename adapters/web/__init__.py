"""The public web record: a read-only page per working group and its calendar feed (aiohttp + Jinja2)."""
