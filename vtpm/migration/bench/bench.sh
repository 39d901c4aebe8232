#!/bin/bash
# Migration benchmark (docs/benchmarks.md (migration)): package size and overhead
# for a fresh and a well-used vTPM; time to export+seal+wrap and to
# unwrap+verify+import with swtpm as the physical TPMs; compared in the
# same run with swtpm's own encrypted state export (--migration-key,
# CMD_GET_STATEBLOB without the decrypt flag) of the same vTPM.
#
# usage: bench.sh PATH/TO/vtpm-migrate [REPEATS]   (needs swtpm, tpm2-tools)
set -eu -o pipefail
MIG=$(realpath "$1")
N=${2:-5}
WORK=$(mktemp -d /tmp/mamori-mig-bench.XXXXXX)
cd "$WORK"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
VM=6d616d6f-7269-4d69-6772-617465626e63
NV_EPOCH=0x01500020
NEXT_PORT=$((22000 + (RANDOM % 2000) * 2))

port_up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
start() {  # start NAME [extra swtpm args...] -> PORT_NAME
  local name=$1; shift
  local port=$NEXT_PORT
  NEXT_PORT=$((NEXT_PORT + 2))
  mkdir -p "$WORK/$name"
  swtpm socket --tpm2 --server "type=tcp,port=$port,bindaddr=127.0.0.1" \
    --ctrl "type=tcp,port=$((port + 1)),bindaddr=127.0.0.1" --flags not-need-init,startup-clear \
    --tpmstate "dir=$WORK/$name" "$@" >"$WORK/$name.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 1 250); do port_up $((port + 1)) && break; sleep 0.02; done
  port_up $((port + 1)) || { echo "$name did not start:"; cat "$WORK/$name.log"; exit 1; }
  eval "PORT_$name=$port"
}
t2() { local p; eval "p=\$PORT_$1"; shift; TPM2TOOLS_TCTI="swtpm:host=127.0.0.1,port=$p" "$@" >/dev/null; }
spec() { local p; eval "p=\$PORT_$1"; echo "swtpm:127.0.0.1:$p"; }
ctrl() { local p; eval "p=\$PORT_$1"; echo "127.0.0.1:$((p + 1))"; }
now_us() { echo $(($(date +%s%N) / 1000)); }
field() { grep -o "$1=[0-9]*" | cut -d= -f2; }

use_vtpm() {  # a "well-used" vTPM: PCRs, NV indices, persistent keys, sessions, a loaded key
  for i in $(seq 0 16) 23; do t2 "$1" tpm2_pcrextend "$i:sha256=0x$(printf '%064x' $((i + 1)))"; done
  head -c 1024 /dev/urandom >nv.bin
  for i in $(seq 1 8); do
    t2 "$1" tpm2_nvdefine "0x0100010$i" -C o -s 1024 -a "ownerread|ownerwrite|authread|authwrite"
    t2 "$1" tpm2_nvwrite "0x0100010$i" -C o -i nv.bin
  done
  t2 "$1" tpm2_createprimary -C o -c prim.ctx
  for i in 1 2 3; do
    t2 "$1" tpm2_create -C prim.ctx -G rsa2048 -u k$i.pub -r k$i.priv
    t2 "$1" tpm2_flushcontext -t
    t2 "$1" tpm2_load -C prim.ctx -u k$i.pub -r k$i.priv -c k$i.ctx
    t2 "$1" tpm2_evictcontrol -C o -c k$i.ctx "0x8100010$i"
    t2 "$1" tpm2_flushcontext -t
  done
  t2 "$1" tpm2_load -C prim.ctx -u k1.pub -r k1.priv -c loaded.ctx   # a loaded transient key
  for i in 1 2 3; do t2 "$1" tpm2_startauthsession --policy-session -S s$i.ctx; done
}

declare -A SUM
add() { SUM[$1]=$(( ${SUM[$1]:-0} + $2 )); }
ms() { printf '%.2f' "$(echo "${SUM[$1]:-0}/$N/1000" | bc -l)"; }
SIZES=()
TIMES=()

