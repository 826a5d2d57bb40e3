"""What an unauthenticated request to /slack/events can put in the log: one line, without its body.

Bolt logs a request whose signature or timestamp is wrong with the whole body; through wgbot's log
handler that is one bounded line, so a stranger can neither fill the log (a megabyte a request) nor
forge a line that looks like one of ours."""

from __future__ import annotations

import io
import logging
import time

from adapters.logs import MAX_MESSAGE, log_handler
from bot.config import Settings
from tests.slack.conftest import SECRET, SlackEnv


async def test_a_refused_request_is_one_line_without_its_body(slack: SlackEnv) -> None:
    stream = io.StringIO()
    handler = log_handler(Settings(SLACK_SIGNING_SECRET=SECRET), stream)
    # the adapter refuses an unsigned request before Bolt sees it; Bolt's own message is filtered too
    loggers = [logging.getLogger("slack_bolt"), logging.getLogger("adapters.slack.app")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    try:
        forged = "text=help\n2026-01-05 09:00:00,000 INFO bot.leader: engine leadership acquired by worker evil"
        status, _ = await slack.post(forged, "application/x-www-form-urlencoded", secret="not-the-secret")
        assert status == 401
        status, _ = await slack.post("a=" + "x" * 900_000, "application/x-www-form-urlencoded", secret="wrong")
        assert status == 401
        stale = int(time.time()) - 600
        status, _ = await slack.post("text=help", "application/x-www-form-urlencoded", timestamp=stale)
        assert status == 401
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.removeHandler(handler)
            logger.setLevel(level)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 3, lines
    assert all("Slack request refused" in line and "body not logged" in line for line in lines)
    assert "bot.leader" not in stream.getvalue() and "xxxx" not in stream.getvalue()
    assert SECRET not in stream.getvalue()


def test_every_message_is_one_bounded_line_and_a_cut_leaves_no_part_of_a_secret() -> None:
    secret = "s3cr3t-" + "k" * 40
    stream = io.StringIO()
    handler = log_handler(Settings(SLACK_SIGNING_SECRET=secret), stream)
    log = logging.getLogger("tests.one_line")
    log.addHandler(handler)
    log.propagate = False
    try:
        log.warning("a\nb\r\x1b[31mc %s", "x" * (MAX_MESSAGE - 20) + secret + "y" * 100)
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            log.exception("failed on %r", "line\nbreak")
    finally:
        log.removeHandler(handler)
        log.propagate = True
    lines = stream.getvalue().splitlines()
    assert "a\\nb\\r\\x1b[31mc" in lines[0] and "more characters not logged" in lines[0]
    assert "s3cr3t" not in stream.getvalue() and "kkkk" not in stream.getvalue()
    assert "line\\nbreak" in lines[1]
    assert any("Traceback" in line for line in lines[2:]) and "RuntimeError: boom" in lines[-1]
