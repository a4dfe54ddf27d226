#!/usr/bin/env bash
# A 3-server tsc cluster beside a 3-member etcd cluster, in ONE run, with the shared harness
# (../shared/bench): leader election time after kill -9 of the leader (RUNS times each), then
# KV GET and PUT at 64 connections against each cluster's leader. Run by hand, not in tests.
#   scripts/bench/raft.sh [OUT_DIR]       env: RUNS=20 REPS=2 DURATION=10 CONNS=64 SKIP_ELECT=1 SKIP_LOAD=1
# Needs: wrk, etcd (Debian etcd-server 3.4), curl, a built dist/tsc. Loopback only:
# ours on 127.0.0.60-62, etcd on 127.0.0.41-43 (its harness's fixed addresses).
set -uo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
SHARED="${SHARED_BENCH:-$ROOT/../shared/bench}"
OUT="${1:-/tmp/tsc-bench/raft-$(date +%Y%m%d-%H%M%S)}"
RUNS="${RUNS:-20}"
IPS=(127.0.0.60 127.0.0.61 127.0.0.62)
ETCD_DIR=/tmp/tsc-bench-etcd3
mkdir -p "$OUT"
DATA="$(mktemp -d /tmp/tsc-bench-raft.XXXXXX)"
P="$OUT/pids"; mkdir -p "$P"

cleanup() {
  for i in 0 1 2; do [ -f "$P/s$i.pid" ] && kill -9 "$(cat "$P/s$i.pid")" 2>/dev/null; done
  "$SHARED/peers/etcd3-cluster-stop.sh" "$ETCD_DIR" --clean >/dev/null 2>&1 || true
  rm -rf "$DATA"
}
trap cleanup EXIT

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

start_server() { # i  (in a subshell, so bash reports no job when the bench kills it)
  ( exec "$ROOT/dist/tsc" agent -server -bootstrap-expect 3 -node "s$1" -bind "${IPS[$1]}" -client "${IPS[$1]}" \
    -data-dir "$DATA/s$1" -retry-join "${IPS[0]}" -retry-join "${IPS[1]}" -retry-interval 1s -log-level warn \
    >>"$OUT/s$1.log" 2>&1 &
  echo $! >"$P/s$1.pid" )
}

leader_of() { # i -> "ip:8300" or ""
  curl -s --max-time 0.3 "http://${IPS[$1]}:8500/v1/status/leader" 2>/dev/null | tr -d '"'
}

# The server index every live server agrees leads; waits up to 15 s.
wait_leader() {
  local deadline=$(( $(now_ms) + 15000 )) l
  while [ "$(now_ms)" -lt "$deadline" ]; do
    l=$(leader_of 0)
    if [ -n "$l" ] && [ "$l" = "$(leader_of 1)" ] && [ "$l" = "$(leader_of 2)" ]; then
      for i in 0 1 2; do [ "${IPS[$i]}:8300" = "$l" ] && { echo "$i"; return 0; }; done
    fi
    sleep 0.05
  done
  return 1
}

for i in 0 1 2; do start_server "$i"; done
L=$(wait_leader) || { echo "tsc cluster never elected a leader" >&2; exit 1; }
echo "tsc cluster up: leader s$L"

if [ -z "${SKIP_ELECT:-}" ]; then
  # Per run: kill -9 the leader; poll both survivors' /v1/status/leader every 50 ms until one
  # names a new leader (elect_ms); restart the killed server with its data dir and wait until all
  # three agree again. Same method as the etcd harness's etcd3-election.sh.
  : >"$OUT/elect-tsc.txt"
  for run in $(seq "$RUNS"); do
    L=$(wait_leader) || { echo "no leader before run $run" >&2; exit 1; }
    old="${IPS[$L]}:8300"
    t0=$(now_ms); kill -9 "$(cat "$P/s$L.pid")"
    e=""
    while [ $(( $(now_ms) - t0 )) -lt 15000 ]; do
      for s in 0 1 2; do
        [ "$s" = "$L" ] && continue
        l=$(leader_of "$s")
        if [ -n "$l" ] && [ "$l" != "$old" ]; then e=$(( $(now_ms) - t0 )); break 2; fi
      done
      sleep 0.05
    done
    [ -n "$e" ] || { echo "run $run: no new leader within 15 s" >&2; exit 1; }
    echo "ELECT run=$run killed=s$L elect_ms=$e" | tee -a "$OUT/elect-tsc.txt"
    start_server "$L"
    wait_leader >/dev/null || { echo "s$L did not rejoin" >&2; exit 1; }
    sleep 1
  done
  sed -n 's/.*elect_ms=//p' "$OUT/elect-tsc.txt" | sort -n | awk '{a[NR]=$1} END{m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "ELECT_SUMMARY tsc runs=%d median_ms=%s min_ms=%s max_ms=%s\n", NR, m, a[1], a[NR]}' | tee "$OUT/elect-summary.txt"
