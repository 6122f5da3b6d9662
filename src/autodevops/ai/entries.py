"""Which provider/model entries are usable with the current settings (no SDK imported here)."""

from __future__ import annotations

from dataclasses import dataclass

from autodevops.config import Settings

OPENAI_PUBLIC_URL = "https://api.openai.com/v1"


@dataclass(frozen=True, slots=True)
class Entry:
    provider: str
    model: str

    @property
    def key(self) -> str:
        return f"{self.provider}:{self.model}"


def enabled_providers(settings: Settings) -> set[str]:
    """Providers that can be called: a key, or (OpenAI-compatible) a self-hosted base URL that needs none."""
    enabled: set[str] = set()
    if settings.gemini_api_key is not None:
        enabled.add("gemini")
    if settings.openai_api_key is not None or settings.ai_openai_base_url.rstrip("/") != OPENAI_PUBLIC_URL:
        enabled.add("openai")
    if settings.anthropic_api_key is not None:
        enabled.add("anthropic")
    return enabled


def usable_entries(settings: Settings) -> list[Entry]:
    """The configured entries, in order, whose provider is enabled."""
    enabled = enabled_providers(settings)
    entries = [Entry(*item.split(":", 1)) for item in settings.ai_models]
    return [e for e in entries if e.provider in enabled]
