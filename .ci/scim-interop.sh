#!/usr/bin/env bash
# Interop tests of scim-client against scim2-server (PyPI), the reference SCIM server of
# the python-scim project. Installs it into a venv, starts it on 127.0.0.1 with a random
# bearer token and dynamic tenants, runs the ignored interop tests, and stops it.
#
# Usage: .ci/scim-interop.sh VENV_DIR
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${1:?usage: .ci/scim-interop.sh VENV_DIR}

if [ ! -x "$venv/bin/scim2-server" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --no-cache-dir --disable-pip-version-check 'scim2-server==0.8.3'
fi

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
token="ci-$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
log=$(mktemp)
"$venv/bin/scim2-server" --hostname 127.0.0.1 --port "$port" --bearer-token "$token" --dynamic-tenants >"$log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -f "$log"' EXIT

ready=""
for _ in $(seq 100); do
  if python3 - "$port" <<'PY' 2>/dev/null; then ready=yes; break; fi
import sys, urllib.request
urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/ready/v2/ServiceProviderConfig", timeout=1).read()
PY
  sleep 0.1
done
if [ -z "$ready" ]; then
  echo "scim2-server did not start within 10 s:" >&2
  cat "$log" >&2
  exit 1
fi
echo "scim2-server $("$venv/bin/pip" show scim2-server | awk '/^Version/{print $2}') on 127.0.0.1:$port"

SCIM2_SERVER_URL="http://127.0.0.1:$port" SCIM2_SERVER_TOKEN="$token" \
  timeout 600 cargo test --workspace --test interop_scim2_server -- --ignored
SCIM2_SERVER_URL="http://127.0.0.1:$port" SCIM2_SERVER_TOKEN="$token" \
  timeout 600 cargo test --workspace --test provisioning_zoho_scim2_server -- --ignored
