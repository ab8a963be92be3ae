#!/usr/bin/env python3
"""csv_to_jsonl.py EVENTS_CSV OUT_JSONL: the same events as JSON Lines.

One object per row, keys in the CSV's column order; an empty cell becomes an
absent key, which msl reads as the same missing value (docs/cli.md, Cells).
tools/bench.sh uses it to time msl on JSON Lines over exactly the rows it
times on CSV.
"""
import csv
import json
import sys


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: csv_to_jsonl.py EVENTS_CSV OUT_JSONL")
    with open(sys.argv[1], newline="") as src, open(sys.argv[2], "w") as out:
        rows = csv.reader(src)
        # Keys are quoted once; cells need json.dumps only for their escapes.
        keys = [json.dumps(name) + ":" for name in next(rows)]
        encode = json.dumps
        for row in rows:
            out.write("{" + ",".join(k + encode(v) for k, v in zip(keys, row) if v) + "}\n")


if __name__ == "__main__":
    main()
