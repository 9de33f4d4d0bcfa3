#!/usr/bin/env bash
# Installs and runs the appliance under a real systemd (PID 1) the way docs/runbook.md says,
# on a host where systemd is not running (a build machine, a container): systemd boots in its
# own PID and mount namespaces over an overlay of / whose writes go to a tmpfs, so nothing on
# the host is written. Checks, in order: install, preflight, start (Type=notify: active only
# after READY=1), the STATUS= line, /healthz and /metrics, `partner demo` over QUIC, reload
# (SIGHUP), a crash (SIGKILL: Restart=on-failure), a hang (SIGSTOP: the watchdog restarts it),
# a configuration that does not load (exit 78, no restart) and stop (SIGTERM: a clean drain).
#
#   systemd/try-under-systemd.sh      # root; uses target/release (built if missing)
#   PROFILE=debug systemd/try-under-systemd.sh   # the test suite's build (tests/run)
#
# systemd and the appliance get a network namespace of their own (loopback only), so the
# default ports 4433/udp and 8080 are theirs whatever runs on the host.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
[ "$(id -u)" -eq 0 ] || { echo "run as root (it mounts an overlay and boots systemd)" >&2; exit 2; }
[ -x /lib/systemd/systemd ] || { echo "install Debian's systemd package first" >&2; exit 2; }
profile=${PROFILE:-release}
bin="target/$profile"
if [ ! -x "$bin/appliance" ] || [ ! -x "$bin/partner" ]; then
  case "$profile" in
    release) cargo build --release --bin appliance --bin partner >&2 ;;
    debug) cargo build --bin appliance --bin partner >&2 ;;
    *) cargo build --profile "$profile" --bin appliance --bin partner >&2 ;;
  esac
fi

work="$root/target/systemd-try"
mkdir -p "$work/rw" "$work/merged"
# Paths quoted for the shell that runs the boot script (a checkout path may hold spaces).
qwork=$(printf %q "$work")
qroot=$(printf %q "$root")
boot=$(cat <<EOF
set -e
ip link set lo up
mount -t tmpfs tmpfs $qwork/rw
mkdir -p $qwork/rw/upper $qwork/rw/work
mount -t overlay overlay -o lowerdir=/,upperdir=$qwork/rw/upper,workdir=$qwork/rw/work $qwork/merged
m=$qwork/merged
mount -t proc proc "\$m"/proc
mount --bind /sys "\$m"/sys
mount -t cgroup2 none "\$m"/sys/fs/cgroup
mount --rbind /dev "\$m"/dev
mount -t tmpfs tmpfs "\$m"/run
mount -t tmpfs tmpfs "\$m"/tmp
# The checkout, wherever it lives: under the temporary directory just hidden, or on a file
# system of its own that the overlay of / does not show.
mkdir -p "\$m"$qroot
mount --bind $qroot "\$m"$qroot
exec chroot "\$m" env container=other /lib/systemd/systemd --system --log-target=journal
EOF
)
setsid unshare --mount --pid --net --fork --propagation private --uts bash -c "$boot" \
  >"$work/boot.log" 2>&1 </dev/null &
unshare_pid=$!
init=""
stop_init() { [ -n "$init" ] && kill -9 "$init" 2>/dev/null; wait "$unshare_pid" 2>/dev/null || true; }
trap stop_init EXIT
for _ in $(seq 1 100); do
  init=$(pgrep -P "$unshare_pid" || true)
  [ -n "$init" ] && break
  sleep 0.1
done
[ -n "$init" ] || { echo "systemd did not start:" >&2; cat "$work/boot.log" >&2; exit 1; }
inside() { nsenter -t "$init" -m -p -n -r -w -- "$@"; }
for _ in $(seq 1 300); do
  state=$(inside systemctl is-system-running 2>/dev/null || true)
  case "$state" in running|degraded) break ;; esac
  sleep 0.1
done
echo "systemd $(inside systemctl --version | head -1 | cut -d' ' -f2) is PID 1 ($state)"

inside bash -s "$root" "$bin" <<'EOF'
set -euo pipefail
cd "$1"
bin=$2
pass() { echo "PASS $*"; }
fail() { echo "FAIL $*"; journalctl -u appliance --no-pager | tail -20; exit 1; }
# Install, as docs/runbook.md says.
install -m 0755 "$bin/appliance" /usr/local/bin/appliance
install -m 0755 "$bin/partner" /usr/local/bin/partner
install -D -m 0644 systemd/appliance.service /etc/systemd/system/appliance.service
install -D -m 0644 systemd/sysusers.d/trust-fabric.conf /etc/sysusers.d/trust-fabric.conf
install -D -m 0644 systemd/tmpfiles.d/trust-fabric.conf /etc/tmpfiles.d/trust-fabric.conf
install -D -m 0644 systemd/sysctl.d/60-trust-fabric.conf /etc/sysctl.d/60-trust-fabric.conf
systemd-sysusers >/dev/null && systemd-tmpfiles --create && sysctl --system >/dev/null
appliance config default > /etc/trust-fabric/appliance.toml
chgrp trust-fabric /etc/trust-fabric/appliance.toml && chmod 0640 /etc/trust-fabric/appliance.toml
appliance config check /etc/trust-fabric/appliance.toml >/dev/null && pass "install and config check"
runuser -u trust-fabric -- env STATE_DIRECTORY=/var/lib/trust-fabric \
  appliance preflight --config /etc/trust-fabric/appliance.toml >/dev/null \
  && pass "preflight as the service user" || fail "preflight"

