"""How fast is `autodevops analyze --json`, and how does it compare with linguist-js on the same trees?

Usage:
    .venv/bin/python bench/analyze_speed.py [DIR ...] [--runs N] [--sizes 10000,100000] [--workdir PATH]

It generates deterministic synthetic repositories (nested directories, mixed languages, binary assets,
vendored code, a few manifests per service) of each size, adds any real checkouts given as arguments, and
measures the whole `autodevops analyze --json DIR` process: wall time (best of N) and peak resident memory.
In the same run it measures `linguist --analyse DIR --json --offline` (npm package linguist-js, installed
into bench/node_modules on first use, never committed) and prints the time ratio.

Targets (issue 2): 10,000 files in <= 0.5 s, 100,000 files in <= 3 s, peak memory <= 200 MB.
This is a benchmark that prints numbers, not a test: nothing here fails the build.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
LINGUIST = HERE / "node_modules" / ".bin" / "linguist"
TREE_FORMAT = 3  # bump when the generator changes, so cached trees are rebuilt

TARGETS_SECONDS = {10_000: 0.5, 100_000: 3.0}
TARGET_PEAK_MB = 200.0

# (extension, weight, line written to fill the file); binary assets get NUL-laden bytes instead.
KINDS: list[tuple[str, int, str]] = [
    ("py", 22, "def handler_{i}(request):\n    return compute(request, {i})\n"),
    ("ts", 14, "export function handler{i}(req: Request): number {{ return compute(req, {i}); }}\n"),
    ("tsx", 4, "export const View{i} = () => <div className='v{i}'>{{label}}</div>;\n"),
    ("js", 8, "module.exports.handler{i} = (req) => compute(req, {i});\n"),
    ("go", 9, "func Handler{i}(w http.ResponseWriter, r *http.Request) {{ compute(w, r, {i}) }}\n"),
    ("java", 7, "    public int handler{i}(Request r) {{ return compute(r, {i}); }}\n"),
    ("rs", 4, "pub fn handler_{i}(r: &Request) -> u32 {{ compute(r, {i}) }}\n"),
    ("rb", 3, "def handler_{i}(req) = compute(req, {i})\n"),
    ("c", 2, "int handler_{i}(struct req *r) {{ return compute(r, {i}); }}\n"),
    ("h", 2, "int handler_{i}(struct req *r);\n"),
    ("css", 3, ".c{i} {{ margin: {i}px; color: #333; }}\n"),
    ("html", 2, '<div class="c{i}"><span>{i}</span></div>\n'),
    ("sh", 1, "echo step {i} && run --step {i}\n"),
    ("md", 5, "Paragraph {i} of the documentation, with some words in it.\n"),
    ("json", 5, '{{"key{i}": {i}, "name": "value {i}"}}\n'),
    ("yaml", 3, "key{i}: value {i}\n"),
    ("txt", 2, "line {i} of plain text\n"),
    ("png", 3, ""),
    ("svg", 1, '<path d="M{i} 0 L0 {i}"/>\n'),
]
SERVICE_MANIFESTS = {
    "py": {
        "pyproject.toml": (
            '[project]\nname = "svc{n}"\nrequires-python = ">=3.10"\ndependencies = ["fastapi", "psycopg[binary]"]\n'
            '[project.optional-dependencies]\ndev = ["pytest", "ruff", "mypy"]\n'
            '[tool.pytest.ini_options]\ntestpaths = ["tests"]\n'
        ),
        "uv.lock": "version = 1\n",
    },
    "ts": {
        "package.json": (
            '{{"name": "svc{n}", "private": true, "engines": {{"node": ">=20"}},\n'
            ' "scripts": {{"test": "vitest run", "lint": "eslint .", "build": "tsc -p ."}},\n'
            ' "devDependencies": {{"vitest": "^2.0.0", "eslint": "^9.0.0", "typescript": "^5.6.0"}}}}\n'
        ),
        "pnpm-lock.yaml": "lockfileVersion: '9.0'\n",
        "tsconfig.json": '{{"compilerOptions": {{"strict": true}}}}\n',
    },
    "go": {"go.mod": "module example.com/svc{n}\n\ngo 1.22\n", "go.sum": ""},
    "java": {
        "pom.xml": (
            "<project><modelVersion>4.0.0</modelVersion><groupId>com.example</groupId>"
            "<artifactId>svc{n}</artifactId><version>1.0</version>"
            "<properties><maven.compiler.release>21</maven.compiler.release></properties></project>\n"
        )
    },
    "rs": {"Cargo.toml": '[package]\nname = "svc{n}"\nversion = "0.1.0"\nedition = "2021"\n', "Cargo.lock": ""},
    "rb": {"Gemfile": 'source "https://rubygems.org"\ngem "rails"\ngem "rspec"\n', "Gemfile.lock": ""},
}
ROOT_FILES = {
    "README.md": "# Synthetic monorepo\n",
    "LICENSE": "Apache-2.0\n",
    ".gitattributes": "* text=auto\n*.png binary\nthird_party/** linguist-vendored\n",
    ".gitignore": "node_modules/\ndist/\n",
    "Dockerfile": "FROM python:3.12-slim\nCOPY . /app\nRUN pip install /app\n",
    "docker-compose.yml": (
        "services:\n  db:\n    image: postgres:16\n  cache:\n    image: redis:7\n"
        "  app:\n    build: .\n    depends_on: [db, cache]\n"
    ),
    "package.json": '{"name": "mono", "private": true, "workspaces": ["services/*"]}\n',
    ".github/workflows/ci.yml": "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps: []\n",
}


# ---- tree generation ------------------------------------------------------------------------------------


def generate_tree(root: Path, n_files: int, seed: int = 42) -> None:
    """Write a deterministic synthetic repository of about `n_files` files under `root`."""
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    written = 0
    for rel, content in ROOT_FILES.items():
        _write(root / rel, content.encode())
        written += 1

    # A vendored directory and a dependency cache, as real checkouts have them (~3% and ~5% of files).
    for i in range(n_files * 3 // 100):
        _write(root / "third_party" / f"lib{i % 7}" / f"mod{i}.c", _fill(rng, "c", i))
        written += 1
    for i in range(n_files * 5 // 100):
        _write(root / "node_modules" / f"pkg{i % 50}" / "lib" / f"f{i}.js", _fill(rng, "js", i))
        written += 1

    # Services: each a project root with its manifests, sources nested a few levels deep.
    n_services = max(4, n_files // 2500)
    service_langs = list(SERVICE_MANIFESTS)
    dirs: list[Path] = []
    for s in range(n_services):
        lang = service_langs[s % len(service_langs)]
        svc = root / "services" / f"svc{s:03}"
        for name, template in SERVICE_MANIFESTS[lang].items():
            _write(svc / name, template.format(n=s).encode())
            written += 1
        for d in range(max(3, (n_files - written) // n_services // 12)):
            depth = rng.randint(1, 6)
            parts = [rng.choice(["src", "lib", "pkg", "internal", "app", "core", "tests"])]
            parts += [f"m{rng.randint(0, 40)}" for _ in range(depth)]
            dirs.append(svc.joinpath(*parts, f"d{d}"))
    weights = [w for _, w, _ in KINDS]
    exts = [ext for ext, _, _ in KINDS]
    i = 0
    while written < n_files:
        directory = dirs[i % len(dirs)] if rng.random() < 0.9 else rng.choice(dirs)
        ext = rng.choices(exts, weights)[0]
        _write(directory / f"f{i}.{ext}", _fill(rng, ext, i))
        written += 1
        i += 1


def _fill(rng: random.Random, ext: str, i: int) -> bytes:
    size = int(min(24_000, max(80, rng.lognormvariate(7.0, 0.9))))  # median ~1.1 kB, like real sources
    if ext == "png":
        head = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
        return (head + bytes(rng.getrandbits(8) for _ in range(64))) * (size // 80 + 1)
    line = next(tpl for e, _, tpl in KINDS if e == ext).format(i=i).encode()
    return (line * (size // len(line) + 1))[:size]


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def ensure_tree(workdir: Path, n_files: int) -> Path:
    """Reuse a tree generated earlier with the same parameters, else generate it."""
    root = workdir / f"tree-{n_files}"
    marker = workdir / f"tree-{n_files}.ok"
    if marker.exists() and marker.read_text() == str(TREE_FORMAT) and root.is_dir():
        return root
    shutil.rmtree(root, ignore_errors=True)
    started = time.perf_counter()
    generate_tree(root, n_files)
    marker.write_text(str(TREE_FORMAT))
    print(f"generated {n_files:,}-file tree in {time.perf_counter() - started:.1f} s: {root}", file=sys.stderr)
    return root


# ---- measurement ------------------------------------------------------------------------------------------


@dataclass
class Run:
    best: float
    median: float
    peak_mb: float
    ok: bool
    error: str = ""
    cpu: float = 0.0  # user + system seconds of the fastest run: steadier than wall time on a busy machine


def measure(cmd: list[str], runs: int, timeout: float | None = None) -> Run:
    """Best and median wall time of `runs` runs of `cmd`, and the largest peak RSS among them."""
    times: list[float] = []
    cpus: list[float] = []
    peak_kb = 0
    with tempfile.TemporaryFile() as err:
        for _ in range(runs):
            err.seek(0)
            err.truncate()
            started = time.perf_counter()
            proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, stdin=subprocess.DEVNULL)
            # wait4 gives this child's own resource usage (getrusage(CHILDREN) would mix all runs).
            status, usage = _wait(proc, timeout)
            elapsed = time.perf_counter() - started
            if status is None:
                return Run(elapsed, elapsed, 0.0, False, f"timed out after {timeout:g} s")
            proc.returncode = os.waitstatus_to_exitcode(status)
            if proc.returncode != 0:
                err.seek(0)
                tail = err.read().decode("utf-8", "replace").strip().splitlines()[-3:]
                return Run(0.0, 0.0, 0.0, False, f"exit {proc.returncode}: {' | '.join(tail)}")
            times.append(elapsed)
            cpus.append(usage.ru_utime + usage.ru_stime)
            peak_kb = max(peak_kb, usage.ru_maxrss)  # kilobytes on Linux
    return Run(min(times), statistics.median(times), peak_kb / 1024, True, cpu=min(cpus))


def _wait(proc: subprocess.Popen[bytes], timeout: float | None) -> tuple[int | None, Any]:
    """(wait status, rusage) of the child, or (None, None) after killing it when `timeout` passes."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, 0 if deadline is None else os.WNOHANG)
        if pid:
            return status, usage
        assert deadline is not None
        if time.monotonic() > deadline:
            proc.kill()
            proc.wait()
            return None, None
        time.sleep(0.05)


