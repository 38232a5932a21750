#!/usr/bin/env bash
# Make sure Debian's Chromium is installed for the browser tests (Playwright drives it; its own
# browser download does not work on these machines). Quick when it is already there.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
    echo "ensure-browser: chromium present ($(/usr/bin/chromium --version 2>/dev/null | head -n1))"
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure-browser: /usr/bin/chromium is missing and apt-get is not available: install Chromium" >&2
    exit 1
fi
sudo_cmd=""
if [ "$(id -u)" -ne 0 ]; then
    sudo_cmd="sudo"
fi
echo "ensure-browser: installing Debian's chromium and chromium-driver"
$sudo_cmd apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq chromium chromium-driver >/dev/null
/usr/bin/chromium --version
