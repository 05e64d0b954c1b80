#!/bin/sh
# Entry point of the Loom image: `loom <role> [options]`, with defaults only a container knows filled in for the
# roles that need them (an option given on the command line always wins):
#   worker   --memory-limit  the container's memory limit (cgroup v2 memory.max, else v1 memory.limit_in_bytes),
#                            as Dask's --memory-limit auto does; without a limit the worker uses the host's memory
#            --host          this container's address, so peers and clients outside the container can dial the
#                            data server it advertises (0.0.0.0 would advertise the container's hostname)
#            --port          8788, a fixed port the health check can find
#   serve, jobs runner       the model store at $LOOM_MODEL_STORE is opened first, which creates an empty one, as
#                            this user, on a fresh volume: serve starts on it and every role can write it
set -eu

has_option() {
  option=$1
  shift
  for arg in "$@"; do
    case "$arg" in "$option" | "$option"=*) return 0 ;; esac
  done
  return 1
}

# Prints the container's memory limit in bytes; nothing when it has none.
container_memory_limit() {
  if [ -r /sys/fs/cgroup/memory.max ]; then
    limit=$(cat /sys/fs/cgroup/memory.max)
  elif [ -r /sys/fs/cgroup/memory/memory.limit_in_bytes ]; then
    limit=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes)
  else
    return 0
  fi
  case "$limit" in '' | max | *[!0-9]*) return 0 ;; esac
  # cgroup v1 says "no limit" with a page-rounded 2^63-1; no real limit has 19 digits (that is over 800 PiB).
  [ "${#limit}" -ge 19 ] && return 0
  echo "$limit"
}

container_address() {
  hostname -i 2>/dev/null | tr ' ' '\n' | grep -v ':' | grep -v '^127\.' | head -n 1 || true
}

ensure_model_store() {
  node --input-type=module -e 'const { ModelStore } = await import("@loom/models"); await ModelStore.open(process.argv[1]);' \
    "${LOOM_MODEL_STORE:-/models}"
}

main=/app/dist/src/main.js
node_flags=
case "${1:-}" in
  scheduler | worker | jobs | serve | models | help | -* | '') ;;
  # Anything else is a command to run as it is (`docker run loom sh`), as official images do.
  *) exec "$@" ;;
esac
case "${1:-}" in
  worker)
    # LOOM_MEMORY_LIMIT (the Helm chart sets it from the downward API) is the worker's own default.
    if ! has_option --memory-limit "$@" && [ -z "${LOOM_MEMORY_LIMIT:-}" ]; then
      limit=$(container_memory_limit)
      [ -n "$limit" ] && set -- "$@" --memory-limit "$limit"
    fi
    if ! has_option --host "$@"; then
      address=$(container_address)
      set -- "$@" --host "${address:-0.0.0.0}"
    fi
    has_option --port "$@" || set -- "$@" --port 8788
    ;;
  serve)
    ensure_model_store
    # loom serve's V8 flags (packages/serve/src/serve-v8-flags.ts) on this node itself, so it need not run itself
    # again as a second process; an empty LOOM_SERVE_V8_FLAGS means V8's defaults.
    node_flags=${LOOM_SERVE_V8_FLAGS---single-threaded-gc}
    ;;
  jobs)
    [ "${2:-}" = runner ] && ensure_model_store
    ;;
esac
# shellcheck disable=SC2086 # one word per flag
exec node ${node_flags:-} "$main" "$@"
