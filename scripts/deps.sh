#!/bin/sh
# Installs the Debian packages logship needs, only those that are missing.
# Usage: scripts/deps.sh run|test|bench|deb
# Idempotent: with everything present it changes nothing and runs no apt.
set -eu

run_pkgs="cmake make gcc pkg-config python3 libuv1-dev libwebsockets-dev libwebsockets-evlib-uv
libssl-dev libyajl-dev libxxhash-dev libhttp-parser-dev librabbitmq-dev zlib1g-dev libsnappy-dev
libzstd-dev libpcre2-dev"
test_pkgs="$run_pkgs binutils clang clang-format libclang-rt-14-dev libcmocka-dev openssl python3 python3-pytest
python3-websockets python3-requests python3-prometheus-client curl bsdutils rsyslog rsyslog-gnutls
chromium chromium-driver nginx-light rabbitmq-server python3-pika
python3-dev python3-venv python3-pip python3-setuptools python3-wheel systemd man-db
debhelper dpkg-dev fakeroot lintian dh-python python3-all-dev
python3-elasticsearch python3-graypy python3-fluent-logger python3-msgpack
systemd-journal-remote rsyslog-elasticsearch zstd"
bench_pkgs="$run_pkgs wrk nginx-light python3-aiohttp curl socat time jq rabbitmq-server python3-pika zstd ripgrep"
deb_pkgs="$run_pkgs debhelper dpkg-dev fakeroot lintian dh-python python3-all-dev python3-setuptools"

case "${1:-run}" in
run) want=$run_pkgs ;;
test) want=$test_pkgs ;;
bench) want=$bench_pkgs ;;
deb) want=$deb_pkgs ;;
*) echo "usage: $0 run|test|bench|deb" >&2; exit 2 ;;
esac

# rabbitmq-server is for the tests of the RabbitMQ output: they start their
# own broker (own node name, ports, data and cookie), never the system's.
# node (for the ws and browser test clients; the UI tests drive Debian's
# chromium with npm's playwright-core) may come from elsewhere: only
# install Debian's when there is none
if [ "${1:-run}" = test ] && ! command -v node >/dev/null 2>&1; then
    want="$want nodejs npm"
fi

missing=""
for p in $want; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

echo "deps: installing$missing" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
