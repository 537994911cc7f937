#!/bin/busybox sh
# realkvm-runner.sh: /init of the initramfs that scripts/realkvm boots under
# QEMU (busybox sh). Loads KVM, runs every case of /cases.txt against
# /bin/solo5-hvt (and /bin/solo5-hvt-ref, report only, when packed), prints
# one line per case and a final "REALKVM-RESULT: N passed, M failed, K skipped",
# then powers the machine off.
#
# Cases: name | env | status | expect | args   (see scripts/realkvm).
# Run by hand (not as PID 1) it skips the setup and the power-off; RK_ONLY,
# RK_TENDER, RK_REF, RK_CASES, RK_GUESTS override the paths.

PATH=/bin:/sbin:/usr/bin:/usr/sbin
export PATH

TENDER=${RK_TENDER:-/bin/solo5-hvt}
REF=${RK_REF:-/bin/solo5-hvt-ref}
CASES=${RK_CASES:-/cases.txt}
GUESTS=${RK_GUESTS:-/guests}
only= repeat=3 case_timeout=60 libpath=
[ -f /etc/realkvm.conf ] && [ -z "$RK_CASES" ] && . /etc/realkvm.conf
[ -n "$RK_ONLY" ] && only=$RK_ONLY
[ -n "$libpath" ] && LD_LIBRARY_PATH=$libpath && export LD_LIBRARY_PATH
TMP=${TMPDIR:-/tmp}/realkvm.$$
pid1=0
[ $$ = 1 ] && pid1=1

finish() {
  echo "REALKVM-RESULT: $pass passed, $fail failed, $skip skipped"
  if [ $pid1 = 1 ]; then
    sync
    poweroff -f
    sleep 5
  fi
  exit 0
}

pass=0 fail=0 skip=0
if [ $pid1 = 1 ]; then
  /bin/busybox --install -s
  mount -t proc proc /proc
  mount -t sysfs sysfs /sys
  mount -t devtmpfs devtmpfs /dev 2>/dev/null
  mount -t tmpfs tmpfs /tmp
  mount -t tmpfs tmpfs /run
  exec </dev/null >/dev/console 2>&1
fi
echo "REALKVM-START $(uname -r) $(grep -m1 '^model name' /proc/cpuinfo | sed 's/.*: //')"
mkdir -p "$TMP"

if [ $pid1 = 1 ]; then
  for ko in /modules/*.ko; do
    [ -f "$ko" ] || continue
    name=${ko##*/}; name=${name#*-}; name=${name%.ko}
    if ! insmod "$ko" 2>"$TMP/insmod"; then
      echo "FAIL setup: insmod $name: $(cat "$TMP/insmod")"
      fail=$((fail + 1))
      finish
    fi
  done
  echo "modules: $(sed 's/ .*//' /proc/modules | tr '\n' ' ')"
  echo "kvm_amd: nested=$(cat /sys/module/kvm_amd/parameters/nested 2>/dev/null)" \
    "npt=$(cat /sys/module/kvm_amd/parameters/npt 2>/dev/null)"
  i=0
  while [ ! -c /dev/kvm ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
  if [ ! -c /dev/kvm ]; then
    echo "FAIL setup: /dev/kvm did not appear"
    fail=$((fail + 1))
    finish
  fi
fi
if [ -d /sys/module/kvm_pvm ]; then hostenv=pvm; else hostenv=real; fi

# now_ms: a millisecond clock. busybox date has no %N; adjtimex gives us.
if case "$(date +%N 2>/dev/null)" in [0-9]*) true ;; *) false ;; esac; then
  now_ms() { NOW=$(( $(date +%s%N) / 1000000 )); }
