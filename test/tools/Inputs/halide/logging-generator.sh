#!/bin/sh
# Stands in for kiln-halide: logs each command, then runs the real one
# ($KILN_HALIDE_REAL).
echo "$1" >> "$KILN_HALIDE_LOG"
exec "$KILN_HALIDE_REAL" "$@"
