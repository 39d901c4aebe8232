#!/bin/bash
# End-to-end migration test (docs/migration.md): two hosts, each with a
# "physical" TPM (swtpm), a vTPM instance (vtpm-service if
# $MAMORI_VTPM_SERVICE names one, else swtpm) migrated with vtpm-migrate.
#
#   1. the source vTPM gets extended PCRs, an NV index, a persistent signing
#      key and an open policy session; it is migrated; the destination
#      reads the same PCRs and NV, signs with the same key (verified with
#      openssl against the public key exported before), and continues the
#      policy session;
#   2. every refusal (truncated, oversized, unknown version, tampered
#      header, tampered ciphertext, tampered wrapped key, wrong VM, wrong
#      destination, replay, bad ack, stale epoch) fails with its reason and
#      leaves both sides unchanged;
#   3. an interrupted migration (destination dies before acknowledging)
#      leaves the source able to resume with its state intact; a lost ack
#      can be sent again by the destination.
#
# usage: e2e.sh PATH/TO/vtpm-migrate WORKDIR
# needs: swtpm, tpm2-tools, openssl, xxd
set -u -o pipefail
MIG=$1
WORK=$2
rm -rf "$WORK"
mkdir -p "$WORK"
cd "$WORK" || exit 1
SVC=${MAMORI_VTPM_SERVICE:-}
# MAMORI_VTPM_MIX=1: source instances are swtpm, destination instances
# vtpm-service — the state crosses engines (both keep libtpms state).
MIX=${MAMORI_VTPM_MIX:-}
VM=6d616d6f-7269-4d69-6772-617465303031
VM2=6d616d6f-7269-4d69-6772-617465303032
OTHER_VM=00000000-0000-4000-8000-000000000000
NV_EPOCH=0x01500010   # rollback counter in the source physical TPM
NV_GUEST=0x01000010   # an NV index inside the guest's vTPM
PERSISTENT=0x81000010 # a persistent key inside the guest's vTPM
FAILS=0
PIDS=()

log() { echo "== $*"; }
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
}
trap cleanup EXIT

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
USED_PORTS=" "
pick_port() {  # sets PICKED: an even port P, P and P+1 free and never used by this run
  local p
  for _ in $(seq 1 200); do
    p=$((20000 + (RANDOM % 6000) * 2))  # 20000..31998
    case "$USED_PORTS" in *" $p "*) continue ;; esac
    if ! port_in_use "$p" && ! port_in_use $((p + 1)); then
      USED_PORTS="$USED_PORTS$p "
      PICKED=$p
      return 0
    fi
  done
  return 1
}
wait_port() {
  for _ in $(seq 1 250); do port_in_use "$1" && return 0; sleep 0.02; done
  return 1
}

# uses_service NAME KIND: is this instance a vtpm-service?
uses_service() {
  [ "$2" = vtpm ] && [ -n "$SVC" ] || return 1
  [ -z "$MIX" ] && return 0
  case "$1" in VB*) return 0 ;; *) return 1 ;; esac
}

# start_tpm NAME KIND(physical|vtpm) -> sets PORT_<NAME>, PID_<NAME>.
# Ports come from below the kernel's ephemeral range; a start that loses a
# race for its port is retried on another.
start_tpm() {
  local name=$1 kind=$2 port dir pid attempt
  dir=$WORK/$name
  mkdir -p "$dir"
  for attempt in 1 2 3 4 5; do
    pick_port || { echo "no free port"; exit 1; }
    port=$PICKED
    if uses_service "$name" "$kind"; then
      "$SVC" --server "tcp:$port" >"$dir.log" 2>&1 &
    else
      swtpm socket --tpm2 --server "type=tcp,port=$port,bindaddr=127.0.0.1" \
        --ctrl "type=tcp,port=$((port + 1)),bindaddr=127.0.0.1" \
        --flags not-need-init,startup-clear --tpmstate "dir=$dir" >"$dir.log" 2>&1 &
    fi
    pid=$!
    if wait_port $((port + 1)) && kill -0 "$pid" 2>/dev/null; then
      PIDS+=("$pid")
      eval "PORT_$name=$port PID_$name=$pid"
      # vtpm-service powers on without TPM2_Startup (the guest sends it);
      # swtpm gets --flags startup-clear instead.
      if uses_service "$name" "$kind"; then
        TPM2TOOLS_TCTI="swtpm:host=127.0.0.1,port=$port" tpm2_startup -c || { echo "$name: startup failed"; exit 1; }
      fi
      return 0
    fi
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  echo "$name did not start"
  cat "$dir.log"
  exit 1
}
stop_tpm() { local pid; eval "pid=\$PID_$1"; kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; }
tcti() { local p; eval "p=\$PORT_$1"; echo "swtpm:host=127.0.0.1,port=$p"; }
tpmspec() { local p; eval "p=\$PORT_$1"; echo "swtpm:127.0.0.1:$p"; }
ctrl() { local p; eval "p=\$PORT_$1"; echo "127.0.0.1:$((p + 1))"; }
t2() { local t=$1; shift; TPM2TOOLS_TCTI=$(tcti "$t") "$@"; }

