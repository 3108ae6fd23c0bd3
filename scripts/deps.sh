#!/usr/bin/env bash
# Installs fxic's build dependencies from Debian's apt (Debian 12), plus any
# extra packages named as arguments.
set -euo pipefail
pkgs=(cmake g++ make libpng-dev zlib1g-dev libomp-dev catch2 "$@")
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
