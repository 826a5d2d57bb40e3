"""Language-model adapters: the OpenAI-compatible client behind the core's `bot.llm.LLM` port."""

from __future__ import annotations

from bot.config import Settings
from bot.llm import LLM


def llm_from_settings(settings: Settings) -> LLM | None:
    """The configured model, or None (the offline summarizer answers) when no endpoint is set."""
    if not settings.llm_configured:
        return None
    from adapters.llm.openai_client import OpenAICompatibleLLM

    return OpenAICompatibleLLM.from_settings(settings)
