"""How votes look: the card with the way to vote, ballot receipts and results. Pure functions.

Counts appear only when the vote is not `hidden` or has closed. An `anonymous` vote never shows who
chose what: results list reasons without names, breakdown rows of fewer than `MIN_CELL` voters are
folded together (a group of one would name its voter), the receipt does not repeat the choice, and
its cards show participation only (a card updated the moment someone clicks would tell their choice).
"""

from __future__ import annotations

from datetime import datetime

from bot.reply import Actions, Block, Button, Context, Divider, Fields, Heading, Option, Reply, Select, Text
from bot.tally import ANSWERS, MAX_SCORE, TIE_RULE, Part, Result, letter
from bot.timefmt import fmt, fmt_short
from storage.models import Vote

#: an anonymous vote's breakdown shows no group or region with fewer voters than this
MIN_CELL = 3
#: more options than this: no select menu (Discord's limit), the voter types or uses the form
SELECT_MAX = 25
METHOD_NAMES = {
    "consent": "consent (agree / abstain / disagree / block)",
    "yes-no": "yes / no",
    "choice": "one choice",
    "approval": "approval (any number of options)",
    "score": f"score (0–{MAX_SCORE} per option, highest mean wins)",
    "ranked": "ranked (instant runoff, Condorcet winner reported)",
    "time": "time poll (pick every slot that works for you)",
}
HOW = {
    "consent": 'agree | abstain | disagree | block [reason:"…"]',
    "yes-no": "yes | no | abstain",
    "choice": "<letter>",
    "approval": '"A, C"',
    "time": '"A, C"',
    "score": '"A=5, B=2"',
    "ranked": '"B > A > C"',
}


def shown_options(vote: Vote, tz: str) -> list[str]:
    """Option texts as this reader reads them (time slots in their own zone)."""
    if vote.method != "time":
        return list(vote.options)
    return [fmt_short(datetime.fromisoformat(o.replace("Z", "+00:00")), tz) for o in vote.options]


def _flags(vote: Vote) -> str:
    flags = [f for f in ("anonymous", "hidden", "balanced") if getattr(vote, f)]
    return ", ".join(flags) if flags else "named, live results"


def ballot_ui(vote: Vote, tz: str) -> list[Block]:
    """The way to vote on this platform-neutral card: buttons, a select, or a form button."""
    ref = f"V{vote.number}"
    if vote.method == "consent":
        styles = {"agree": "primary", "block": "danger"}
        return [
            Actions(
                elements=[
                    Button(label=a.capitalize(), action=f"vote {ref} {a}", style=styles.get(a, "default"))
                    for a in ANSWERS["consent"]
                ]
            )
        ]
    if vote.method == "yes-no":
        return [
            Actions(
                elements=[
                    Button(label="Yes", action=f"vote {ref} yes", style="primary"),
                    Button(label="No", action=f"vote {ref} no"),
                    Button(label="Abstain", action=f"vote {ref} abstain"),
                ]
            )
        ]
    if vote.method in ("choice", "approval", "time") and len(vote.options) <= SELECT_MAX:
        opts = [Option(label=f"{letter(i)}: {o}"[:100], value=letter(i)) for i, o in enumerate(shown_options(vote, tz))]
        multi = vote.method != "choice"
        placeholder = "Pick every option you approve" if multi else "Pick one option"
        if vote.method == "time":
            placeholder = "Pick every slot that works for you"
        return [
            Actions(elements=[Select(placeholder=placeholder, action=f"vote {ref}", options=opts, multi=multi)]),
            Actions(elements=[Button(label="Vote with a reason", action=f"vote {ref}")]),
        ]
    blocks: list[Block] = [Actions(elements=[Button(label="Vote", action=f"vote {ref}", style="primary")])]
    if vote.method in ("choice", "approval", "time"):
        blocks.append(
            Context(text=f"{len(vote.options)} options are more than a menu holds: vote in the form or type it.")
        )
    return blocks


def participation(vote: Vote, cast: int, roll: int) -> str:
    return f"{cast} of {roll} voted"


def counts_line(result: Result) -> str:
    if result.method == "score":
        return " · ".join(f"{letter(i)} {t:.2f}" for i, t in enumerate(result.totals))
    keys = result.labels if result.method in ANSWERS else [letter(i) for i in range(len(result.labels))]
    return " · ".join(f"{k} {_num(t)}" for k, t in zip(keys, result.totals, strict=True))


def _num(x: float) -> str:
    return str(round(x)) if abs(x - round(x)) < 1e-9 else f"{x:.2f}"


def vote_card(
    vote: Vote,
    tz: str,
    *,
    cast: int,
    roll: int,
    live: Result | None,
    heading: str | None = None,
    subject: str | None = None,
) -> Reply:
    """The announcement (and `/wg show V<n>` card): what is decided, how, until when, and how to vote."""
    ref = f"V{vote.number}"
    fields: list[tuple[str, str]] = [("Method", METHOD_NAMES[vote.method])]
    if vote.status == "open":
        fields.append(("Closes", fmt(vote.closes_at, tz) if vote.closes_at else "when a convener closes it"))
    else:
        fields.append(("Closed", fmt(vote.closed_at, tz) if vote.closed_at else "closed"))
        if vote.outcome:
            fields.insert(0, ("Outcome", vote.outcome))
    if vote.quorum_count is not None:
        fields.append(("Quorum", f"{vote.quorum_count} ballot(s)"))
    elif vote.quorum_percent is not None:
        fields.append(("Quorum", f"{vote.quorum_percent}% of the roll"))
    fields.append(("Settings", _flags(vote)))
    fields.append(("Participation", participation(vote, cast, roll)))
    if live is not None and vote.status == "open":
        fields.append(("Counts so far", counts_line(live)))
    elif vote.hidden and vote.status == "open":
        fields.append(("Counts", "hidden until the vote closes"))
    blocks: list[Block] = [Heading(text=heading or f"{ref}: {vote.question}")]
    if subject:
        blocks.append(Text(text=subject))
    if vote.options:
        blocks.append(Text(text="\n".join(f"{letter(i)}: {o}" for i, o in enumerate(shown_options(vote, tz)))))
    blocks.append(Fields(items=fields))
    if vote.status == "open":
        blocks += ballot_ui(vote, tz)
        blocks.append(Context(text=f"Vote: /wg vote {ref} {HOW[vote.method]} · results: /wg results {ref}"))
    return Reply(blocks=blocks)