# expect_error CODE DESCRIPTION -- command...: a local error (exit 1), not a refusal
expect_error() {
  local code=$1 what=$2
  shift 3
  local out rc
  out=$("$@" 2>&1)
  rc=$?
  if [ $rc -eq 1 ] && grep -q "error: $code:" <<<"$out"; then
    echo "ok: $what rejected ($code)"
  else
    fail "$what: expected error '$code', got rc=$rc: $out"
  fi
}

# expect_refusal CODE DESCRIPTION -- command...
expect_refusal() {
  local code=$1 what=$2
  shift 3
  local out rc
  out=$("$@" 2>&1)
  rc=$?
  if [ $rc -eq 2 ] && grep -q "refused: $code:" <<<"$out"; then
    echo "ok: $what refused ($code): $(grep -o "refused: .*" <<<"$out" | head -1)"
  else
    fail "$what: expected refusal '$code', got rc=$rc: $out"
  fi
}

if [ -n "$MIX" ]; then log "vTPM engines: swtpm on the source, $SVC on the destination"; else log "vTPM engine: ${SVC:-swtpm}"; fi
start_tpm PA physical   # source host's TPM
start_tpm PB physical   # destination host's TPM
start_tpm PC physical   # a third host's TPM (wrong destination)
start_tpm VA vtpm       # the guest's vTPM on the source
start_tpm VB vtpm       # the (empty) instance on the destination

# Snapshot of the source TPM before anything happened: used later to roll
# the source TPM back (an attack on a software TPM's state files).
stop_tpm PA
cp -a "$WORK/PA" "$WORK/PA.snapshot"
start_tpm PA physical

log "populate the source vTPM"
t2 VA tpm2_pcrextend 16:sha256=0x$(printf '%064x' 1) || fail "pcrextend"
t2 VA tpm2_pcrextend 23:sha256=0x$(printf '%064x' 2) || fail "pcrextend"
t2 VA tpm2_nvdefine -Q $NV_GUEST -C o -s 32 -a "ownerread|ownerwrite|authread|authwrite" || fail "nvdefine"
printf 'mamori migrates this NV payload!' >nv.in
t2 VA tpm2_nvwrite -Q $NV_GUEST -C o -i nv.in || fail "nvwrite"
t2 VA tpm2_createprimary -Q -C o -c prim.ctx || fail "createprimary"
t2 VA tpm2_create -Q -C prim.ctx -G ecc -u key.pub -r key.priv || fail "create"
t2 VA tpm2_flushcontext -t
t2 VA tpm2_load -Q -C prim.ctx -u key.pub -r key.priv -c key.ctx || fail "load"
t2 VA tpm2_evictcontrol -Q -C o -c key.ctx $PERSISTENT || fail "evictcontrol"
t2 VA tpm2_flushcontext -t
t2 VA tpm2_readpublic -Q -c $PERSISTENT -f pem -o key.pem || fail "readpublic"
t2 VA tpm2_pcrread sha256:16,23 >pcr.before || fail "pcrread"
# An open policy session (saved context), one assertion made before migration.
t2 VA tpm2_startauthsession --policy-session -S session.ctx || fail "startauthsession"
t2 VA tpm2_policypcr -Q -S session.ctx -l sha256:16 -L step1.bin || fail "policypcr"
# The digest the session must reach after one more assertion, from a trial session.
t2 VA tpm2_startauthsession -S trial.ctx || fail "trial session"
t2 VA tpm2_policypcr -Q -S trial.ctx -l sha256:16 || fail "trial policypcr"
t2 VA tpm2_policycommandcode -Q -S trial.ctx -L expected.bin TPM2_CC_Unseal || fail "trial policycommandcode"
t2 VA tpm2_flushcontext trial.ctx

