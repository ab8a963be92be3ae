#!/bin/sh
# Installs what building and testing MSL needs on Debian, when it is missing.
# Idempotent and quiet when everything is there.
set -e
need=""
command -v flex >/dev/null 2>&1 || need="$need flex"
command -v bison >/dev/null 2>&1 || need="$need bison"
command -v pkg-config >/dev/null 2>&1 || need="$need pkg-config"
command -v python3 >/dev/null 2>&1 || need="$need python3"
command -v sqlite3 >/dev/null 2>&1 || need="$need sqlite3"
# report.html's test opens the page in headless Chromium (tests/e2e/report.sh)
command -v chromium >/dev/null 2>&1 || need="$need chromium"
[ -f /usr/include/ffi.h ] || [ -n "$(find /usr/include -name ffi.h 2>/dev/null | head -1)" ] || need="$need libffi-dev"
[ -f /usr/include/check.h ] || need="$need check"
[ -f /usr/include/zlib.h ] || need="$need zlib1g-dev"
[ -f /usr/include/xxhash.h ] || need="$need libxxhash-dev"
# gzipped logs are inflated by ISA-L (src/io/gunzip.c)
[ -f /usr/include/isa-l/igzip_lib.h ] || need="$need libisal-dev"
[ -n "$need" ] || exit 0
echo "installing build dependencies:$need"
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $need >/dev/null
