"""The web record's routes: a page per working group, its proposals, its calendar feed and its chart.

Addresses: `/r/<token>/…` for any group (the unguessable link a convener shares and can rotate),
`/g/<id>/…` only for a group its convener made public, `/f/<feed token>/calendar.ics` for the
calendar feed alone (the address any member gets from `/wg ics`; its token opens nothing else).
An unknown group, a private group's public address, a rotated token or a missing item all get the
same 404 page, so an address reveals nothing.
Everything is read-only except `/a/<signed link>` (adapters/web/actions.py).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from urllib.parse import urlencode

from aiohttp import web

from adapters.web import actions, chart, record, summaries, votes
from adapters.web.cache import PageCache
from adapters.web.pages import HEADERS, bad_request, not_found, render, render_html, respond
from adapters.web.zones import BadZone, options_html, reader_zone
from bot import ics, webaccess, whitepaper, whitepaper_render
from bot.clock import Clock
from bot.timefmt import fmt
from bot.vocab import PROPOSAL_STATUSES
from storage.db import Database
from storage.models import Meeting, WebAccess, WorkingGroup

log = logging.getLogger(__name__)

MAX_QUERY = 512
TOKEN = "{token:[A-Za-z0-9_-]{20,64}}"
GID = "{gid:[0-9]{1,9}}"
PREFIXES = ("/r/", "/g/", "/a/", "/f/")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Found:
    """The group an address names, with the address's base for relative links."""

    def __init__(self, wg: WorkingGroup, access: WebAccess, base: str) -> None:
        self.wg, self.access, self.base = wg, access, base

    @property
    def wg_id(self) -> int:
        assert self.wg.id is not None
        return self.wg.id


class NotFoundError(Exception):
    pass