log "offer (destination, RSA SRK) and export (source)"
"$MIG" offer --tpm "$(tpmspec PB)" --state-dir dst --key rsa --out offer1 || fail "offer"
"$MIG" export --tpm "$(tpmspec PA)" --state-dir src --offer offer1 --vtpm "$(ctrl VA)" --vm-id $VM \
  --nv-index $NV_EPOCH --out pkg1 || fail "export"
"$MIG" inspect pkg1 || fail "inspect"
if t2 VA tpm2_pcrread sha256:16 >/dev/null 2>&1; then fail "source vTPM still answers after export (not locked)"; else echo "ok: source vTPM locked"; fi
expect_error state "a second export of a locked VM" -- \
  "$MIG" export --tpm "$(tpmspec PA)" --state-dir src --offer offer1 --vtpm "$(ctrl VA)" --vm-id $VM \
  --nv-index $NV_EPOCH --out pkg-again
imp() { "$MIG" import --tpm "$(tpmspec "$1")" --state-dir "$2" --package "$3" --vtpm "$(ctrl VB)" --vm-id "$4" --ack-out "$5"; }

log "refusals (before the real import; none may change anything)"
head -c -1 pkg1 >bad.trunc
expect_refusal malformed "truncated package" -- imp PB dst bad.trunc $VM ack.x
cp pkg1 bad.over && printf 'X' >>bad.over
expect_refusal malformed "oversized package" -- imp PB dst bad.over $VM ack.x
# patch IN OUT OFFSET XORMASK: copy IN to OUT with one byte flipped
patch() {
  local old
  old=$(xxd -s "$3" -l 1 -p "$1")
  cp "$1" "$2"
  printf "\\x$(printf %02x $((0x$old ^ $4)))" | dd of="$2" bs=1 seek="$3" conv=notrunc status=none
}
patch pkg1 bad.version 5 0x03   # version 1 -> 2
expect_refusal unknown-version "unknown format version" -- imp PB dst bad.version $VM ack.x
EPOCH_AT=128  # magic 4, version 2, flags 2, vm 16, nonce 32, two TPM2B names 36+36
patch pkg1 bad.header $EPOCH_AT 0x40  # a much larger epoch: passes the rollback check
expect_refusal tampered-header "tampered header (epoch)" -- imp PB dst bad.header $VM ack.x
SIZE=$(stat -c %s pkg1)
patch pkg1 bad.cipher $((SIZE - 100)) 0x01
expect_refusal tampered-ciphertext "tampered ciphertext" -- imp PB dst bad.cipher $VM ack.x
# epoch 8, three blob sizes 12, IV 12, TPM2B size 2; then the sealed
# object's TPMT_PUBLIC: type 2, nameAlg 2, attributes 4, authPolicy 2,
# scheme 2, unique size 2 -> a byte of the unique digest
WRAP_AT=$((EPOCH_AT + 8 + 12 + 12 + 2 + 14 + 5))
patch pkg1 bad.wrap $WRAP_AT 0x01
expect_refusal key-unwrap-failed "tampered wrapped key" -- imp PB dst bad.wrap $VM ack.x
expect_refusal wrong-vm "package for another VM" -- imp PB dst pkg1 $OTHER_VM ack.x
expect_refusal wrong-destination "package for another TPM" -- imp PC dst-c pkg1 $VM ack.x
t2 VB tpm2_pcrread sha256:16 | grep -q "0x0000000000000000000000000000000000000000000000000000000000000000" \
  && echo "ok: destination vTPM unchanged by refusals" || fail "destination vTPM changed by a refusal"

log "import (destination)"
imp PB dst pkg1 $VM ack1 || fail "import"
expect_refusal replayed "replayed package" -- imp PB dst pkg1 $VM ack.x

