#!/usr/bin/env bash
# Interop check of the salesforce-bulk2 emulator against simple-salesforce (PyPI):
# installs it into a venv, builds and starts the salesforce-emulator binary on a free
# loopback port with seeded Accounts, runs simple-salesforce's Bulk 2.0 handler
# (query and insert) against it, and stops it.
#
# Usage: .ci/salesforce-interop.sh VENV_DIR
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${1:?usage: .ci/salesforce-interop.sh VENV_DIR}

if ! "$venv/bin/python" -c 'import simple_salesforce' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --no-cache-dir --disable-pip-version-check 'simple-salesforce==1.12.10'
fi

cargo build --quiet --workspace --bin salesforce-emulator
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
emulator="$target_dir/debug/salesforce-emulator"

seeded=250
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
log=$(mktemp)
"$emulator" --port "$port" --seed "Account=$seeded" >"$log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -f "$log"' EXIT

ready=""
for _ in $(seq 100); do
  if python3 - "$port" <<'PY' 2>/dev/null; then ready=yes; break; fi
import sys, urllib.request
urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/services/data/", timeout=1).read()
PY
  sleep 0.1
done
if [ -z "$ready" ]; then
  echo "salesforce-emulator did not start within 10 s:" >&2
  cat "$log" >&2
  exit 1
fi
field() { awk -v k="$1" -F': +' '$1 ~ k {print $2; exit}' "$log"; }
echo "salesforce-emulator on 127.0.0.1:$port; simple-salesforce $("$venv/bin/pip" show simple-salesforce | awk '/^Version/{print $2}')"

SF_BASE_URL="http://127.0.0.1:$port" \
SF_CLIENT_ID="$(field 'client id')" \
SF_CLIENT_SECRET="$(field 'client secret')" \
SF_API_VERSION="$(field 'api version')" \
SF_SEEDED_ACCOUNTS="$seeded" \
  timeout 300 "$venv/bin/python" salesforce-bulk2/interop/simple_salesforce_check.py
