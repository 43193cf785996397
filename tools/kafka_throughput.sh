#!/usr/bin/env bash
# Direct vs Kafka end to end, side by side, on this machine (docs/performance.md, "scale-out"):
# the same loadtest against one node, then against a local broker and one node with role all
# (ingest and worker in one process). Prints both end-to-end rates and their ratio.
#   tools/kafka_throughput.sh [seconds] [producers]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seconds="${1:-20}"
producers="${2:-4}"
jar="$here/target/alphawatch-all.jar"
[ -f "$jar" ] || (cd "$here" && mvn -q -B -DskipTests package)
work="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT

rate() { sed -n 's/^end to end: \([0-9.]*\) batches\/s applied.*/\1/p'; }

echo "direct: loadtest against one node, $seconds s, $producers producers" >&2
java -jar "$jar" loadtest --seconds "$seconds" --producers "$producers" --layers 4 | tee "$work/direct.txt" >&2
direct="$(rate < "$work/direct.txt")"

port=$((20000 + RANDOM % 20000))
java -Xmx512m -cp "$here/target/broker-lib/*:$jar" org.alphawatch.scale.Broker --port "$port" --dir "$work/broker" \
  > "$work/broker.log" 2>&1 &
until grep -q "alphawatch broker ready" "$work/broker.log"; do sleep 0.5; done
java -jar "$jar" serve --port 0 --kafka "127.0.0.1:$port" --role all --kafka-partitions 8 \
  --state-dir "$work/state" > "$work/node.log" 2>&1 &
until url="$(sed -n 's/^alphawatch serving on \(http[^ ]*\).*/\1/p' "$work/node.log")" && [ -n "$url" ]; do sleep 0.5; done
until curl -sf "$url/healthz" > /dev/null; do sleep 0.5; done
echo "kafka: the same loadtest against $url (broker, ingest and worker on this machine)" >&2
java -jar "$jar" loadtest --url "$url" --seconds "$seconds" --producers "$producers" --layers 4 \
  | tee "$work/kafka.txt" >&2
kafka="$(rate < "$work/kafka.txt")"
awk -v d="$direct" -v k="$kafka" 'BEGIN { printf "end to end: direct %.1f batches/s, kafka %.1f batches/s: %.0f%% of direct\n", d, k, 100 * k / d }'
