"""Anthropic's messages API through the official SDK, with the SDK's own retries off.

The system prompt goes in `system`, the rendered user prompt as the one user message, and
`max_tokens` comes from the config. `base_url` is passed as is: an Anthropic base has no `/v1`
(the SDK adds `/v1/messages`). The body is streamed, read up to the size limit and parsed
here, like the OpenAI provider, so an unusable answer is a clear `ProviderError`.
"""

from __future__ import annotations

from typing import Any

import anthropic

from contextree.engine.providers.base import (
    GenerationRequest,
    GenerationResponse,
    ProviderConfig,
)
from contextree.engine.providers.http_errors import optional_int
from contextree.engine.providers.remote import RemoteProvider
from contextree.errors import ProviderError
from contextree.secrets import redact_url


class AnthropicProvider(RemoteProvider):
    """A provider speaking the Anthropic messages API."""

    def __init__(self, config: ProviderConfig, *, api_key: str) -> None:
        super().__init__(config, api_key=api_key)
        try:
            self._client = anthropic.AsyncAnthropic(
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
            async with self._client.messages.with_streaming_response.create(
                model=self.model,
                max_tokens=self._config.max_tokens,
                system=request.system_prompt,
                messages=[{"role": "user", "content": request.user_prompt}],
                **self._sampling_options(),
            ) as raw:
                status_code = raw.status_code
                content = await self._read_limited(raw)
        except anthropic.AnthropicError as exc:
            raise self._map_error(exc) from None
        body = self._read_body(content, status_code)
        return self._parse_message(body, status_code)

    async def aclose(self) -> None:
        await self._client.close()

    def _sampling_options(self) -> dict[str, Any]:
        if self._config.temperature is None:
            return {}
        return {"temperature": self._config.temperature}

    def _parse_message(self, body: dict[str, Any], status_code: int) -> GenerationResponse:
        blocks = body.get("content")
        if not isinstance(blocks, list):
            raise self._bad_response("no content blocks in the message", status_code)
        texts = [
            block.get("text")
            for block in blocks
            if isinstance(block, dict) and block.get("type") == "text"
        ]
        content = "".join(text for text in texts if isinstance(text, str))
        if not content.strip():
            raise self._bad_response("the message has no text content", status_code)
        usage = body.get("usage")
        usage = usage if isinstance(usage, dict) else {}
        model = body.get("model")
        return GenerationResponse(
            content=content,
            model=model if isinstance(model, str) and model else self.model,
            input_tokens=optional_int(usage.get("input_tokens")),
            output_tokens=optional_int(usage.get("output_tokens")),
        )

    def _map_error(self, exc: anthropic.AnthropicError) -> ProviderError:
        if isinstance(exc, anthropic.APITimeoutError):
            return self._timeout_error()
        if isinstance(exc, anthropic.APIConnectionError):
            return self._connection_error(exc, exc.message)
        if isinstance(exc, anthropic.APIStatusError):
            return self._status_error(exc.status_code, exc.response.headers, exc.body)
        if isinstance(exc, anthropic.APIResponseValidationError):
            return self._bad_response(exc.message, exc.status_code)
        return self._unexpected_error(exc)
