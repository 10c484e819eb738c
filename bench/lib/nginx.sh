# Sourced by bench scripts: nginx answering `return 200` on 127.0.0.1, the loopback ceiling that
# no HTTP server on this machine can beat under the same load generator.
# start_nginx_ceiling <work dir> <port>: starts it (pid in <work dir>/nginx.pid); stop it with
# stop_nginx_ceiling <work dir>. Needs nginx (apt-get install nginx-light).
NGINX_BIN=$(command -v nginx || echo /usr/sbin/nginx)

start_nginx_ceiling() {
  local dir=$1 port=$2
  [ -x "$NGINX_BIN" ] || { echo "needs nginx (apt-get install nginx-light)" >&2; return 1; }
  cat > "$dir/nginx.conf" <<CONF
worker_processes auto;
pid $dir/nginx.pid;
error_log $dir/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  server { listen 127.0.0.1:$port; location / { return 200 "ok"; } }
}
CONF
  "$NGINX_BIN" -c "$dir/nginx.conf" -p "$dir"
}

stop_nginx_ceiling() {
  kill "$(cat "$1/nginx.pid" 2>/dev/null)" 2>/dev/null || true
}
