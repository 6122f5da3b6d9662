"""A real worker process with the test tasks registered: `python tests/jobs/worker_main.py QUEUE... -c N`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import jobs.sample_tasks  # noqa: F401 - registers the test tasks
from autodevops.worker import main

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("queues", nargs="+")
    parser.add_argument("-c", "--concurrency", type=int, default=1)
    parser.add_argument("--metrics-port", type=int, default=None)
    args = parser.parse_args()
    main(queues=args.queues, concurrency=args.concurrency, metrics_port=args.metrics_port)
