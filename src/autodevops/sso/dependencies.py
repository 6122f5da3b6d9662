"""The app's identity-provider edge (`Providers`), created on first use and kept on `app.state`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from autodevops.config import Settings
from autodevops.sso.provider import Providers


def get_providers(request: Request) -> Providers:
    """One `Providers` per app: its discovery and key-set cache is shared by every request of the process."""
    providers: Providers | None = getattr(request.app.state, "sso_providers", None)
    if providers is None:
        settings: Settings = request.app.state.settings
        providers = Providers(settings)
        request.app.state.sso_providers = providers
    return providers


IdentityProviders = Annotated[Providers, Depends(get_providers)]
