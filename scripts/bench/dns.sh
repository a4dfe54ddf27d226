#!/usr/bin/env bash
# DNS beside dnsmasq, in ONE run, with the shared harness (../shared/bench): dnsperf keeps
# CONNS queries outstanding for `web.service.consul SRV`, answered by our agent (50 healthy
# instances in the catalog) and by dnsmasq (the same 50 SRV records and their A records).
# Reports queries/s and server CPU per query, and the ratio to dnsmasq. Run by hand.
#   scripts/bench/dns.sh [OUT_DIR]          env: REPS=3 DURATION=10 CONNS=64 QTYPE=SRV
# Needs: dnsperf, dnsmasq (dnsmasq-base), a built dist/tsc. Loopback only.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
SHARED="${SHARED_BENCH:-$ROOT/../shared/bench}"
OUT="${1:-/tmp/tsc-bench/dns-$(date +%Y%m%d-%H%M%S)}"
IP=127.0.0.60
N=50
mkdir -p "$OUT"
P="$OUT/pids"; mkdir -p "$P"
DATA="$(mktemp -d /tmp/tsc-bench-data.XXXXXX)"
cleanup() { "$SHARED/peers/stop.sh" "$P/dnsmasq.pid" "$P/ours.pid" >/dev/null 2>&1 || true; rm -rf "$DATA"; }
trap cleanup EXIT

"$ROOT/dist/tsc" agent -server -bootstrap-expect 1 -data-dir "$DATA/agent" -node bench -bind $IP -client $IP -log-level warn >"$OUT/ours.log" 2>&1 &
echo $! > "$P/ours.pid"
until curl -sf "http://$IP:8500/v1/status/leader" | grep -q 8300; do sleep 0.05; done
args=()
: > "$DATA/hosts"
for i in $(seq 1 $N); do
  curl -sf -XPUT "http://$IP:8500/v1/catalog/register" \
    -d "{\"Node\":\"web$i\",\"Address\":\"10.0.2.$i\",\"Service\":{\"Service\":\"web\",\"Port\":$((8000 + i))},\"Check\":{\"CheckID\":\"web\",\"Name\":\"web\",\"Status\":\"passing\",\"ServiceID\":\"web\"}}" >/dev/null
  args+=("--srv-host=web.service.consul,web$i.node.dc1.consul,$((8000 + i)),1,1")
  echo "10.0.2.$i web$i.node.dc1.consul" >> "$DATA/hosts"
done
dig @$IP -p 8600 web.service.consul SRV +tcp +short | wc -l | xargs echo "ours: SRV records over TCP:"

dnsmasq -k --port=5353 --listen-address=127.0.0.1 --bind-interfaces --no-resolv --no-hosts --addn-hosts="$DATA/hosts" \
  --pid-file= --user=root --local-ttl=0 "${args[@]}" >"$OUT/dnsmasq.log" 2>&1 &
echo $! > "$P/dnsmasq.pid"
sleep 0.5
dig @127.0.0.1 -p 5353 web.service.consul SRV +tcp +short | wc -l | xargs echo "dnsmasq: SRV records over TCP:"

cat > "$OUT/targets.txt" <<T
dns  dnsmasq-srv  dns  127.0.0.1:5353  QNAME=web.service.consul PIDFILE=$P/dnsmasq.pid BASELINE=1
dns  ours-srv     dns  $IP:8600        QNAME=web.service.consul PIDFILE=$P/ours.pid
T
QTYPE="${QTYPE:-SRV}" REPS="${REPS:-3}" DURATION="${DURATION:-10}" CONNS="${CONNS:-64}" "$SHARED/run-suite.sh" "$OUT/targets.txt" "$OUT"
echo "results in $OUT (summary.md)"
