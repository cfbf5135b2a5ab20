#!/bin/sh
# Runs one fuzz target: replays its seed corpus, then fuzzes for SECONDS,
# with the dictionary dict/<target>.dict.
#
#   run-fuzzer.sh BINARY CORPUS WORKDIR SECONDS
#
# New inputs go to WORKDIR/corpus (never to CORPUS, which is committed),
# crashes to WORKDIR/artifacts, the log to WORKDIR/fuzz.log. Prints one line
# of figures ("fuzz_npy: 123456 execs in 60 s, 2057 exec/s, ...") and exits
# with the fuzzer's status; 77 (skipped, for ctest) when BINARY is missing.
# KILN_FUZZ_BUILD_DIR in the environment, if set, names the fuzz build that
# holds BINARY (bin/<name>) instead.
set -u
binary=$1 corpus=$2 workdir=$3 seconds=$4
if [ -n "${KILN_FUZZ_BUILD_DIR:-}" ]; then
  binary=$KILN_FUZZ_BUILD_DIR/bin/$(basename "$binary")
fi
name=$(basename "$binary")
if [ ! -x "$binary" ]; then
  echo "$name: not built; skipped (build the fuzz targets with 'make fuzz-build')"
  exit 77
fi
dict=$(dirname "$0")/dict/${name#fuzz_}.dict
[ -f "$dict" ] && dict="-dict=$dict" || dict=""
rm -rf "$workdir"
mkdir -p "$workdir/corpus" "$workdir/artifacts"
log=$workdir/fuzz.log
# Exit codes other than 77 (ctest's "skipped") for findings; 10 s per input
# is generous on a loaded machine, slower inputs are bugs.
"$binary" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
  -error_exitcode=2 -timeout_exitcode=3 -print_final_stats=1 $dict \
  -artifact_prefix="$workdir/artifacts/" \
  "$workdir/corpus" "$corpus" > "$log" 2>&1
status=$?
stat() { sed -n "s/^stat::$1: *//p" "$log" | tail -n 1; }
execs=$(stat number_of_executed_units)
rate=$(stat average_exec_per_sec)
added=$(stat new_units_added)
rss=$(stat peak_rss_mb)
seeds=$(ls "$corpus" | wc -l)
echo "$name: ${execs:-?} execs in $seconds s, ${rate:-?} exec/s," \
  "${seeds} seeds, ${added:-?} new inputs, peak RSS ${rss:-?} MB, status $status"
if [ "$status" -ne 0 ]; then
  echo "--- $name failed; the end of $log:"
  tail -n 60 "$log"
  ls "$workdir/artifacts"
fi
exit $status
