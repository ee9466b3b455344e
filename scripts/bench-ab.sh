#!/usr/bin/env bash
# Compares the budget benchmarks (DEVELOPERS.md) of two versions of Sesame
# on this machine, in interleaved rounds: A, B, A, B... A machine shared
# with others drifts by tens of percent within minutes, so only rounds run
# side by side compare; each side's figures are printed as min-max and
# median of its rounds.
#
#   scripts/bench-ab.sh [-n ROUNDS] A [B]
#
# A and B are commits (anything git rev-parse takes); B defaults to the
# working tree as it is. Set SESAME_BENCH_DB=postgres and
# SESAME_TEST_POSTGRES to measure on PostgreSQL. Run it from the
# repository root.
set -euo pipefail
export LC_ALL=C
cd "$(dirname "$0")/.."

rounds=3
if [ "${1:-}" = "-n" ]; then
  rounds=$2
  shift 2
fi
if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  echo "usage: scripts/bench-ab.sh [-n ROUNDS] A [B]" >&2
  exit 2
fi

work=$(mktemp -d)
cleanup() {
  for wt in "$work"/src-*; do
    [ -d "$wt" ] && git worktree remove --force "$wt" >/dev/null 2>&1 || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

packages=(oidc signout endsession)

# build SIDE REV: the test binaries of SIDE, from commit REV or, when REV
# is empty, from the working tree.
build() {
  local side=$1 rev=$2 src=.
  if [ -n "$rev" ]; then
    src="$work/src-$side"
    git worktree add --detach -q "$src" "$rev"
  fi
  for p in "${packages[@]}"; do
    (cd "$src" && go test -c -o "$work/$side-$p.test" "./internal/$p/")
  done
}

a=$(git rev-parse --short "$1")
b=working-tree
build A "$a"
if [ $# -eq 2 ]; then
  b=$(git rev-parse --short "$2")
  build B "$b"
else
  build B ""
fi

# run SIDE: one round of SIDE's benchmarks, appended to $work/SIDE.out.
run() {
  local side=$1
  (cd internal/oidc && "$work/$side-oidc.test" -test.run '^$' -test.benchtime 3000x \
    -test.bench 'BenchmarkSSO|BenchmarkRefresh|BenchmarkUserInfo|BenchmarkIntro') >>"$work/$side.out"
  (cd internal/signout && "$work/$side-signout.test" -test.run '^$' -test.benchtime 1000x \
    -test.bench 'BenchmarkGlobalSignOutCommit/own') >>"$work/$side.out"
  (cd internal/endsession && "$work/$side-endsession.test" -test.run '^$' -test.benchtime 300x \
    -test.bench 'BenchmarkGlobalSignOutFourApps') >>"$work/$side.out"
}

for r in $(seq 1 "$rounds"); do
  echo "round $r of $rounds" >&2
  run A
  run B
done

# The figures the budget counts: CPU per operation (Sesame's, and the
# database server's on PostgreSQL) and the wall time to the 4th delivery.
summary() {
  awk '/^Benchmark/ {
      name = $1; sub(/-[0-9]+$/, "", name)
      for (i = 3; i < NF; i++) {
        if ($(i+1) == "cpu-ns/op" || $(i+1) == "pg-cpu-ns/op" || $(i+1) == "received-ns/op") {
          print name " " $(i+1) " " $i
        }
      }
    }' "$1" | sort -k1,2 -k3n | awk '
    { key = $1 " " $2; v[key, ++n[key]] = $3; if (!(key in seen)) { seen[key] = 1; order[++k] = key } }
    END {
      for (j = 1; j <= k; j++) {
        key = order[j]; c = n[key]
        med = (c % 2) ? v[key, (c + 1) / 2] : (v[key, c / 2] + v[key, c / 2 + 1]) / 2
        printf "%s\t%.1f-%.1f (median %.1f) us\n", key, v[key, 1] / 1000, v[key, c] / 1000, med / 1000
      }
    }'
}

echo
echo "A = $a, B = $b, $rounds interleaved rounds${SESAME_BENCH_DB:+, on $SESAME_BENCH_DB}"
join -t $'\t' <(summary "$work/A.out") <(summary "$work/B.out") |
  awk -F '\t' 'BEGIN { print "benchmark metric\tA\tB" } { print }' | column -t -s $'\t'
