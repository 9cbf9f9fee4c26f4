#!/usr/bin/env bash
# Installs the Debian packages the test suite uses as real parts (see README, "Quick start" and "Developing").
# Idempotent: does nothing when every package is already there.
set -euo pipefail
packages=(git openssl docker-registry skopeo prometheus chromium nginx-light wrk)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "installing Debian packages: ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
