"""Setup actions mapped to what this machine has installed, never silently to another version.

Each `actions/setup-*`-style action becomes a `Setup`: directories to put in front of PATH and variables to set,
as the action itself would through GITHUB_PATH and GITHUB_ENV. A version this machine does not have raises
`Blocked("toolchain", ...)` naming it; a version that cannot exist on a GitHub runner either raises
`ActionFailed`, because the real action fails there too.

Python gets a private prefix per job: the interpreter's binary, its standard library by symbolic links, and an
empty site-packages seeded with pip (and setuptools before 3.12) by `ensurepip`, like the clean interpreters
of the runner's tool cache. `pip install` in a job therefore never writes into the shared interpreter and never
sees packages someone installed there (a test run that only passes because of them would be a false green).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from packaging.specifiers import InvalidSpecifier, SpecifierSet

from autodevops.engine import runtimes

_QUERY_TIMEOUT = 30


class Blocked(Exception):
    """This machine cannot run the step faithfully; `cause` is toolchain, docker, action, service, os..."""

    def __init__(self, cause: str, reason: str) -> None:
        super().__init__(reason)
        self.cause = cause
        self.reason = reason


class ActionFailed(Exception):
    """The action itself would fail on a GitHub runner (a version that does not exist, a missing file)."""


@dataclass
class Setup:
    """What a setup action contributes to the rest of the job."""

    path: list[str] = field(default_factory=list)  # prepended to PATH; the first entry wins
    env: dict[str, str] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)
    note: str = ""


@dataclass
class ToolchainConfig:
    """Where toolchains are found. Tests pass explicit locations and `discover=False` to stay machine-neutral."""

    cache_dir: Path
    python: dict[str, Path] = field(default_factory=dict)  # "3.12" -> an interpreter of that version
    node: dict[str, Path] = field(default_factory=dict)  # "20" -> a node binary of that major
    discover: bool = True  # also look in pyenv, uv's installed Pythons, PATH, /usr/lib/jvm, rustup
    today: dt.date = field(default_factory=dt.date.today)

    @property
    def tools_dir(self) -> Path:
        """Tools verify installs itself (uv, pipx, pnpm): shared by jobs, never part of the host."""
        return self.cache_dir / "tools"


@dataclass
class JobPaths:
    workspace: Path
    home: Path
    temp: Path
    toolbin: Path  # per-job directory of tool links, on PATH
    host_path: list[str]  # the host's PATH without interpreter shims or virtualenvs


def run_capture(argv: list[str], env: Mapping[str, str] | None = None, timeout: float = _QUERY_TIMEOUT) -> str | None:
    """stdout of a quick query command, or None when it cannot run or fails."""
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=timeout, env=dict(env) if env is not None else None
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def which(name: str, path: list[str]) -> Path | None:
    found = shutil.which(name, path=os.pathsep.join(path))
    return Path(found) if found else None


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock across processes (parallel bench runs share the cache)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _link(target: Path, link: Path) -> None:
    link.parent.mkdir(parents=True, exist_ok=True)
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(target)


def _version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", text)[:3])


def _v3(version: tuple[int, ...]) -> tuple[int, int, int]:
    padded = [*version, 0, 0, 0][:3]
    return (padded[0], padded[1], padded[2])


def _input(inputs: Mapping[str, str], name: str) -> str:
    return inputs.get(name, "").strip()


def _read_version_file(workspace: Path, name: str, what: str) -> Path:
    path = (workspace / name).resolve()
    if not path.is_relative_to(workspace.resolve()) or not path.is_file():
        raise ActionFailed(f"{what} file {name!r} does not exist in the repository")
    return path


# ---- Python -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Interpreter:
    version: tuple[int, int, int]
    executable: Path  # the real binary (not a venv's or a shim)
    base_prefix: Path
    stdlib: Path  # .../lib/python3.X
    ldversion: str  # "3.12", or "3.13t" for a free-threaded build
    implementation: str  # cpython | pypy

    @property
    def label(self) -> str:
        name = "PyPy" if self.implementation == "pypy" else "Python"
        return f"{name} {'.'.join(map(str, self.version))}{'t' if self.ldversion.endswith('t') else ''}"


_PY_QUERY = (
    "import json, os, sys, sysconfig; "
    "exe = getattr(sys, '_base_executable', None) or sys.executable; "
    "print(json.dumps({'version': list(sys.version_info[:3]), 'exe': os.path.realpath(exe), "
    "'base_prefix': sys.base_prefix, 'stdlib': sysconfig.get_path('stdlib', vars={'installed_base': "
    "sys.base_prefix, 'base': sys.base_prefix}), 'ldversion': sysconfig.get_config_var('LDVERSION') or "
    "sysconfig.get_python_version(), 'impl': sys.implementation.name}))"
)


@cache
def describe_interpreter(executable: str) -> Interpreter | None:
    """What an interpreter really is (version, the binary behind a venv or shim, its standard library)."""
    out = run_capture([executable, "-I", "-c", _PY_QUERY], env={"PATH": os.defpath})
    if out is None:
        return None
    try:
        info = json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return None
    version = info["version"]
    return Interpreter(
        version=(version[0], version[1], version[2]),
        executable=Path(info["exe"]),
        base_prefix=Path(info["base_prefix"]),
        stdlib=Path(info["stdlib"]),
        ldversion=str(info["ldversion"]),
        implementation=str(info["impl"]),
    )


def _pyenv_root() -> Path:
    return Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")


def _uv_python_dir() -> Path:
    if os.environ.get("UV_PYTHON_INSTALL_DIR"):
        return Path(os.environ["UV_PYTHON_INSTALL_DIR"])
    data = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data) / "uv" / "python"


def python_candidates(config: ToolchainConfig) -> list[Path]:
    """Interpreter binaries to consider: explicit ones first, then pyenv's and uv's installed versions."""
    found: list[Path] = list(config.python.values())
    if config.discover:
        for root in (_pyenv_root() / "versions", _uv_python_dir()):
            if not root.is_dir():
                continue
            for entry in sorted(root.iterdir()):
                for name in ("python3", "python", "pypy3"):
                    exe = entry / "bin" / name
                    if exe.exists():
                        found.append(exe)
                        break
    return found


def installed_pythons(config: ToolchainConfig) -> list[Interpreter]:
    interpreters: dict[Path, Interpreter] = {}
    for exe in python_candidates(config):
        info = describe_interpreter(str(exe))
        if info is not None and info.executable not in interpreters:
            interpreters[info.executable] = info
    return list(interpreters.values())


def _python_request(text: str) -> tuple[str, bool, str]:
    """(version spec, free-threaded, implementation) from a setup-python version string."""
    spec = text.strip()
    impl = "cpython"
    lowered = spec.lower()
    if lowered.startswith(("pypy", "graalpy")):
        impl = "pypy" if lowered.startswith("pypy") else "graalpy"
        spec = re.sub(r"^(pypy|graalpy)-?", "", spec, flags=re.IGNORECASE)
        spec = spec.split("-v")[0]
    free_threaded = bool(re.fullmatch(r"[\d.x]+t", spec))
    if free_threaded:
        spec = spec[:-1]
    spec = re.sub(r"-dev$|-(alpha|beta|rc).*$", "", spec)
    return spec, free_threaded, impl


def _python_matches(spec: str, version: tuple[int, int, int]) -> bool:
    if re.fullmatch(r"\d+(\.(\d+|x|\*))*", spec):
        parts = spec.split(".")
        for wanted, have in zip(parts, version, strict=False):
            if wanted in ("x", "*"):
                return True
            if int(wanted) != have:
                return False
        return True
    try:
        return SpecifierSet(spec.replace(" ", ",").replace(",,", ",")).contains(
            ".".join(map(str, version)), prereleases=True
        )
    except InvalidSpecifier:
        try:
            return runtimes.parse_range(spec)(version)
        except ValueError:
            raise ActionFailed(f"setup-python cannot read the version {spec!r}") from None


def find_python(text: str, config: ToolchainConfig) -> Interpreter:
    """The newest installed interpreter that `text` (a setup-python `python-version`) asks for."""
    spec, free_threaded, impl = _python_request(text)
    if impl == "graalpy":
        raise Blocked("toolchain", f"GraalPy {spec} is not installed")
    exact = re.fullmatch(r"\d+\.\d+", spec)
    if exact and impl == "cpython":
        cycle = runtimes.cycle_of("python", spec)
        if runtimes.release("python", spec) is None or cycle is None:
            raise ActionFailed(f"setup-python: Python {spec} does not exist (a YAML number? write '3.10' quoted)")
        if _version_tuple(spec) < (3, 8):
            raise ActionFailed(f"setup-python has no Python {spec} for ubuntu-24.04 (ubuntu-latest)")
    matches = [
        i
        for i in installed_pythons(config)
        if i.implementation == impl and i.ldversion.endswith("t") == free_threaded and _python_matches(spec, i.version)
    ]
    if not matches:
        label = "PyPy" if impl == "pypy" else "Python"
        raise Blocked("toolchain", f"{label} {text.strip()} is not installed here (pyenv, uv, or --python X.Y=PATH)")
    return max(matches, key=lambda i: i.version)


def _python_template(interp: Interpreter, config: ToolchainConfig) -> Path:
    """A clean prefix for `interp` in the cache (built once): linked stdlib, fresh site-packages with pip."""
    digest = re.sub(r"[^A-Za-z0-9]+", "_", str(interp.executable)).strip("_")[-60:]
    root = config.cache_dir / "python" / f"{'.'.join(map(str, interp.version))}-{digest}"
    ready = root / ".ready"
    if ready.exists():
        return root
    with _locked(config.cache_dir / "python" / ".lock"):
        if ready.exists():
            return root
        if root.exists():
            shutil.rmtree(root)
        lib = root / "lib"
        stdlib = lib / interp.stdlib.name
        stdlib.mkdir(parents=True)
        for entry in interp.stdlib.iterdir():
            if entry.name not in ("site-packages", "dist-packages"):
                (stdlib / entry.name).symlink_to(entry)
        (stdlib / "site-packages").mkdir()
        # Shared libraries next to the stdlib (libpython for $ORIGIN-relative builds).
        base_lib = interp.stdlib.parent
        for entry in base_lib.iterdir():
            if entry.name != interp.stdlib.name and not (lib / entry.name).exists():
                (lib / entry.name).symlink_to(entry)
        if (interp.base_prefix / "include").is_dir():
            (root / "include").symlink_to(interp.base_prefix / "include")
        bin_dir = root / "bin"
        bin_dir.mkdir()
        binary = bin_dir / f"python{interp.ldversion}"
        shutil.copy2(interp.executable, binary)
        for alias in {f"python{interp.version[0]}.{interp.version[1]}", f"python{interp.version[0]}", "python"}:
            if not (bin_dir / alias).exists():
                (bin_dir / alias).symlink_to(binary.name)
        for config_script in interp.base_prefix.glob("bin/python*-config"):
            if not (bin_dir / config_script.name).exists():
                (bin_dir / config_script.name).symlink_to(config_script)
        _seed_pip(interp, root, bin_dir)
        ready.touch()
    return root


def _seed_pip(interp: Interpreter, root: Path, bin_dir: Path) -> None:
    """pip (and setuptools where the interpreter bundles it) from the interpreter's own ensurepip wheels.

    The bundled wheels are pure Python, so unpacking them into site-packages and writing pip's launchers is
    the whole installation: the same result as `python -m ensurepip`, in a fraction of its time. Interpreters
    without bundled wheels (a distribution's patched Python) run ensurepip itself.
    """
    site = root / "lib" / interp.stdlib.name / "site-packages"
    wheels = sorted((interp.stdlib / "ensurepip" / "_bundled").glob("*.whl"))
    if not any(w.name.startswith("pip-") for w in wheels):
        seeded = subprocess.run(
            [str(bin_dir / "python"), "-m", "ensurepip", "--default-pip"],
            capture_output=True,
            text=True,
            env={"PATH": os.defpath, "HOME": str(root), "PYTHONNOUSERSITE": "1"},
            timeout=300,
        )
        if seeded.returncode != 0:
            shutil.rmtree(root, ignore_errors=True)
            raise Blocked("toolchain", f"{interp.label}: ensurepip failed: {seeded.stderr.strip()[-300:]}")
        return
    for wheel in wheels:
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(site)
    major, minor = interp.version[0], interp.version[1]
    launcher = (
        f"#!{bin_dir}/python\nimport re, sys\nfrom pip._internal.cli.main import main\n"
        "if __name__ == '__main__':\n"
        "    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])\n"
        "    sys.exit(main())\n"
    )
    for name in ("pip", f"pip{major}", f"pip{major}.{minor}"):
        (bin_dir / name).write_text(launcher, encoding="utf-8")
        (bin_dir / name).chmod(0o755)


def python_prefix(interp: Interpreter, config: ToolchainConfig, dest: Path) -> Path:
    """A private copy of the clean prefix for one job (the binary hard-linked, site-packages copied)."""
    template = _python_template(interp, config)
    if dest.exists():
        return dest

    def copy(src: str, dst: str) -> object:
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)
        return dst

    shutil.copytree(template, dest, symlinks=True, ignore=shutil.ignore_patterns(".ready"), copy_function=copy)
    # Copied files were hard-linked; entry-point scripts name the template's interpreter: rewrite them.
    old = f"#!{template}/bin/"
    for script in (dest / "bin").iterdir():
        if script.is_symlink() or not script.is_file():
            continue
        with script.open("rb") as fh:
            head = fh.read(len(old))
        if head == old.encode():
            text = script.read_text(encoding="utf-8")
            script.unlink()
            script.write_text(text.replace(old, f"#!{dest}/bin/", 1), encoding="utf-8")
            script.chmod(0o755)
    return dest


def _python_version_from_file(workspace: Path, name: str) -> list[str]:
    path = _read_version_file(workspace, name, "python-version-file")
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.name == "pyproject.toml":
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ActionFailed(f"python-version-file {name}: {exc}") from None
        requires = data.get("project", {}).get("requires-python") or (
            data.get("tool", {}).get("poetry", {}).get("dependencies", {}).get("python")
        )
        if not requires:
            raise ActionFailed(f"python-version-file {name} declares no requires-python")
        return [str(requires)]
    if path.name == ".tool-versions":
        for line in text.splitlines():
            fields = line.split()
            if len(fields) >= 2 and fields[0] == "python":
                return [fields[1]]
        raise ActionFailed(f"{name} has no python line")
    versions = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    if not versions:
        raise ActionFailed(f"python-version-file {name} is empty")
    return versions


def setup_python(inputs: Mapping[str, str], config: ToolchainConfig, job: JobPaths) -> Setup:
    """actions/setup-python: the matching local interpreter in a clean per-job prefix, first on PATH."""
    requested = [v.strip() for v in _input(inputs, "python-version").splitlines() if v.strip()]
    if not requested:
        file_name = _input(inputs, "python-version-file")
        if file_name:
            requested = _python_version_from_file(job.workspace, file_name)
        elif (job.workspace / ".python-version").is_file():
            requested = _python_version_from_file(job.workspace, ".python-version")
        else:
            return Setup(note="no python-version: the runner's default Python")
    setup = Setup()
    for text in requested:  # several versions: all installed, the last one is the default
        interp = find_python(text, config)
        prefix = python_prefix(interp, config, job.home.parent / "python" / ".".join(map(str, interp.version)))
        setup.path.insert(0, str(prefix / "bin"))
        setup.env.update(
            {
                "pythonLocation": str(prefix),
                "Python_ROOT_DIR": str(prefix),
                "Python3_ROOT_DIR": str(prefix),
                "PKG_CONFIG_PATH": str(prefix / "lib" / "pkgconfig"),
            }
        )
        version = ".".join(map(str, interp.version))
        setup.outputs = {"python-version": version, "python-path": str(prefix / "bin" / "python")}
        setup.note = f"{interp.label} ({interp.executable})"
    return setup


# ---- Node.js ----------------------------------------------------------------------------------------------

_NODE_CODENAMES = {
    "argon": 4,
    "boron": 6,
    "carbon": 8,
    "dubnium": 10,
    "erbium": 12,
    "fermium": 14,
    "gallium": 16,
    "hydrogen": 18,
    "iron": 20,
    "jod": 22,
    "krypton": 24,
}


def node_version(binary: Path) -> tuple[int, int, int] | None:
    out = run_capture([str(binary), "--version"])
    return _v3(_version_tuple(out)) if out else None


def _node_request_from_file(workspace: Path, name: str) -> str:
    path = _read_version_file(workspace, name, "node-version-file")
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.name == "package.json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ActionFailed(f"node-version-file {name}: {exc}") from None
        volta = data.get("volta", {}).get("node") if isinstance(data.get("volta"), dict) else None
        engines = data.get("engines", {}).get("node") if isinstance(data.get("engines"), dict) else None
        if volta or engines:
            return str(volta or engines)
        raise ActionFailed(f"{name} declares no volta.node or engines.node")
    for line in text.splitlines():
        line = line.split("#")[0].strip()
        if path.name == ".tool-versions":
            fields = line.split()
            if len(fields) >= 2 and fields[0] in ("nodejs", "node"):
                return fields[1]
        elif line:
            return line
    raise ActionFailed(f"node-version-file {name} names no version")


def _node_accepts(request: str, version: tuple[int, int, int], today: dt.date) -> bool:
    lowered = request.lower().removeprefix("v")
    if lowered in ("lts/*", "lts", "lts/-0"):
        latest_lts = runtimes.latest("node", today, lts_only=True)
        return latest_lts is not None and version[0] == int(latest_lts)
    if lowered.startswith("lts/"):
        major = _NODE_CODENAMES.get(lowered[4:])
        if major is None:
            raise ActionFailed(f"setup-node: unknown LTS name {request!r}")
        return version[0] == major
    if lowered in ("latest", "current", "node"):
        newest = runtimes.latest("node", today, lts_only=False)
        return newest is not None and version[0] == int(newest)
    try:
        return runtimes.parse_range(lowered)(version)
    except ValueError:
        raise ActionFailed(f"setup-node cannot read the version {request!r}") from None


def node_binaries(config: ToolchainConfig, job: JobPaths) -> list[Path]:
    found = list(config.node.values())
    if config.discover:
        host = which("node", job.host_path)
        if host is not None:
            found.append(host)
    return found


def link_node(binary: Path, toolbin: Path) -> None:
    """node, npm, npx and corepack of one installation, linked into the job's tool directory.

    A directory of its own (not /usr/bin) goes on PATH, so a system directory never jumps ahead of the Python
    a previous step set up, and `corepack enable` writes its shims there rather than into the host's bin.
    """
    for name in ("node", "npm", "npx", "corepack"):
        tool = binary.parent / name
        if tool.exists():
            _link(tool, toolbin / name)


def setup_node(inputs: Mapping[str, str], config: ToolchainConfig, job: JobPaths) -> Setup:
    """actions/setup-node: the local node when its version satisfies the request."""
    request = _input(inputs, "node-version")
    if not request and _input(inputs, "node-version-file"):
        request = _node_request_from_file(job.workspace, _input(inputs, "node-version-file"))
    if not request:
        return Setup(note="no node-version: the runner's default Node.js")
    versions: list[tuple[int, int, int]] = []
    for binary in node_binaries(config, job):
        version = node_version(binary)
        if version is None:
            continue
        versions.append(version)
        if _node_accepts(request, version, config.today):
            link_node(binary, job.toolbin)
            label = ".".join(map(str, version))
            return Setup(path=[str(job.toolbin)], outputs={"node-version": f"v{label}"}, note=f"Node.js {label}")
    have = ", ".join(".".join(map(str, v)) for v in versions) or "none"
    raise Blocked("toolchain", f"Node.js {request} is not installed here (installed: {have}; or --node MAJOR=PATH)")


# ---- JVM --------------------------------------------------------------------------------------------------


def _jdk_major(home: Path) -> int | None:
    release = home / "release"
    if not release.is_file() or not (home / "bin" / "javac").exists():
        return None
    m = re.search(r'^JAVA_VERSION="([^"]+)"', release.read_text(encoding="utf-8", errors="replace"), re.MULTILINE)
    if not m:
        return None
    parts = m.group(1).split(".")
    return int(parts[1]) if parts[0] == "1" and len(parts) > 1 else int(re.sub(r"\D.*", "", parts[0]) or 0)


def local_jdks(config: ToolchainConfig) -> dict[int, Path]:
    found: dict[int, Path] = {}
    if config.discover and Path("/usr/lib/jvm").is_dir():
        for home in sorted(Path("/usr/lib/jvm").iterdir()):
            major = _jdk_major(home)
            if major is not None and major not in found:
                found[major] = home.resolve()
    return found


def setup_java(inputs: Mapping[str, str], config: ToolchainConfig, job: JobPaths) -> Setup:
    """actions/setup-java: a local JDK of the requested major version (any vendor)."""
    request = _input(inputs, "java-version")
    if not request and _input(inputs, "java-version-file"):
        path = _read_version_file(job.workspace, _input(inputs, "java-version-file"), "java-version-file")
        request = path.read_text(encoding="utf-8").split()[-1] if path.read_text(encoding="utf-8").split() else ""
    if not request:
        raise ActionFailed("setup-java needs java-version or java-version-file")
    wanted = _version_tuple(request.removeprefix("1.") if request.startswith("1.8") else request)
    if not wanted:
        raise ActionFailed(f"setup-java cannot read the version {request!r}")
    jdks = local_jdks(config)
    home = jdks.get(wanted[0])
    if home is None:
        have = ", ".join(map(str, sorted(jdks))) or "none"
        raise Blocked("toolchain", f"JDK {request} is not installed here (installed majors: {have})")
    return Setup(
        path=[str(home / "bin")],
        env={"JAVA_HOME": str(home), f"JAVA_HOME_{wanted[0]}_X64": str(home)},
        outputs={"path": str(home), "version": request},
        note=f"JDK {wanted[0]} ({home})",
    )


# ---- tools found on PATH (Go, Ruby, PHP, .NET, BEAM, golangci-lint) -----------------------------------------

_PROBES: dict[str, tuple[str, list[str]]] = {
    "go": ("go", ["env", "GOVERSION"]),
    "ruby": ("ruby", ["-e", "print RUBY_VERSION"]),
    "php": ("php", ["-r", "echo PHP_VERSION;"]),
    "dotnet": ("dotnet", ["--version"]),
    "erlang": ("erl", ["-noshell", "-eval", "io:fwrite(erlang:system_info(otp_release)), halt()."]),
    "elixir": ("elixir", ["--short-version"]),
}


def _local_version(language: str, job: JobPaths) -> tuple[Path, tuple[int, int, int]] | None:
    command, args = _PROBES[language]
    binary = which(command, job.host_path)
    if binary is None and language == "go" and Path("/usr/local/go/bin/go").exists():
        binary = Path("/usr/local/go/bin/go")
    if binary is None:
        return None
    out = run_capture([str(binary), *args], env={"PATH": os.pathsep.join(job.host_path), "HOME": str(job.home)})
    if not out or not _version_tuple(out):
        return None
    return binary, _v3(_version_tuple(out))


def setup_from_path(language: str, request: str, config: ToolchainConfig, job: JobPaths) -> Setup:
    """A language whose only candidate is what is on PATH: used when its version satisfies the request."""
    label = {"go": "Go", "ruby": "Ruby", "php": "PHP", "dotnet": ".NET SDK", "erlang": "Erlang/OTP"}.get(
        language, language.capitalize()
    )
    local = _local_version(language, job) if config.discover else None
    if local is None:
        raise Blocked("toolchain", f"{label} {request or ''} is not installed here".replace("  ", " "))
    binary, version = local
    accepted = True
    lowered = request.lower()
    if request and lowered not in ("stable", "latest", "oldstable", "default", "lts", "pre-installed"):
        try:
            accepted = runtimes.parse_range(request.removeprefix("v").replace(".x", ""))(version)
        except ValueError:
            accepted = False
    if lowered in ("stable", "latest") and language == "go":
        newest = runtimes.latest("go", config.today)
        accepted = newest is not None and version[:2] == _v3(_version_tuple(newest))[:2]
    have = ".".join(map(str, version))
    if not accepted:
        raise Blocked("toolchain", f"{label} {request} is not installed here (installed: {have})")
    tool_dir = job.toolbin.parent / f"toolbin-{language}"
    for sibling in binary.parent.iterdir():
        if sibling.is_file() and os.access(sibling, os.X_OK):
            _link(sibling, tool_dir / sibling.name)
    return Setup(path=[str(tool_dir)], note=f"{label} {have} ({binary})")


def go_request(inputs: Mapping[str, str], job: JobPaths) -> str:
    request = _input(inputs, "go-version")
    file_name = _input(inputs, "go-version-file")
    if not request and file_name:
        text = _read_version_file(job.workspace, file_name, "go-version-file").read_text(encoding="utf-8")
        m = re.search(r"^toolchain\s+go(\S+)", text, re.MULTILINE) or re.search(r"^go\s+(\S+)", text, re.MULTILINE)
        request = m.group(1) if m else text.strip()
    return request


# ---- Rust -------------------------------------------------------------------------------------------------


def host_rustup_home() -> Path:
    return Path(os.environ.get("RUSTUP_HOME") or Path.home() / ".rustup")


def host_cargo_home() -> Path:
    return Path(os.environ.get("CARGO_HOME") or Path.home() / ".cargo")


def rust_toolchains() -> list[str]:
    root = host_rustup_home() / "toolchains"
    return sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []


def prepare_rust(job: JobPaths, cache_dir: Path) -> dict[str, str]:
    """A per-job RUSTUP_HOME (the host's toolchains, the job's own default) and CARGO_HOME, as on a runner.

    Returns the variables to set; empty when rustup is not installed.
    """
    host = host_rustup_home()
    cargo_bin = host_cargo_home() / "bin"
    if not (host / "toolchains").is_dir() or not (cargo_bin / "rustup").exists():
        return {}
    rustup_home = job.home / ".rustup"
    rustup_home.mkdir(parents=True, exist_ok=True)
    _link(host / "toolchains", rustup_home / "toolchains")
    if (host / "update-hashes").is_dir():
        _link(host / "update-hashes", rustup_home / "update-hashes")
    default = "stable"
    settings = host / "settings.toml"
    if settings.is_file():
        with contextlib.suppress(tomllib.TOMLDecodeError):
            default = str(tomllib.loads(settings.read_text(encoding="utf-8")).get("default_toolchain") or default)
    write_rust_default(rustup_home, default)
    cargo_home = job.home / ".cargo"
    for tool in cargo_bin.iterdir():
        _link(tool, cargo_home / "bin" / tool.name)
    for shared in ("registry", "git"):
        (cache_dir / "cargo" / shared).mkdir(parents=True, exist_ok=True)
        _link(cache_dir / "cargo" / shared, cargo_home / shared)
    return {"RUSTUP_HOME": str(rustup_home), "CARGO_HOME": str(cargo_home)}


def write_rust_default(rustup_home: Path, toolchain: str) -> None:
    (rustup_home / "settings.toml").write_text(
        f'version = "12"\ndefault_toolchain = "{toolchain}"\nprofile = "default"\n\n[overrides]\n', encoding="utf-8"
    )


def resolve_rust_toolchain(request: str) -> str:
    """The installed toolchain directory for `stable`, `nightly`, `1.70`, `1.70.0`, `nightly-2024-01-01`..."""
    installed = rust_toolchains()
    wanted = request.strip()
    for name in installed:
        if name == wanted or name.startswith(f"{wanted}-"):
            return name
    if re.fullmatch(r"\d+\.\d+", wanted):
        versions = [n for n in installed if n.startswith(f"{wanted}.")]
        if versions:
            return max(versions, key=_version_tuple)
    have = ", ".join(n.split("-x86_64")[0] for n in installed) or "none"
    raise Blocked("toolchain", f"Rust toolchain {wanted} is not installed here (installed: {have})")


def setup_rust(
    toolchain: str, components: list[str], targets: list[str], job: JobPaths, env: Mapping[str, str]
) -> Setup:
    if "RUSTUP_HOME" not in env:
        raise Blocked("toolchain", "rustup is not installed here")
    name = resolve_rust_toolchain(toolchain)
    tc_dir = host_rustup_home() / "toolchains" / name
    listing = tc_dir / "lib" / "rustlib" / "components"
    installed = listing.read_text(encoding="utf-8").split() if listing.is_file() else []
    for component in components:
        base = component.removesuffix("-preview")
        if not any(line == base or line.startswith((f"{base}-", f"{base}-preview-")) for line in installed):
            raise Blocked("toolchain", f"Rust component {component} is not installed for {name}")
    for target in targets:
        if not (tc_dir / "lib" / "rustlib" / target).is_dir():
            raise Blocked("toolchain", f"Rust target {target} is not installed for {name}")
    write_rust_default(Path(env["RUSTUP_HOME"]), name)
    version = name.split("-x86_64")[0]
    return Setup(outputs={"name": name, "cachekey": version}, note=f"Rust {name}")


def rust_toolchain_file(workspace: Path) -> str | None:
    for name in ("rust-toolchain.toml", "rust-toolchain"):
        path = workspace / name
        if path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace")
            m = re.search(r'channel\s*=\s*"([^"]+)"', text)
            return m.group(1) if m else text.strip() or None
    return None


# ---- tools verify installs itself -------------------------------------------------------------------------


def pip_tool(package: str, spec: str, config: ToolchainConfig) -> Path:
    """A Python tool (uv, pipx) installed with pip into the verify tools directory; returns its bin dir."""
    slug = re.sub(r"[^A-Za-z0-9.]+", "_", f"{package}{spec}") or package
    target = config.tools_dir / "pip" / slug
    ready = target / ".ready"
    if ready.exists():
        return target / "bin"
    with _locked(config.tools_dir / ".lock"):
        if ready.exists():
            return target / "bin"
        shutil.rmtree(target, ignore_errors=True)
        pip = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        done = subprocess.run(
            [*pip, "--target", str(target), f"{package}{spec}"],
            capture_output=True,
            text=True,
            timeout=600,
        )
        if done.returncode != 0:
            raise Blocked("environment", f"cannot install {package}{spec} with pip: {done.stderr.strip()[-300:]}")
        ready.touch()
    return target / "bin"


def pipx_command(config: ToolchainConfig) -> Path:
    """pipx as GitHub's ubuntu image has it: a launcher script over a pip --target install."""
    bin_dir = pip_tool("pipx", "", config)
    launcher = bin_dir.parent / "pipx-launcher"
    if not launcher.exists():
        pythonpath = f'PYTHONPATH="{bin_dir.parent}${{PYTHONPATH:+:$PYTHONPATH}}"'
        launcher.write_text(f'#!/bin/sh\n{pythonpath} exec {sys.executable} -m pipx "$@"\n', encoding="utf-8")
        launcher.chmod(0o755)
    return launcher


def uv_spec(version: str) -> str:
    version = version.strip()
    if not version or version == "latest":
        return ""
    if re.fullmatch(r"\d+(\.\d+)*", version):
        return f"=={version}"
    if re.fullmatch(r"\d+(\.\d+)*\.x", version):
        return f"=={version[:-2]}.*"
    return version if version[0] in "<>=!~" else f"=={version}"


def npm_tool(package: str, version: str, config: ToolchainConfig, job: JobPaths) -> Path:
    """An npm tool (pnpm) installed into the verify tools directory; returns its bin dir."""
    slug = re.sub(r"[^A-Za-z0-9.]+", "_", f"{package}@{version or 'latest'}")
    target = config.tools_dir / "npm" / slug
    ready = target / ".ready"
    if ready.exists():
        return target / "node_modules" / ".bin"
    npm = which("npm", job.host_path)
    if npm is None:
        raise Blocked("toolchain", f"{package} needs npm, which is not installed here")
    with _locked(config.tools_dir / ".lock"):
        if ready.exists():
            return target / "node_modules" / ".bin"
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        install = [str(npm), "install", "--prefix", str(target), "--no-audit", "--no-fund"]
        done = subprocess.run(
            [*install, f"{package}@{version or 'latest'}"],
            capture_output=True,
            text=True,
            timeout=600,
            env={**os.environ, "PATH": os.pathsep.join(job.host_path)},
        )
        if done.returncode != 0:
            raise Blocked("environment", f"cannot install {package} with npm: {done.stderr.strip()[-300:]}")
        ready.touch()
    return target / "node_modules" / ".bin"
