#!/usr/bin/env bash
# KV throughput beside etcd v2, in ONE run, with the shared harness (../shared/bench):
# GET and PUT at 64 connections for DURATION seconds each, interleaved, REPS times,
# plus start-up time to first answered request and idle RSS. Run by hand, not in tests.
#   scripts/bench/kv.sh [OUT_DIR]          env: REPS=2 DURATION=10 CONNS=64
# Needs: wrk, etcd (Debian etcd-server 3.4), a built dist/tsc. Loopback only.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
SHARED="${SHARED_BENCH:-$ROOT/../shared/bench}"
OUT="${1:-/tmp/tsc-bench/kv-$(date +%Y%m%d-%H%M%S)}"
IP=127.0.0.60
mkdir -p "$OUT"
P="$OUT/pids"; mkdir -p "$P"
DATA="$(mktemp -d /tmp/tsc-bench-data.XXXXXX)"

cleanup() { "$SHARED/peers/stop.sh" "$P/etcd.pid" "$P/ours.pid" >/dev/null 2>&1 || true; rm -rf "$DATA" /tmp/tsc-bench-etcd; }
trap cleanup EXIT

# Start-up: process spawn to first answered /v1/status/leader with a leader.
t0=$(date +%s%N)
"$ROOT/dist/tsc" agent -server -bootstrap-expect 1 -data-dir "$DATA" -node bench -bind $IP -client $IP -log-level warn >"$OUT/ours.log" 2>&1 &
echo $! > "$P/ours.pid"
until curl -sf "http://$IP:8500/v1/status/leader" | grep -q 8300; do sleep 0.005; done
t1=$(date +%s%N)
echo "STARTUP ours_ms=$(( (t1 - t0) / 1000000 ))" | tee "$OUT/startup.txt"
sleep 1
echo "IDLE ours_rss_kb=$(awk '/VmRSS/{print $2}' /proc/$(cat "$P/ours.pid")/status)" | tee -a "$OUT/startup.txt"
curl -sf -XPUT "http://$IP:8500/v1/kv/bench" -d 74a31e96-1d0f-4fa7-aa14-7212a326986e >/dev/null

"$SHARED/peers/start-etcd.sh" "$P/etcd.pid" /tmp/tsc-bench-etcd >/dev/null
echo "IDLE etcd_rss_kb=$(awk '/VmRSS/{print $2}' /proc/$(cat "$P/etcd.pid")/status)" | tee -a "$OUT/startup.txt"

cat > "$OUT/targets.txt" <<T
get  etcd2-get      get http://127.0.0.1:2379/v2/keys/bench  PIDFILE=$P/etcd.pid BASELINE=1
get  ours-get       get http://$IP:8500/v1/kv/bench           PIDFILE=$P/ours.pid
get  ours-get-stale get http://$IP:8500/v1/kv/bench?stale     PIDFILE=$P/ours.pid
put  etcd2-put      put http://127.0.0.1:2379/v2/keys/       MODE=etcd2 PIDFILE=$P/etcd.pid BASELINE=1
put  ours-put       put http://$IP:8500/v1/kv/                PIDFILE=$P/ours.pid
T
REPS="${REPS:-2}" DURATION="${DURATION:-10}" CONNS="${CONNS:-64}" "$SHARED/run-suite.sh" "$OUT/targets.txt" "$OUT"
echo "results in $OUT (startup.txt, summary.md)"
