#!/bin/sh
# `make fuzz`: runs every fuzz target of BUILD for SECONDS each on a copy of
# its seed corpus and fails if any of them finds a crash, a leak, undefined
# behaviour or a hang.
#
#   fuzz-all.sh BUILD SECONDS [TARGET...]
set -u
build=$1 seconds=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
unset KILN_FUZZ_BUILD_DIR # run-fuzzer.sh would look there instead of BUILD
targets=${*:-$(ls "$here/corpus")}
failed=""
summary=""
for target in $targets; do
  line=$("$here/run-fuzzer.sh" "$build/bin/fuzz_$target" "$here/corpus/$target" \
    "$build/fuzz-runs/$target" "$seconds")
  status=$?
  echo "$line"
  summary="$summary
$(echo "$line" | head -n 1)"
  [ "$status" -eq 0 ] || failed="$failed $target"
done
echo
echo "Fuzzing summary ($seconds s per target; logs and new inputs in $build/fuzz-runs):$summary"
if [ -n "$failed" ]; then
  echo "FAILED:$failed (crash inputs in $build/fuzz-runs/<target>/artifacts)"
  exit 1
fi