PHASES = """
import sys, time
t0 = time.process_time()
from autodevops.engine.analyze import analyze
from autodevops.engine.source import LocalDir
t1 = time.process_time()
src = LocalDir(sys.argv[1]); src.files()
t2 = time.process_time()
result = analyze(src)
t3 = time.process_time()
result.model_dump_json(indent=2)
t4 = time.process_time()
print(f"imports {t1 - t0:.2f}  walk {t2 - t1:.2f}  analyze {t3 - t2:.2f}  json {t4 - t3:.2f}  (cpu s)")
"""


def phases(directory: Path) -> str:
    """Where one run's CPU time goes: imports, directory walk, analysis, JSON output."""
    out = subprocess.run([sys.executable, "-c", PHASES, str(directory)], capture_output=True, text=True)
    return out.stdout.strip() if out.returncode == 0 else f"failed: {out.stderr.strip()[-200:]}"


def autodevops_cmd(directory: Path) -> list[str]:
    exe = Path(sys.executable).parent / "autodevops"
    return [str(exe), "analyze", "--json", str(directory)]


def linguist_cmd(directory: Path) -> list[str]:
    # linguist-js 2.x spells the option `--analyze` (its help lists `--analyse` as an alias the parser rejects).
    return [str(LINGUIST), "--analyze", str(directory), "--json", "--offline"]


