#!/usr/bin/env bash
# The manager's page under 16 clients, against the static file of the same server as the
# anchor, for one or more running servers in turn (docs/performance.md, "Dashboards").
# Each server: a fresh session for LOGIN (password bench-password-1), then per round wrk on
# /static/app.css and on /dashboard, with the server's CPU time per page from /proc.
#
#   benches/manager_page.sh SECONDS ROUNDS LOGIN PORT:PID...
#   e.g. benches/manager_page.sh 10 3 mgrb 18401:$(pgrep -f 'db a.db serve') 18402:$(pgrep -f 'db b.db serve')
set -euo pipefail
seconds=$1 rounds=$2 login=$3
shift 3
ticks_per_second=$(getconf CLK_TCK)

sign_in() { # port → the session cookie
  local jar token
  jar=$(mktemp)
  token=$(curl -s -c "$jar" -b "$jar" "http://127.0.0.1:$1/login" |
    grep -o 'name="csrf" value="[^"]*"' | head -1 | sed 's/.*value="//;s/"//')
  curl -s -c "$jar" -b "$jar" -o /dev/null \
    -d "csrf=$token&login=$login&password=bench-password-1" "http://127.0.0.1:$1/login"
  awk '$6 == "anshin_session" {print "anshin_session=" $7}' "$jar"
  rm -f "$jar"
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

run() { # label port pid cookie path
  local before after out requests
  before=$(cpu_ticks "$3")
  out=$(wrk -t2 -c16 -d"${seconds}s" --latency -H "Cookie: $4" "http://127.0.0.1:$2$5")
  after=$(cpu_ticks "$3")
  requests=$(echo "$out" | awk '/requests in/ {print $1}')
  echo "$1 $5: $(echo "$out" | awk '/^ +50%/ {p50=$2} /^ +99%/ {p99=$2} /Requests\/sec/ {rps=$2}
    END {print "p50 " p50 ", p99 " p99 ", " rps "/s"}'), server CPU $(((after - before) * 1000000 / ticks_per_second / requests)) µs per request, load $(cut -d' ' -f1 /proc/loadavg)"
}

declare -A cookies
for server in "$@"; do
  port=${server%%:*}
  cookies[$port]=$(sign_in "$port")
  status=$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: ${cookies[$port]}" \
    "http://127.0.0.1:$port/dashboard")
  [ "$status" = 200 ] || { echo "port $port: /dashboard gave $status, not 200" >&2; exit 1; }
done
for round in $(seq "$rounds"); do
  for server in "$@"; do
    port=${server%%:*} pid=${server##*:}
    run "round $round, port $port" "$port" "$pid" "${cookies[$port]}" /static/app.css
    run "round $round, port $port" "$port" "$pid" "${cookies[$port]}" /dashboard
  done
done
