# AutoDevOps platform image: the API (`autodevops serve`), the worker (`autodevops worker`) and migrations
# (`autodevops migrate`) all run from this one image; compose.yaml picks the command per role.
#
#   docker build -t autodevops .
#   docker run --env-file .env -p 8000:8000 autodevops
#
# Every setting comes from AUTODEVOPS_* environment variables (see README, "Settings"). The image runs as an
# unprivileged user and refuses to start in production with default secrets.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    AUTODEVOPS_ENV=production

# git: repositories connected by URL are analyzed from a shallow clone.
RUN apt-get update \
    && apt-get install -y --no-install-recommends git \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --create-home --home-dir /home/autodevops --shell /usr/sbin/nologin autodevops

WORKDIR /app

# Dependencies first, from the compiled pins, so code changes do not invalidate this layer.
COPY requirements.txt ./
RUN pip install -r requirements.txt

COPY pyproject.toml README.md ./
COPY src ./src
COPY migrations ./migrations
RUN pip install --no-deps .

USER autodevops
EXPOSE 8000

# Liveness only (no I/O); orchestrators should use /ready for traffic decisions.
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2)"]

CMD ["autodevops", "serve", "--host", "0.0.0.0", "--port", "8000"]
