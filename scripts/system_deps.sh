#!/usr/bin/env bash
# Debian packages, installed only when missing.
#   scripts/system_deps.sh build   what building the package uses: a C compiler and PCRE2's headers (libpcre2-dev)
#                                  for the privacy scanner's C matcher. Optional: without root, or when apt fails,
#                                  it says so and the build goes on without the matcher (Python's re, same results).
#   scripts/system_deps.sh         the build's packages plus what the tests need: PostgreSQL (a real operational
#                                  source and a second dbt target) and Chromium (the report is opened in a real
#                                  headless browser). Missing ones are an error without root.
set -euo pipefail
mode=${1:-test}
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "ok installed"; }
need=()
command -v cc >/dev/null 2>&1 || need+=(gcc)
installed libpcre2-dev || need+=(libpcre2-dev)
# the interpreter's C headers, where it is Debian's own Python (a self-built one brings its headers)
python=$(command -v "${PYTHON:-python3}" || true)
if [[ "$python" == /usr/bin/* ]] && ! "$python" -c 'import os, sys, sysconfig; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))'; then
  need+=(python3-dev)
fi
if [ "$mode" != build ]; then
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
  # CJK glyphs, so the committee's report renders Chinese in screenshots instead of boxes
  fc-list 2>/dev/null | grep -qi "noto sans cjk" || need+=(fonts-noto-cjk)
fi
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
skip_matcher() {
  echo "not installed: ${need[*]}; building without the PCRE2 matcher (recognizers use Python's re, same results)" >&2
  exit 0
}
if [ "$(id -u)" -ne 0 ]; then
  [ "$mode" = build ] && skip_matcher
  echo "missing Debian packages: ${need[*]} (run as root, or: sudo apt-get install ${need[*]})" >&2
  exit 1
fi
echo "installing Debian packages: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
if [ "$mode" = build ]; then
  { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; } || skip_matcher
  exit 0
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
