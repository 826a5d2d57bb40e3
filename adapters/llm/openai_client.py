"""The `LLM` port on the official `openai` async client: OpenAI itself or any compatible server
(vLLM, llama.cpp, Ollama, LM Studio, LiteLLM, Azure-style gateways) via `OPENAI_BASE_URL`.

- An explicit timeout per request (`WGBOT_LLM_TIMEOUT_SECONDS`) and bounded retries
  (`WGBOT_LLM_MAX_RETRIES`) on connection errors, 408/409/429 and 5xx; the client honours the server's
  `Retry-After` / `retry-after-ms` (up to a minute) and otherwise backs off exponentially.
- No tools, no functions: the model can only answer text.
- `store=False`: OpenAI does not keep the completion for distillation or evals; other servers ignore it.
- A 400 or 422 that names `response_format` / `json_schema` / `json_object` is the server refusing that
  output mode (llama.cpp's Python server accepts only `text` and `json_object`): `FormatUnsupported`,
  and the caller degrades. Any other failure is `LLMError`; the message never includes the API key.
"""

from __future__ import annotations

import logging
from typing import Any

import openai
from openai import AsyncOpenAI

from bot.config import Settings
from bot.llm import Completion, FormatUnsupported, LLMError, Message, Mode

log = logging.getLogger(__name__)
_FORMAT_WORDS = ("response_format", "json_schema", "json_object", "response format", "structured output")


class OpenAICompatibleLLM:
    def __init__(self, client: AsyncOpenAI, model: str) -> None:
        self.client = client
        self.model = model

    @classmethod
    def from_settings(cls, settings: Settings) -> OpenAICompatibleLLM:
        key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else "not-needed"
        client = AsyncOpenAI(
            api_key=key,
            base_url=settings.openai_base_url or None,
            timeout=settings.llm_timeout_seconds,
            max_retries=settings.llm_max_retries,
        )
        return cls(client, settings.llm_model)

    async def complete(
        self,
        messages: list[Message],
        *,
        mode: Mode,
        schema: dict[str, Any] | None = None,
        schema_name: str = "answer",
        max_tokens: int = 1024,
    ) -> Completion:
        kwargs: dict[str, Any] = {}
        if mode == "json_schema":
            kwargs["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": schema_name, "schema": schema or {}, "strict": True},
            }
        elif mode == "json_object":
            kwargs["response_format"] = {"type": "json_object"}
        try:
            resp = await self.client.chat.completions.create(
                model=self.model,
                messages=[{"role": m.role, "content": m.content} for m in messages],  # type: ignore[misc]
                max_tokens=max_tokens,
                temperature=0.2,
                store=False,
                **kwargs,
            )
        except (openai.BadRequestError, openai.UnprocessableEntityError) as exc:
            detail = _detail(exc)
            if mode != "text" and any(w in detail.lower() for w in _FORMAT_WORDS):
                raise FormatUnsupported(f"the server refused {mode}: {detail[:200]}") from exc
            raise LLMError(f"the server refused the request ({exc.status_code}): {detail[:200]}") from exc
        except openai.APIStatusError as exc:
            raise LLMError(f"the server answered {exc.status_code} ({_detail(exc)[:120]})") from exc
        except openai.APITimeoutError as exc:
            raise LLMError("the server did not answer in time") from exc
        except openai.APIConnectionError as exc:
            raise LLMError("the server could not be reached") from exc
        if not resp.choices:
            raise LLMError("the server answered without a choice")
        choice = resp.choices[0]
        if getattr(choice.message, "refusal", None):
            raise LLMError("the model refused to answer")
        usage = resp.usage
        return Completion(
            text=choice.message.content or "",
            model=resp.model or self.model,
            tokens_in=usage.prompt_tokens if usage else 0,
            tokens_out=usage.completion_tokens if usage else 0,
        )

    async def check(self) -> str:
        """Reachable, authorised, and (where the server lists models) serving the configured model."""
        try:
            page = await self.client.models.list()
        except openai.AuthenticationError as exc:
            raise LLMError("the server refused the API key (401): check OPENAI_API_KEY") from exc
        except openai.APIStatusError as exc:
            raise LLMError(f"GET /models answered {exc.status_code}") from exc
        except (openai.APITimeoutError, openai.APIConnectionError) as exc:
            raise LLMError(f"the server could not be reached at {self.client.base_url}") from exc
        names = [m.id async for m in page]
        if self.model not in names:
            shown = ", ".join(names[:5]) or "none"
            raise LLMError(f"the server does not list the model {self.model} (WGBOT_LLM_MODEL); it lists: {shown}")
        return f"reachable at {self.client.base_url}, model {self.model} listed"

    async def close(self) -> None:
        await self.client.close()


def _detail(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, dict):
            return str(err.get("message") or err.get("detail") or err)
        return str(err)
    return str(body or exc.message)
