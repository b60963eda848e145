#!/usr/bin/env bash
# Peak RSS of the exporter with the calls collector off, on, and on with the
# per-agent counts (--collector.calls.by-agent), against the
# bundled fake API serving heavy call pages: four accounts, so that four
# pages of 100 calls with 20 KB transcripts (about 2 MB each) are in flight
# at once. Prints VmHWM of each run; run from anywhere in the repository:
#   bash internal/bench/calls-rss.sh [scrapes]
set -euo pipefail
root=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
scrapes=${1:-10}
dir=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$dir"' EXIT
(cd "$root" && go build -o "$dir/exporter" . && go build -o "$dir/fake" ./cmd/vocode-fake-api)
"$dir/fake" --listen 127.0.0.1:10412 --api-key demo --calls 1000 --calls-spread 10m \
  --transcript-bytes 20000 --latency 100ms >"$dir/fake.log" 2>&1 &
printf 'demo' >"$dir/key"
{
  echo "accounts:"
  for a in a b c d; do
    echo "  - {name: $a, url: 'http://127.0.0.1:10412', api_key_file: $dir/key}"
  done
} >"$dir/config.yml"
for _ in $(seq 50); do curl -fs -o /dev/null http://127.0.0.1:10412/v1/usage -H 'Authorization: Bearer demo' && break; sleep 0.1; done

run() {
  local name=$1; shift
  "$dir/exporter" --config.file="$dir/config.yml" --web.listen-address=127.0.0.1:10411 "$@" >"$dir/$name.log" 2>&1 &
  local pid=$!
  for _ in $(seq 50); do curl -fs -o /dev/null http://127.0.0.1:10411/-/ready && break; sleep 0.1; done
  for _ in $(seq "$scrapes"); do curl -fs -o "$dir/$name.prom" http://127.0.0.1:10411/metrics; done
  local hwm
  hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
  kill "$pid"; wait "$pid" 2>/dev/null || true
  grep -c '^vocode_calls{' "$dir/$name.prom" >"$dir/$name.count" || true
  printf '%-10s peak RSS %6.1f MiB  (vocode_calls series: %s, calls pages per scrape: %s)\n' "$name" \
    "$(echo "$hwm / 1024" | bc -l)" "$(cat "$dir/$name.count")" \
    "$(grep -o 'vocode_api_requests_total{account="a",code="200",endpoint="calls_list"} [0-9]*' "$dir/$name.prom" | awk -v s="$scrapes" '{print $2/s}')"
}
run calls-off
run calls-on --collector.calls --collector.calls.window=15m
# The calls counted one level deeper: by duration, human detection and, per
# agent, by status and outcome, with the agents named from the agents list.
run by-agent --collector.calls --collector.calls.window=15m --collector.calls.by-agent
