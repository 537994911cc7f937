#!/bin/busybox sh
# realkvm-runner.sh: /init of the initramfs that scripts/realkvm boots under
# QEMU (busybox sh). Loads KVM, runs every case of /cases.txt against
# /bin/solo5-hvt (and /bin/solo5-hvt-ref, report only, when packed), prints
# one line per case and a final "REALKVM-RESULT: N passed, M failed, K skipped",
# then powers the machine off.
#
# Cases: name | env | status | expect | args [| with]  (format, placeholders
# and the with command: see the header of Tests/Guests/cases.txt). TAPs are
# made here directly (this VM has no other network); iputils ping is packed
# as /usr/local/bin/ping (busybox's lacks -f and -M) and is what `ping`
# means in with commands.
# Run by hand (not as PID 1) it skips the setup and the power-off; RK_ONLY,
# RK_TENDER, RK_REF, RK_CASES, RK_GUESTS override the paths.

PATH=/bin:/sbin:/usr/bin:/usr/sbin
export PATH

TENDER=${RK_TENDER:-/bin/solo5-hvt}
TENDER_DEBUG=${RK_TENDER_DEBUG:-/bin/solo5-hvt-debug}
REF=${RK_REF:-/bin/solo5-hvt-ref}
CASES=${RK_CASES:-/cases.txt}
GUESTS=${RK_GUESTS:-/guests}
only= repeat=3 case_timeout=60 with_grace=5 libpath=
[ -f /etc/realkvm.conf ] && [ -z "$RK_CASES" ] && . /etc/realkvm.conf
[ -n "$RK_ONLY" ] && only=$RK_ONLY
[ -n "$libpath" ] && LD_LIBRARY_PATH=$libpath && export LD_LIBRARY_PATH
TMP=${TMPDIR:-/tmp}/realkvm.$$
CASEDIR=$TMP/case
PING=${RK_PING:-/usr/local/bin/ping}
TAPS= with=
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
  ifconfig lo 127.0.0.1 up # the gdb cases connect to the stub on loopback
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

# run BIN ARGS...: runs the tender (and $with, see cases.txt) with the
# case's resources made by prepare; sets ST (exit status), MS (boot→exit
# ms), WST (the with command's status); output in $TMP/out, $TMP/with.
run() {
  bin=$1; shift
  now_ms; t0=$NOW
  timeout "$case_timeout" "$bin" "$@" </dev/null >"$TMP/out" 2>&1 &
  tpid=$!
  WST=
  if [ -n "$with" ]; then
    sleep 1
    i=0
    for t in $TAPS; do # until every tap has carrier (≤ 10 s) or the tender exits
      while [ $i -lt 500 ] && kill -0 "$tpid" 2>/dev/null; do
        c=
        read -r c <"/sys/class/net/$t/carrier" 2>/dev/null
        [ "$c" = 1 ] && break
        sleep 0.02; i=$((i + 1))
      done
    done
    # In a session of its own, to be ended as a whole. busybox sh runs its
    # own applets before PATH: name iputils ping by path.
    (cd "$CASEDIR" && exec setsid sh -c "ping() { $PING \"\$@\"; }; $with") \
      </dev/null >"$TMP/with" 2>&1 &
    wpid=$!
  fi
  wait "$tpid"
  ST=$?
  now_ms; MS=$((NOW - t0))
  if [ -n "$with" ]; then
    # the with command gets $with_grace s more after the tender's exit
    i=0
    while kill -0 "$wpid" 2>/dev/null && [ $i -lt $((with_grace * 10)) ]; do
      sleep 0.1; i=$((i + 1))
    done
    if kill -0 "$wpid" 2>/dev/null; then
      kill -TERM "-$wpid" 2>/dev/null
      echo "(killed $with_grace s after the tender exited)" >>"$TMP/with"
    fi
    wait "$wpid"
    WST=$?
  fi
}

# prepare RAWARGS: a fresh $CASEDIR; the placeholders of RAWARGS resolved
# into R: {NAME} → guest, {disk:BYTES} → a new zero-filled file, {tapN} and
# {tapN:mtu=M} → tapN, made and addressed 10.N.0.1/24 (names in $TAPS).
# On a bad placeholder R is empty and BAD says why.
prepare() {
  s=$1 out= ndisk=0 BAD= TAPS=
  rm -rf "$CASEDIR"
  mkdir -p "$CASEDIR"
  while :; do
    case "$s" in *'{'*) ;; *) break ;; esac
    out=$out${s%%\{*}
    s=${s#*\{}
    case "$s" in *'}'*) ;; *) BAD="unclosed placeholder"; break ;; esac
    tok=${s%%\}*}
    s=${s#*\}}
    case "$tok" in
      disk:*)
        bytes=${tok#disk:}
        case "$bytes" in ''|*[!0-9]*) BAD="bad placeholder {$tok}"; break ;; esac
        f=$CASEDIR/disk$ndisk.img
        ndisk=$((ndisk + 1))
        truncate -s "$bytes" "$f" || { BAD="cannot create $f"; break; }
        out=$out$f ;;
      tap[0-3]|tap[0-3]:mtu=*)
        t=${tok%%:*} mtu=
        case "$tok" in *:*) mtu=${tok#*:mtu=} ;; esac
        case "$mtu" in *[!0-9]*) BAD="bad placeholder {$tok}"; break ;; esac
        case " $TAPS " in
          *" $t "*) ;;
          *) TAPS="$TAPS $t"
             tunctl -t "$t" >/dev/null 2>&1 &&
               ifconfig "$t" "10.${t#tap}.0.1" netmask 255.255.255.0 up ||
               { BAD="cannot create $t"; break; } ;;
        esac
        if [ -n "$mtu" ]; then ifconfig "$t" mtu "$mtu" || { BAD="cannot set $t mtu $mtu"; break; }; fi
        out=$out$t ;;
      *[!A-Za-z0-9_-]*|'') BAD="bad placeholder {$tok}"; break ;;
      *) out=$out$GUESTS/$tok.hvt ;;
    esac
  done
  R=$out$s
  [ -z "$BAD" ] || R=
}

