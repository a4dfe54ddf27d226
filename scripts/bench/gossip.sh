#!/usr/bin/env bash
# Gossip membership beside the real Serf, in ONE run, with the shared harness
# (../shared/bench/peers/serf-cluster.sh): for clusters of each SIZE, time from join to every
# sampled agent listing the newcomer alive, from kill -9 to `failed`, from a graceful leave to
# `left`, and idle CPU/RSS per agent; first N real `serf agent`s, then N `tsc agent`s (clients,
# LAN gossip on the same loopback addresses). Run by hand:
#   scripts/bench/gossip.sh [SIZE...]        (default: 3 50)   env: RUNS=3 LEAVE_RUNS=2 IDLE_S=20
# Needs: serf (Debian), curl, jq, a built dist/tsc. Loopback only (127.0.0.100-149).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
SHARED="${SHARED_BENCH:-$ROOT/../shared/bench}"
OUT="${OUT:-/tmp/tsc-bench/gossip-$(date +%Y%m%d-%H%M%S)}"
SIZES=("$@"); [ ${#SIZES[@]} -gt 0 ] || SIZES=(3 50)
export RUNS="${RUNS:-3}" LEAVE_RUNS="${LEAVE_RUNS:-2}" IDLE_S="${IDLE_S:-20}" IDLE_SIZES="${SIZES[*]}"
TSC="$ROOT/dist/tsc"

echo "== serf (Debian serf 0.9.4)"
OUT="$OUT/serf" NAME_PREFIX=s "$SHARED/peers/serf-cluster.sh" "${SIZES[@]}"

echo "== tsc"
# Each tsc agent is a client agent on its own address with its own data dir. Members are read
# with curl + jq rather than `tsc members`: starting a 100 MB binary per poll on a loaded 2-core
# box would time the CLI, not the gossip (serf's Go CLI starts in a few ms).
OUT="$OUT/tsc" NAME_PREFIX=t \
  AGENT_CMD="$TSC agent -node={NAME} -bind={IP} -client={IP} -serf-lan-port={PORT} -data-dir={DIR}/{NAME} -log-level=warn" \
  JOIN_FLAG='-join={SEED}' \
  MEMBERS_CMD="curl -s http://{IP}:8500/v1/agent/members | jq -r '.[] | \"\\(.Name) \\(.Addr) \\([\"none\",\"alive\",\"leaving\",\"left\",\"failed\"][.Status])\"'" \
  JOIN_CMD="$TSC join -http-addr={IP}:8500 {SEED}" \
  LEAVE_CMD="$TSC leave -http-addr={IP}:8500" \
  "$SHARED/peers/serf-cluster.sh" "${SIZES[@]}"
echo "results: $OUT/serf/results.txt and $OUT/tsc/results.txt"
