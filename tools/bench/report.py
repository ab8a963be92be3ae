#!/usr/bin/env python3
"""report.py WORK: bench/results.md, on standard output, from tools/bench.sh's
records in WORK: meta (key=value lines), rows.tsv (one timed run a line:
table, key, label, events, status, wall ms, peak RSS KB, command) and
verdicts.tsv (table, what, MATCH or MISMATCH, the two files compared).
"""
import os
import sys


def read_meta(path):
    meta, logs = {}, []
    for line in open(path):
        key, _, value = line.rstrip("\n").partition("=")
        if key == "log":
            logs.append(value)
        else:
            meta[key] = value
    return meta, logs


def read_tsv(path, width):
    return [line.rstrip("\n").split("\t", width - 1) for line in open(path) if line.strip()]


class Table:
    """The runs of one log, and the ratios between them."""

    def __init__(self, name):
        self.name = name
        self.rows = []
        self.by_key = {}

    def add(self, row):
        self.rows.append(row)
        self.by_key[row["key"]] = row

    def seconds(self, key):
        row = self.by_key.get(key)
        if row is None or row["status"] != "ok":
            return None
        return row["ms"] / 1000

    def ratio_lines(self, jobs):
        """Ratios of wall times; speed ratios are the slower run's time over the faster's."""
        lines = []
        msl = self.seconds("msl-csv-j1")
        msl_label = "msl -j 1" if jobs else "msl"

        def line(text, num, den, suffix=""):
            if num is not None and den is not None and den > 0:
                lines.append(f"- {text}: **{num / den:.2f}×**{suffix}")

        line(f"{msl_label}'s speed over DuckDB's (DuckDB's time / msl's; above 1: msl is faster)",
             self.seconds("duckdb"), msl)
        line(f"{msl_label}'s speed over SQLite's (SQLite's time / msl's)", self.seconds("sqlite"), msl)
        line(f"{msl_label}'s time over `wc -l`'s on the same file (the aim is within 4×)",
             msl, self.seconds("wc-csv"))
        if jobs:
            line("msl's speed on every core over -j 1's", msl, self.seconds("msl-csv-jall"))
        line(f"{msl_label}'s time on JSON Lines over `wc -l`'s on it", self.seconds("msl-jsonl-j1"),
             self.seconds("wc-jsonl"))
        line(f"{msl_label}'s time on JSON Lines over its time on CSV", self.seconds("msl-jsonl-j1"), msl)
        line(f"{msl_label}'s time on CSV.gz over its time on CSV", self.seconds("msl-gz-j1"), msl,
             self.gz_note())
        line(f"ten.ms's time over three.ms's ({msl_label})", self.seconds("ten-j1"), msl)
        return lines

    def gz_note(self):
        inflate = self.seconds("gunzip")
        return f" (decompression alone, `gzip -dc`: {inflate:.2f} s)" if inflate else ""


def describe(table):
    """'sorted 1000000' -> '1,000,000 events, time-sorted'."""
    kind, _, size = table.partition(" ")
    return f"{int(size):,} events, {'time-sorted' if kind == 'sorted' else kind}"


def fmt_row(row):
    if row["status"] != "ok":
        return f"| {row['label']} | {row['status']} | | |"
    s = row["ms"] / 1000
    rate = f"{row['events'] / s / 1e6:.2f}M" if s > 0 else "—"
    return f"| {row['label']} | {s:.2f} | {rate} | {row['kb'] / 1024:.1f} |"


