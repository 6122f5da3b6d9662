"""Per-app singletons of the GitHub integration, created on first use and kept on `app.state`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request

from autodevops.config import Settings
from autodevops.crypto import Keyring
from autodevops.github.client import GitHubClient
from autodevops.jobs.endpoints import jobs_runtime
from autodevops.jobs.service import JobsRuntime


def get_github_client(request: Request) -> GitHubClient:
    """The app's GitHub client (its base URL and credentials come from the app's settings)."""
    client: GitHubClient | None = getattr(request.app.state, "github_client", None)
    if client is None:
        settings: Settings = request.app.state.settings
        client = GitHubClient(settings)
        request.app.state.github_client = client
    return client


def get_keyring(request: Request) -> Keyring:
    """The token keyring of the app's settings (current + previous keys)."""
    keyring: Keyring | None = getattr(request.app.state, "keyring", None)
    if keyring is None:
        keyring = Keyring.from_settings(request.app.state.settings)
        request.app.state.keyring = keyring
    return keyring


def get_redis(request: Request) -> Any:
    return request.app.state.redis


def get_settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


GitHub = Annotated[GitHubClient, Depends(get_github_client)]
TokenKeyring = Annotated[Keyring, Depends(get_keyring)]
Redis = Annotated[Any, Depends(get_redis)]
AppSettings = Annotated[Settings, Depends(get_settings_of)]


def get_jobs_runtime(request: Request) -> JobsRuntime:
    """The app's job-queue clients, opened by the job system's lifespan (503 when the queue is unavailable)."""
    return jobs_runtime(request)


Jobs = Annotated[JobsRuntime, Depends(get_jobs_runtime)]
