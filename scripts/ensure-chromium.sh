#!/usr/bin/env bash
# Makes sure Debian's headless-capable Chromium is at /usr/bin/chromium (used by the HTML report test through
# playwright-core; `npx playwright install` cannot download browsers here). Idempotent and quiet: does nothing when
# the browser is already there; installs it with apt-get only when running as root. Exit 0 when the browser is
# present afterwards, 1 otherwise (with one line on stderr saying why).
set -u
CHROMIUM=${CHROMIUM_PATH:-/usr/bin/chromium}

if [ -x "$CHROMIUM" ]; then
    exit 0
fi
if [ "$(id -u)" != "0" ]; then
    echo "ensure-chromium: $CHROMIUM is missing and we are not root; install Debian's 'chromium' package" >&2
    exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure-chromium: $CHROMIUM is missing and apt-get is not available" >&2
    exit 1
fi
log=$(mktemp)
# Serialize concurrent callers (two test processes starting at once) on a lock file.
exec 9>/tmp/ensure-chromium.lock
flock -w 900 9 2>/dev/null || true
if [ ! -x "$CHROMIUM" ]; then
    if ! { DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; } >"$log" 2>&1; then
        echo "ensure-chromium: apt-get install chromium failed:" >&2
        tail -n 5 "$log" >&2
        rm -f "$log"
        exit 1
    fi
fi
rm -f "$log"
if [ ! -x "$CHROMIUM" ]; then
    echo "ensure-chromium: installed the 'chromium' package but $CHROMIUM is still missing" >&2
    exit 1
fi
exit 0
