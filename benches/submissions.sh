#!/usr/bin/env bash
# Submissions per second of one or more `anshin` binaries, interleaved in one session so that
# the machine's drift hits them alike (docs/performance.md). Each run gets a fresh database.
# After each run: the server's CPU time (user + system, from /proc) per submission.
#
#   benches/submissions.sh ROUNDS SUBMISSIONS BINARY...
#   e.g. benches/submissions.sh 3 20000 /tmp/anshin-before target/release/anshin
#
# WRITER_SETUP, if set, is run once each server is up, with $writer the id of its writer
# thread: e.g. WRITER_SETUP='chrt -f -p 10 $writer' for experiments on its scheduling.
set -euo pipefail
rounds=$1 submissions=$2
shift 2
port=18190
for round in $(seq "$rounds"); do
  for binary in "$@"; do
    dir=$(mktemp -d)
    "$binary" --db "$dir/bench.db" migrate >/dev/null
    "$binary" --db "$dir/bench.db" serve --bind "127.0.0.1:$port" >"$dir/server.log" 2>&1 &
    server=$!
    for _ in $(seq 100); do
      curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break
      sleep 0.1
    done
    if [ -n "${WRITER_SETUP:-}" ]; then
      writer=$(grep -l submission-writ /proc/"$server"/task/*/comm | cut -d/ -f5)
      eval "$WRITER_SETUP"
    fi
    echo "round $round, $binary"
    "$binary" --db "$dir/bench.db" loadgen --url "http://127.0.0.1:$port" --clients 32 \
      --submissions "$submissions" 2>/dev/null | grep -v "^loadgen: "
    ticks=$(awk '{print $14 + $15}' "/proc/$server/stat")
    echo "server CPU: $((ticks * 1000000 / $(getconf CLK_TCK) / submissions)) µs per submission"
    kill "$server"
    wait "$server" 2>/dev/null || true
    rm -rf "$dir"
    port=$((port + 1))
  done
done
