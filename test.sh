#!/usr/bin/env bash
# The whole test suite: formatting, vet, staticcheck, and every Go test.
# Run it from the repository root: ./test.sh
#
# PostgreSQL tests run when SESAME_TEST_POSTGRES names a server (each test
# creates and drops its own database); .ci/run sets it. Without it they skip
# with a message, except in CI (CI=true), where they fail.
set -euo pipefail
cd "$(dirname "$0")"

if [ -z "${SESAME_TEST_POSTGRES:-}" ] && command -v pg_isready >/dev/null 2>&1 \
  && pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  export SESAME_TEST_POSTGRES="postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
fi

# The interop tests in e2e/ drive Sesame with npm clients; install them
# from the committed lock file when they are missing.
if [ ! -d e2e/node/node_modules ] && command -v npm >/dev/null 2>&1; then
  echo "== npm ci (e2e/node)"
  npm ci --prefix e2e/node --no-audit --no-fund --loglevel=error
fi

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi

echo "== no references outside the repository"
# The repository's documents stand alone: a clone has no team notes beside it.
outside=$(git grep -nE '\.\./shared|(design|contract)\.md' -- . ':!test.sh' 2>/dev/null || true)
if [ -n "$outside" ]; then
  echo "these lines refer to documents outside the repository:"; echo "$outside"; exit 1
fi

echo "== shell scripts parse"
bash -n test.sh .ci/run scripts/*.sh

echo "== go vet"
go vet ./...

echo "== staticcheck"
go tool staticcheck ./...

echo "== go test"
go test -count=1 -skip '^TestConformance(SQLite|Postgres)$' $(go list ./... | grep -v /e2e$)

# The storage conformance suite on each backend, verbose enough to print
# how many of its tests ran on each.
echo "== storage conformance (SQLite and PostgreSQL)"
status=0
go test -count=1 -v -run '^TestConformance(SQLite|Postgres)$' ./internal/store/sql/ > conformance.log 2>&1 || status=$?
grep -E "^(ok|FAIL|--- )" conformance.log || true
awk '/^=== RUN   TestConformance(SQLite|Postgres)\/[^\/]+$/{split($3, p, "/"); n[p[1]]++} END{for (d in n) print "conformance tests run on " d ": " n[d]}' conformance.log
if [ "$status" -ne 0 ]; then
  echo "conformance failed; its log:"; grep -vE "^=== (RUN|PAUSE|CONT)" conformance.log; exit "$status"
fi

# The interop suite, verbose, so the flows each foreign client completed
# are printed.
echo "== go test ./e2e (clients others wrote, and a real browser)"
status=0
go test -count=1 -v ./e2e/ > e2e/out.log 2>&1 || status=$?
grep -E "completed:|^(--- |ok|FAIL|PASS)|^\s+--- " e2e/out.log || true
if [ "$status" -ne 0 ]; then
  echo "e2e failed; its full log:"; cat e2e/out.log; exit "$status"
fi
