#!/usr/bin/env bash
# Load test of `liveseg serve` with wrk: the page, the model list, onnxruntime-web's .wasm and the default model.
#   scripts/load.sh [SECONDS] [CONNECTIONS]     (defaults 30 and 64; needs wrk: apt-get install wrk)
# Prints req/s, p50/p99 latency and errors per URL (a request may take up to 30 s: the model and the .wasm are
# megabytes, 64 at a time), and the server's RSS before and after.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-30}
connections=${2:-64}
bin=${LIVESEG_VENV:-.venv}/bin
command -v wrk >/dev/null || { echo "error: wrk is not installed; run: apt-get install wrk" >&2; exit 2; }

log=$(mktemp)
"$bin/liveseg" serve --port 0 >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -f "$log"' EXIT
for _ in $(seq 100); do
  base=$(grep -o 'http://[^ ]*' "$log" | head -1 || true)
  [[ -n $base ]] && break
  sleep 0.2
done
[[ -n ${base:-} ]] || { echo "error: liveseg serve did not start: $(cat "$log")" >&2; exit 1; }
base=${base%/}

rss() { awk '/VmRSS/ {printf "%.1f MB", $2 / 1024}' "/proc/$server/status"; }
model=$("$bin/python" - "$base" <<'EOF'
import json, sys, urllib.request
(m, *_) = json.load(urllib.request.urlopen(f"{sys.argv[1]}/api/models"))["models"]
variant = next(v for v in m["manifest"]["variants"] if v.get("graph", "labels") == "labels")
print(m["url"] + variant["file"])
EOF
)
wasm=$("$bin/python" -c "from liveseg import paths; print(min((paths.STATIC_DIR / 'assets').glob('ort-wasm*.wasm')).name)")

echo "liveseg serve at $base; wrk ${seconds}s, $connections connections, 2 threads; RSS before: $(rss)"
printf '%-52s %10s %9s %9s %7s\n' url "req/s" "p50" "p99" errors
for path in / /api/models "/assets/$wasm" "$model"; do
  out=$(wrk -t2 -c"$connections" -d"${seconds}s" --timeout 30s --latency "$base$path")
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  errors=$(awk '/Socket errors|Non-2xx/ {s = s $0 "; "} END {print s ? s : "0"}' <<<"$out")
  printf '%-52s %10s %9s %9s %7s\n' "$path" "$rps" "$p50" "$p99" "$errors"
done
echo "RSS after: $(rss)"