class WebRecord:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock
        #: the group page, rendered once per change (adapters/web/cache.py)
        self.pages = PageCache()

    # -- plumbing ---------------------------------------------------------------------------
    def install(self, app: web.Application) -> None:
        """Add the routes and the guard to an application (a fresh one, or Slack's in HTTP mode)."""
        app.middlewares.append(guard)
        for prefix in (f"/r/{TOKEN}/", f"/g/{GID}/"):
            app.router.add_get(prefix, self.page)
            app.router.add_get(prefix + "calendar.ics", self.calendar)
            app.router.add_get(prefix + "chart.svg", self.chart_svg)
            app.router.add_get(prefix + "p/{n:[0-9]{1,9}}", self.proposal)
            app.router.add_get(prefix + "digests/{week:[0-9]{4}-W[0-9]{2}}", self.digest)
            app.router.add_get(prefix + "whitepaper", self.whitepaper)
            app.router.add_get(prefix + "summaries", self.summaries)
            app.router.add_get(prefix + "v/{n:[0-9]{1,9}}", self._bind(votes.page))
        app.router.add_get(f"/f/{TOKEN}/calendar.ics", self.feed)
        app.router.add_route("*", "/a/{signed:[A-Za-z0-9_.-]{1,600}}", self._bind(actions.handle))

    def application(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024)
        self.install(app)
        return app

    def _bind(self, fn: Callable[[WebRecord, web.Request], Awaitable[web.StreamResponse]]) -> Handler:
        async def handler(request: web.Request) -> web.StreamResponse:
            return await fn(self, request)

        return handler

    async def find(self, request: web.Request) -> Found:
        info = request.match_info
        async with self.db.session() as s:
            if "token" in info:
                hit = await record.find_group(s, token=info["token"])
                base = f"/r/{info['token']}/"
            else:
                hit = await record.find_group(s, public_id=int(info["gid"]))
                base = f"/g/{info['gid']}/"
        if hit is None:
            raise NotFoundError
        return Found(hit[0], hit[1], base)

    # -- pages ------------------------------------------------------------------------------
    async def page(self, request: web.Request) -> web.StreamResponse:
        found = await self.find(request)
        tz = reader_zone(request.query.get("tz"), found.wg.timezone)
        status = request.query.get("status", "")
        if status and status not in PROPOSAL_STATUSES:
            return bad_request("Unknown status filter.")
        by = request.query.get("by", "group")
        if by not in ("group", "region"):
            return bad_request("Participation is shown by group or by region.")
        raw_page = request.query.get("page", "1")
        if not raw_page.isdigit() or not 0 < int(raw_page) < 100_000:
            return bad_request("Unknown page.")
        now = self.clock.now()
        page = int(raw_page)
        access = found.access
        key = (
            found.wg_id,
            found.base,
            access.public,
            access.summaries,
            tz,
            status,
            by,
            page,
            now.strftime("%Y%m%d%H%M"),
        )
        html = self.pages.get(found.wg_id, key)
        if html is None:
            marker = self.pages.markers.of(found.wg_id)  # before reading: a commit meanwhile makes it stale
            html = await self._record_html(found, tz, status, by, page, now)
            self.pages.put(key, marker, html)
        return respond(html, robots=access.public)

    async def _record_html(self, found: Found, tz: str, status: str, by: str, page: int, now: datetime) -> str:
        async with self.db.session() as s:
            register = await record.proposals(s, found.wg_id, tz, status or None, page=page)
            meetings = await record.meetings(s, found.wg_id, tz, now)
            data = await chart.participation(s, found.wg_id, found.wg.timezone, now, by=by)
            digests = await record.digests(s, found.wg_id, tz)
            vote_rows = await votes.rows(s, found.wg_id, tz)
            summary_count = await summaries.count(s, found.wg_id) if found.access.summaries else 0
        keep = {k: v for k, v in (("status", status), ("by", by)) if v and not (k == "by" and v == "group")}
        by_label = "stakeholder group" if by == "group" else "region"
        return render_html(
            "record.html.j2",
            wg=found.wg,
            public=found.access.public,
            base=found.base,
            feed=webaccess.feed_path(found.access),
            tz=tz,
            zone_options=options_html(tz),
            keep=keep,
            q=_q(tz),
            query=_query_builder(tz, status, by),
            statuses=("", *PROPOSAL_STATUSES),
            status=status,
            register=register,
            votes=vote_rows,
            meetings=meetings,
            chart=data,
            chart_svg=chart.svg(data, title=f"Participation by {by_label}, week by week"),
            digests=digests,
            summaries=found.access.summaries,
            summary_count=summary_count,
            whitepaper=register.total > 0 and not status,
            generated=fmt(now, tz),
        )

    async def proposal(self, request: web.Request) -> web.StreamResponse:
        found = await self.find(request)
        tz = reader_zone(request.query.get("tz"), found.wg.timezone)
        async with self.db.session() as s:
            detail = await record.proposal(s, found.wg_id, int(request.match_info["n"]), tz)
        if detail is None:
            raise NotFoundError
        return render("proposal.html.j2", wg=found.wg, p=detail, base=found.base, tz=tz, q=_q(tz))

    async def digest(self, request: web.Request) -> web.StreamResponse:
        found = await self.find(request)
        tz = reader_zone(request.query.get("tz"), found.wg.timezone)
        week = request.match_info["week"]
        async with self.db.session() as s:
            texts = await record.digest_texts(s, found.wg_id, week)
        if not texts:
            raise NotFoundError
        return render("digest.html.j2", wg=found.wg, week=week, texts=texts, base=found.base, tz=tz, q=_q(tz))

    async def whitepaper(self, request: web.Request) -> web.StreamResponse:
        """The white paper (`wgbot export whitepaper --format html`), as of now."""
        found = await self.find(request)
        async with self.db.session() as s:
            if not await record.has_proposals(s, found.wg_id):
                raise NotFoundError
            paper = await whitepaper.build(s, found.wg)
        resp = web.Response(text=whitepaper_render.to_html(paper), content_type="text/html", charset="utf-8")
        resp.headers.update(HEADERS)
        if not found.access.public:
            resp.headers["X-Robots-Tag"] = "noindex, nofollow"
        return resp

    async def summaries(self, request: web.Request) -> web.StreamResponse:
        """Thread summaries: only while the convener has them on (`summaries:on`); off, a 404."""
        found = await self.find(request)
        if not found.access.summaries:
            raise NotFoundError
        tz = reader_zone(request.query.get("tz"), found.wg.timezone)
        async with self.db.session() as s:
            threads = await summaries.threads(s, found.wg_id, tz)
        return render(
            "summaries.html.j2",
            robots=found.access.public,
            wg=found.wg,
            threads=threads,
            base=found.base,
            tz=tz,
            q=_q(tz),
        )

    async def feed(self, request: web.Request) -> web.StreamResponse:
        """The calendar feed by its own token: only the feed, never a page of the record."""
        async with self.db.session() as s:
            hit = await record.find_group(s, feed_token=request.match_info["token"])
        if hit is None:
            raise NotFoundError
        return await self._calendar(Found(hit[0], hit[1], ""))

    async def calendar(self, request: web.Request) -> web.StreamResponse:
        return await self._calendar(await self.find(request))

    async def _calendar(self, found: Found) -> web.StreamResponse:
        async with self.db.session() as s:
            from sqlmodel import col, select

            rows = (
                await s.exec(select(Meeting).where(Meeting.wg_id == found.wg_id).order_by(col(Meeting.number)))
            ).all()
        body = ics.calendar([(m, found.wg) for m in rows], self.clock.now(), name=found.wg.name)
        resp = web.Response(body=body, content_type="text/calendar", charset="utf-8")
        resp.headers["Content-Disposition"] = 'inline; filename="calendar.ics"'
        resp.headers["X-Content-Type-Options"] = "nosniff"
        resp.headers["Referrer-Policy"] = "no-referrer"
        return resp

    async def chart_svg(self, request: web.Request) -> web.StreamResponse:
        found = await self.find(request)
        by = request.query.get("by", "group")
        if by not in ("group", "region"):
            return bad_request("Participation is shown by group or by region.")
        async with self.db.session() as s:
            data = await chart.participation(s, found.wg_id, found.wg.timezone, self.clock.now(), by=by)
        resp = web.Response(text=chart.svg(data), content_type="image/svg+xml", charset="utf-8")
        resp.headers.update(HEADERS)
        return resp


