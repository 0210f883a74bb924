#!/usr/bin/env bash
# HTTP benchmark of a release build: the server pinned to core 0 with one
# runtime worker, wrk pinned to core 1. Prints throughput and latency for
# /evaluate/v1/boolean, /evaluate/v1/variant and /health, the server's resident
# memory, and the time from a file save to a changed answer.
#
# Usage: bench/http.sh [duration, default 10s] [connections, default 64]
# Needs: wrk (apt-get install wrk), python3, taskset (util-linux).
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${1:-10s}"
CONNS="${2:-64}"
PORT="${PORT:-18080}"

cargo build --release -p guidon --locked --quiet
BIN=target/release/guidon
DIR=$(mktemp -d)
trap 'kill "$PID" 2>/dev/null || true; rm -rf "$DIR"' EXIT
python3 bench/gen_flags.py "$DIR" 1000

TOKIO_WORKER_THREADS=1 taskset -c 0 "$BIN" serve --path "$DIR" --host 127.0.0.1 \
  --http-port "$PORT" --log-level warn &
PID=$!
for _ in $(seq 100); do "$BIN" health --url "http://127.0.0.1:$PORT" >/dev/null 2>&1 && break; sleep 0.1; done
echo "RSS after start (1,000 flags): $(grep VmRSS /proc/$PID/status | awk '{print $2" "$3}')"

# One run: prints requests/s and p99 (ms) of wrk against one endpoint.
measure() {
  taskset -c 1 wrk -t1 -c"$CONNS" -d"$DURATION" --latency "$@" | awk '
    /Requests\/sec/ {rps=$2}
    /^ +99%/ {p=$2; if (p ~ /us$/) {sub(/us$/, "", p); p=p/1000} else if (p ~ /ms$/) {sub(/ms$/, "", p)} else if (p ~ /s$/) {sub(/s$/, "", p); p=p*1000}; p99=p}
    /Non-2xx/ {bad=$NF}
    END {printf "%d %.2f %s\n", rps, p99, (bad == "" ? 0 : bad)}'
}
# A short warm-up so the first measured run does not pay for page faults and
# allocator growth.
taskset -c 1 wrk -t1 -c"$CONNS" -d3s -s bench/boolean.lua "http://127.0.0.1:$PORT/evaluate/v1/boolean" >/dev/null
# The VM is shared, so single runs swing by ±15%: interleave the endpoints over
# ROUNDS rounds and report medians.
ROUNDS="${ROUNDS:-3}"
: > "$DIR/results"
for r in $(seq "$ROUNDS"); do
  echo "health $(measure "http://127.0.0.1:$PORT/health")" >> "$DIR/results"
  echo "boolean $(measure -s bench/boolean.lua "http://127.0.0.1:$PORT/evaluate/v1/boolean")" >> "$DIR/results"
  echo "variant $(measure -s bench/variant.lua "http://127.0.0.1:$PORT/evaluate/v1/variant")" >> "$DIR/results"
done
echo
echo "round by round (endpoint req/s p99-ms non-2xx):"
cat "$DIR/results"
python3 - "$DIR/results" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
med = {}
for name in ("health", "boolean", "variant"):
    rps = [int(r[1]) for r in rows if r[0] == name]
    p99 = [float(r[2]) for r in rows if r[0] == name]
    med[name] = statistics.median(rps)
    print(f"{name:8s} median {med[name]:>9,.0f} req/s   p99 median {statistics.median(p99):.2f} ms   (runs: {', '.join(f'{x:,}' for x in rps)})")
print(f"boolean / health: {med['boolean'] / med['health']:.1%}")
PY
echo
echo "RSS after load: $(grep VmRSS /proc/$PID/status | awk '{print $2" "$3}'), peak $(grep VmHWM /proc/$PID/status | awk '{print $2" "$3}')"

# Propagation: flip flag-0's threshold value and time until the answer changes.
python3 - "$DIR/features.yml" "$PORT" <<'PY'
import json, sys, time, urllib.request
path, port = sys.argv[1], sys.argv[2]
def ask():
    req = urllib.request.Request(f"http://127.0.0.1:{port}/evaluate/v1/boolean",
        data=json.dumps({"flagKey": "flag-0", "entityId": "user-1234"}).encode(), method="POST")
    return json.load(urllib.request.urlopen(req))["enabled"]
before = ask()
text = open(path).read()
target = "threshold: {percentage: 50, value: true}"
flipped = text.replace(target, "threshold: {percentage: 100, value: %s}" % ("false" if before else "true"), 1)
start = time.monotonic()
with open(path, "w") as f:
    f.write(flipped)
while ask() == before:
    if time.monotonic() - start > 5:
        sys.exit("change not served within 5 s")
    time.sleep(0.005)
print(f"\nfile save -> changed answer: {(time.monotonic() - start) * 1000:.0f} ms")
PY
