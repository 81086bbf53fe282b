#!/usr/bin/env bash
# One real prediction from a revision's URL, which must be answered by the expected revision.
# Usage: smoke-test.sh URL EXPECTED_REVISION   (e.g. the green tag URL and house-price-v2)
set -euo pipefail

usage="usage: smoke-test.sh URL EXPECTED_REVISION"
url=${1:?$usage}
expected=${2:?$usage}
row="$(dirname "$0")/../model_data/sample-row.json"  # one record, as POST /predict takes it
headers=$(mktemp)
trap 'rm -f "$headers"' EXIT

# A revision at 0 % has no pod: the first answer waits for a cold start, which Knative bounds at
# the revision's responseStartTimeoutSeconds (120 s); --max-time waits longer than that. The
# retries cover a connection that fails on the way.
body=$(curl --silent --show-error --fail-with-body --retry 2 --retry-all-errors --retry-delay 2 \
    --max-time 150 --dump-header "$headers" --header 'Content-Type: application/json' \
    --data "@$row" "${url%/}/predict") || {
    echo "smoke test failed: POST ${url%/}/predict did not answer 200: $body" >&2
    exit 1
}
# The last X-Revision header, should curl have written several attempts' headers.
revision=$(awk -F': *' 'tolower($1) == "x-revision" { sub(/\r$/, "", $2); found = $2 }
    END { print found }' "$headers")

if [[ "$revision" != "$expected" ]]; then
    echo "smoke test failed: answered by revision '${revision}', expected '${expected}'" >&2
    exit 1
fi
if ! grep -Eq '"prediction": *\[ *-?[0-9]' <<<"$body"; then
    echo "smoke test failed: no prediction in the answer: $body" >&2
    exit 1
fi
echo "smoke test passed: ${expected} at ${url} answered ${body}"
