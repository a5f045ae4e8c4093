# scripts/loadtest --soak (sourced after lib.sh): one batched server for MINUTES under three kinds of
# client at once, paced so that the machine is not saturated (a soak looks for leaks and errors, not
# the ceiling): valid requests (wrk, 4 connections, 5 ms pause), invalid ones (wrk, 2 connections,
# 20 ms pause, bodies.py's invalid set) and clients that send a request and leave without reading
# (disconnect.py, ~40/s). The server's RSS is sampled every 10 s.

# soak MINUTES
soak() {
  local minutes=$1 seconds=$(( $1 * 60 )) port=$PORT pid rss_log="$WORK/rss.log"
  repo "$WORK/soak" $BATCH $DELAY $INSTANCES
  start_server "$WORK/soak" "$port" "$WORK/soak.log"
  pid=${SERVER_PIDS[0]}
  local load_before
  load_before=$(cut -d' ' -f1-3 /proc/loadavg)
  pdnn_log "soak: $minutes min on port $port (server pid $pid), log $WORK/soak.log"
  ( while kill -0 "$pid" 2>/dev/null; do
      echo "$(date +%s) $(awk '/^VmRSS/ {print $2}' /proc/$pid/status)" >> "$rss_log"; sleep 10
    done ) &
  local sampler=$!
  wrk_run "http://localhost:$port$URL_PATH" 4 "$seconds" DELAY_MS=5 > "$WORK/valid.out" &
  local valid=$!
  env BODIES_DIR="$WORK/bodies" URL_PATH="$URL_PATH" DELAY_MS=20 wrk -t1 -c2 -d${seconds}s --timeout 30s -s scripts/loadtest.d/invalid.lua \
    "http://localhost:$port$URL_PATH" | grep '^RESULT' > "$WORK/invalid.out" &
  local invalid=$!
  python3 scripts/loadtest.d/disconnect.py "$port" "$URL_PATH" "$WORK/bodies/json.body" "$seconds" 20 > "$WORK/leaving.out" &
  local leaving=$!
  wait $valid $invalid $leaving
  sleep 2   # the last dropped requests are counted
  local inflight queued statuses
  inflight=$(metric "$port" "pdnn_inflight_requests ")
  queued=$(metric "$port" "pdnn_queue_depth{model=\"$MODEL\"")
  statuses=$(curl -s "localhost:$port/metrics" | grep '^pdnn_requests_total' | sed -E 's/.*status="([0-9]+)"\} (.*)/\1:\2/' | sort | tr '\n' ' ')
  local dropped
  dropped=$(metric "$port" "pdnn_dropped_disconnected_total{model=\"$MODEL\"")
  kill "$sampler" 2>/dev/null || true
  stop_servers
  local load_after
  load_after=$(cut -d' ' -f1-3 /proc/loadavg)

  # RSS drift: after the first fifth of the run (warm-up: JIT, plan caches, pools), last vs first sample.
  local n first last max drift
  n=$(wc -l < "$rss_log")
  first=$(awk -v n="$n" 'NR == int(n / 5) + 1 {print $2}' "$rss_log")
  last=$(tail -1 "$rss_log" | awk '{print $2}')
  max=$(awk -v n="$n" 'NR > int(n / 5) && $2 > m {m = $2} END {print m}' "$rss_log")
  drift=$(awk -v a="$first" -v b="$last" 'BEGIN{printf "%.2f", (b - a) * 100 / a}')
  local v iv lv
  v=$(cat "$WORK/valid.out") iv=$(cat "$WORK/invalid.out") lv=$(cat "$WORK/leaving.out")
  local v5 verr i2 i5
  v5=$(sed -E 's/.*s5xx=([0-9]+).*/\1/' <<<"$v") verr=$(sed -E 's/.*errors=([0-9]+).* s2xx.*/\1/' <<<"$v")
  i2=$(sed -E 's/.*s2xx=([0-9]+).*/\1/' <<<"$iv") i5=$(sed -E 's/.*s5xx=([0-9]+).*/\1/' <<<"$iv")

  echo
  echo "Soak: $minutes min, $MODEL, $CORES cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)); load average before $load_before, after $load_after"
  echo "valid (wrk, 4 connections, 5 ms pause):    $v"
  echo "invalid (wrk, 2 connections, 20 ms pause): $iv"
  echo "leaving (send, then close unread):         $lv"
  echo "server: requests by status $statuses; dropped before compute (client gone) $dropped; in flight at the end $inflight, queued $queued"
  echo "RSS: $n samples every 10 s; after warm-up first $first KiB, last $last KiB, max $max KiB: drift $drift%"
  local ok=1
  [ "$v5" = 0 ] && [ "$verr" = 0 ] || { echo "FAIL: valid requests got $v5 5xx and $verr socket errors/timeouts"; ok=0; }
  [ "$i2" = 0 ] && [ "$i5" = 0 ] || { echo "FAIL: invalid requests got $i2 2xx and $i5 5xx"; ok=0; }
  grep -Eq '(^| )5[0-9]{2}:' <<<"$statuses" && { echo "FAIL: the server answered 5xx: $statuses"; ok=0; }
  awk -v a="$inflight" -v b="$queued" 'BEGIN{exit !(a == 0 && b == 0)}' || { echo "FAIL: accepted requests left unanswered ($inflight in flight, $queued queued)"; ok=0; }
  awk -v d="$drift" 'BEGIN{exit !(d < 5 && d > -5)}' || { echo "FAIL: RSS drift $drift% (>= 5%)"; ok=0; }
  [ $ok = 1 ] && echo "PASS: 0 5xx and 0 socket errors to valid requests, every invalid one a 4xx, nothing left unanswered, RSS drift $drift%"
  [ $ok = 1 ]
}
