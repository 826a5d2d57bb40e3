"""The weekly digest by e-mail carries the participation chart as an inline PNG (multipart/related,
referenced by `cid:` from the HTML part, with the numbers as alt text) and the numbers in the text
part, through the real SMTP server on loopback."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from email.message import EmailMessage

from PIL import Image

from adapters.email.render import footer
from tests.conftest import Harness
from tests.email.conftest import Mailbox
from tests.test_digests import MONDAY, week_of_activity

#: the chart's first two colours: the keys seen (government, then academia), in vocabulary order
BLUE, ORANGE = (0x00, 0x72, 0xB2), (0xE6, 0x9F, 0x00)


async def test_the_emailed_digest_has_the_chart_as_an_inline_png(harness: Harness, mail: Mailbox) -> None:
    await week_of_activity(harness)
    await harness.advance_to(MONDAY + timedelta(minutes=1))
    [msg] = [m for m in mail.to("chen@example.edu") if "Weekly digest" in str(m["Subject"])]
    assert isinstance(msg, EmailMessage)

    text = msg.get_body(preferencelist=("plain",))
    assert text is not None
    body = text.get_content()
    # the numbers, in the text part: ben's proposal (government), chen's answer (academia) this week
    assert "wg: participation by stakeholder group, week by week (contributions per week):" in body
    assert "week of 5 Jan 2026: government 1, academia 1 (total 2)" in body
    assert "week of 29 Dec 2025: none (total 0)" in body

    related = next(p for p in msg.walk() if p.get_content_type() == "multipart/related")
    html_part, image = list(related.iter_parts())
    html = html_part.get_content()
    [(cid, alt)] = re.findall(r'<img src="cid:([^"]+)" alt="([^"]+)"', html)
    assert image.get_content_type() == "image/png" and image["Content-ID"] == f"<{cid}>"
    assert image.get_content_disposition() == "inline"
    assert "week of 5 Jan: government 1, academia 1" in alt  # the alt text says what the bars show
    data = image.get_payload(decode=True)
    assert isinstance(data, bytes) and data[:8] == b"\x89PNG\r\n\x1a\n"
    picture = Image.open(io.BytesIO(data))
    picture.verify()
    picture = Image.open(io.BytesIO(data)).convert("RGB")
    assert picture.size[0] == 2 * 640 and 'width="640"' in html
    colours = {c for _, c in picture.getcolors(maxcolors=1 << 20) or []}
    assert BLUE in colours and ORANGE in colours  # the bars (and legend swatches) are drawn


async def test_a_digest_without_participation_has_no_image(harness: Harness, mail: Mailbox) -> None:
    await harness.say("ana", "/wg join civil-society")
    await harness.say("ana", "/wg digest subscribe email:ana@example.org")
    await harness.advance_to(MONDAY + timedelta(minutes=1))
    [msg] = mail.to("ana@example.org")
    assert not any(p.get_content_type() == "image/png" for p in msg.walk())
    assert "participation by stakeholder group" not in str(msg.get_body(preferencelist=("plain",)))


async def test_an_emailed_digest_names_no_chat_command(harness: Harness, mail: Mailbox) -> None:
    """Its reader may have no chat account (an e-mail-only member): the footer says how to stop it by
    e-mail (reply, or the one-click link with WGBOT_PUBLIC_URL), and the digest offers no command."""
    await week_of_activity(harness)
    await harness.advance_to(MONDAY + timedelta(minutes=1))
    [msg] = [m for m in mail.to("ngozi@example.org") if "Weekly digest" in str(m["Subject"])]
    assert isinstance(msg, EmailMessage)
    for part in ("plain", "html"):
        body = msg.get_body(preferencelist=(part,))
        assert body is not None
        content = body.get_content()
        assert "/wg" not in content and "reply with “unsubscribe”" in content, content
    with_link = footer("digest", "ngozi@example.org", "https://bot.example.org/a/x")
    assert "/wg" not in with_link and with_link.endswith("To stop it with one click: https://bot.example.org/a/x")
