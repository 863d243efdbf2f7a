#!/usr/bin/env bash
# Install the Debian packages yibao's tools need, only when they are missing:
# graphviz (the `dot` renderer) and a CJK font so Chinese labels render in PNG/PDF.
set -euo pipefail

missing=()
command -v dot >/dev/null 2>&1 || missing+=(graphviz)
fc-list :lang=zh 2>/dev/null | grep -q . || missing+=(fonts-noto-cjk)
# Debian's Chromium: the HTML explanation is tested in a real headless browser.
[ -x /usr/bin/chromium ] || missing+=(chromium)
# Poppler (pdfinfo, pdftoppm): the printed explanation's pages are counted and looked at.
command -v pdfinfo >/dev/null 2>&1 && command -v pdftoppm >/dev/null 2>&1 \
    || missing+=(poppler-utils)
# A JDK runtime for Spark in local mode (yibao eval --backend spark, its tests).
command -v java >/dev/null 2>&1 || missing+=(default-jre-headless)
# PostgreSQL for the settlement book's shared store: the tests start a private server
# (tests/pg_server.py) with these programs, on a socket in a temporary folder.
command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 \
    || missing+=(postgresql)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
echo "installing Debian packages: ${missing[*]}" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
