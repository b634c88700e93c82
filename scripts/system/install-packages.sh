#!/usr/bin/env bash
# Installs the Debian packages the project needs (idempotent; uses sudo when not root).
set -euo pipefail

packages=(
  # native npm modules (better-sqlite3, pcsclite) build from source
  python3 make g++ pkg-config
  # PC/SC middleware with the virtual reader driver
  pcscd libpcsclite-dev vsmartcard-vpcd pcsc-tools opensc
  # IPP Everywhere virtual printer and its D-Bus dependency
  cups-ipp-utils dbus
  # certificate PDF: Japanese font, rendering and text extraction for checks
  fonts-ipaexfont fonts-ipamj-mincho fonts-noto-cjk poppler-utils
  # UI tests in a real browser
  chromium xvfb
  # misc tools used by scripts and tests
  openssl procps
  # several server nodes on one database (throwaway clusters in tests)
  postgresql
  # serial pseudo-terminal pairs for the virtual cash unit
  socat
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "installing system packages: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q >&2
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
