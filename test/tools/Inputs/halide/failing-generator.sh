#!/bin/sh
# Stands in for kiln-halide: answers --version, fails every compile as
# kiln-halide does, with one line.
if [ "$1" = "--version" ]; then echo "kiln-halide (failing stand-in)"; exit 0; fi
echo "kiln-halide: error: Halide could not compile kernel: (stand-in failure)" >&2
exit 1
