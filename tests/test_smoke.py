from tests.conftest import Harness


async def test_proposal_is_announced_once_per_platform(harness: Harness) -> None:
    await harness.say("ana", "/wg join civil-society region:weog tz:Europe/Lisbon")
    r = await harness.say("ana", '/wg propose "Shared taxonomy" One taxonomy for AI incidents.')
    assert r.replies[0].private
    platforms = sorted(m.destination.platform for m in harness.sent() if m.kind == "announcement")
    assert platforms == ["console", "discord", "slack"]
