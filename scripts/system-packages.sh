#!/usr/bin/env bash
# Installs the Debian packages the portal needs (WeasyPrint's Pango and HarfBuzz subsetting, Korean
# fonts, gettext, poppler and qpdf for PDF checks). As root it installs them; otherwise it prints the command.
# Usage: scripts/system-packages.sh [extra packages...]   (CI adds chromium for the browser tests)
set -euo pipefail
packages=(fonts-nanum fontconfig libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 gettext poppler-utils qpdf "$@")
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ]; then
  echo "Installing system packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "These system packages are missing: ${missing[*]}" >&2
  echo "Install them, then run make again:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