systemctl daemon-reload
systemctl enable --now appliance 2>/dev/null || fail "start"
[ "$(systemctl show appliance -p SubState --value)" = running ] || fail "not running after start"
pass "started: Type=notify, active once READY=1 ($(systemctl show appliance -p StatusText --value))"
curl -fsS 127.0.0.1:8080/healthz >/dev/null || fail "healthz"
curl -fsS 127.0.0.1:8080/metrics | grep -q '^trust_fabric_connections' || fail "metrics"
pass "/healthz and /metrics"
# Exit 0 only when every verdict is the one the demo expects; its table has six valid, three
# invalid and one rejected answer.
demo_status=0
(cd /tmp && partner --state-dir /var/lib/trust-fabric demo --out /tmp/demo >/tmp/demo.txt 2>&1) || demo_status=$?
[ "$demo_status" -eq 0 ] || { cat /tmp/demo.txt; fail "partner demo exited $demo_status"; }
# The verdict column: after the id (3), two spaces, the statement (40) and a space.
verdicts=$(grep -E '^ +[0-9]+  ' /tmp/demo.txt | cut -c47-55 | tr -d ' ' | sort | uniq -c | tr -s ' ' | tr '\n' ',')
[ "$verdicts" = " 3 invalid, 1 rejected, 6 valid," ] || { cat /tmp/demo.txt; fail "partner demo verdicts: $verdicts"; }
pass "partner demo over QUIC: 6 valid, 3 invalid and 1 rejected answers, as expected, with receipts"
systemctl reload appliance
reloaded=""
for _ in $(seq 1 100); do
  journalctl -u appliance --no-pager | grep -q "SIGHUP: configuration reloaded" && reloaded=yes && break
  sleep 0.1
done
[ -n "$reloaded" ] || fail "reload"
pass "reload (SIGHUP)"

pid=$(systemctl show appliance -p MainPID --value)
systemctl kill -s SIGKILL appliance
for _ in $(seq 1 100); do
  now=$(systemctl show appliance -p MainPID --value)
  [ "$now" != 0 ] && [ "$now" != "$pid" ] && [ "$(systemctl show appliance -p SubState --value)" = running ] && break
  sleep 0.1
done
[ "$(systemctl show appliance -p NRestarts --value)" -ge 1 ] || fail "no restart after SIGKILL"
pass "crash (SIGKILL): restarted by Restart=on-failure"

pid=$(systemctl show appliance -p MainPID --value)
kill -STOP "$pid"
for _ in $(seq 1 300); do
  now=$(systemctl show appliance -p MainPID --value)
  [ "$now" != 0 ] && [ "$now" != "$pid" ] && [ "$(systemctl show appliance -p SubState --value)" = running ] && break
  sleep 0.1
done
[ "$now" != "$pid" ] || fail "a hung appliance was not restarted"
watchdog=""
for _ in $(seq 1 50); do
  journalctl --no-pager | grep -c "appliance.service: Failed with result 'watchdog'" >/dev/null && watchdog=yes && break
  sleep 0.1
done
[ -n "$watchdog" ] || fail "the restart was not the watchdog's"
pass "hang (SIGSTOP): WatchdogSec expired, systemd restarted it"

# A configuration that cannot load: exit 78 (EX_CONFIG), and no restart loop.
good=$(mktemp)
cp -p /etc/trust-fabric/appliance.toml "$good"
sed -i 's/^batch_max = [0-9]*$/batch_max = 5000/' /etc/trust-fabric/appliance.toml
grep -q '^batch_max = 5000$' /etc/trust-fabric/appliance.toml || fail "the config was not broken"
systemctl restart appliance 2>/dev/null && fail "started with a configuration that does not load"
sleep 4 # twice RestartSec: a restart would have come by now
[ "$(systemctl show appliance -p ExecMainStatus --value)" = 78 ] || fail "the exit was not 78"
[ "$(systemctl show appliance -p ActiveState --value)" = failed ] || fail "not left failed"
# A manual restart resets NRestarts, so count the exits instead: one, and no restart after it.
[ "$(journalctl -u appliance --no-pager | grep -c 'status=78/CONFIG')" = 1 ] || fail "restarted on exit 78"
journalctl -u appliance --no-pager | grep -c "batch_max = 5000 is not allowed" >/dev/null || fail "no reason logged"
cp -p "$good" /etc/trust-fabric/appliance.toml
systemctl restart appliance || fail "no start once the configuration was fixed"
pass "broken configuration: exit 78, not restarted (RestartPreventExitStatus), starts once fixed"

systemctl stop appliance
[ "$(systemctl show appliance -p Result --value)" = success ] || fail "stop"
journalctl -u appliance --no-pager | grep -c "shutting down: answering requests in flight" >/dev/null || fail "no drain"
pass "stop (SIGTERM): drained, exit 0"
EOF
