#!/usr/bin/env bash
# Create and migrate the test database, the app role and its policies: what the test fixtures expect.
# Run by `make test` after scripts/services.sh; the fixtures would do the same on first use, but doing it
# here makes a broken migration or a missing privilege fail loudly before any test runs.
#   AUTODEVOPS_TEST_DATABASE  the database name (default autodevops_test), as in tests/conftest.py
#   DATABASE_URL              the server and owner role to use (default postgresql://postgres@127.0.0.1:5432),
#                             as a CI service container hands it out; the test fixtures read it the same way
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
db=${AUTODEVOPS_TEST_DATABASE:-autodevops_test}
server=${DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/postgres}

if ! psql "$server" -tAc 'SELECT 1' >/dev/null 2>&1; then
  echo "test-db: cannot connect to PostgreSQL at ${DATABASE_URL:-127.0.0.1:5432 as postgres without a password}" >&2
  echo "test-db: scripts/services.sh sets that up on a fresh machine; see README (Tests)" >&2
  exit 1
fi

# The same URLs the fixtures build (tests/platform_support.py): the owner role from DATABASE_URL, the app role.
urls=$("$BIN/python" - "$server" "$db" <<'PY'
import sys
from urllib.parse import urlsplit

url, db = urlsplit(sys.argv[1]), sys.argv[2]
server = f"{url.hostname}:{url.port or 5432}"
owner = (url.username or "postgres") + (f":{url.password}" if url.password else "")
print(f"postgresql+asyncpg://{owner}@{server}/{db}")
print(f"postgresql+asyncpg://autodevops_app:autodevops_app@{server}/{db}")
PY
)
# A test database starts empty, as the fixtures' does (tests/platform_support.migrate_fresh): one migrated by
# another checkout may be at a revision this one does not have, which migrate rightly refuses.
PGOPTIONS="-c client_min_messages=warning" psql "$server" -qc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null
AUTODEVOPS_ENV=test \
AUTODEVOPS_DATABASE_ADMIN_URL="$(sed -n 1p <<<"$urls")" \
AUTODEVOPS_DATABASE_URL="$(sed -n 2p <<<"$urls")" \
  "$BIN/autodevops" migrate
