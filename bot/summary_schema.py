"""The shape of a thread summary, as the model must return it and as it is stored.

The model's JSON is validated against `SummaryDoc` in code whatever the server promised; limits on
counts and lengths are applied afterwards by the output filter (bot/spotlight.py) rather than by
rejecting an otherwise useful answer. `sources` are the message labels of the transcript (`m12`),
mapped back to links by the renderer; speakers are pseudonyms (`Person-3`) until mapped back.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Point(BaseModel):
    model_config = ConfigDict(extra="ignore")
    text: str
    sources: list[str] = Field(default_factory=list)


class ActionItem(Point):
    owner: str | None = None
    due: str | None = None


class Position(BaseModel):
    model_config = ConfigDict(extra="ignore")
    group: str
    position: str
    sources: list[str] = Field(default_factory=list)


class SummaryDoc(BaseModel):
    model_config = ConfigDict(extra="ignore")
    tldr: str
    key_points: list[Point] = Field(default_factory=list)
    decisions: list[Point] = Field(default_factory=list)
    action_items: list[ActionItem] = Field(default_factory=list)
    open_questions: list[Point] = Field(default_factory=list)
    positions: list[Position] = Field(default_factory=list)

    def dump(self) -> str:
        return json.dumps(self.model_dump(), ensure_ascii=False)


def _strict(schema: dict[str, Any]) -> dict[str, Any]:
    """OpenAI's strict structured outputs want every property required and no extra properties."""
    if schema.get("type") == "object":
        props = schema.get("properties", {})
        schema["required"] = list(props)
        schema["additionalProperties"] = False
        for sub in props.values():
            _strict(sub)
    for key in ("items", "anyOf"):
        sub = schema.get(key)
        if isinstance(sub, dict):
            _strict(sub)
        elif isinstance(sub, list):
            for s in sub:
                _strict(s)
    for sub in schema.get("$defs", {}).values():
        _strict(sub)
    schema.pop("default", None)
    for sub in schema.get("properties", {}).values():
        sub.pop("default", None)
        sub.pop("title", None)
    return schema


def summary_json_schema() -> dict[str, Any]:
    return _strict(SummaryDoc.model_json_schema())


def parse_json_answer(text: str) -> dict[str, Any]:
    """The JSON object in a model's answer: tolerate a ```json fence or prose around it (plain-text mode)."""
    t = text.strip()
    if t.startswith("```"):
        t = t.strip("`")
        t = t[4:] if t.lower().startswith("json") else t
    start, end = t.find("{"), t.rfind("}")
    if start < 0 or end < start:
        raise ValueError("no JSON object in the answer")
    value = json.loads(t[start : end + 1])
    if not isinstance(value, dict):
        raise ValueError("the answer is not a JSON object")
    return value
