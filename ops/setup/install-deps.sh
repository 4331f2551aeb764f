#!/usr/bin/env bash
# Installs the system packages batch builds and tests with, when missing, on Debian/Ubuntu:
# SQLite and libcurl headers with pkg-config (the build), nginx, openssl, tinyproxy and h2load
# (the HTTPS tests and benchmark), Prometheus (the --metrics-listen tests). Uses sudo when not root. `make demo`, `make test` and
# `make install` call it; it does nothing when everything is there.
set -euo pipefail

# Installed, not merely known: `dpkg -s` also succeeds for a removed package whose
# configuration files remain. pkg-config is checked as a package too: with pkgconf installed,
# the command stays after the package is removed.
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q ' ok installed$'; }

need=()
installed libsqlite3-dev || need+=(libsqlite3-dev)
installed libcurl4-openssl-dev || need+=(libcurl4-openssl-dev)
installed pkg-config || need+=(pkg-config)
# The real wire in the tests and the benchmark: nginx terminating TLS (HTTP/2 and HTTP/1.1),
# openssl for the throwaway CA, tinyproxy for HTTPS_PROXY, h2load as the reference client.
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v tinyproxy >/dev/null 2>&1 || [ -x /usr/bin/tinyproxy ] || need+=(tinyproxy)
command -v h2load >/dev/null 2>&1 || need+=(nghttp2-client)
# promtool checks the text --metrics-listen serves (the tests fail in CI without it), and
# ops/metrics/prometheus-scrape.sh runs a real Prometheus server against a run. Debian ships both
# in one package of about 96 MB installed (19 MB download); its recommended node exporter is left
# out. Where systemd runs, Debian also starts its own Prometheus service on port 9090
# (`systemctl disable --now prometheus` stops it); the tests and the script start their own.
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
[ ${#need[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-deps: these packages are missing: ${need[*]}; this script knows apt-get only (Debian/Ubuntu): install their equivalents, then rerun" >&2
    exit 1
fi
sudo=()
if [ "$(id -u)" != 0 ]; then
    if ! command -v sudo >/dev/null 2>&1; then
        echo "install-deps: missing ${need[*]}; not root and no sudo: run as root: apt-get install -y ${need[*]}" >&2
        exit 1
    fi
    sudo=(sudo)
fi
echo "installing: ${need[*]}"
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
