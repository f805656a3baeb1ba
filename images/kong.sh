#!/bin/sh
# The stand-in's `kong` command (kongformance.kongshape.cli), unbuffered so log-based waits work.
exec python3 -u -m kongformance.kongshape "$@"