# teardown: removes what prepare made
teardown() {
  for t in $TAPS; do tunctl -d "$t" >/dev/null 2>&1; done
  TAPS=
  rm -rf "$CASEDIR"
}

# run_case BIN: prepare, run, check, teardown (sets why)
run_case() {
  rbin=$1
  prepare "$args"
  if [ -n "$BAD" ]; then
    teardown
    ST= MS=0 WST=
    why="setup: $BAD"
    : >"$TMP/out"; : >"$TMP/with"
    return
  fi
  set -f
  IFS=' '
  # shellcheck disable=SC2086
  set -- $R
  unset IFS
  set +f
  # a first word urunc: urunc-exec starts the tender (the rest are its arguments)
  urunc=
  if [ "$1" = urunc ]; then shift; urunc=1; fi
  # a first word solo5-hvt-debug: the debug tender (no reference for it)
  if [ "$1" = solo5-hvt-debug ]; then
    shift
    if [ "$rbin" = "$REF" ]; then
      teardown; ST= MS=0 WST= why="no reference debug tender"
      : >"$TMP/out"; : >"$TMP/with"
      return
    fi
    rbin=$TENDER_DEBUG
  fi
  if [ -n "$urunc" ]; then run /bin/urunc-exec "--tender=$rbin" "$@"; else run "$rbin" "$@"; fi
  teardown
  check
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
  [ -z "$with" ] || [ "$WST" = 0 ] || why="${why:+$why; }with command exited ${WST:-?}"
}

# reports WHO: the with command's "report: " lines, as "  report WHO NAME: ..."
reports() {
  [ -n "$with" ] && grep '^report: ' "$TMP/with" | sed "s/^report: /  report $1 $name: /"
  return 0
}

# report: the tender's (and with command's) output, indented
report() {
  echo "  --- output ($1 $args) ---"
  head -n 60 "$TMP/out" | sed 's/^/  | /'
  if [ -n "$with" ]; then
    echo "  --- with: $with (status $WST) ---"
    tail -n 30 "$TMP/with" | sed 's/^/  | /'
  fi
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
  case "$rest" in # args, then with: the rest of the line
    *'|'*) trim "${rest%%|*}"; args=$R; trim "${rest#*|}"; with=$R ;;
    *) trim "$rest"; args=$R; with= ;;
  esac

  [ -n "$only" ] && [ "$name" != "$only" ] && continue
  case "$env" in
    any) ;;
    nested) ;; # written for this bed
    real|pvm) if [ "$env" != "$hostenv" ]; then
                echo "skip $name (env $env)"; skip=$((skip + 1)); continue
              fi ;;
    *) echo "FAIL $name: unknown env '$env'"; fail=$((fail + 1)); continue ;;
  esac

  now_ms; c0=$NOW
  run_case "$TENDER"
  now_ms; cms=$((NOW - c0))
  if [ -z "$why" ]; then
    echo "ok $name ($MS ms${with:+; case $cms ms})"
    reports tender
    pass=$((pass + 1))
  else
    echo "FAIL $name: $why"
    report "$TENDER"
    fail=$((fail + 1))
  fi
  tms=$MS

  if [ -x "$REF" ]; then
    twhy=$why # keep the tender's verdict
    run_case "$REF"
    rms=$MS
    echo "  ref $name: status $ST, ${why:-as expected} ($rms ms)"
    [ -n "$why" ] || reports ref
    [ -z "$why" ] || [ -z "$with" ] || report "$REF" | tail -n 12
    why=$twhy
  fi

  # boot→exit timing of the short guests, both tenders (report only)
  case "$name" in
    hello|quiet)
      if [ -z "$why" ]; then
        tl=$tms; rl=${rms:-}; k=1
        while [ $k -lt "$repeat" ]; do
          run_case "$TENDER"; tl="$tl $MS"
          if [ -x "$REF" ]; then run_case "$REF"; rl="$rl $MS"; fi
          k=$((k + 1))
        done
        echo "  time $name: tender ms [$tl]${rl:+ ref ms [$rl]}"
      fi ;;
  esac
  rms=
done <"$CASES"

rm -rf "$TMP"
finish