def ensure_linguist() -> bool:
    if LINGUIST.exists():
        return True
    if shutil.which("npm") is None:
        print("npm not found: skipping linguist-js", file=sys.stderr)
        return False
    print("installing linguist-js into bench/node_modules ...", file=sys.stderr)
    result = subprocess.run(
        ["npm", "install", "--no-save", "--no-audit", "--no-fund", "--prefix", str(HERE), "linguist-js"],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        print(f"npm install linguist-js failed: {result.stderr.strip()[-500:]}", file=sys.stderr)
    return LINGUIST.exists()


def count_files(directory: Path) -> int:
    return sum(len(files) for _, _, files in os.walk(directory))


def top_languages_autodevops(directory: Path) -> str:
    out = subprocess.run(autodevops_cmd(directory), capture_output=True, text=True)
    if out.returncode != 0:
        return "?"
    langs = json.loads(out.stdout).get("languages", [])
    return ", ".join(f"{lang['name']} {lang['percent']:.1f}%" for lang in langs[:5])


def top_languages_linguist(directory: Path) -> str:
    # The CLI's `--json` prints a JavaScript object literal, not JSON; the library call gives real JSON.
    script = (
        "const l = require('linguist-js'); (l.default || l)(process.argv[1], {offline: true}).then(r => {"
        " const o = {}; for (const [k, v] of Object.entries(r.languages.results)) o[k] = [v.type, v.bytes];"
        " console.log(JSON.stringify(o)); })"
    )
    env = {**os.environ, "NODE_PATH": str(HERE / "node_modules")}
    out = subprocess.run(["node", "-e", script, str(directory)], capture_output=True, text=True, env=env)
    if out.returncode != 0:
        return "?"
    results: dict[str, list[object]] = json.loads(out.stdout)
    counted = {name: int(str(info[1])) for name, info in results.items() if info[0] in ("programming", "markup")}
    total = sum(counted.values()) or 1
    ordered = sorted(counted.items(), key=lambda kv: -kv[1])[:5]
    return ", ".join(f"{name} {100 * b / total:.1f}%" for name, b in ordered)


# ---- main ---------------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dirs", nargs="*", type=Path, help="real checkouts to analyze as well")
    parser.add_argument("--runs", type=int, default=5, help="runs per tree for autodevops (best of N)")
    parser.add_argument("--linguist-runs", type=int, default=2, help="runs per tree for linguist-js")
    parser.add_argument(
        "--linguist-timeout", type=float, default=300.0, help="seconds before a linguist-js run is given up"
    )
    parser.add_argument("--sizes", default="10000,100000", help="synthetic tree sizes, comma-separated")
    parser.add_argument("--workdir", type=Path, help="keep generated trees here and reuse them (default: temp)")
    parser.add_argument("--no-linguist", action="store_true", help="skip linguist-js")
    parser.add_argument("--languages", action="store_true", help="also print each tool's top languages")
    parser.add_argument("--phases", action="store_true", help="also print where autodevops spends its CPU time")
    args = parser.parse_args()

    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    tmp: str | None = None
    if args.workdir is None:
        tmp = tempfile.mkdtemp(prefix="autodevops-bench-")
        workdir = Path(tmp)
    else:
        workdir = args.workdir
        workdir.mkdir(parents=True, exist_ok=True)
    use_linguist = not args.no_linguist and ensure_linguist()
    # An installed package has its bytecode compiled; a source checkout run with PYTHONDONTWRITEBYTECODE
    # (common in containers) would otherwise recompile every module on every run and measure the compiler.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "src" / "autodevops")], check=False)
    load = os.getloadavg()[0]
    print(f"load average {load:.1f} on {os.cpu_count()} CPUs: wall times include waiting for a CPU; cpu s does not")

    try:
        targets: list[tuple[str, Path, float | None]] = [
            (f"synthetic {n:,}", ensure_tree(workdir, n), TARGETS_SECONDS.get(n)) for n in sizes
        ]
        for d in args.dirs:
            if not d.is_dir():
                print(f"not a directory: {d}", file=sys.stderr)
                return 2
            targets.append((f"real {d.name}", d.resolve(), None))

        header = (
            f"{'tree':<20} {'files':>8} {'autodevops s':>12} {'median s':>9} {'cpu s':>6} {'peak MB':>8} "
            f"{'target':>9} {'linguist s':>10} {'peak MB':>8} {'ratio':>7}"
        )
        print(header)
        print("-" * len(header), flush=True)
        for label, directory, target in targets:
            files = count_files(directory)
            ours = measure(autodevops_cmd(directory), args.runs)
            if not ours.ok:
                print(f"{label:<20} {files:>8,} autodevops failed: {ours.error}")
                continue
            verdict = ""
            if target is not None:
                verdict = "ok" if ours.best <= target and ours.peak_mb <= TARGET_PEAK_MB else "MISS"
                verdict = f"{verdict} {target:g}s"
            theirs = (
                measure(linguist_cmd(directory), args.linguist_runs, args.linguist_timeout) if use_linguist else None
            )
            linguist_s, linguist_mb, ratio = f"{'-':>10}", f"{'-':>8}", f"{'-':>7}"
            if theirs is not None and theirs.ok:
                linguist_s, linguist_mb = f"{theirs.best:10.2f}", f"{theirs.peak_mb:8.0f}"
                ratio = f"{theirs.best / ours.best:6.1f}x"
            elif theirs is not None and theirs.error.startswith("timed out"):
                linguist_s = f"{'>' + format(args.linguist_timeout, 'g'):>10}"
                ratio = f"{'>' + format(args.linguist_timeout / ours.best, '.0f') + 'x':>7}"
            print(
                f"{label:<20} {files:>8,} {ours.best:12.3f} {ours.median:9.3f} {ours.cpu:6.2f} {ours.peak_mb:8.0f} "
                f"{verdict:>9} {linguist_s} {linguist_mb} {ratio}",
                flush=True,
            )
            if theirs is not None and not theirs.ok:
                print(f"    linguist-js failed: {theirs.error}")
            if args.phases:
                print(f"    phases: {phases(directory)}", flush=True)
            if args.languages:
                print(f"    autodevops: {top_languages_autodevops(directory)}", flush=True)
                if use_linguist and theirs is not None and theirs.ok:
                    print(f"    linguist:   {top_languages_linguist(directory)}")
        print(f"\nfiles = every file in the tree (autodevops skips node_modules); peak {TARGET_PEAK_MB:g} MB")
        print("ratio = linguist-js time / autodevops time (higher is better for autodevops)")
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
