#!/bin/sh
# Committed reference tables (ml_dtypes, PyTorch) equal freshly generated ones.
#   tests/same_tables.sh COMMITTED FRESH
a=$(grep -v '^#' "$1" | cksum) b=$(grep -v '^#' "$2" | cksum)
if [ "$a" = "$b" ]; then
    echo "ok   reference tables regenerated: identical to $1 ($(grep -c "^table" "$1") tables)"
else
    echo "FAIL reference tables regenerated from $(head -1 "$2" | sed 's/.*from //') differ from $1:"
    diff "$1" "$2" | head -20
    exit 1
fi
