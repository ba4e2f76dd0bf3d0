#!/usr/bin/env bash
# Storage's share of the default `evoflow evolve` run's wall time, per backend.
#
# usage: scripts/storage-overhead.sh [RUNS] [PG_URL]
#   RUNS    runs per variant (default 9), interleaved: no-store, local, shared[, postgres]
#   PG_URL  also measure the postgres backend on this database
# Each backend writes a fresh database (as a user's first run) in a temp dir. Prints the
# median wall time of each variant and (median backend - median no-store) / median backend.
set -euo pipefail
runs=${1:-9}
pg_url=${2:-}
bin=${EVOFLOW_BIN:-${CARGO_TARGET_DIR:-target}/release/evoflow}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
variants=(nostore local shared)
[ -n "$pg_url" ] && variants+=(postgres)
for v in "${variants[@]}"; do : >"$tmp/$v.times"; done
for i in $(seq "$runs"); do
  for v in "${variants[@]}"; do
    case $v in
      nostore) flags=(--no-store) ;;
      local) flags=(--storage local --db "$tmp/l$i.duckdb") ;;
      shared) mkdir -p "$tmp/s$i"; flags=(--storage shared --shared-dir "$tmp/s$i") ;;
      postgres) flags=(--storage postgres --pg-url "$pg_url" --run-id "overhead-$$-$i") ;;
    esac
    start=$(date +%s%N)
    env -u EVOFLOW_STORAGE -u EVOFLOW_DB -u EVOFLOW_SHARED_DIR "$bin" evolve --json "${flags[@]}" >/dev/null 2>&1
    end=$(date +%s%N)
    echo $(( (end - start) / 1000 )) >>"$tmp/$v.times"
  done
done
median() { sort -n "$1" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
base=$(median "$tmp/nostore.times")
printf '%-9s median %8.1f ms  (runs: %s)\n' nostore "$(echo "$base/1000" | bc -l)" "$(tr '\n' ' ' <"$tmp/nostore.times")"
for v in "${variants[@]:1}"; do
  m=$(median "$tmp/$v.times")
  printf '%-9s median %8.1f ms  storage %5.1f %% of wall time\n' "$v" "$(echo "$m/1000" | bc -l)" \
    "$(echo "($m-$base)*100/$m" | bc -l)"
done
