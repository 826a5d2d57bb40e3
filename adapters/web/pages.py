"""Rendering: one Jinja2 environment with autoescape always on (every page escapes user text),
templates shipped as package data, and the headers every page carries.

The Content-Security-Policy allows no script but the one inline line that defaults the zone to the
browser's (by its hash), no external resource and no form target elsewhere: even a title that
slipped past escaping could not run."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from aiohttp import web
from jinja2 import Environment, PackageLoader, StrictUndefined

ENV = Environment(
    loader=PackageLoader("adapters.web", "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)

#: with no `tz` in the address, ask again with the browser's zone (the page works without it)
ZONE_SCRIPT = (
    "(function(){var u=new URL(location.href);if(u.searchParams.has('tz'))return;"
    "try{var z=Intl.DateTimeFormat().resolvedOptions().timeZone;"
    "if(z&&z!==document.documentElement.getAttribute('data-tz')){u.searchParams.set('tz',z);"
    "location.replace(u.toString());}}catch(e){}})();"
)
_SCRIPT_HASH = base64.b64encode(hashlib.sha256(ZONE_SCRIPT.encode()).digest()).decode()
CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
    f"script-src 'sha256-{_SCRIPT_HASH}'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    # the token is in the address: never send it on to the sites a page links to
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "private, max-age=0, must-revalidate",
}


def render(name: str, *, http_status: int = 200, robots: bool = False, **context: Any) -> web.Response:
    return respond(render_html(name, **context), http_status=http_status, robots=robots)


def render_html(name: str, **context: Any) -> str:
    return ENV.get_template(name).render(zone_script=ZONE_SCRIPT, **context)


def respond(html: str, *, http_status: int = 200, robots: bool = False) -> web.Response:
    """A page's response with the headers every page carries."""
    resp = web.Response(text=html, status=http_status, content_type="text/html", charset="utf-8")
    resp.headers.update(HEADERS)
    if not robots:
        resp.headers["X-Robots-Tag"] = "noindex, nofollow"
    return resp


def not_found() -> web.Response:
    """The same page for an unknown group, a private one, a rotated link or a missing item."""
    return render("error.html.j2", http_status=404, title="Not found", message="There is nothing at this address.")


def bad_request(message: str, status: int = 400) -> web.Response:
    return render("error.html.j2", http_status=status, title="Bad request", message=message)