elif adjtimex 2>/dev/null | grep -q 'time.tv_usec'; then
  now_ms() {
    set -- $(adjtimex 2>/dev/null | awk '/time.tv_sec:/ { s = $2 } /time.tv_usec:/ { u = $2 }
      END { print s, u }')
    NOW=$(( $1 * 1000 + $2 / 1000 ))
  }
else
  now_ms() { # 10 ms resolution
    read -r up _ </proc/uptime
    NOW=$(( ${up%.*} * 1000 + 1${up#*.} * 10 - 1000 ))
  }
fi

trim() { # trim STRING -> R
  R=$1
  R=${R#"${R%%[![:space:]]*}"}
  R=${R%"${R##*[![:space:]]}"}
}

# run BIN ARGS...: sets ST (exit status), MS (boot→exit ms); output in $TMP/out
run() {
  bin=$1; shift
  now_ms; t0=$NOW
  timeout "$case_timeout" "$bin" "$@" </dev/null >"$TMP/out" 2>&1
  ST=$?
  now_ms; MS=$((NOW - t0))
}

# taps named in the arguments (--net:x=tapN) are created up front
make_taps() {
  for a in "$@"; do
    case "$a" in
      *=tap*) t=${a##*=} ;;
      *) continue ;;
    esac
    [ -d "/sys/class/net/$t" ] && continue
    tunctl -t "$t" >/dev/null 2>&1 &&
      ifconfig "$t" 10.0.0.1 netmask 255.255.255.0 up ||
      echo "  warning: could not create $t"
  done
}

# check: compares ST and $TMP/out with $want and $expect; sets why ('' = ok)
check() {
  why=
  [ "$ST" = "$want" ] || why="expected status $want got $ST"
  set -f
  IFS=';'
  for item in $expect; do
    unset IFS
    trim "$item"; item=$R
    [ -z "$item" ] && continue
    case "$item" in
      '!'*) t=${item#!}
            if grep -qF -e "$t" "$TMP/out"; then why="${why:+$why; }unexpected '$t'"; fi ;;
      *) if ! grep -qF -e "$item" "$TMP/out"; then why="${why:+$why; }missing '$item'"; fi ;;
    esac
  done
  unset IFS
  set +f
}

lineno=0
while IFS= read -r line || [ -n "$line" ]; do
  lineno=$((lineno + 1))
  trim "$line"; line=$R
  case "$line" in ''|'#'*) continue ;; esac
  case "$line" in
    *'|'*'|'*'|'*'|'*) ;;
    *) echo "FAIL line $lineno: malformed case: $line"; fail=$((fail + 1)); continue ;;
  esac
  rest=$line
  trim "${rest%%|*}"; name=$R; rest=${rest#*|}
  trim "${rest%%|*}"; env=$R; rest=${rest#*|}
  trim "${rest%%|*}"; want=$R; rest=${rest#*|}
  trim "${rest%%|*}"; expect=$R; rest=${rest#*|}
  trim "$rest"; args=$R

  [ -n "$only" ] && [ "$name" != "$only" ] && continue
  case "$env" in
    any) ;;
    real|pvm) if [ "$env" != "$hostenv" ]; then
                echo "skip $name (env $env)"; skip=$((skip + 1)); continue
              fi ;;
    *) echo "FAIL $name: unknown env '$env'"; fail=$((fail + 1)); continue ;;
  esac

  args=$(printf '%s\n' "$args" | sed "s#{\([^}]*\)}#$GUESTS/\1.hvt#g")
  set -f
  IFS=' '
  # shellcheck disable=SC2086
  set -- $args
  unset IFS
  set +f
  make_taps "$@"

  run "$TENDER" "$@"
  check
  if [ -z "$why" ]; then
    echo "ok $name ($MS ms)"
    pass=$((pass + 1))
  else
    echo "FAIL $name: $why"
    echo "  --- output ($TENDER $args) ---"
    head -n 60 "$TMP/out" | sed 's/^/  | /'
    fail=$((fail + 1))
  fi
  tms=$MS

  if [ -x "$REF" ]; then
    twhy=$why # keep the tender's verdict
    run "$REF" "$@"
    rms=$MS
    check
    echo "  ref $name: status $ST, ${why:-as expected} ($rms ms)"
    why=$twhy
  fi

  # boot→exit timing of the short guests, both tenders (report only)
  case "$name" in
    hello|quiet)
      if [ -z "$why" ]; then
        tl=$tms; rl=${rms:-}; k=1
        while [ $k -lt "$repeat" ]; do
          run "$TENDER" "$@"; tl="$tl $MS"
          if [ -x "$REF" ]; then run "$REF" "$@"; rl="$rl $MS"; fi
          k=$((k + 1))
        done
        echo "  time $name: tender ms [$tl]${rl:+ ref ms [$rl]}"
      fi ;;
  esac
  rms=
done <"$CASES"

rm -rf "$TMP"
finish
