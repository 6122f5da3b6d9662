"""Run a GitHub Actions pipeline on this machine, job by job and step by step, and report what passes.

`autodevops verify` is the measuring instrument for "the pipeline we generate goes green on the first push": a
step is green only if it really ran here and exited 0. Modules: `expressions` (the `${{ }}` language),
`workflow` (jobs, needs, triggers, matrices).
"""
