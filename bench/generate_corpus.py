"""Generate and validate the pipeline of every corpus entry; print per-repository results and timings.

Usage: python bench/generate_corpus.py [CORPUS] [--only NAME]
Each entry is laid out as the corpus's SCHEMA.md says, analyzed, generated (`--target all`), then checked by
actionlint, zizmor (--offline) and the GitLab CI / Dependabot JSON schemas. Generation time excludes layout
and validation.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from autodevops.engine.analyze import analyze
from autodevops.engine.bench import entries, layout
from autodevops.engine.generate import generate
from autodevops.engine.source import LocalDir
from autodevops.engine.validate import validate_tree


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("corpus", nargs="?", default="../shared/corpus")
    parser.add_argument("--only")
    args = parser.parse_args()
    total_analyze = total_generate = 0.0
    clean = 0
    chosen = entries(Path(args.corpus), args.only)
    for entry in chosen:
        with tempfile.TemporaryDirectory() as tmp:
            repo = Path(tmp) / "repo"
            layout(entry, repo)
            t0 = time.perf_counter()
            analysis = analyze(LocalDir(str(repo)))
            t1 = time.perf_counter()
            result = generate(analysis, "all")
            t2 = time.perf_counter()
            total_analyze += t1 - t0
            total_generate += t2 - t1
            out = Path(tmp) / "out"
            for rel, text in result.files.items():
                (out / rel).parent.mkdir(parents=True, exist_ok=True)
                (out / rel).write_text(text, encoding="utf-8")
            problems = validate_tree(out, list(result.files))
        clean += not problems
        status = "ok" if not problems else f"{len(problems)} problem(s)"
        print(f"{entry.name:40} {len(result.files):2} files  {(t2 - t1) * 1000:7.1f} ms  {status}")
        for p in problems:
            print(f"    {p}")
    print(f"\n{clean}/{len(chosen)} repositories with zero findings (actionlint, zizmor, schemas)")
    print(f"analysis {total_analyze:.2f} s, generation {total_generate * 1000:.1f} ms in total")
    return 0 if clean == len(chosen) else 1


if __name__ == "__main__":
    sys.exit(main())
