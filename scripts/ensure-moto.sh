#!/usr/bin/env bash
# Makes sure moto's server (a local stand-in for the AWS IAM and STS APIs, used by the `scan aws` tests and the
# scan benchmark) is installed in a Python virtual environment inside the repository: .venv-moto/ (git-ignored).
# Idempotent: does nothing when the pinned version is already there. Prints the path of `moto_server` on success
# (exit 0); exit 1 with one line on stderr saying why otherwise.
set -u
MOTO_VERSION=5.2.5
root=$(cd "$(dirname "$0")/.." && pwd)
venv=${MOTO_VENV:-$root/.venv-moto}
server=$venv/bin/moto_server

exec 9>"${TMPDIR:-/tmp}/ensure-moto.$(id -u).lock"
flock -w 600 9 2>/dev/null || true

if [ -x "$server" ] && [ "$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("moto"))' 2>/dev/null)" = "$MOTO_VERSION" ]; then
    echo "$server"
    exit 0
fi
py=${PYTHON:-}
if [ -z "$py" ]; then
    for c in python3 python; do
        if command -v "$c" >/dev/null 2>&1; then py=$c; break; fi
    done
fi
if [ -z "$py" ]; then
    echo "ensure-moto: no python3 on PATH (moto needs Python >= 3.9 with the venv module)" >&2
    exit 1
fi
log=$(mktemp)
if ! { "$py" -m venv "$venv" && "$venv/bin/python" -m pip install -q --disable-pip-version-check "moto[server]==$MOTO_VERSION"; } >"$log" 2>&1; then
    echo "ensure-moto: installing moto[server]==$MOTO_VERSION into $venv failed:" >&2
    tail -n 5 "$log" >&2
    rm -f "$log"
    exit 1
fi
rm -f "$log"
if [ ! -x "$server" ]; then
    echo "ensure-moto: $server is missing after installing moto" >&2
    exit 1
fi
echo "$server"
