# Functions of scripts/loadtest (sourced): model repositories, servers, wrk runs, nginx, the CPU hog.
# Expects: JAVA (array), WORK (temp dir), MODEL, INSTANCES, THREADS, OMP_WAIT, ADAPTIVE, PDNN_ROOT.

SERVER_PIDS=() NGINX_PID="" HOG_PID=""

# repo DIR MAX_BATCH DELAY_US INSTANCES: a one-model repository for $MODEL in DIR.
repo() {
  local dir="$1/$MODEL"
  mkdir -p "$dir"
  if [ "$MODEL" = digits ]; then
    cp "$PDNN_ROOT/demo/src/main/resources/dev/panamadnn/demo/digits/digits_resnet.safetensors" "$dir/model.safetensors"
    cat > "$dir/config.json" <<JSON
{"architecture": "digits", "inputs": [{"name": "input", "datatype": "FP32", "shape": [-1, 1, 8, 8]}],
 "outputs": [{"name": "logits"}], "max_batch_size": $2, "max_queue_delay_us": $3, "adaptive_delay": $ADAPTIVE,
 "instances": $4, "threads_per_instance": $THREADS, "max_queue_size": 1024}
JSON
  else
    ln -sf "$([ "$MODEL" = text ] && echo "$TEXT_ONNX" || echo "$RESNET_ONNX")" "$dir/model.onnx"
    cat > "$dir/config.json" <<JSON
{"max_batch_size": $2, "max_queue_delay_us": $3, "adaptive_delay": $ADAPTIVE, "instances": $4, "threads_per_instance": $THREADS, "max_queue_size": 1024,
 "timeout_ms": 60000}
JSON
  fi
}

# start_server REPO PORT LOG: starts a server in the background (appends its pid to SERVER_PIDS), waits until ready.
start_server() {
  env ${OMP_WAIT:+OMP_WAIT_POLICY=$OMP_WAIT} "${JAVA[@]}" dev.panamadnn.server.Main --models "$1" --port "$2" --no-access-log > "$3" 2>&1 &
  SERVER_PIDS+=($!)
  for _ in $(seq 1 300); do curl -sf "localhost:$2/v2/health/ready" >/dev/null && return 0; sleep 1; done
  cat "$3" >&2
  pdnn_die "server on port $2 not ready"
}

# stop_servers: SIGTERM every server started (they drain), then wait for them.
stop_servers() {
  local p
  for p in "${SERVER_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${SERVER_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  SERVER_PIDS=()
}

# wrk_run URL CONNECTIONS SECONDS [env...]: one wrk measurement with post.lua; prints its RESULT line.
wrk_run() {
  local url=$1 c=$2 d=$3
  shift 3
  local t=$(( c < 2 ? c : 2 ))
  env BODY_FILE="$BODY_FILE" BODY_FILES="$BODY_FILES" HEADER_LENGTH="$HEADER_LENGTH" "$@" \
    wrk -t$t -c$c -d${d}s --timeout 30s --latency -s "$PDNN_ROOT/scripts/loadtest.d/post.lua" "$url" | grep '^RESULT'
}

# row LABEL C RESULT: a markdown table row from a RESULT line.
row() {
  sed -E "s/RESULT rps=([^ ]*) p50_ms=([^ ]*) p90_ms=([^ ]*) p99_ms=([^ ]*) requests=([^ ]*) errors=([^ ]*) s2xx=([^ ]*) s4xx=([^ ]*) s5xx=([^ ]*)/| $1 | $2 | \1 | \2 | \4 | \6 | \8 \/ \9 |/" <<<"$3"
}

# metric PORT PREFIX: the value of the first Prometheus line starting with PREFIX (0 when absent).
metric() {
  # reads the whole scrape: an awk that exits at the first match leaves curl writing into a closed pipe (exit 23 under
  # pipefail, which ended a soak before its report once the scrape outgrew the pipe's buffer)
  curl -s "localhost:$1/metrics" | awk -v p="$2" '!found && index($0, p) == 1 { v = $NF; found = 1 } END { print found ? v : 0 }'
}

