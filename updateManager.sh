#!/usr/bin/env bash
# updateManager.sh: the seed's wrapper around the `updates` command, kept for the scripts and timers that call it.
#
#   --check    runs `updates check`          (exit 100 when updates are available)
#   --legacy   runs `updates --legacy`       (the seed's manifest.json mode)
#   --help     prints this wrapper's usage (`updates --help` has the full one)
#   anything else is passed through to `updates` unchanged, and so is its exit code.
#
# The launcher: bin/updates.js beside this script (a checkout or an unpacked release), else `updates` on PATH.
#
# Logs. On a terminal everything goes to the terminal. Otherwise (cron, a systemd unit, a pipe):
#   - under systemd, when stdout is the journal stream (JOURNAL_STREAM names it), nothing is redirected:
#     journald already keeps every run, rotates by its own limits and needs no file of ours;
#   - else the orchestrator's logs (its stderr) are APPENDED to $UPDATES_LOG_FILE
#     (default /var/log/updates-orchestrator.log), between a start and an end line naming the exit code.
#     The seed truncated its log each run, losing the previous run's; here, before a run, a log larger than
#     $UPDATES_LOG_MAX_BYTES (default 10 MiB) is rotated to .1, older ones shift up to .$UPDATES_LOG_KEEP
#     (default 5) and the oldest is dropped. stdout (e.g. the --json report) is left to the caller.
#     When the log file cannot be written, logs stay on stderr and a warning says why.
# No pipe is involved, so the orchestrator's exit code is this script's exit code.
set -euo pipefail

readonly LOG_FILE="${UPDATES_LOG_FILE:-/var/log/updates-orchestrator.log}"
readonly LOG_MAX_BYTES="${UPDATES_LOG_MAX_BYTES:-10485760}"
readonly LOG_KEEP="${UPDATES_LOG_KEEP:-5}"
# The documented exit code for a usage or configuration error (see `updates --help`).
readonly EXIT_USAGE=2

usage() {
  cat <<'EOF'
Usage: updateManager.sh [--check | --legacy] [options passed to updates]

Runs the updates orchestrator (`updates`): sync the repository, install newer module versions, run every
enabled module.

Wrapper options:
  --check                 check for updates without applying them (runs `updates check`; exit 100 if any)
  --legacy                run the seed's manifest.json mode (runs `updates --legacy`)
  -h, --help              this text

Passed through unchanged to `updates` (see `updates --help` for all of them):
  --repo-url URL  --branch NAME  --modules-path PATH  --local-repo PATH  --root DIR  --json  --wait
  --config FILE  --module-timeout SEC  --pool-size N  --services systemctl|record  --log-level LEVEL
  --require-signed  --allowed-signers FILE  --allow-history-rewrite  --max-fetch-mb MB

Exit codes are those of `updates`: 0 ok, 1 something failed, 2 usage or configuration error,
75 another run holds the lock, 100 updates available (--check).

When stdout is not a terminal, logs are appended to $UPDATES_LOG_FILE (default
/var/log/updates-orchestrator.log, rotated above $UPDATES_LOG_MAX_BYTES, $UPDATES_LOG_KEEP kept), or left to
journald when running under systemd.
EOF
}

# Prints the command that starts the orchestrator, one word per line; fails when there is none.
find_launcher() {
  local here
  here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
  if [[ -f "$here/bin/updates.js" ]]; then
    printf '%s\n' node "$here/bin/updates.js"
  elif command -v updates >/dev/null 2>&1; then
    command -v updates
  else
    return 1
  fi
}

# True when stdout is the stream systemd connected to the journal (JOURNAL_STREAM is "<device>:<inode>").
stdout_is_journal() {
  [[ -n "${JOURNAL_STREAM:-}" ]] || return 1
  [[ "$(stat -L -c '%d:%i' "/proc/$$/fd/1" 2>/dev/null || true)" == "$JOURNAL_STREAM" ]]
}

# Rotates the log when it is larger than LOG_MAX_BYTES: log -> .1 -> .2 ... -> .LOG_KEEP (dropped beyond).
rotate_log() {
  local size i
  [[ -f "$LOG_FILE" ]] || return 0
  size="$(wc -c <"$LOG_FILE")"
  (( size > LOG_MAX_BYTES )) || return 0
  rm -f "$LOG_FILE.$LOG_KEEP"
  for (( i = LOG_KEEP - 1; i >= 1; i-- )); do
    if [[ -f "$LOG_FILE.$i" ]]; then mv -f "$LOG_FILE.$i" "$LOG_FILE.$((i + 1))"; fi
  done
  mv -f "$LOG_FILE" "$LOG_FILE.1"
}

main() {
  local args=() arg
  for arg in "$@"; do
    case "$arg" in
      -h | --help) usage; return 0 ;;
      --check) args=(check "${args[@]}") ;;
      *) args+=("$arg") ;;
    esac
  done
  local launcher=()
  mapfile -t launcher < <(find_launcher || true)
  if [[ ${#launcher[@]} -eq 0 ]]; then
    echo "updateManager.sh: cannot find the updates launcher (no bin/updates.js beside this script, no updates on PATH)" >&2
    return "$EXIT_USAGE"
  fi
  if [[ -t 1 ]] || stdout_is_journal; then
    exec "${launcher[@]}" "${args[@]}"
  fi
  if ! { mkdir -p "$(dirname "$LOG_FILE")" && rotate_log && : >>"$LOG_FILE"; } 2>/dev/null; then
    echo "updateManager.sh: cannot write the log file $LOG_FILE; logging to stderr" >&2
    exec "${launcher[@]}" "${args[@]}"
  fi
  local rc=0
  printf '%s updateManager.sh[%d]: start: updates %s\n' "$(date -Is)" "$$" "${args[*]}" >>"$LOG_FILE"
  "${launcher[@]}" "${args[@]}" 2>>"$LOG_FILE" || rc=$?
  printf '%s updateManager.sh[%d]: end: exit code %d\n' "$(date -Is)" "$$" "$rc" >>"$LOG_FILE"
  return "$rc"
}

main "$@"
