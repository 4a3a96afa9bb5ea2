#!/usr/bin/env bash
# Conformance of the scim-client emulator against scim2-tester (PyPI), the SCIM server
# checker of the python-scim project, run through its CLI (`scim2 ... test`).
#
# Builds the `scim-emulator` binary, starts it on 127.0.0.1 (a free port) with a random
# bearer token, runs every scim2-tester check, prints a summary, and stops the emulator.
# Exits non-zero if any check is not SUCCESS.
#
# Usage: .ci/scim2-tester.sh VENV_DIR [EMULATOR_FLAGS...]
#   VENV_DIR         a venv holding scim2-tester and scim2-cli (created if missing)
#   EMULATOR_FLAGS   extra flags for scim-emulator, e.g. --entra, --okta, --seed-users 100
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${1:?usage: .ci/scim2-tester.sh VENV_DIR [EMULATOR_FLAGS...]}
shift

if [ ! -x "$venv/bin/scim2" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --no-cache-dir --disable-pip-version-check \
    'scim2-tester==0.5.2' 'scim2-cli==0.6.0' 'scim2-client[httpx2]==0.13.2'
fi

cargo build --quiet --workspace --bin scim-emulator
target_dir=$(cargo metadata --format-version 1 --no-deps |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
emulator="$target_dir/debug/scim-emulator"

port=${SCIM_TESTER_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')}
token="ci-$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
log=$(mktemp)
out=$(mktemp)
"$emulator" --port "$port" --token "$token" "$@" >"$log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -f "$log" "$out"' EXIT

base="http://127.0.0.1:$port/v2"
ready=""
for _ in $(seq 100); do
  if ! kill -0 "$server" 2>/dev/null; then
    break
  fi
  if curl -sf --max-time 1 -o /dev/null "$base/ServiceProviderConfig"; then
    ready=yes
    break
  fi
  sleep 0.1
done
if [ -z "$ready" ]; then
  echo "scim-emulator did not start within 10 s:" >&2
  cat "$log" >&2
  exit 1
fi

versions=$("$venv/bin/pip" list --disable-pip-version-check 2>/dev/null |
  awk '/^scim2-(tester|cli|client|models) /{printf "%s %s, ", $1, $2}')
echo "scim2-tester against scim-emulator ${*:-(strict)} at $base (${versions%, })"

status=0
timeout 600 "$venv/bin/scim2" --url "$base" -h "Authorization: Bearer $token" test >"$out" 2>&1 || status=$?

# One line per check: "<STATUS> <check name>", then an indented reason.
total=$(grep -cE '^(SUCCESS|COMPLIANT|ACCEPTABLE|DEVIATION|ERROR|CRITICAL|SKIPPED) ' "$out" || true)
passed=$(grep -cE '^SUCCESS ' "$out" || true)
echo
echo "scim2-tester: $passed/$total checks passed (exit status $status)"
grep -E '^[A-Z]+ ' "$out" | awk '{print $1}' | sort | uniq -c | sed 's/^/  /'
if [ "$passed" -ne "$total" ] || [ "$total" -eq 0 ] || [ "$status" -ne 0 ]; then
  echo
  echo "Checks that did not pass:"
  grep -vE '^SUCCESS ' "$out" | grep -E -A1 '^[A-Z]+ ' || cat "$out"
  exit 1
fi
