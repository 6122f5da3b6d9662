"""Which red logs show the machine at fault: only clear evidence counts."""

from __future__ import annotations

import pytest

from autodevops.engine.verify.classify import classify


@pytest.mark.parametrize(
    ("log", "cause"),
    [
        ("curl: (6) Could not resolve host: api.github.com", "environment"),
        ("httpx.ConnectError: [Errno -2] Name or service not known", "environment"),
        ("Error: getaddrinfo ENOTFOUND objects.githubusercontent.com", "environment"),
        ("OSError: [Errno 101] Network is unreachable", "environment"),
        ("./app: error while loading shared libraries: libssl.so.1.1: cannot open shared object file", "environment"),
        ("src/x.c:1:10: fatal error: zlib.h: No such file or directory\n    1 | #include <zlib.h>", "environment"),
        ("/tmp/step.sh: line 2: gh: command not found", "environment"),
        ("Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?", "docker"),
        # testcontainers (Python, through docker-py; Java) starting a container with no daemon to talk to.
        (
            "E   docker.errors.DockerException: Error while fetching server API version: ('Connection aborted.', "
            "FileNotFoundError(2, 'No such file or directory'))",
            "docker",
        ),
        ("java.lang.IllegalStateException: Could not find a valid Docker environment. Please see logs", "docker"),
        # The registry mirror here lags behind the public registries.
        ("npm error notarget No matching version found for cbor2@^2.4.0.", "environment"),
        ("ERROR: No matching distribution found for anyio==4.99.0", "environment"),
        # ... and has gaps: a locked release's tarball that npm's registry keeps is missing here.
        ("npm error 404 Not Found - GET https://registry.npmjs.org/top-sites/-/top-sites-1.1.225.tgz", "environment"),
        (
            "ERR_PNPM_FETCH_404  GET https://registry.npmjs.org/actions-up/-/actions-up-1.17.0.tgz: Not Found - 404",
            "environment",
        ),
    ],
)
def test_machine_failures(log: str, cause: str) -> None:
    evidence = classify(f"collecting\n{log}\nexit 1\n")
    assert evidence is not None
    assert evidence.cause == cause
    assert evidence.line.startswith(log.splitlines()[0][:40])


@pytest.mark.parametrize(
    "log",
    [
        # The registries are reachable here: a failure to reach them is not this machine's known limit.
        "HTTPSConnectionPool(host='pypi.org', port=443): Max retries exceeded (Temporary failure in name resolution)",
        "npm error getaddrinfo EAI_AGAIN registry.npmjs.org",
        # A private registry's missing tarball is the project's to fix.
        "npm error 404 Not Found - GET https://npm.internal.example/top-sites/-/top-sites-1.1.225.tgz",
        # The project's own header or tool missing is the pipeline's defect.
        'src/x.c:1:10: fatal error: mylib/config.h: No such file or directory\n    1 | #include "mylib/config.h"',
        "/tmp/step.sh: line 1: pytest: command not found",
        "FAILED tests/test_api.py::test_get - AssertionError: 200 != 404",
    ],
)
def test_pipeline_failures_stay_red(log: str) -> None:
    assert classify(log) is None