run_case() {  # run_case LABEL VTPM CLONE_WITH_MIGRATION_KEY KEY(rsa|ecc)
  local label=$1 v=$2 vk=$3 key=$4 i out t0 t1 pkg_size=0 state_size=0 sw_size=0
  SUM=()
  # The same state in a swtpm with --migration-key: swtpm's own path.
  "$MIG" raw-export --vtpm "$(ctrl "$v")" --out plain.raw >/dev/null
  "$MIG" raw-import --vtpm "$(ctrl "$vk")" --in plain.raw >/dev/null
  for i in $(seq 1 "$N"); do
    out=$("$MIG" raw-export --vtpm "$(ctrl "$vk")" --out enc.raw)
    grep -q "migration-key=yes" <<<"$out" || { echo "swtpm has no migration key"; exit 1; }
    add sw_exp "$(field raw_export_us <<<"$out")"
    sw_size=$(grep -o "total [0-9]*" <<<"$out" | grep -o "[0-9]*")
    out=$("$MIG" raw-import --vtpm "$(ctrl VBK)" --in enc.raw)
    add sw_imp "$(field raw_import_us <<<"$out")"

    "$MIG" offer --tpm "$(spec PB)" --state-dir dst --key "$key" --out offer >/dev/null
    t0=$(now_us)
    out=$("$MIG" export --tpm "$(spec PA)" --state-dir src --offer offer --vtpm "$(ctrl "$v")" --vm-id $VM \
          --nv-index $NV_EPOCH --key "$key" --out pkg --timing)
    t1=$(now_us)
    add exp_wall $((t1 - t0))
    for f in setup_us export_us seal_wrap_us; do add "$f" "$(field $f <<<"$out")"; done
    pkg_size=$(stat -c %s pkg)
    t0=$(now_us)
    out=$("$MIG" import --tpm "$(spec PB)" --state-dir dst --package pkg --vtpm "$(ctrl VB)" --vm-id $VM \
          --ack-out ack --timing)
    t1=$(now_us)
    add imp_wall $((t1 - t0))
    for f in srk_us unwrap_us verify_us restore_us; do add "$f" "$(field $f <<<"$out")"; done
    state_size=$(grep -o "([0-9]* bytes of state)" <<<"$out" | grep -o "[0-9]*")
    # keep the source instance for the next round: resume instead of complete
    "$MIG" resume --state-dir src --vm-id $VM --vtpm "$(ctrl "$v")" >/dev/null
  done
  SIZES+=("$(printf '| %s, %s SRK | %d | %d | %d (%.1f%%) | %d (%+d) |' "$label" "$key" "$state_size" "$pkg_size" \
    $((pkg_size - state_size)) "$(echo "100*($pkg_size-$state_size)/$state_size" | bc -l)" "$sw_size" \
    $((sw_size - state_size)))")
  TIMES+=("| $label, $key SRK | $(ms sw_exp) | $(ms sw_imp) | $(ms export_us) | $(ms seal_wrap_us) | $(ms setup_us) | $(ms exp_wall) | $(ms srk_us) | $(ms unwrap_us) | $(ms verify_us) | $(ms restore_us) | $(ms imp_wall) |")
}

head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$WORK/migkey.hex"
MIGKEY="file=$WORK/migkey.hex,mode=aes-256-cbc,format=hex"
start PA            # source host's physical TPM
start PB            # destination host's physical TPM
start VF            # fresh vTPM
start VU            # well-used vTPM
start VB            # destination instance
start VFK --migration-key "$MIGKEY"   # clones of VF / VU with swtpm's migration key
start VUK --migration-key "$MIGKEY"
start VBK --migration-key "$MIGKEY"   # destination for swtpm's own path
use_vtpm VU

for key in rsa ecc; do
  run_case fresh VF VFK "$key"
  run_case well-used VU VUK "$key"
done

echo "repeats: $N; host: $(nproc) cores, kernel $(uname -r); swtpm $(swtpm --version | grep -o '[0-9]*\.[0-9]*\.[0-9]*' | head -1)"
echo
echo "Sizes (bytes). swtpm column: its --migration-key blobs of the same state (difference to the plain state)."
echo
echo "| vTPM | state | mamori package | package overhead | swtpm --migration-key blobs |"
echo "|---|---|---|---|---|"
printf '%s\n' "${SIZES[@]}"
echo
echo "Times (ms, mean of $N). swtpm: GET_STATEBLOB x3 with its migration key / SET_STATEBLOB x3 + INIT."
echo "mamori export: vTPM GET_STATEBLOB x3 + STOP | seal (K, wrap, GCM) | setup (SRK Name, NV counter, GetRandom) | whole process."
echo "mamori import: SRK CreatePrimary | TPM2_Import+Load+Unseal | header MAC + GCM | vTPM restore | whole process."
echo
echo "| vTPM | swtpm export | swtpm import | export | seal+wrap | setup | export wall | SRK | unwrap | verify | restore | import wall |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${TIMES[@]}"
