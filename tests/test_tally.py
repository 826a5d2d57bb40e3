"""The counting rules of bot/tally.py, table-driven, with outcomes computed by hand (in the comments)."""

from __future__ import annotations

from typing import Any

import pytest

from bot.choices import read_ballot
from bot.errors import UserError
from bot.tally import Cast, best, letter, tally

OPTS = ["Geneva", "Nairobi", "Bangkok"]


def casts(method: str, *ballots: str, group: str = "academia") -> list[Cast]:
    """Ballots as people type them, read by the real ballot reader."""
    return [Cast(choice=read_ballot(method, OPTS, b), group=group, region="weog") for b in ballots]


def answers(method: str, *pairs: tuple[str, str, str | None]) -> list[Cast]:
    return [Cast(choice={"answer": a}, group=g, region=r) for a, g, r in pairs]


CASES: list[tuple[str, str, list[Cast], dict[str, Any]]] = [
    # consent: agree 2 > disagree 1, no block → adopted
    (
        "consent adopted",
        "consent",
        casts("consent", "agree", "agree", "disagree", "abstain"),
        {"adopted": True, "totals": [2, 1, 1, 0], "outcome": "adopted by consent"},
    ),
    # one block stops adoption whatever the agrees
    (
        "consent blocked",
        "consent",
        casts("consent", "agree", "agree", "agree", "block"),
        {"adopted": False, "outcome": "not adopted: blocked (1 block)"},
    ),
    # yes 1 = no 1: a tie is not a majority
    (
        "yes-no tie",
        "yes-no",
        casts("yes-no", "yes", "no", "abstain"),
        {"adopted": False, "totals": [1, 1, 1], "outcome": "rejected: yes and no are tied (a tie is not a majority)"},
    ),
    # choice: A 2, B 2, C 1 → tie between A and B, A listed first wins
    (
        "choice tie",
        "choice",
        casts("choice", "A", "geneva", "B", "Nairobi", "C"),
        {"winner": 0, "totals": [2, 2, 1], "tie_note": "A, B tied; A (listed first) wins"},
    ),
    # approval: {A,B}, {B}, {B,C} → A 1, B 3, C 1
    ("approval", "approval", casts("approval", "A, B", "B", "B, C"), {"winner": 1, "totals": [1, 3, 1]}),
    # score: unscored counts 0 → A (5+0+0)/3 = 1.67, B (3+4+5)/3 = 4, C 0 → B
    (
        "score",
        "score",
        casts("score", "A=5, B=3", "A=0, B=4", "B=5"),
        {"winner": 1, "totals": [5 / 3, 4.0, 0.0]},
    ),
    # quorum 3, 2 ballots → no quorum, nothing adopted
    (
        "quorum miss",
        "yes-no",
        casts("yes-no", "yes", "yes"),
        {"quorum": 3, "quorum_met": False, "adopted": None, "outcome": "no quorum: 2 ballot(s), 3 needed"},
    ),
]


@pytest.mark.parametrize(("name", "method", "ballots", "expected"), CASES, ids=[c[0] for c in CASES])
def test_methods(name: str, method: str, ballots: list[Cast], expected: dict[str, Any]) -> None:
    quorum = expected.pop("quorum", None)
    r = tally(method, [] if method in ("consent", "yes-no") else OPTS, ballots, roll=10, quorum=quorum)
    for key, value in expected.items():
        got = getattr(r, key)
        if key == "totals":
            assert got == pytest.approx(value), name
        else:
            assert got == value, (name, key, got)


def test_ranked_irv_and_condorcet_differ() -> None:
    # 4 × A>B>C, 3 × C>B>A, 2 × B>C>A.  Round 1: A 4, C 3, B 2 → B out; its 2 go to C: C 5 > A 4 → C.
    # Head to head B beats A 5–4 and C 6–3: B is the Condorcet winner, not C.
    ballots = casts("ranked", *["A > B > C"] * 4, *["C > B > A"] * 3, *["B > C > A"] * 2)
    r = tally("ranked", OPTS, ballots, roll=9)
    assert r.winner == 2 and r.condorcet == 1
    assert [rd.counts for rd in r.rounds] == [[4, 2, 3], [4, 0, 5]]
    assert r.rounds[0].eliminated == 1 and r.rounds[1].eliminated is None
    assert "the Condorcet winner is B: Nairobi, which differs" in (r.condorcet_note or "")


def test_ranked_cycle_has_no_condorcet_winner_and_a_tie_rule_elimination() -> None:
    # A>B>C, B>C>A, C>A>B: each pair 2–1 in a cycle → no Condorcet winner.
    # Round 1: 1 each, all tied for fewest → C (listed last) out; C>A>B moves to A: A 2, B 1 → A.
    r = tally("ranked", OPTS, casts("ranked", "A > B > C", "B > C > A", "C > A > B"), roll=3)
    assert r.condorcet is None and "no Condorcet winner" in (r.condorcet_note or "")
    assert r.winner == 0 and r.rounds[0].eliminated == 2
    assert r.tie_note == "round 1: A, B, C tied for fewest; C (listed last) was eliminated"


