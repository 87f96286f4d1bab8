"""OpenAI and every OpenAI-compatible server (Ollama, vLLM, LM Studio, llama.cpp) by `base_url`.

One chat completion per request (system + user message) through the official SDK with its own
retries off: the queue owns retries. The body is streamed, read up to the size limit and
parsed here, so a garbage, oversized or incomplete answer becomes a clear `ProviderError`
instead of whatever the SDK's models make of it.
"""

from __future__ import annotations

from typing import Any

import openai

from contextree.engine.providers.base import (
    GenerationRequest,
    GenerationResponse,
    ProviderConfig,
)
from contextree.engine.providers.http_errors import optional_int
from contextree.engine.providers.remote import RemoteProvider
from contextree.errors import ProviderError
from contextree.secrets import redact_url


class OpenAIProvider(RemoteProvider):
    """A provider speaking the OpenAI chat-completions API."""

    def __init__(self, config: ProviderConfig, *, api_key: str) -> None:
        super().__init__(config, api_key=api_key)
        try:
            self._client = openai.AsyncOpenAI(
                api_key=api_key,
                base_url=config.base_url,
                timeout=config.timeout_s,
                max_retries=0,
            )
        except Exception as exc:  # the SDK rejects a bad base_url with its own exceptions
            raise self._setup_error(exc) from None

    @property
    def target(self) -> str:
        return redact_url(str(self._client.base_url))

    async def generate(self, request: GenerationRequest) -> GenerationResponse:
        try:
            async with self._client.chat.completions.with_streaming_response.create(
                model=self.model,
                messages=[
                    {"role": "system", "content": request.system_prompt},
                    {"role": "user", "content": request.user_prompt},
                ],
                **self._sampling_options(),
            ) as raw:
                status_code = raw.status_code
                content = await self._read_limited(raw)
        except openai.OpenAIError as exc:
            raise self._map_error(exc) from None
        body = self._read_body(content, status_code)
        return self._parse_completion(body, status_code)

    async def aclose(self) -> None:
        await self._client.close()

    def _sampling_options(self) -> dict[str, Any]:
        options: dict[str, Any] = {"max_tokens": self._config.max_tokens}
        if self._config.temperature is not None:
            options["temperature"] = self._config.temperature
        return options

    def _parse_completion(self, body: dict[str, Any], status_code: int) -> GenerationResponse:
        choices = body.get("choices")
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            raise self._bad_response("no choices in the completion", status_code)
        message = choices[0].get("message")
        content = _message_text(message.get("content") if isinstance(message, dict) else None)
        if not content.strip():
            raise self._bad_response("the completion has no content", status_code)
        usage = body.get("usage")
        usage = usage if isinstance(usage, dict) else {}
        model = body.get("model")
        return GenerationResponse(
            content=content,
            model=model if isinstance(model, str) and model else self.model,
            input_tokens=optional_int(usage.get("prompt_tokens")),
            output_tokens=optional_int(usage.get("completion_tokens")),
        )

    def _map_error(self, exc: openai.OpenAIError) -> ProviderError:
        if isinstance(exc, openai.APITimeoutError):
            return self._timeout_error()
        if isinstance(exc, openai.APIConnectionError):
            return self._connection_error(exc, exc.message)
        if isinstance(exc, openai.APIStatusError):
            return self._status_error(exc.status_code, exc.response.headers, exc.body)
        if isinstance(exc, openai.APIResponseValidationError):
            return self._bad_response(exc.message, exc.status_code)
        return self._unexpected_error(exc)


def _message_text(content: object) -> str:
    """A message's text: a string, or the text parts of a list of content parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [part.get("text") for part in content if isinstance(part, dict)]
        return "".join(part for part in parts if isinstance(part, str))
    return ""
