"""A thread written for the tests: its decisions, action items and questions are known in advance."""

from __future__ import annotations

FIXTURE = [
    ("alice", "Welcome everyone. Today we need to settle the threat taxonomy for the AI red-teaming paper."),
    ("bob", "I looked at MITRE ATLAS and the OWASP LLM Top 10; both cover prompt injection well."),
    ("carol", "Does the taxonomy need to cover model theft as well, or is that out of scope?"),
    ("alice", "Model theft is in scope: it appears in both frameworks."),
    ("dan", "The private sector members prefer ATLAS because their tooling already maps to it."),
    ("bob", "We agreed to use MITRE ATLAS as the primary taxonomy, with OWASP as a cross-reference."),
    ("carol", "I'll write the mapping table between ATLAS and OWASP by friday."),
    ("dan", "Action: bob to contact the government liaison before the next meeting."),
    ("alice", "Who will review the civil society submissions on human rights impacts?"),
    ("bob", "Decision: the paper will be published under CC BY 4.0."),
    ("dan", "What budget do we have for the external review?"),
]
DECISIONS = ("MITRE ATLAS as the primary taxonomy", "published under CC BY 4.0")
ACTIONS = (
    ("mapping table between ATLAS and OWASP", "carol", "friday"),
    ("contact the government liaison", "bob", None),
)
QUESTIONS = ("review the civil society submissions", "budget do we have for the external review")
ANSWERED = "cover model theft"
