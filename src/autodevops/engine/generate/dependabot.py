"""`.github/dependabot.yml`: weekly, grouped updates for every ecosystem and directory the analysis found.

One entry per (ecosystem, directory): each stack's package manager, the directories holding images
(Dockerfiles, compose files), and the workflows' own pinned actions. Each ecosystem's minor and patch updates
arrive as one grouped pull request a week, after a short cooldown so a release has time to be yanked before it is
proposed; a major update (mocha 9 to 11, eslint 7 to 9) breaks things on its own schedule, so it gets a pull
request of its own instead of turning the whole group red.
"""

from __future__ import annotations

import posixpath

from autodevops.engine.generate.plan import NON_IMAGE_DIRS, Plan, StackPlan, slugify
from autodevops.engine.generate.yamlout import Flow, Map, Seq, dump
from autodevops.engine.model import GENERATED_MARK

ECOSYSTEMS = {
    "uv": "uv",
    "pip": "pip",
    "poetry": "pip",
    "pipenv": "pip",
    "pdm": "pip",
    "hatch": "pip",
    "conda": "conda",
    "npm": "npm",
    "yarn": "npm",
    "pnpm": "npm",
    "bun": "bun",
    "deno": "deno",
    "go": "gomod",
    "cargo": "cargo",
    "maven": "maven",
    "gradle": "gradle",
    "bundler": "bundler",
    "composer": "composer",
    "dotnet": "nuget",
    "mix": "mix",
    "swiftpm": "swift",
}
HEADER = [
    f"{GENERATED_MARK}: weekly, grouped dependency updates for every ecosystem in the repository.",
]


def _directory(path: str) -> str:
    return "/" if path in ("", ".") else "/" + path.strip("/")


def _image_dirs(plan: Plan) -> list[str]:
    dirs: set[str] = set()
    docker = plan.analysis.docker
    for path in [d.path for d in docker.dockerfiles] + [c.path for c in docker.compose_files]:
        parent = posixpath.dirname(path)
        if any(part.lower() in NON_IMAGE_DIRS for part in parent.split("/") if part):
            continue
        dirs.add(parent or ".")
    return sorted(dirs)


def _manifest_dir(sp: StackPlan) -> str:
    """Where Dependabot finds the stack's dependencies: its directory, except for a .NET solution kept in another
    one (`src/App.slnx` of a stack rooted at global.json), which Dependabot reads from the solution's directory."""
    solution = next((m for m in sp.stack.manifests if m.endswith((".sln", ".slnx"))), None)
    if sp.stack.package_manager == "dotnet" and solution:
        return posixpath.dirname(solution) or "."
    return sp.path


def render_dependabot(plan: Plan) -> str:
    """The dependabot.yml text for this plan (always includes the workflows' own actions)."""
    entries: set[tuple[str, str]] = {("github-actions", "/")}
    for sp in plan.stacks:
        eco = ECOSYSTEMS.get(sp.stack.package_manager)
        if eco is None and sp.toolchain == "dart":
            eco = "pub"
        if eco:
            entries.add((eco, _directory(_manifest_dir(sp))))
    for d in _image_dirs(plan):
        entries.add(("docker", _directory(d)))
    compose_dirs = {posixpath.dirname(c.path) or "." for c in plan.analysis.docker.compose_files}
    for d in sorted(compose_dirs):
        if not any(part.lower() in NON_IMAGE_DIRS for part in d.split("/") if part and d != "."):
            entries.add(("docker-compose", _directory(d)))
    updates = Seq()
    for eco, directory in sorted(entries, key=lambda e: (e[0] != "github-actions", e[0], e[1])):
        group = eco if directory == "/" else slugify(f"{eco}-{directory}")
        update = (
            Map()
            .add("package-ecosystem", eco)
            .add("directory", directory)
            .add("schedule", Map().add("interval", "weekly"))
            .add("cooldown", Map().add("default-days", 7))
            .add(
                "groups",
                Map().add(group, Map().add("patterns", Flow(["*"])).add("update-types", Flow(["minor", "patch"]))),
                comments=["Minor and patch updates together; each major update in a pull request of its own."],
            )
        )
        updates.add(update)
    doc = Map().add("version", 2).add("updates", updates)
    return dump(doc, HEADER)
