#!/usr/bin/env bash
# Create and migrate the test database, the app role and its policies: what the test fixtures expect.
# Run by `make test` after scripts/services.sh; the fixtures would do the same on first use, but doing it
# here makes a broken migration or a missing privilege fail loudly before any test runs.
#   AUTODEVOPS_TEST_DATABASE  the database name (default autodevops_test), as in tests/conftest.py
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
db=${AUTODEVOPS_TEST_DATABASE:-autodevops_test}

if ! psql -h 127.0.0.1 -U postgres -d postgres -tAc 'SELECT 1' >/dev/null 2>&1; then
  echo "test-db: cannot connect to PostgreSQL on 127.0.0.1:5432 as postgres without a password" >&2
  echo "test-db: scripts/services.sh sets that up on a fresh machine; see README (Tests)" >&2
  exit 1
fi

AUTODEVOPS_ENV=test \
AUTODEVOPS_DATABASE_URL="postgresql+asyncpg://autodevops_app:autodevops_app@127.0.0.1:5432/${db}" \
AUTODEVOPS_DATABASE_ADMIN_URL="postgresql+asyncpg://postgres@127.0.0.1:5432/${db}" \
  "$BIN/autodevops" migrate
