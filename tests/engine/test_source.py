"""Reading repositories safely: local directories and git clones, and the bounded parsers over them."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from autodevops.engine.clone import GitClone
from autodevops.engine.detect.base import MAX_MANIFEST_BYTES, Context
from autodevops.engine.source import (
    SKIP_SPECIAL,
    SKIP_SYMLINK,
    SKIP_TOO_DEEP,
    SKIP_UNREADABLE,
    FileEntry,
    LocalDir,
    RepoSource,
    SourceError,
    is_git_url,
)

TODAY = dt.date(2026, 1, 1)


def write(root: Path, files: dict[str, str | bytes]) -> None:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)


def paths(source: RepoSource) -> list[str]:
    return [e.path for e in source.files()]


def codes(ctx: Context) -> list[str]:
    return [f.code for f in ctx.findings]


# ---- LocalDir: listing ---------------------------------------------------------------------------------


def test_lists_regular_files_with_sizes_in_a_stable_order(tmp_path: Path) -> None:
    write(tmp_path, {"b.txt": "12345", "a/z.py": "", "a/b/c.py": "x", "a.py": "xy"})
    src = LocalDir(tmp_path)
    assert isinstance(src, RepoSource)
    assert src.files() == [
        FileEntry("a.py", 2),
        FileEntry("a/b/c.py", 1),
        FileEntry("a/z.py", 0),
        FileEntry("b.txt", 5),
    ]
    assert src.skipped == 0


def test_dependency_and_vcs_directories_are_not_walked(tmp_path: Path) -> None:
    write(tmp_path, {"package.json": "{}", "node_modules/x/package.json": "{}", ".git/config": "", "src/a.js": ""})
    assert paths(LocalDir(tmp_path)) == ["package.json", "src/a.js"]


def test_missing_path_and_file_path_are_source_errors(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no such file"):
        LocalDir(tmp_path / "nope")
    (tmp_path / "f").write_text("")
    with pytest.raises(SourceError, match="not a directory"):
        LocalDir(tmp_path / "f")


def test_symlink_loop_is_not_followed(tmp_path: Path) -> None:
    write(tmp_path, {"a/file.py": ""})
    (tmp_path / "a" / "loop").symlink_to(tmp_path / "a", target_is_directory=True)
    (tmp_path / "self").symlink_to(tmp_path, target_is_directory=True)
    (tmp_path / "x").symlink_to(tmp_path / "y")
    (tmp_path / "y").symlink_to(tmp_path / "x")
    src = LocalDir(tmp_path)
    assert paths(src) == ["a/file.py"]
    assert src.skipped_reasons[SKIP_SYMLINK] == 4


def test_symlinks_out_of_the_root_are_neither_listed_nor_readable(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    write(outside, {"secret.txt": "top secret", "dir/package.json": "{}"})
    repo = tmp_path / "repo"
    write(repo, {"ok.txt": "fine"})
    (repo / "leak.txt").symlink_to(outside / "secret.txt")
    (repo / "linked").symlink_to(outside / "dir", target_is_directory=True)
    src = LocalDir(repo)
    assert paths(src) == ["ok.txt"]
    with pytest.raises(OSError, match="Too many levels of symbolic links"):
        src.read_bytes("leak.txt", 100)
    with pytest.raises(OSError, match=r"Not a directory|Too many levels"):
        src.read_bytes("linked/package.json", 100)  # a symlinked directory on the way is refused too
    assert src.read_bytes("ok.txt", 100) == b"fine"


@pytest.mark.parametrize("path", ["../outside.txt", "a/../../outside.txt", "/etc/passwd", "", "a\\..\\x", "a\x00"])
def test_read_bytes_refuses_paths_out_of_the_root(tmp_path: Path, path: str) -> None:
    (tmp_path / "outside.txt").write_text("no")
    repo = tmp_path / "repo"
    write(repo, {"a/in.txt": "yes"})
    with pytest.raises(ValueError, match="escapes the repository"):
        LocalDir(repo).read_bytes(path, 100)


def test_read_bytes_honours_the_limit(tmp_path: Path) -> None:
    write(tmp_path, {"big.txt": "0123456789"})
    assert LocalDir(tmp_path).read_bytes("big.txt", 4) == b"0123"
    assert LocalDir(tmp_path).read_bytes("./big.txt", 100) == b"0123456789"


def test_deeply_nested_directories_are_cut_off_and_counted(tmp_path: Path) -> None:
    deep = tmp_path
    for i in range(60):
        deep = deep / f"d{i}"
    deep.mkdir(parents=True)
    (deep / "bottom.py").write_text("")
    (tmp_path / "d0" / "top.py").write_text("")
    src = LocalDir(tmp_path, max_depth=10)
    assert paths(src) == ["d0/top.py"]
    assert src.skipped_reasons[SKIP_TOO_DEEP] == 1


def test_default_depth_limit_handles_very_deep_trees(tmp_path: Path) -> None:
    deep = tmp_path
    for _ in range(200):
        deep = deep / "d"
    deep.mkdir(parents=True)
    (deep / "bottom.py").write_text("")
    src = LocalDir(tmp_path)
    assert paths(src) == []
    assert src.skipped_reasons[SKIP_TOO_DEEP] == 1
    assert "too-deep" in codes(Context(src, TODAY))


def test_fifo_is_skipped_and_never_blocks(tmp_path: Path) -> None:
    write(tmp_path, {"a.txt": "a"})
    os.mkfifo(tmp_path / "pipe")
    src = LocalDir(tmp_path)
    assert paths(src) == ["a.txt"]
    assert src.skipped_reasons[SKIP_SPECIAL] == 1
    # Even asked by name, a FIFO is refused at once instead of waiting for a writer.
    with pytest.raises(ValueError, match="not a regular file"):
        src.read_bytes("pipe", 10)


def test_max_files_bounds_the_listing(tmp_path: Path) -> None:
    write(tmp_path, {f"f{i:02}.txt": "" for i in range(20)})
    src = LocalDir(tmp_path, max_files=5)
    assert paths(src) == [f"f{i:02}.txt" for i in range(5)]
    assert src.skipped == 15


def _run_unprivileged(code: str) -> str:
    """Run `code` in a Python child that cannot read past permission bits.

    Root reads any directory, so under root the child drops the capabilities that bypass permission checks.
    """
    prefix = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search", "--"] if os.geteuid() == 0 else []
    result = subprocess.run([*prefix, sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_unreadable_directory_is_skipped_and_reported(tmp_path: Path) -> None:
    write(tmp_path, {"ok/a.py": "", "locked/b.py": ""})
    (tmp_path / "locked").chmod(0o000)
    try:
        out = _run_unprivileged(
            "import datetime\n"
            "from autodevops.engine.source import LocalDir\n"
            "from autodevops.engine.detect.base import Context\n"
            f"src = LocalDir({str(tmp_path)!r})\n"
            "ctx = Context(src, datetime.date(2026, 1, 1))\n"
            "print([e.path for e in src.files()], dict(src.skipped_reasons), [f.code for f in ctx.findings])\n"
        )
    finally:
        (tmp_path / "locked").chmod(0o755)
    assert out == f"['ok/a.py'] {{'{SKIP_UNREADABLE}': 1}} ['unreadable-paths']"


def test_unreadable_root_is_a_source_error(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    root.chmod(0o000)
    try:
        out = _run_unprivileged(
            "from autodevops.engine.source import LocalDir, SourceError\n"
            f"src = LocalDir({str(root)!r})\n"
            "try:\n    src.files()\nexcept SourceError as exc:\n    print('SourceError', exc)\n"
        )
    finally:
        root.chmod(0o755)
    assert out.startswith("SourceError")
    assert "cannot be read" in out


# ---- Context: bounded reads and parse errors as findings ----------------------------------------------


def test_huge_file_is_a_finding_and_is_not_read(tmp_path: Path) -> None:
    with (tmp_path / "package.json").open("wb") as fh:
        fh.truncate(MAX_MANIFEST_BYTES + 1)  # sparse: big on paper, costs no disk
    ctx = Context(LocalDir(tmp_path), TODAY)
    assert ctx.json("package.json") is None
    assert codes(ctx) == ["file-too-large"]
    assert ctx.files_read == 0


def test_binary_file_is_a_finding(tmp_path: Path) -> None:
    write(tmp_path, {"pyproject.toml": b"\x7fELF\x00\x00\x01binary"})
    ctx = Context(LocalDir(tmp_path), TODAY)
    assert ctx.toml("pyproject.toml") is None
    assert codes(ctx) == ["binary-file"]


def test_non_utf8_text_is_read_with_a_finding(tmp_path: Path) -> None:
    write(tmp_path, {"requirements.txt": "caf\xe9-lib==1.0\nrequests\n".encode("latin-1")})
    ctx = Context(LocalDir(tmp_path), TODAY)
    text = ctx.text("requirements.txt")
    assert text is not None
    assert "requests" in text
    assert "\ufffd" in text
    assert codes(ctx) == ["not-utf8"]


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    write(tmp_path, {"package.json": b'\xef\xbb\xbf{"name": "x"}'})
    ctx = Context(LocalDir(tmp_path), TODAY)
    assert ctx.json("package.json") == {"name": "x"}
    assert ctx.findings == []


@pytest.mark.parametrize(
    ("name", "content", "kind"),
    [
        ("package.json", '{"name": "x",, }', "JSON"),
        ("pyproject.toml", "[project\nname = 'x'", "TOML"),
        ("docker-compose.yml", "services:\n  db:\n    image: [postgres\n", "YAML"),
        ("pom.xml", "<project><version>1</project>", "XML"),
    ],
)
def test_malformed_manifest_is_a_finding_naming_file_and_error(
    tmp_path: Path, name: str, content: str, kind: str
) -> None:
    write(tmp_path, {name: content, "other.json": '{"ok": true}'})
    ctx = Context(LocalDir(tmp_path), TODAY)
    parse = {"JSON": ctx.json, "TOML": ctx.toml, "YAML": ctx.yaml, "XML": ctx.xml}[kind]
    assert parse(name) is None
    assert len(ctx.findings) == 1
    finding = ctx.findings[0]
    assert finding.code == "parse-error"
    assert finding.message.startswith(f"{name}: invalid {kind}: ")
    assert len(finding.message) > len(f"{name}: invalid {kind}: ") + 5  # the parser's own message follows
    assert finding.evidence[0].file == name
    # The rest of the analysis goes on.
    assert ctx.json("other.json") == {"ok": True}


def test_xml_entity_expansion_is_refused(tmp_path: Path) -> None:
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
        "<project>&c;</project>"
    )
    write(tmp_path, {"pom.xml": bomb})
    ctx = Context(LocalDir(tmp_path), TODAY)
    assert ctx.xml("pom.xml") is None
    assert codes(ctx) == ["parse-error"]


def _yaml_bomb(levels: int) -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels):
        refs = ", ".join([f"*a{i - 1}"] * 9)
        lines.append(f"a{i}: &a{i} [{refs}]")
    return "\n".join(lines) + "\n"


def test_yaml_alias_bomb_terminates_with_a_finding(tmp_path: Path) -> None:
    # 9 ** 12 (about 2.8e11) strings once expanded; a few hundred bytes on disk.
    write(tmp_path, {".github/workflows/ci.yml": _yaml_bomb(12)})
    ctx = Context(LocalDir(tmp_path), TODAY)
    assert ctx.yaml(".github/workflows/ci.yml") is None
    assert codes(ctx) == ["parse-error"]
    assert "alias" in ctx.findings[0].message


def test_recursive_yaml_alias_terminates_with_a_finding(tmp_path: Path) -> None:
    write(tmp_path, {"a.yml": "a: &x\n  - *x\n  - *x\n"})
    ctx = Context(LocalDir(tmp_path), TODAY)
    assert ctx.yaml("a.yml") is None
    assert codes(ctx) == ["parse-error"]


def test_deeply_nested_json_is_a_finding_not_a_crash(tmp_path: Path) -> None:
    write(tmp_path, {"package.json": "[" * 100_000 + "]" * 100_000})
    ctx = Context(LocalDir(tmp_path), TODAY)
    assert ctx.json("package.json") is None
    assert codes(ctx) == ["parse-error"]


def test_yaml_uses_yaml_1_2_scalars(tmp_path: Path) -> None:
    # GitHub workflow `on:` stays a string key; `22:22` is a port mapping, not a base-60 number.
    write(tmp_path, {"c.yml": "on: push\nports:\n  - 22:22\nv: 3.10\nn: 010\nok: yes\nt: true\nd: 2024-01-01\n"})
    ctx = Context(LocalDir(tmp_path), TODAY)
    assert ctx.yaml("c.yml") == {
        "on": "push",
        "ports": ["22:22"],
        "v": 3.1,
        "n": 10,
        "ok": "yes",
        "t": True,
        "d": "2024-01-01",
    }


# ---- GitClone -------------------------------------------------------------------------------------------


def _git(*args: str, cwd: Path) -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.invalid",
        "GIT_CONFIG_NOSYSTEM": "1",
        "HOME": str(cwd),
    }
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, env=env)


@pytest.fixture
def origin(tmp_path: Path) -> Path:
    repo = tmp_path / "origin"
    write(repo, {"package.json": '{"name": "demo"}', "src/index.js": "console.log(1)\n"})
    _git("init", "-q", "-b", "main", cwd=repo)
    _git("add", ".", cwd=repo)
    _git("commit", "-q", "-m", "one", cwd=repo)
    _git("branch", "release", cwd=repo)
    return repo


def test_git_clone_reads_a_file_url_and_removes_its_directory(origin: Path) -> None:
    with GitClone(origin.as_uri()) as src:
        clone_dir = src.path
        assert clone_dir is not None
        assert Path(clone_dir).is_dir()
        assert paths(src) == ["package.json", "src/index.js"]
        assert src.read_bytes("package.json", 100) == b'{"name": "demo"}'
        assert src.name == origin.as_uri()
    assert not Path(clone_dir).exists()


def test_git_clone_of_a_branch(origin: Path) -> None:
    write(origin, {"extra.txt": "x"})
    _git("checkout", "-q", "-b", "feature", cwd=origin)
    _git("add", ".", cwd=origin)
    _git("commit", "-q", "-m", "two", cwd=origin)
    with GitClone(origin.as_uri(), ref="release") as src:
        assert "extra.txt" not in paths(src)
    with GitClone(origin.as_uri(), ref="feature") as src:
        assert "extra.txt" in paths(src)


def test_git_clone_failure_is_a_source_error_and_cleans_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scratch = tmp_path / "tmp"  # this test's own temporary directory: other tests clone in parallel
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    with pytest.raises(SourceError, match="git clone failed"), GitClone((tmp_path / "missing").as_uri()):
        pass
    assert list(scratch.glob("autodevops-clone-*")) == []


def test_unreachable_url_fails_without_prompting() -> None:
    # Nothing listens on port 1: the connection is refused at once.
    with pytest.raises(SourceError, match="git clone failed"), GitClone("http://127.0.0.1:1/owner/repo.git"):
        pass


def test_stalled_server_times_out_with_a_source_error(silent_port: int) -> None:
    with (
        pytest.raises(SourceError, match="timed out"),
        GitClone(f"http://127.0.0.1:{silent_port}/owner/repo.git", timeout=1.5),
    ):
        pass


def test_git_clone_must_be_entered(origin: Path) -> None:
    src = GitClone(origin.as_uri())
    with pytest.raises(RuntimeError, match="must be entered"):
        src.files()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://github.com/o/r.git", True),
        ("git@github.com:o/r.git", True),
        ("ssh://git@host/o/r", True),
        ("file:///srv/repo", True),
        ("./some/dir", False),
        ("/abs/dir", False),
        ("C:/Users/x", False),
        ("ext::sh -c touch% /tmp/pwned", False),
    ],
)
def test_is_git_url(value: str, expected: bool) -> None:
    assert is_git_url(value) is expected
    if not expected:
        with pytest.raises(SourceError, match="not a git URL"):
            GitClone(value)


def test_the_default_branch_comes_from_the_checkouts_git_metadata(tmp_path: Path) -> None:
    from autodevops.engine.source import git_default_branch

    assert git_default_branch(tmp_path) is None
    subprocess.run(["git", "init", "-q", "-b", "trunk", str(tmp_path / "origin")], check=True)
    assert LocalDir(tmp_path / "origin").default_branch == "trunk"
    subprocess.run(
        ["git", "-C", str(tmp_path / "origin"), "commit", "-q", "--allow-empty", "-m", "x"],
        check=True,
        env={
            "GIT_AUTHOR_NAME": "a",
            "GIT_AUTHOR_EMAIL": "a@b",
            "GIT_COMMITTER_NAME": "a",
            "GIT_COMMITTER_EMAIL": "a@b",
            "PATH": "/usr/bin:/bin",
        },
    )
    subprocess.run(["git", "clone", "-q", str(tmp_path / "origin"), str(tmp_path / "clone")], check=True)
    subprocess.run(["git", "-C", str(tmp_path / "clone"), "switch", "-q", "-c", "feature"], check=True)
    # A clone on a feature branch still knows the remote's default branch.
    assert git_default_branch(tmp_path / "clone") == "trunk"