def test_balanced_weighs_each_stakeholder_group_equally_and_flags_opposition() -> None:
    ballots = answers(
        "consent",
        ("agree", "civil-society", "weog"),
        ("agree", "civil-society", "african"),
        ("agree", "civil-society", "african"),
        ("disagree", "government", None),
    )
    plain = tally("consent", [], ballots, roll=4)
    # 3 agree > 1 disagree: adopted, but all of government (1 of 1) opposes
    assert plain.adopted is True and plain.opposed_by == ["government"]
    assert plain.by_group["civil-society"].totals == [3, 0, 0, 0] and plain.by_group["government"].opposed == 1
    assert plain.by_region["african"].n == 2 and plain.by_region["no region given"].n == 1
    # balanced: civil-society 3 × 4/(2·3) = 2 agree, government 1 × 4/(2·1) = 2 disagree → not adopted
    balanced = tally("consent", [], ballots, roll=4, balanced=True)
    assert balanced.totals == pytest.approx([2, 0, 2, 0]) and balanced.adopted is False
    assert balanced.opposed_by == ["civil-society"]


def test_time_poll_and_no_ballots() -> None:
    r = tally("time", OPTS, casts("time", "A, C", "C", "none"), roll=3)
    assert r.winner == 2 and r.totals == [1, 0, 2]
    empty = tally("choice", OPTS, [], roll=3)
    assert empty.winner is None and empty.outcome == "no ballots were cast"


@pytest.mark.parametrize(
    ("method", "text", "error"),
    [
        ("choice", "D", "`D` is not an option"),
        ("score", "A=6", "Scores go from 0 to 5"),
        ("score", "A=-1", "Scores go from 0 to 5"),
        ("score", "A=2, a=3", "A is scored twice"),
        ("ranked", "B > A > B", "B is ranked twice"),
        ("ranked", "B > Z", "`Z` is not an option"),
        ("consent", "maybe", "Answer one of: agree, abstain, disagree, block"),
        ("approval", "A, A", "A is named twice"),
    ],
)
def test_bad_ballots_are_refused_with_the_reason(method: str, text: str, error: str) -> None:
    opts = OPTS if method not in ("consent", "yes-no") else []
    with pytest.raises(UserError) as exc:
        read_ballot(method, opts, text)
    assert error in exc.value.message


def test_letters_go_past_z() -> None:
    assert [letter(i) for i in (0, 25, 26, 27, 99)] == ["A", "Z", "AA", "AB", "CV"]


def test_ranked_names_every_round_the_tie_rule_decided() -> None:
    # A 3, B 2, C 1, D 1 → C, D tied for fewest: D (listed last) out; D>C>B moves to C.
    # A 3, B 2, C 2 → B, C tied: C out; C>B and D>C>B move to B. A 3, B 4 → B wins.
    def ranked(*order: int) -> Cast:
        return Cast(choice={"ranking": list(order)}, group="academia", region="weog")

    ballots = [ranked(0), ranked(0), ranked(0), ranked(1), ranked(1), ranked(2, 1), ranked(3, 2, 1)]
    r = tally("ranked", ["a", "b", "c", "d"], ballots, roll=7)
    assert r.winner == 1 and [rd.eliminated for rd in r.rounds] == [3, 2, None]
    assert r.tie_note == (
        "round 1: C, D tied for fewest; D (listed last) was eliminated; "
        "round 2: B, C tied for fewest; C (listed last) was eliminated"
    )


def _irv_reference(casts: list[Cast], ws: list[float], n: int) -> tuple[int | None, list[list[float]]]:
    """Instant runoff the obvious way: every round recounts every ballot (what bot.tally.irv must equal)."""
    remaining, rounds = list(range(n)), []
    while remaining:
        counts = [0.0] * n
        for c, w in zip(casts, ws, strict=True):
            top = next((i for i in c.choice.get("ranking", []) if i in remaining), None)
            if top is not None:
                counts[top] += w
        rounds.append(counts)
        active = sum(counts)
        if active <= 1e-9:
            return None, rounds
        leader, _ = best(counts, remaining)
        assert leader is not None
        if counts[leader] > active / 2 + 1e-9 or len(remaining) == 1:
            return leader, rounds
        low = min(counts[i] for i in remaining)
        remaining.remove([i for i in remaining if abs(counts[i] - low) < 1e-9][-1])
    return None, rounds


def _pairwise_reference(casts: list[Cast], ws: list[float], n: int) -> list[list[float]]:
    d = [[0.0] * n for _ in range(n)]
    for c, w in zip(casts, ws, strict=True):
        pos = {opt: k for k, opt in enumerate(c.choice.get("ranking", []))}
        for i in range(n):
            for j in range(n):
                if i != j and i in pos and pos[i] < pos.get(j, n + 1):
                    d[i][j] += w
    return d


def test_fast_ranked_count_equals_the_obvious_one() -> None:
    """irv moves only an eliminated option's ballots and pairwise sums identical rankings first (for
    100k ballots in well under a second): on random partial rankings, with and without group
    weights, they give exactly what recounting every ballot gives."""
    import random

    from bot.tally import irv, pairwise, weights

    for seed in range(300):
        rng = random.Random(seed)
        n = rng.randint(1, 6)
        casts = []
        for _ in range(rng.randint(0, 40)):
            pool = rng.sample(range(n), n)
            casts.append(Cast({"ranking": pool[: rng.randint(0, n)]}, rng.choice("abc")))
        for balanced in (False, True):
            ws = weights(casts, balanced)
            winner, rounds, _ = irv(casts, ws, n)
            assert (winner, [r.counts for r in rounds]) == _irv_reference(casts, ws, n), seed
            fast, slow = pairwise(casts, ws, n), _pairwise_reference(casts, ws, n)
            assert all(abs(a - b) < 1e-9 for x, y in zip(fast, slow, strict=True) for a, b in zip(x, y, strict=True))
