"""`autodevops serve`: run the API and dashboard with uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer

from autodevops.commands import checked_settings


def register(app: typer.Typer) -> None:
    """Attach the `serve` command to the root app."""

    @app.command()
    def serve(
        host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="TCP port to listen on.", min=1, max=65535)] = 8000,
        workers: Annotated[int, typer.Option(help="Worker processes (each with its own pools).", min=1)] = 1,
        reload: Annotated[bool, typer.Option(help="Reload on code changes (development only).")] = False,
    ) -> None:
        """Run the API and dashboard (settings from AUTODEVOPS_* environment variables)."""
        import uvicorn

        settings = checked_settings()
        if reload and settings.env == "production":
            typer.echo("--reload is refused in production", err=True)
            raise typer.Exit(2)
        uvicorn.run(
            "autodevops.web:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            reload=reload,
            # Logging is configured by the app (JSON, redacted); uvicorn must not install its own.
            log_config=None,
            log_level=settings.log_level.lower(),
            # The app writes its own access line with the correlation id and route template.
            access_log=False,
            # Forwarded headers are honoured by the app for AUTODEVOPS_TRUSTED_PROXIES only.
            proxy_headers=False,
            server_header=False,
            # On SIGTERM, open requests get this long; then they are ended (an event stream would otherwise
            # keep the process alive until its client gives up).
            timeout_graceful_shutdown=max(1, round(settings.shutdown_grace_s)),
        )