# timers PORT: the server's own timer sums (seconds) and counts for $MODEL, as "queue_sum queue_count compute_sum
# compute_count request_sum request_count" (Prometheus' _sum/_count of pdnn_{queue,compute,request}_latency).
timers() {
  curl -s "localhost:$1/metrics" | awk -v m="model=\"$MODEL\"" '
    index($0, m) && /^pdnn_(queue|compute|request)_latency_seconds_(sum|count)\{/ {
      split($1, k, "{"); v[k[1]] += $NF }
    END { printf "%s %s %s %s %s %s\n", v["pdnn_queue_latency_seconds_sum"] + 0, v["pdnn_queue_latency_seconds_count"] + 0,
          v["pdnn_compute_latency_seconds_sum"] + 0, v["pdnn_compute_latency_seconds_count"] + 0,
          v["pdnn_request_latency_seconds_sum"] + 0, v["pdnn_request_latency_seconds_count"] + 0 }'
}

# timer_means BEFORE AFTER: from two `timers` lines, the mean queue wait, plan run and request time in between (ms),
# as "queue Q / compute C / server R ms".
timer_means() {
  awk -v a="$1" -v b="$2" 'BEGIN { split(a, x, " "); split(b, y, " ")
    printf "queue %.2f / compute %.2f / server %.2f ms", m(x[1], y[1], x[2], y[2]), m(x[3], y[3], x[4], y[4]), m(x[5], y[5], x[6], y[6]) }
    function m(s0, s1, c0, c1) { return c1 > c0 ? 1000 * (s1 - s0) / (c1 - c0) : 0 }'
}

# start_nginx PORT UPSTREAM_PORTS...: Debian's nginx (installed when missing) as a non-daemon load
# balancer on PORT over the given local ports, with its own config, logs and temp files in $WORK/nginx.
start_nginx() {
  command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || pdnn_apt_install nginx
  local port=$1 dir="$WORK/nginx" servers="" p
  shift
  for p in "$@"; do servers+="    server 127.0.0.1:$p;"$'\n'; done
  mkdir -p "$dir/logs" "$dir/tmp"
  chmod -R 777 "$dir"   # as root, nginx's workers run as nobody and write their temp files here
  cat > "$dir/nginx.conf" <<CONF
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $dir/tmp/body;
  proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fastcgi;
  uwsgi_temp_path $dir/tmp/uwsgi;
  scgi_temp_path $dir/tmp/scgi;
  upstream pdnn {
$servers    keepalive 128;
  }
  server {
    listen 127.0.0.1:$port;
    client_max_body_size 64m;
    location / {
      proxy_pass http://pdnn;
      # Helidon speaks HTTP/1.1 (an HTTP/1.0 request gets 505); 1.1 also lets nginx keep upstream connections alive.
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
    }
  }
}
CONF
  "$(command -v nginx || echo /usr/sbin/nginx)" -p "$dir" -c "$dir/nginx.conf" -g 'daemon off;' &
  NGINX_PID=$!
  for _ in $(seq 1 50); do curl -sf "localhost:$port/v2/health/ready" >/dev/null && return 0; sleep 0.2; done
  cat "$dir/logs/error.log" >&2
  pdnn_die "nginx on port $port does not reach the servers"
}

stop_nginx() {
  [ -z "$NGINX_PID" ] || { kill -QUIT "$NGINX_PID" 2>/dev/null || true; wait "$NGINX_PID" 2>/dev/null || true; }
  NGINX_PID=""
}

# hog_on / hog_off: a busy loop (one core's worth of CPU) while measuring.
hog_on() {
  bash -c 'while :; do :; done' &
  HOG_PID=$!
}

hog_off() {
  [ -z "$HOG_PID" ] || { kill "$HOG_PID" 2>/dev/null || true; wait "$HOG_PID" 2>/dev/null || true; }
  HOG_PID=""
}

cleanup_all() {
  hog_off
  stop_nginx
  local p
  for p in "${SERVER_PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}

# text_first_requests PORT GOLDENS: each length's first request (its import and compile) and second, timed by curl, the
# logits checked against PyTorch's (max |difference|); one line.
text_first_requests() {
  local out="" length first second err
  for length in 16 32 48 64; do
    first=$(curl -s -o "$WORK/text-$length.out" -w '%{time_total}' -H 'Content-Type: application/json' \
      --data-binary "@$WORK/bodies/text-$length.body" "localhost:$1$URL_PATH")
    second=$(curl -s -o /dev/null -w '%{time_total}' -H 'Content-Type: application/json' --data-binary "@$WORK/bodies/text-$length.body" "localhost:$1$URL_PATH")
    err=$(python3 -c 'import json,sys; g=json.load(open(sys.argv[1]))[sys.argv[2]]["logits"]; o=json.load(open(sys.argv[3]))["outputs"][0]["data"]
print("%.1e" % max(abs(a-b) for a,b in zip(g,o)))' "$2" "$length" "$WORK/text-$length.out") || pdnn_die "length $length: no logits ($(cat "$WORK/text-$length.out"))"
    out+="${out:+; }$length tokens: first $(awk -v t="$first" 'BEGIN{printf "%.1f", 1000*t}') ms, second $(awk -v t="$second" 'BEGIN{printf "%.1f", 1000*t}') ms, max |logit - PyTorch| $err"
  done
  echo "first requests per length (import + compile of the shape, then its second request): $out"
}
