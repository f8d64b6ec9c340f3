#!/usr/bin/env bash
# Set up nmsat on a fresh Debian 12 machine: system tools (apt, as root), a virtualenv, the package.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
APT_PACKAGES="iverilog yosys ccache g++ make"

missing=""
for p in $APT_PACKAGES; do
    dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
    if [ "$(id -u)" = 0 ]; then
        echo "nmsat setup: installing system tools:$missing"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
    else
        echo "nmsat setup: missing system tools; run as root:  apt-get install -y$missing" >&2
        exit 1
    fi
fi

if [ ! -x "$VENV/bin/python" ]; then
    echo "nmsat setup: creating virtualenv $VENV"
    python3 -m venv "$VENV"
fi
echo "nmsat setup: installing nmsat and its pinned dependencies into $VENV"
"$VENV/bin/pip" install -q --disable-pip-version-check -e ".[dev]"
"$VENV/bin/python" -c "import nmsat.hw, nmsat.sim, nmsat.algo"
touch "$VENV/.nmsat-installed"
