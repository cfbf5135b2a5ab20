#!/bin/sh
# Stands in for kiln-halide: writes nothing and is killed.
if [ "$1" = "--version" ]; then echo "kiln-halide (crashing stand-in)"; exit 0; fi
kill -SEGV $$