def _q(tz: str) -> str:
    return "?" + urlencode({"tz": tz})


def _query_builder(tz: str, status: str, by: str) -> Callable[..., str]:
    def query(**change: str) -> str:
        params = {"tz": tz, "status": status, "by": by} | change
        default = {"by": "group", "page": "1"}
        return urlencode({k: v for k, v in params.items() if v and default.get(k) != v})

    return query


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """For the record's addresses only (Slack's `/slack/events` passes untouched): oversized query
    strings are refused, a missing group is the one 404 page, bad input is a 4xx, and nothing
    ever shows a traceback."""
    if not request.path.startswith(PREFIXES):
        return await handler(request)
    if len(request.query_string) > MAX_QUERY:
        return bad_request("The address is too long.", status=414)
    try:
        return await handler(request)
    except NotFoundError:
        return not_found()
    except BadZone:
        return bad_request("Unknown time zone: pick one from the list.")
    except web.HTTPException as exc:
        if exc.status == 404:
            return not_found()
        if exc.status == 405:
            return bad_request("That method is not allowed here.", status=405)
        if exc.status >= 400:
            return bad_request("The request could not be read.", status=exc.status)
        raise
    except Exception:
        log.exception("web record: %s failed", request.path.split("/")[1])
        return render("error.html.j2", http_status=500, title="Error", message="Something went wrong on our side.")