def main():
    work = sys.argv[1]
    meta, logs = read_meta(os.path.join(work, "meta"))
    verdicts = read_tsv(os.path.join(work, "verdicts.tsv"), 5)
    tables, commands = {}, []
    for table, key, label, events, status, ms, kb, command in read_tsv(os.path.join(work, "rows.tsv"), 8):
        row = {"key": key, "label": label, "events": int(events), "status": status,
               "ms": int(ms) if ms else 0, "kb": int(kb) if kb else 0}
        tables.setdefault(table, Table(table)).add(row)
        if command:
            commands.append((table, label, command))
    jobs = meta.get("jobs") == "1"
    mismatches = [v for v in verdicts if v[2] != "MATCH"]
    failed = [r for t in tables.values() for r in t.rows if r["status"].startswith("failed")]

    out = []
    w = out.append
    w("# msl benchmark results")
    w("")
    w(f"Written by `make bench` (tools/bench.sh), begun {meta['date']}, in {meta['runtime']} s "
      "including the generation of any log not cached. Regenerate it with `make bench`; "
      "the knobs (log sizes, accounts, seed) are described at the top of tools/bench.sh.")
    w("")
    if mismatches or failed:
        w(f"**FAILED**: {len(mismatches)} comparisons differ, {len(failed)} runs failed.")
        w("")
    if "stopped" in meta:
        w(f"**Stopped early**: {meta['stopped']}.")
        w("")
    w("## Machine")
    w("")
    w(f"- {meta['cores']} cores: {meta['cpu']}; {meta['memory']} of memory; {meta['kernel']}")
    w(f"- load average when the run began: {meta['load']} (other work on the machine makes wall times noisy)")
    if "core_speeds_start" in meta:
        w(f"- one Python loop on each core, before the runs: {meta['core_speeds_start']}; after them: "
          f"{meta.get('core_speeds_end', 'not measured')} (unequal times: a core shared with other work, "
          "which every run on all cores waits for)")
    w(f"- msl `{meta['msl']}`; SQLite {meta['sqlite']}; node {meta['node']}; DuckDB {meta['duckdb']}")
    w(f"- `msl run -j`: {'yes' if jobs else 'not implemented in this build: msl runs without -j, every-core rows are n/a'}")
    w("")
    w("## Data")
    w("")
    w(f"The shared generator, {meta['accounts']} accounts, seed {meta['seed']}; logs are cached in "
      f"`{meta['data']}/` (ignored by git) and made again only when the generator changes:")
    w("")
    w("```")
    out.extend(logs)
    w("```")
    w("")
    w(f"Wall time: measured around `/usr/bin/time` (milliseconds), the median of {meta.get('repeat', '1')} runs of "
      "each command, every engine alike (on a shared machine one run can take half as long again as the next); "
      "peak RSS: `/usr/bin/time -f %M`, "
      "the largest process of the command (node for DuckDB, sqlite3 for SQLite), the most of its runs. "
      "events/s: the log's events over the wall time. msl runs write every output file (`--out`).")
    w("")
    w("## Results identical")
    w("")
    w(f"Every engine's results, as sorted `account,milestone,epoch` lines (`{meta['shared']}/msl_to_epochs.py` "
      "for msl; SQLite's CRLF line ends removed), are compared byte for byte; msl's other runs must write "
      "the very same output files as its time-sorted CSV run.")
    w("")
    for number, (table, what, verdict, left, right) in enumerate(verdicts, 1):
        w(f"- {describe(table)}: {what}: **{verdict}**")
        if verdict != "MATCH":
            w(f"  (`diff -r {left} {right}`, the first lines:)")
            w("  ```")
            with open(os.path.join(work, f"diff-{number}")) as diff:
                out.extend("  " + line.rstrip("\n") for line in diff.readlines()[:10])
            w("  ```")
    if not verdicts:
        w("- nothing compared")
    w("")
    for table in tables.values():
        kind, _, size = table.name.partition(" ")
        w(f"## {describe(table.name)}")
        w("")
        w("| run | wall s | events/s | peak RSS MB |")
        w("|---|---:|---:|---:|")
        for row in table.rows:
            w(fmt_row(row))
        w("")
        out.extend(table.ratio_lines(jobs))
        if kind == "shuffled":
            sorted_table = tables.get(f"sorted {size}")
            shuffled, in_order = table.seconds("msl-csv-j1"), sorted_table and sorted_table.seconds("msl-csv-j1")
            if shuffled and in_order:
                w(f"- msl's time on the shuffled log over its time on the time-sorted one: "
                  f"**{shuffled / in_order:.2f}×**")
        w("")
    if "report_bytes" in meta:
        w(f"## report.html at {int(meta['report_accounts']):,} accounts")
        w("")
        w(f"The page `msl run` wrote for tools/bench/ten.ms over the {int(meta['report_accounts']):,}-account, "
          f"{int(meta['check']):,}-event log:")
        w("")
        w(f"- size: {int(meta['report_bytes']) / 1e6:.2f} MB ({int(meta['report_gzip_bytes']) / 1e6:.2f} MB gzipped)")
        w(f"- load in headless Chromium: {meta['report_load'] or 'not measured (the page check failed)'}")
        w("")
    w("## Commands")
    w("")
    w(f"From the repository root; DuckDB from `{meta['node_dir']}/` (`npm install --prefix "
      f"{meta['node_dir']} {meta['duckdb_package']}`).")
    w("")
    w("Standard output goes to /dev/null.")
    w("")
    w("```")
    last = None
    for table, label, command in commands:
        if table != last:
            if last is not None:
                w("")
            w(f"# {describe(table)}")
            last = table
        w(command)
    w("```")
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
