# TCP probing for the local stack; sourced, never run.
# Readiness is a TCP connect, never an HTTP request: `cargo lambda watch` treats any HTTP
# request as an invocation of the function.

# port_open HOST PORT: true if something accepts connections there.
port_open() {
  (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

# wait_port HOST PORT TIMEOUT_SECONDS [PID]: waits until HOST:PORT accepts connections.
# Gives up early when PID (the server being waited for) has exited.
wait_port() {
  local host="$1" port="$2" timeout="$3" pid="${4:-}"
  local deadline=$((SECONDS + timeout))
  while ((SECONDS < deadline)); do
    if port_open "$host" "$port"; then
      return 0
    fi
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
      return 1
    fi
    sleep 0.2
  done
  return 1
}