fi

"$SHARED/peers/etcd3-cluster-start.sh" "$ETCD_DIR" | tee "$OUT/etcd-start.txt"
if [ -z "${SKIP_ELECT:-}" ]; then
  "$SHARED/peers/etcd3-election.sh" "$RUNS" "$ETCD_DIR" | tee "$OUT/elect-etcd.txt" | grep ELECT_SUMMARY | sed 's/ELECT_SUMMARY/ELECT_SUMMARY etcd/' | tee -a "$OUT/elect-summary.txt"
fi

if [ -z "${SKIP_LOAD:-}" ]; then
  L=$(wait_leader) || { echo "no tsc leader before load" >&2; exit 1; }
  F=$(( (L + 1) % 3 ))
  cp "$P/s$L.pid" "$P/ours-leader.pid"; cp "$P/s$F.pid" "$P/ours-follower.pid"
  curl -sf -XPUT "http://${IPS[$L]}:8500/v1/kv/bench" -d 74a31e96-1d0f-4fa7-aa14-7212a326986e >/dev/null
  EL=$("$SHARED/peers/etcd3-leader.sh" "$ETCD_DIR") || { echo "no etcd leader" >&2; exit 1; }
  EURL=$(sed -n 's/.* url=\([^ ]*\).*/\1/p' <<<"$EL"); EN=$(sed -n 's/^leader=m\([123]\).*/\1/p' <<<"$EL")
  # Reads of a follower are forwarded to the leader (default consistency) or answered locally (?stale).
  cat >"$OUT/targets.txt" <<T
get  etcd2-get             get http://${EURL#http://}/v2/keys/bench                PIDFILE=$ETCD_DIR/m$EN.pid BASELINE=1
get  etcd2-get-quorum      get http://${EURL#http://}/v2/keys/bench?quorum=true    PIDFILE=$ETCD_DIR/m$EN.pid
get  ours-get-leader       get http://${IPS[$L]}:8500/v1/kv/bench                  PIDFILE=$P/ours-leader.pid
get  ours-get-consistent   get http://${IPS[$L]}:8500/v1/kv/bench?consistent       PIDFILE=$P/ours-leader.pid
get  ours-get-follower     get http://${IPS[$F]}:8500/v1/kv/bench                  PIDFILE=$P/ours-follower.pid
get  ours-get-stale        get http://${IPS[$F]}:8500/v1/kv/bench?stale            PIDFILE=$P/ours-follower.pid
put  etcd2-put             put http://${EURL#http://}/v2/keys/                     MODE=etcd2 PIDFILE=$ETCD_DIR/m$EN.pid BASELINE=1
put  ours-put-leader       put http://${IPS[$L]}:8500/v1/kv/                       PIDFILE=$P/ours-leader.pid
put  ours-put-follower     put http://${IPS[$F]}:8500/v1/kv/                       PIDFILE=$P/ours-follower.pid
T
  REPS="${REPS:-2}" DURATION="${DURATION:-10}" CONNS="${CONNS:-64}" "$SHARED/run-suite.sh" "$OUT/targets.txt" "$OUT"
fi
[ -f "$OUT/elect-summary.txt" ] && cat "$OUT/elect-summary.txt"
echo "results in $OUT"
