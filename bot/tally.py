"""Counting votes: pure functions, one per method, no database and no clock.

Every method returns a `Result` that is stored with the vote when it closes (so a closed vote's
result never changes) and rendered by `bot.services.vote_render`.

Rules, stated once:
- **consent**: adopted when agree > disagree and nobody blocks; abstentions count for turnout only.
- **yes-no**: adopted when yes > no (a tie is not a majority: rejected).
- **choice** (one option), **approval** and **time** (any number of options): most votes wins.
- **score** (0–5 per option): highest mean wins; an option a voter left unscored counts as 0 on
  that ballot, so an option one enthusiast scored cannot beat one everyone scored.
- **ranked**: instant runoff — each round counts every ballot for its highest-ranked option still in
  the race; an option with more than half of the ballots still counting wins, otherwise the option
  with the fewest is eliminated. The Condorcet winner (the option that beats each other one head to
  head; unranked options rank below ranked ones) is reported when one exists, and the result says so
  when it differs from the instant-runoff winner.
- **Ties** (the documented rule): the option listed first wins; in an instant-runoff round, of the
  options tied for fewest, the one listed last is eliminated. The result says when the rule decided.
- **Quorum**: fewer ballots than the quorum → "no quorum", no winner, nothing adopted.
- **balanced**: each stakeholder group that voted weighs the same in total (a ballot's weight is
  ballots ÷ (groups × ballots in its group)), so totals keep the scale of one ballot per voter.
- **Cross-stakeholder flag**: a stakeholder group that voted, a majority of whose voters oppose the
  outcome: voted disagree/block on an adopted consent (agree on one not adopted), no on an adopted
  yes-no (yes on a rejected one), did not choose / approve the winner, scored it below their own
  highest score, or ranked another option above it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field

ANSWERS: dict[str, tuple[str, ...]] = {
    "consent": ("agree", "abstain", "disagree", "block"),
    "yes-no": ("yes", "no", "abstain"),
}
METHODS = ("consent", "yes-no", "choice", "approval", "score", "ranked", "time")
OPTION_METHODS = ("choice", "approval", "score", "ranked", "time")
MAX_SCORE = 5
TIE_RULE = "ties go to the option listed first (in a runoff round, the one listed last is eliminated)"
_EPS = 1e-9


@dataclass(frozen=True)
class Cast:
    """One counted ballot: `choice` is {"answer": str} | {"options": [i]} | {"scores": {"i": s}} |
    {"ranking": [i, …]} with option indexes."""

    choice: dict[str, Any]
    group: str
    region: str | None = None


class Round(BaseModel):
    counts: list[float]
    """per option (index), None-like 0 for eliminated ones"""
    remaining: list[int]
    eliminated: int | None = None


class Part(BaseModel):
    """The ballots of one stakeholder group or region, unweighted."""

    n: int
    totals: list[float]
    opposed: int = 0


class Result(BaseModel):
    method: str
    labels: list[str]
    roll: int
    cast: int
    quorum: int | None = None
    quorum_met: bool = True
    balanced: bool = False
    totals: list[float] = Field(default_factory=list)
    winner: int | None = None
    adopted: bool | None = None
    outcome: str = ""
    tie_note: str | None = None
    rounds: list[Round] = Field(default_factory=list)
    condorcet: int | None = None
    condorcet_note: str | None = None
    by_group: dict[str, Part] = Field(default_factory=dict)
    by_region: dict[str, Part] = Field(default_factory=dict)
    opposed_by: list[str] = Field(default_factory=list)


def letter(i: int) -> str:
    """0 → A, 25 → Z, 26 → AA (spreadsheet columns), so 100 options stay addressable."""
    out = ""
    i += 1
    while i:
        i, rem = divmod(i - 1, 26)
        out = chr(65 + rem) + out
    return out


def labels(method: str, options: list[str]) -> list[str]:
    if method in ANSWERS:
        return list(ANSWERS[method])
    return [f"{letter(i)}: {o}" for i, o in enumerate(options)]


def weights(casts: list[Cast], balanced: bool) -> list[float]:
    if not balanced or not casts:
        return [1.0] * len(casts)
    sizes: dict[str, int] = {}
    for c in casts:
        sizes[c.group] = sizes.get(c.group, 0) + 1
    return [len(casts) / (len(sizes) * sizes[c.group]) for c in casts]


def _ranking_totals(casts: list[Cast], ws: list[float], n: int) -> list[float]:
    """First preferences (for totals and breakdowns of a ranked vote)."""
    totals = [0.0] * n
    for c, w in zip(casts, ws, strict=True):
        ranking = c.choice.get("ranking", [])
        if ranking:
            totals[ranking[0]] += w
    return totals


def totals_for(method: str, casts: list[Cast], ws: list[float], n: int) -> list[float]:
    totals = [0.0] * n
    if method in ANSWERS:
        keys = ANSWERS[method]
        for c, w in zip(casts, ws, strict=True):
            totals[keys.index(c.choice["answer"])] += w
    elif method == "choice":
        for c, w in zip(casts, ws, strict=True):
            totals[c.choice["options"][0]] += w
    elif method in ("approval", "time"):
        for c, w in zip(casts, ws, strict=True):
            for i in c.choice["options"]:
                totals[i] += w
    elif method == "score":
        weight = sum(ws)
        for c, w in zip(casts, ws, strict=True):
            for key, s in c.choice["scores"].items():
                totals[int(key)] += w * s
        totals = [t / weight if weight else 0.0 for t in totals]
    elif method == "ranked":
        totals = _ranking_totals(casts, ws, n)
    return totals


def best(totals: list[float], among: list[int] | None = None) -> tuple[int | None, list[int]]:
    """The highest total (ties: listed first) and every option tied at the top."""
    pool = among if among is not None else list(range(len(totals)))
    if not pool:
        return None, []
    top = max(totals[i] for i in pool)
    tied = [i for i in pool if abs(totals[i] - top) < _EPS]
    return tied[0], tied


def irv(casts: list[Cast], ws: list[float], n: int) -> tuple[int | None, list[Round], str | None]:
    """Instant runoff. Each ballot sits in the pile of its highest-ranked remaining option; an
    eliminated option's pile moves to each ballot's next choice, so a round touches only the ballots
    that move (100,000 ballots over 10 options: well under a second). Piles stay in ballot order and
    each round's counts are summed in that order, so the figures are exactly those of recounting
    every ballot each round."""
    rankings = [c.choice.get("ranking", []) for c in casts]
    at = [0] * len(casts)  # index into each ranking of its current choice
    piles: list[list[int]] = [[] for _ in range(n)]
    for k, ranking in enumerate(rankings):
        if ranking:
            piles[ranking[0]].append(k)
    remaining = list(range(n))
    alive = set(remaining)
    rounds: list[Round] = []
    notes: list[str] = []

    def tie_note() -> str | None:
        return "; ".join(notes) or None

    weight = ws.__getitem__
    unweighted = all(w == 1.0 for w in ws)  # then a pile's count is its size, exactly
    while remaining:
        counts = [0.0] * n
        for i in remaining:
            counts[i] = float(len(piles[i])) if unweighted else float(sum(map(weight, piles[i])))
        active = sum(counts)
        rnd = Round(counts=counts, remaining=list(remaining))
        rounds.append(rnd)
        if active <= _EPS:
            return None, rounds, tie_note()
        leader, _ = best(counts, remaining)
        assert leader is not None
        if counts[leader] > active / 2 + _EPS or len(remaining) == 1:
            return leader, rounds, tie_note()
        low = min(counts[i] for i in remaining)
        tied = [i for i in remaining if abs(counts[i] - low) < _EPS]
        out = tied[-1]
        if len(tied) > 1:
            names = ", ".join(letter(i) for i in tied)
            notes.append(f"round {len(rounds)}: {names} tied for fewest; {letter(out)} (listed last) was eliminated")
        rnd.eliminated = out
        remaining.remove(out)
        alive.discard(out)
        moved: set[int] = set()
        for k in piles[out]:
            ranking, j = rankings[k], at[k] + 1
            while j < len(ranking) and ranking[j] not in alive:
                j += 1
            at[k] = j
            if j < len(ranking):
                piles[ranking[j]].append(k)
                moved.add(ranking[j])
        piles[out] = []
        for i in moved:
            piles[i].sort()
    return None, rounds, tie_note()


def pairwise(casts: list[Cast], ws: list[float], n: int) -> list[list[float]]:
    """d[i][j]: weight of ballots ranking i above j (an unranked option ranks below every ranked one).

    A ballot ranks each of its options above exactly the options not yet seen at that point of its
    ranking; identical (option, options-below) pairs are summed first, then spread over the matrix,
    instead of n² checks per ballot."""
    full = (1 << n) - 1
    by_ranking: dict[tuple[int, ...], float] = {}
    for c, w in zip(casts, ws, strict=True):
        ranked = tuple(c.choice.get("ranking", ()))
        by_ranking[ranked] = by_ranking.get(ranked, 0.0) + w
    above: dict[int, float] = {}  # key: option << n | options below it
    get = above.get
    for ranking, w in by_ranking.items():
        seen = 0
        for i in ranking:
            seen |= 1 << i
            slot = i << n | (full ^ seen)
            above[slot] = get(slot, 0.0) + w
    d = [[0.0] * n for _ in range(n)]
    for slot, w in above.items():
        i, below = slot >> n, slot & full
        row = d[i]
        for j in range(n):
            if below >> j & 1:
                row[j] += w
    return d


def condorcet(casts: list[Cast], ws: list[float], n: int) -> int | None:
    d = pairwise(casts, ws, n)
    for i in range(n):
        if all(d[i][j] > d[j][i] + _EPS for j in range(n) if j != i):
            return i
    return None


def opposes(method: str, choice: dict[str, Any], result: Result) -> bool:
    """Does this ballot oppose the outcome? (see the module docstring)"""
    if method in ANSWERS:
        answer = choice["answer"]
        if method == "consent":
            return answer in ("disagree", "block") if result.adopted else answer == "agree"
        return answer == "no" if result.adopted else answer == "yes"
    w = result.winner
    if w is None:
        return False
    if method in ("choice", "approval", "time"):
        return w not in choice["options"]
    if method == "score":
        scores = {int(k): v for k, v in choice["scores"].items()}
        return scores.get(w, 0) < max(scores.values(), default=0)
    ranking = choice.get("ranking", [])
    return w not in ranking or ranking[0] != w


def _parts(method: str, casts: list[Cast], n: int, key: str, result: Result) -> dict[str, Part]:
    if method == "ranked":
        return _ranked_parts(casts, n, key, result)
    buckets: dict[str, list[Cast]] = {}
    for c in casts:
        name = (c.group if key == "group" else c.region) or "no region given"
        buckets.setdefault(name, []).append(c)
    out: dict[str, Part] = {}
    for name in sorted(buckets):
        members = buckets[name]
        ones = [1.0] * len(members)
        decided = result.quorum_met and (result.adopted is not None or result.winner is not None)
        opposed = sum(1 for c in members if decided and opposes(method, c.choice, result))
        out[name] = Part(n=len(members), totals=totals_for(method, members, ones, n), opposed=opposed)
    return out


def _ranked_parts(casts: list[Cast], n: int, key: str, result: Result) -> dict[str, Part]:
    """`_parts` for a ranked vote in one pass: a part's totals are its first preferences, and a ballot
    opposes the winner unless it ranks the winner first (see `opposes`)."""
    firsts: dict[str, list[int]] = {}
    sizes: dict[str, int] = {}
    for c in casts:
        name = (c.group if key == "group" else c.region) or "no region given"
        row = firsts.get(name)
        if row is None:
            row = firsts[name] = [0] * n
            sizes[name] = 0
        sizes[name] += 1
        ranking = c.choice.get("ranking")
        if ranking:
            row[ranking[0]] += 1
    decided = result.quorum_met and (result.adopted is not None or result.winner is not None)
    w = result.winner
    out: dict[str, Part] = {}
    for name in sorted(firsts):
        row = firsts[name]
        opposed = sizes[name] - row[w] if decided and w is not None else 0
        out[name] = Part(n=sizes[name], totals=[float(x) for x in row], opposed=opposed)
    return out


def tally(
    method: str,
    options: list[str],
    casts: list[Cast],
    *,
    roll: int,
    quorum: int | None = None,
    balanced: bool = False,
) -> Result:
    """Count `casts` (the last ballot of each voter) for a vote on `options` with `roll` voters."""
    names = labels(method, options)
    n = len(names)
    ws = weights(casts, balanced)
    result = Result(method=method, labels=names, roll=roll, cast=len(casts), quorum=quorum, balanced=balanced)
    result.totals = totals_for(method, casts, ws, n)
    result.quorum_met = quorum is None or len(casts) >= quorum
    if not result.quorum_met:
        result.outcome = f"no quorum: {len(casts)} ballot(s), {quorum} needed"
    elif not casts:
        result.outcome = "no ballots were cast"
    elif method == "consent":
        agree, _, disagree, _ = result.totals
        blocks = sum(1 for c in casts if c.choice["answer"] == "block")
        result.adopted = blocks == 0 and agree > disagree + _EPS
        if blocks:
            result.outcome = f"not adopted: blocked ({blocks} block{'s' if blocks > 1 else ''})"
        elif result.adopted:
            result.outcome = "adopted by consent"
        else:
            result.outcome = "not adopted: disagree is not outweighed by agree"
    elif method == "yes-no":
        yes, no, _ = result.totals
        result.adopted = yes > no + _EPS
        if result.adopted:
            result.outcome = "adopted: yes has the majority"
        elif abs(yes - no) < _EPS:
            result.outcome = "rejected: yes and no are tied (a tie is not a majority)"
        else:
            result.outcome = "rejected: no has the majority"
    elif method == "ranked":
        result.winner, result.rounds, result.tie_note = irv(casts, ws, n)
        result.condorcet = condorcet(casts, ws, n)
        if result.winner is not None:
            result.outcome = f"{names[result.winner]} wins the instant runoff"
        if result.condorcet is None:
            result.condorcet_note = "no Condorcet winner (no option beats every other head to head)"
        elif result.condorcet != result.winner:
            result.condorcet_note = (
                f"the Condorcet winner is {names[result.condorcet]}, which differs from the instant-runoff winner"
            )
        else:
            result.condorcet_note = f"{letter(result.condorcet)} is also the Condorcet winner"
    else:
        result.winner, tied = best(result.totals)
        if len(tied) > 1:
            result.tie_note = f"{', '.join(letter(i) for i in tied)} tied; {letter(tied[0])} (listed first) wins"
        assert result.winner is not None
        result.outcome = f"{names[result.winner]} wins"
    result.by_group = _parts(method, casts, n, "group", result)
    result.by_region = _parts(method, casts, n, "region", result)
    result.opposed_by = [g for g, p in result.by_group.items() if p.opposed * 2 > p.n]
    return result
