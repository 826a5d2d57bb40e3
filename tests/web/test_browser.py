"""The web record in a real headless browser: Debian's Chromium driven by Selenium through Debian's
chromedriver (no browser download). One browser for the module, a handful of page loads.

The browser runs with TZ=Asia/Tokyo, so the page's one-line script must switch the times to Tokyo;
the zone selector then switches them to New York without any script. A screenshot is kept in the
test's tmp directory (its path is printed)."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.web.conftest import Site

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")

pytestmark = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER), reason="needs Debian's chromium and chromium-driver (.ci/run installs them)"
)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM or ""
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1100,1400",
    ):
        options.add_argument(arg)
    service = Service(executable_path=CHROMEDRIVER or "", env={**os.environ, "TZ": "Asia/Tokyo"})
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def _wait(driver: object, condition: object) -> None:
    """Wait for a condition; an element of the page being replaced (the zone redirect) is retried."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    ignored = (StaleElementReferenceException, NoSuchElementException)
    WebDriverWait(driver, 30, ignored_exceptions=ignored).until(condition)  # type: ignore[arg-type]


async def test_record_in_chromium_zone_default_and_switch_and_screenshot(
    site: Site, browser: object, tmp_path: Path
) -> None:
    driver: WebDriver = browser  # type: ignore[assignment]
    await site.harness.say("kenji", '/wg propose "<script>window.pwned=1</script>" inert')
    url = site.url + await site.record_path()
    # the server runs on this test's event loop: the blocking browser calls run in a thread
    await asyncio.to_thread(_zone_default_and_switch, driver, url, tmp_path)


def _zone_default_and_switch(driver: WebDriver, url: str, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    driver.get(url)
    # the browser's zone (Tokyo) replaced the group's (Paris) by the page's one-line script
    _wait(driver, lambda d: "tz=Asia%2FTokyo" in d.current_url or "tz=Asia/Tokyo" in d.current_url)
    _wait(driver, lambda d: d.find_element(By.ID, "reader-zone").text == "Asia/Tokyo")
    upcoming = driver.find_element(By.CSS_SELECTOR, "ul.upcoming li").text
    assert upcoming.startswith("Thu 8 Jan 2026 22:00 JST") and "Weekly sync" in upcoming
    assert "Shared glossary" in driver.find_element(By.ID, "decisions").text
    # a title that is a script shows as text and never runs
    assert "<script>window.pwned=1</script>" in driver.find_element(By.ID, "decisions").text
    assert driver.execute_script("return typeof window.pwned") == "undefined"

    Select(driver.find_element(By.ID, "tz")).select_by_visible_text("America/New_York")
    driver.find_element(By.CSS_SELECTOR, "form.zone button").click()
    _wait(driver, lambda d: d.find_element(By.ID, "reader-zone").text == "America/New_York")
    upcoming = driver.find_element(By.CSS_SELECTOR, "ul.upcoming li").text
    assert upcoming.startswith("Thu 8 Jan 2026 08:00 EST")
    shot = tmp_path / "web-record.png"
    assert driver.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
    print(f"screenshot of the web record: {shot}")


async def test_chart_bars_match_the_table_in_chromium(site: Site, browser: object, tmp_path: Path) -> None:
    driver: WebDriver = browser  # type: ignore[assignment]
    h = site.harness
    # the fixture week (of Mon 5 Jan): 2 proposals so far, +1 from Ana, +1 from a new academic
    await h.say("ana", '/wg propose "Third" more')
    await h.say("lea", "/wg join academia region:weog tz:Europe/Berlin")
    await h.say("lea", '/wg propose "Fourth" more')
    await asyncio.to_thread(_chart_matches_table, driver, site.url + await site.record_path() + "?tz=UTC", tmp_path)


def _chart_matches_table(driver: WebDriver, url: str, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    driver.get(url)
    table = driver.find_element(By.ID, "participation-table")
    row = table.find_element(By.CSS_SELECTOR, 'tr[data-week="2026-01-05"]')
    numbers = {c.get_attribute("data-key"): int(c.text) for c in row.find_elements(By.CSS_SELECTOR, "td[data-key]")}
    assert numbers == {"civil-society": 2, "academia": 2}
    plot = driver.find_element(By.CSS_SELECTOR, "svg g.plot")
    unit = float(plot.get_attribute("data-unit") or 0)
    assert unit > 0
    bars = plot.find_elements(By.CSS_SELECTOR, 'rect[data-week="2026-01-05"]')
    # the drawn height, as Chromium laid it out, divided by one act's height gives the table's number
    drawn = {b.get_attribute("data-key"): b.rect["height"] / unit for b in bars}
    scale = driver.execute_script(
        "var s=arguments[0]; return s.getBoundingClientRect().height / s.viewBox.baseVal.height;",
        driver.find_element(By.CSS_SELECTOR, "#participation svg"),
    )
    assert set(drawn) == set(numbers)
    for key, n in numbers.items():
        assert drawn[key] / scale == pytest.approx(n, abs=0.05), key
    other_weeks = plot.find_elements(By.CSS_SELECTOR, 'rect[data-week]:not([data-week="2026-01-05"])')
    assert other_weeks == []  # no activity in the seven weeks before
    shot = tmp_path / "chart.png"
    driver.find_element(By.CSS_SELECTOR, "#participation svg").screenshot(str(shot))
    print(f"screenshot of the chart: {shot}")


async def test_checkin_answer_link_form_in_chromium(site: Site, browser: object) -> None:
    """The signed answer link of a check-in e-mail: the form a reader fills in, without any script."""
    from datetime import timedelta

    from sqlmodel import select

    from bot import webaccess
    from storage.models import CheckinAnswer, Member

    driver: WebDriver = browser  # type: ignore[assignment]
    h = site.harness
    await h.say("ana", '/wg checkin "What did you finish?" every:monday at:10:00 tz:UTC')
    async with h.app.db.session() as s:
        kenji = (await s.exec(select(Member).where(Member.display_name == "kenji"))).one()
        assert kenji.id is not None
        path = await webaccess.signed_path(
            s, wg_id=kenji.wg_id, member_id=kenji.id, purpose="answer", subject="C1:2026-01-05", now=h.clock.now()
        )
        await s.commit()
    h.clock.advance(timedelta(hours=2))  # Mon 5 Jan 11:00 UTC: the question has been asked
    await asyncio.to_thread(_answer_in_form, driver, site.url + path)
    async with h.app.db.session() as s:
        [row] = (await s.exec(select(CheckinAnswer))).all()
    assert (row.member_id, row.occurrence, row.text) == (kenji.id, "2026-01-05", "The <b>glossary</b> draft")


def _answer_in_form(driver: WebDriver, url: str) -> None:
    from selenium.webdriver.common.by import By

    driver.get(url)
    assert "What did you finish?" in driver.find_element(By.TAG_NAME, "main").text
    driver.find_element(By.ID, "answer").send_keys("The <b>glossary</b> draft")
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    _wait(driver, lambda d: "recorded" in d.find_element(By.TAG_NAME, "main").text)
