#!/bin/sh
# Install Debian's Chromium for the headless-browser test (tests/test_render.py).
# Quiet and idempotent: does nothing when `chromium` or `chromium-browser` is on PATH.
# Needs root (or sudo) and a Debian/Ubuntu apt. Exits 0 when a browser is available.
set -eu

if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# No recommends (upower, printing, ...): only the browser and one font for screenshots.
$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null

command -v chromium >/dev/null 2>&1 || {
    echo "install-browser.sh: chromium was installed but is not on PATH" >&2
    exit 1
}