def receipt_reply(vote: Vote, choice_text: str, code: str, *, changed: bool | None, tz: str) -> Reply:
    """`changed`: True for a changed ballot, False for a first one, None for the same ballot again."""
    ref = f"V{vote.number}"
    verb = {True: "changed", False: "recorded", None: "unchanged"}[changed]
    what = "" if vote.anonymous else f": {choice_text}"
    until = f" until {fmt(vote.closes_at, tz)}" if vote.closes_at else " until it closes"
    lines = [f"Your ballot on {ref} is {verb}{what}. Receipt {code}."]
    if vote.anonymous:
        lines.append("This vote is anonymous: nobody is shown who chose what.")
    lines.append(f"You can change it{until}; the last ballot counts.")
    return Reply.text("\n".join(lines), private=True)


def _part_lines(parts: dict[str, Part], result: Result, anonymous: bool) -> list[str]:
    lines: list[str] = []
    folded = 0
    for name, p in parts.items():
        if anonymous and p.n < MIN_CELL:
            folded += p.n
            continue
        probe = Result(method=result.method, labels=result.labels, roll=0, cast=p.n, totals=p.totals)
        lines.append(f"{name} ({p.n}): {counts_line(probe)}")
    if folded:
        lines.append(f"{folded} ballot(s) from groups of fewer than {MIN_CELL} voters, not shown (anonymous vote)")
    return lines


def results_reply(
    vote: Vote,
    result: Result,
    tz: str,
    *,
    final: bool,
    ballots: list[tuple[str, str, str | None]] | None = None,
    heading: str | None = None,
) -> Reply:
    """Totals, outcome, turnout, runoff rounds, breakdowns and the cross-stakeholder flag.

    `ballots` (name, choice, reason) are listed for named votes; anonymous votes list reasons only."""
    ref = f"V{vote.number}"
    state = "final results" if final else "results so far (the vote is open)"
    blocks: list[Block] = [Heading(text=heading or f"{ref} {state}: {vote.question}")]
    if vote.options:
        blocks.append(Text(text="\n".join(f"{letter(i)}: {o}" for i, o in enumerate(shown_options(vote, tz)))))
    turnout = f"{result.cast} of {result.roll} ({(100 * result.cast // result.roll) if result.roll else 0}%)"
    items = [("Outcome", result.outcome or "—"), ("Turnout", turnout)]
    items.append(("Totals" + (" (group-balanced)" if result.balanced else ""), counts_line(result)))
    if result.quorum is not None:
        items.append(("Quorum", f"{result.quorum} needed, {'met' if result.quorum_met else 'not met'}"))
    blocks.append(Fields(items=items))
    if result.rounds:
        lines = []
        for k, r in enumerate(result.rounds, 1):
            counts = ", ".join(f"{letter(i)} {_num(r.counts[i])}" for i in r.remaining)
            out = f" → {letter(r.eliminated)} eliminated" if r.eliminated is not None else ""
            lines.append(f"Round {k}: {counts}{out}")
        blocks.append(Text(text="Instant runoff:\n" + "\n".join(lines)))
    notes = [n for n in (result.condorcet_note, result.tie_note and f"Tie rule: {result.tie_note}") if n]
    if notes:
        blocks.append(Text(text="\n".join(notes)))
    if result.by_group:
        blocks.append(
            Text(text="By stakeholder group:\n" + "\n".join(_part_lines(result.by_group, result, vote.anonymous)))
        )
    if result.by_region:
        blocks.append(Text(text="By region:\n" + "\n".join(_part_lines(result.by_region, result, vote.anonymous))))
    if result.opposed_by:
        shown = [g for g in result.opposed_by if not vote.anonymous or result.by_group[g].n >= MIN_CELL]
        hidden = len(result.opposed_by) - len(shown)
        text = ", ".join(shown)
        if hidden:
            text = (text + " and " if text else "") + f"{hidden} group(s) too small to name in an anonymous vote"
        blocks.append(Text(text=f"⚠ Cross-stakeholder flag: a majority of {text} opposes this outcome."))
    if ballots:
        if vote.anonymous:
            reasons = [f"• {reason}" for _, _, reason in ballots if reason]
            if reasons:
                blocks.append(Text(text="Reasons given (anonymous):\n" + "\n".join(reasons)))
        else:
            lines = [f"{n}: {c}" + (f" — {r}" if r else "") for n, c, r in ballots]
            blocks.append(Text(text="Ballots:\n" + "\n".join(lines)))
    blocks += [Divider(), Context(text=f"Tie rule: {TIE_RULE}. Verify the ballot log: wgbot audit verify {ref}")]
    return Reply(blocks=blocks)