log "the destination vTPM has the guest's state"
t2 VB tpm2_pcrread sha256:16,23 >pcr.after || fail "pcrread after"
cmp -s pcr.before pcr.after && echo "ok: PCRs identical" || fail "PCRs differ: $(cat pcr.before pcr.after)"
t2 VB tpm2_nvread -Q $NV_GUEST -C o -s 32 -o nv.out || fail "nvread"
cmp -s nv.in nv.out && echo "ok: NV identical" || fail "NV differs"
echo "signed on the destination" >msg
t2 VB tpm2_sign -Q -c $PERSISTENT -g sha256 -s ecdsa -f plain -o sig msg || fail "sign"
openssl dgst -sha256 -verify key.pem -signature sig msg >/dev/null && echo "ok: signature verifies with the pre-migration public key" \
  || fail "signature does not verify"
t2 VB tpm2_policycommandcode -Q -S session.ctx -L step2.bin TPM2_CC_Unseal || fail "policy session did not survive"
cmp -s step2.bin expected.bin && echo "ok: policy session continued to the expected digest" || fail "policy digest differs"

log "acknowledgement"
# The ack is lost in transit: the destination sends it again.
mv ack1 ack1.lost
"$MIG" ack --state-dir dst --vm-id $VM --out ack1 || fail "re-emit ack"
cmp -s ack1 ack1.lost && echo "ok: lost ack re-emitted identically" || fail "re-emitted ack differs"
expect_error state "ack for a VM never received" -- "$MIG" ack --state-dir dst --vm-id $OTHER_VM --out ack.x
patch ack1 bad.ack 70 0x55
expect_refusal bad-ack "tampered acknowledgement" -- "$MIG" complete --state-dir src --ack bad.ack
if uses_service VA vtpm; then WIPE=(); else WIPE=(--wipe-swtpm-state "$WORK/VA"); fi
"$MIG" complete --state-dir src --ack ack1 --vtpm "$(ctrl VA)" "${WIPE[@]}" || fail "complete"
sleep 0.2
kill -0 "$PID_VA" 2>/dev/null && fail "source instance still running after complete" || echo "ok: source instance deleted"
if [ ${#WIPE[@]} -gt 0 ]; then
  [ -e "$WORK/VA/tpm2-00.permall" ] && fail "source state file left behind" || echo "ok: source state files wiped"
fi

log "stale epoch: the source TPM rolled back to a snapshot"
stop_tpm PA
rm -rf "$WORK/PA" && cp -a "$WORK/PA.snapshot" "$WORK/PA"
start_tpm_at() {  # restart PA on its old port with its (rolled back) state
  swtpm socket --tpm2 --server "type=tcp,port=$PORT_PA,bindaddr=127.0.0.1" \
    --ctrl "type=tcp,port=$((PORT_PA + 1)),bindaddr=127.0.0.1" \
    --flags not-need-init,startup-clear --tpmstate "dir=$WORK/PA" >"$WORK/PA.log" 2>&1 &
  PID_PA=$!; PIDS+=("$PID_PA"); wait_port $((PORT_PA + 1))
}
start_tpm_at
start_tpm VA2 vtpm
t2 VA2 tpm2_pcrextend 16:sha256=0x$(printf '%064x' 3) || fail "pcrextend VA2"
"$MIG" offer --tpm "$(tpmspec PB)" --state-dir dst --key ecc --out offer2 || fail "offer2"
"$MIG" export --tpm "$(tpmspec PA)" --state-dir src-rolled --offer offer2 --vtpm "$(ctrl VA2)" --vm-id $VM \
  --nv-index $NV_EPOCH --out pkg2 || fail "export from rolled-back source"
start_tpm VB2 vtpm
imp2() { "$MIG" import --tpm "$(tpmspec PB)" --state-dir dst --package "$1" --vtpm "$(ctrl VB2)" --vm-id "$2" --ack-out "$3"; }
expect_refusal stale-epoch "package with a rolled-back epoch" -- imp2 pkg2 $VM ack.x
"$MIG" resume --state-dir src-rolled --vm-id $VM --vtpm "$(ctrl VA2)" || fail "resume after stale refusal"

log "interrupted migration: the destination dies before acknowledging"
t2 VA2 tpm2_pcrread sha256:16 >pcr2.before || fail "pcrread VA2"
"$MIG" offer --tpm "$(tpmspec PB)" --state-dir dst --key ecc --out offer3 || fail "offer3"
"$MIG" export --tpm "$(tpmspec PA)" --state-dir src-rolled --offer offer3 --vtpm "$(ctrl VA2)" --vm-id $VM2 \
  --nv-index $NV_EPOCH --out pkg3 || fail "export 3"
stop_tpm VB2   # the destination host dies ...
if imp2 pkg3 $VM2 ack3 >/dev/null 2>&1; then fail "import into a dead destination succeeded"; else echo "ok: import failed, no ack"; fi
[ -e ack3 ] && fail "an ack was written"
"$MIG" resume --state-dir src-rolled --vm-id $VM2 --vtpm "$(ctrl VA2)" || fail "resume"
t2 VA2 tpm2_pcrread sha256:16 >pcr2.after || fail "pcrread after resume"
cmp -s pcr2.before pcr2.after && echo "ok: source resumed with its state" || fail "state changed across resume"
expect_error state "resume twice" -- "$MIG" resume --state-dir src-rolled --vm-id $VM2 --vtpm "$(ctrl VA2)"

log "a persistent SRK (provisioned with tpm2-tools at 0x81000001) on the destination"
t2 PB tpm2_createprimary -Q -C o -G ecc -c pb-srk.ctx || fail "createprimary on PB"
t2 PB tpm2_evictcontrol -Q -C o -c pb-srk.ctx 0x81000001 || fail "evictcontrol on PB"
t2 PB tpm2_flushcontext -t
start_tpm VB3 vtpm
"$MIG" offer --tpm "$(tpmspec PB)" --state-dir dst --key 0x81000001 --out offer4 || fail "offer4"
"$MIG" export --tpm "$(tpmspec PA)" --state-dir src-rolled --offer offer4 --vtpm "$(ctrl VA2)" --vm-id $VM2 \
  --nv-index $NV_EPOCH --out pkg4 || fail "export 4"
"$MIG" import --tpm "$(tpmspec PB)" --state-dir dst --package pkg4 --vtpm "$(ctrl VB3)" --vm-id $VM2 \
  --ack-out ack4 || fail "import 4"
t2 VB3 tpm2_pcrread sha256:16 >pcr4.after || fail "pcrread VB3"
cmp -s pcr2.before pcr4.after && echo "ok: migrated under the persistent SRK" || fail "state differs after pkg4"
"$MIG" complete --state-dir src-rolled --ack ack4 --vtpm "$(ctrl VA2)" || fail "complete 4"

log "TPMs whose owner hierarchy has a password (--owner-auth-file)"
printf 'owner-secret-A' >owner-a.pw
printf 'owner-secret-B\n' >owner-b.pw   # a trailing newline is ignored
t2 PA tpm2_changeauth -c o owner-secret-A || fail "changeauth PA"
t2 PB tpm2_changeauth -c o owner-secret-B || fail "changeauth PB"
if "$MIG" offer --tpm "$(tpmspec PB)" --state-dir dst --key ecc --out offer5 >/dev/null 2>&1; then
  fail "offer without the owner password succeeded"
else
  echo "ok: offer without the owner password fails"
fi
"$MIG" offer --tpm "$(tpmspec PB)" --state-dir dst --key ecc --owner-auth-file owner-b.pw --out offer5 || fail "offer5"
start_tpm VA3 vtpm
start_tpm VB4 vtpm
t2 VA3 tpm2_pcrextend 16:sha256=0x$(printf '%064x' 5) || fail "pcrextend VA3"
t2 VA3 tpm2_pcrread sha256:16 >pcr5.before
"$MIG" export --tpm "$(tpmspec PA)" --state-dir src-rolled --offer offer5 --vtpm "$(ctrl VA3)" --vm-id $VM \
  --nv-index $NV_EPOCH --key ecc --owner-auth-file owner-a.pw --out pkg5 || fail "export 5"
"$MIG" import --tpm "$(tpmspec PB)" --state-dir dst --package pkg5 --vtpm "$(ctrl VB4)" --vm-id $VM \
  --owner-auth-file owner-b.pw --ack-out ack5 || fail "import 5"
t2 VB4 tpm2_pcrread sha256:16 >pcr5.after
cmp -s pcr5.before pcr5.after && echo "ok: migrated between password-protected TPMs" || fail "state differs after pkg5"
"$MIG" complete --state-dir src-rolled --ack ack5 --vtpm "$(ctrl VA3)" || fail "complete 5"

if [ $FAILS -ne 0 ]; then echo "$FAILS failure(s)"; exit 1; fi
echo "all migration end-to-end checks passed"
