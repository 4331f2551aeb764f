#!/usr/bin/env bash
# A real TLS front for `batch simulate`: nginx terminating HTTPS with a throwaway CA, one port
# speaking HTTP/2 (ALPN h2, falling back to http/1.1) and one speaking HTTP/1.1 only, both
# proxying to a plain-HTTP upstream over kept-alive connections. Used by the end-to-end tests,
# the benchmarks and by hand.
#
#   ops/tls/tls-proxy.sh start DIR UPSTREAM_PORT [--upstream-host H] [--access-log] [--max-streams N]
#                                [--max-requests N]
#       Makes DIR/ca.pem (the CA to trust: --ca-cert DIR/ca.pem), a server certificate for
#       localhost, 127.0.0.1 and ::1, and DIR/nginx.conf; starts nginx in the background and,
#       once both ports accept connections, prints on standard output:
#           h2 https://127.0.0.1:PORT
#           h1 https://127.0.0.1:PORT
#           ca DIR/ca.pem
#           pid PID
#       Also makes DIR/other-ca.pem, a second CA that did not sign the server (for
#       "untrusted certificate" tests). Both ports also listen on 127.0.0.2, a loopback address
#       the certificate does not name (for "name mismatch" tests). --access-log writes
#       DIR/access.log, one line per request: protocol, status, connection number.
#       --max-streams N: the HTTP/2 streams nginx allows per connection (its default: 128).
#       --max-requests N: requests per connection before nginx closes it (HTTP/2: GOAWAY);
#       nginx's default is 1,000, this script's a million.
#   ops/tls/tls-proxy.sh stop DIR
#       Stops the nginx started in DIR and waits for it to exit.
#
# Needs nginx (Debian: nginx-light) and openssl. Listens on loopback only.
set -euo pipefail

. "$(dirname "$0")/lib.sh"
close_inherited_descriptors

die() { echo "tls-proxy: $*" >&2; exit 1; }

make_certs() { # dir
    local dir=$1
    [ -f "$dir/ca.pem" ] && return 0
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=batch test CA" \
        -keyout "$dir/ca.key" -out "$dir/ca.pem" 2>/dev/null
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=batch other CA" \
        -keyout "$dir/other-ca.key" -out "$dir/other-ca.pem" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
        -keyout "$dir/server.key" -out "$dir/server.csr" 2>/dev/null
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > "$dir/server.ext"
    openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial \
        -days 2 -extfile "$dir/server.ext" -out "$dir/server.pem" 2>/dev/null
    chmod 600 "$dir"/*.key
}

start() {
    local dir=$1 upstream_port=$2 upstream_host=127.0.0.1 access_log=off max_streams=128 max_requests=1000000
    shift 2
    while [ $# -gt 0 ]; do
        case $1 in
            --upstream-host) upstream_host=$2; shift 2 ;;
            --access-log) access_log="$dir/access.log wire"; shift ;;
            --max-streams) max_streams=$2; shift 2 ;;
            --max-requests) max_requests=$2; shift 2 ;;
            *) die "unknown option $1" ;;
        esac
    done
    command -v nginx >/dev/null || die "nginx is not installed (Debian: apt-get install nginx-light)"
    command -v openssl >/dev/null || die "openssl is not installed"
    mkdir -p "$dir/tmp"
    [ "$access_log" = off ] || access_log="$(cd "$dir" && pwd)/access.log wire"
    chmod 1777 "$dir/tmp" # nginx's worker runs as an unprivileged user when started as root
    dir=$(cd "$dir" && pwd)
    make_certs "$dir"
    local attempt h2 h1
    for attempt in $(seq 1 20); do
        h2=$(( 20000 + RANDOM % 30000 ))
        h1=$(( h2 + 1 ))
        cat > "$dir/nginx.conf" <<CONF
worker_processes 1;
worker_rlimit_nofile 20000;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 10000; }
http {
    log_format wire '\$server_protocol \$status \$connection \$connection_requests';
    access_log $access_log;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    client_max_body_size 64m;
    client_body_buffer_size 64k;
    keepalive_requests $max_requests;
    keepalive_timeout 120s;
    http2_max_requests $max_requests;
    http2_max_concurrent_streams $max_streams;
    ssl_certificate $dir/server.pem;
    ssl_certificate_key $dir/server.key;
    ssl_session_cache shared:SSL:10m;
    upstream simulator {
        server $upstream_host:$upstream_port;
        keepalive 1024;
        keepalive_requests 1000000;
    }
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_buffering off;
    proxy_request_buffering on;
    proxy_read_timeout 600s;
    proxy_send_timeout 600s;
    server {
        listen 127.0.0.1:$h2 ssl http2;
        listen [::1]:$h2 ssl http2;
        listen 127.0.0.2:$h2 ssl http2;
        location / { proxy_pass http://simulator; }
    }
    server {
        listen 127.0.0.1:$h1 ssl;
        listen [::1]:$h1 ssl;
        listen 127.0.0.2:$h1 ssl;
        location / { proxy_pass http://simulator; }
    }
}
CONF
        rm -f "$dir/nginx.pid"
        nginx -p "$dir" -c "$dir/nginx.conf" -g 'daemon off;' </dev/null >>"$dir/nginx.out" 2>&1 &
        NGINX_PID=$!
        if port_accepts "$h2" "$NGINX_PID" && port_accepts "$h1" "$NGINX_PID"; then
            echo "$NGINX_PID" > "$dir/nginx.pid.main"
            echo "h2 https://127.0.0.1:$h2"
            echo "h1 https://127.0.0.1:$h1"
            echo "ca $dir/ca.pem"
            echo "pid $NGINX_PID"
            return 0
        fi
        kill "$NGINX_PID" 2>/dev/null || true
        wait "$NGINX_PID" 2>/dev/null || true
        grep -q "Address already in use" "$dir/error.log" 2>/dev/null || { tail -5 "$dir/error.log" >&2; die "nginx did not start"; }
    done
    die "no free port pair found for nginx"
}

stop() { stop_by_pid_file "$1/nginx.pid.main"; }

case ${1:-} in
    start) [ $# -ge 3 ] || die "usage: $0 start DIR UPSTREAM_PORT"; shift; start "$@" ;;
    stop) [ $# -ge 2 ] || die "usage: $0 stop DIR"; stop "$2" ;;
    *) die "usage: $0 start DIR UPSTREAM_PORT | stop DIR" ;;
esac
