"""Telling a failing pipeline from a failing machine, by evidence in the step's log.

A red step is reclassified only on a clear line: the network refused for a host that is not a package registry
(this machine reaches the registries and nothing else), a release the registry mirror here does not have yet, a
shared library or header that a runner image has, a command that GitHub's ubuntu image ships, or the Docker
daemon. The line is quoted in the report, so a person
can check the judgement. Anything less clear stays red.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Hosts this machine reaches; a network failure naming one of them is the pipeline's (or the registry's) problem.
REGISTRY_HOSTS = (
    "pypi.org",
    "files.pythonhosted.org",
    "pypi.python.org",
    "registry.npmjs.org",
    "registry.yarnpkg.com",
    "npmjs.org",
    "deb.debian.org",
    "security.debian.org",
)

_NETWORK = re.compile(
    r"Temporary failure in name resolution|Could not resolve host|Name or service not known|"
    r"getaddrinfo (?:ENOTFOUND|EAI_AGAIN)|Network is unreachable|No address associated with hostname|"
    r"dial tcp: lookup \S+|nodename nor servname provided|Failed to resolve '[^']+'",
    re.IGNORECASE,
)
_HOST_PATTERNS = (
    re.compile(r"host='([^']+)'"),
    re.compile(r"Could not resolve host:?\s*'?([A-Za-z0-9.-]+)"),
    re.compile(r"getaddrinfo \w+ ([A-Za-z0-9.-]+)"),
    re.compile(r"lookup ([A-Za-z0-9.-]+)"),
    re.compile(r"Failed to resolve '([^']+)'"),
    re.compile(r"https?://([A-Za-z0-9.-]+)"),
)
# The registries this machine reaches are mirrors that can lag behind: a release the project asks for that is
# newer than the mirror's copy is missing here, and present on a hosted runner.
_REGISTRY_LAG = re.compile(
    r"No matching version found for (\S+)|No matching distribution found for (\S+)|"
    r"Could not find a version that satisfies the requirement (\S+)"
)
# A locked release's tarball the registry here answers 404 for (npm, pnpm and yarn spell it differently). npm's
# registry keeps every published tarball (unpublishing is refused once others depend on a release), so on a hosted
# runner the lockfile's URL resolves; here the mirror has gaps (1.16.0 and 1.18.0 of a package, not 1.17.0).
_TARBALL_MISSING = re.compile(
    r"(?:404\b.*\bGET|GET\b.*\b404\b.*?)\s*(https?://[^\s:]+/-/([\w.@-]+?)\.tgz)|"
    r"(https?://[^\s:]+/-/([\w.@-]+?)\.tgz)[^\n]*(?:Not Found|\b404\b)"
)
_SHARED_LIBRARY = re.compile(r"error while loading shared libraries: \S+: cannot open shared object file")
_HEADER = re.compile(r"fatal error: [\w./+-]+\.h: No such file or directory")
# The Docker daemon missing, as the CLI and the test-container libraries say it (docker-py under testcontainers
# for Python, testcontainers-java): hosted Ubuntu runners have one.
_DOCKER = re.compile(
    r"Cannot connect to the Docker daemon|docker: command not found|docker\.sock|"
    r"DockerException: Error while fetching server API version|Could not find a valid Docker environment"
)
_COMMAND_NOT_FOUND = re.compile(r"(?:^|: )(?:line \d+: )?([\w.+-]+): (?:command )?not found\s*$")

# Commands GitHub's ubuntu-24.04 image has that a plain machine may lack (not the language toolchains, which
# setup actions select: a missing `python3.13` is the pipeline's to install).
RUNNER_IMAGE_COMMANDS = frozenset(
    {
        "sudo",
        "gh",
        "jq",
        "yq",
        "yarn",
        "az",
        "aws",
        "gcloud",
        "kubectl",
        "helm",
        "kind",
        "minikube",
        "pwsh",
        "shellcheck",
        "zstd",
        "ansible",
        "terraform",
        "packer",
        "google-chrome",
        "chromium-browser",
        "firefox",
        "sqlite3",
        "mysql",
        "psql",
        "mongosh",
        "php",
        "composer",
        "ruby",
        "gem",
        "bundle",
        "mvn",
        "gradle",
        "ant",
        "sbt",
        "dotnet",
        "swift",
        "kotlin",
        "clang",
        "ninja",
        "bazel",
        "bazelisk",
        "lerna",
        "newman",
        "parallel",
        "xvfb-run",
        "conda",
        "podman",
        "buildah",
        "skopeo",
        "haveged",
        "pipx",
        "apt-get",
    }
)


@dataclass(frozen=True)
class Evidence:
    cause: str  # environment | docker
    line: str


def _host(line: str) -> str | None:
    for pattern in _HOST_PATTERNS:
        m = pattern.search(line)
        if m:
            return m.group(1).lower().rstrip(".")
    return None


def _is_registry(host: str) -> bool:
    return any(host == h or host.endswith("." + h) for h in REGISTRY_HOSTS)


def classify(log: str) -> Evidence | None:
    """Evidence that a red step failed because of this machine, or None."""
    lines = log.splitlines()
    for index, raw in enumerate(lines):
        line = raw.strip()
        if not line:
            continue
        if _DOCKER.search(line):
            return Evidence("docker", line[:300])
        if _NETWORK.search(line):
            host = _host(line)
            if host is None or not _is_registry(host):
                return Evidence("environment", line[:300])
        if _SHARED_LIBRARY.search(line):
            return Evidence("environment", line[:300])
        if m := _REGISTRY_LAG.search(line):
            wanted = next(g for g in m.groups() if g)
            return Evidence("environment", f"{line[:240]} (the registry mirror here has no {wanted})")
        if (m := _TARBALL_MISSING.search(line)) and (host := _host(m.group(1) or m.group(3))) and _is_registry(host):
            wanted = m.group(2) or m.group(4)
            return Evidence("environment", f"{line[:240]} (the registry mirror here has no {wanted})")
        # A missing header counts only when the compiler shows a system include (<...>), not the project's own.
        if _HEADER.search(line) and any("#include <" in following for following in lines[index + 1 : index + 4]):
            return Evidence("environment", line[:300])
        m = _COMMAND_NOT_FOUND.search(line)
        if m and m.group(1) in RUNNER_IMAGE_COMMANDS:
            return Evidence("environment", f"{line[:260]} (GitHub's ubuntu image has {m.group(1)})")
    return None
