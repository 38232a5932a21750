#!/usr/bin/env bash
# Make sure Debian's Chromium is installed for the browser tests (Playwright drives it; its own
# browser download does not work on these machines), and axe-core (the accessibility rules the
# browser tests inject into pages) in a project-local folder, pinned. Quick when both are there;
# axe-core needs Node and npm (Debian: apt-get install nodejs npm).
set -euo pipefail

readonly AXE_VERSION=4.14.1
readonly AXE_PREFIX="$(cd "$(dirname "$0")/.." && pwd)/.tools/axe"  # where tests/browser.py reads it
readonly AXE_PACKAGE="$AXE_PREFIX/node_modules/axe-core/package.json"

ensure_axe() {
    if [ -f "$AXE_PACKAGE" ] && grep -q "\"version\": \"$AXE_VERSION\"" "$AXE_PACKAGE"; then
        echo "ensure-browser: axe-core $AXE_VERSION present in $AXE_PREFIX"
        return 0
    fi
    if ! command -v npm >/dev/null 2>&1; then
        echo "ensure-browser: npm is missing; install Node.js and npm, then run this again" >&2
        exit 1
    fi
    echo "ensure-browser: installing axe-core@$AXE_VERSION into $AXE_PREFIX"
    mkdir -p "$AXE_PREFIX"
    npm install --silent --no-audit --no-fund --prefix "$AXE_PREFIX" "axe-core@$AXE_VERSION" >/dev/null
}

ensure_axe
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
