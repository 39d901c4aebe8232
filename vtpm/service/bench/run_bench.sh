#!/bin/bash
# Throughput and memory of vtpm-service against swtpm, same machine, same run
# (docs/benchmarks.md (vTPM engine)). usage: run_bench.sh BUILD_DIR [SECONDS]
#   (a) one client loop (vtpm-bench) over the swtpm TCP data channel against
#       swtpm and against vtpm-service;
#   (a') the transport-bound commands against both servers in alternating
#       slices, so background load hits both alike;
#   (b) the same loop over a pipe pair into a partition-mode vtpm-service;
#   VmRSS of every server after its run.
set -eu
BUILD=${1:?usage: run_bench.sh BUILD_DIR [SECONDS]}
SECS=${2:-5}
BENCH=$BUILD/vtpm/service/vtpm-bench
SERVICE=$BUILD/vtpm/service/vtpm-service
WORK=$(mktemp -d)
PORT_SWTPM=${PORT_SWTPM:-24321}
PORT_VTPM=${PORT_VTPM:-24331}
SW_PID=; VT_PID=
cleanup() {
  kill $SW_PID $VT_PID 2>/dev/null || true
  wait $SW_PID $VT_PID 2>/dev/null || true  # ports are free again when we return
  rm -rf "$WORK"
}
trap cleanup EXIT

rss() { awk '/^VmRSS/ {print $2 " kB"}' "/proc/$1/status"; }
wait_port() { for _ in $(seq 100); do (echo > /dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.05; done; return 1; }

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "swtpm: $(swtpm --version | head -1)"
mkdir "$WORK/swtpm"
swtpm socket --tpm2 --tpmstate dir="$WORK/swtpm" --server type=tcp,port=$PORT_SWTPM \
  --ctrl type=tcp,port=$((PORT_SWTPM + 1)) --flags not-need-init,startup-clear &
SW_PID=$!
"$SERVICE" --server tcp:$PORT_VTPM &
VT_PID=$!
wait_port $PORT_SWTPM
wait_port $PORT_VTPM

echo "== (a) swtpm over TCP"
"$BENCH" tcp $PORT_SWTPM "$SECS" $SW_PID
echo "swtpm VmRSS $(rss $SW_PID)"
echo "== (a) vtpm-service over TCP"
"$BENCH" tcp $PORT_VTPM "$SECS" $VT_PID
echo "vtpm-service (host mode) VmRSS $(rss $VT_PID)"
echo "== (a') paired: A = swtpm, B = vtpm-service, alternating 0.25 s slices"
"$BENCH" pair $PORT_SWTPM $PORT_VTPM "$SECS"
echo "== (b) vtpm-service partition mode over a pipe pair"
"$BENCH" pipe "$SERVICE" "$SECS"
