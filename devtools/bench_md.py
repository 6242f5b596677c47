#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
#
# Markdown tables of a devtools/bench.sh results folder, for
# docs/performance.md: the machine, the goals, then one table per study
# from its CSV (a bold row opens each group), and the application runs of
# the pmd study one by one.
#
# usage: devtools/bench_md.py RESULTS_DIR [STUDY...]
import csv
import os
import sys

STUDIES = ["alloc", "drain", "memory", "scale", "pmd"]


def fmt(v):
    """Three significant figures, no exponent."""
    x = float(v)
    if x == 0:
        return "0"
    if abs(x) >= 100:
        return "%.0f" % x
    if abs(x) >= 10:
        return "%.1f" % x
    return "%.2f" % x


def study_table(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        return ""
    unit, aux = rows[0]["unit"], rows[0]["aux_unit"]
    out = ["| case | ours | anchor | ratio | ours %s | anchor %s | ours: anchor |" % (aux, aux),
           "|---|---:|---:|---:|---:|---:|---|"]
    group = None
    for r in rows:
        if r["group"] != group:
            group = r["group"]
            out.append("| **%s** | | | | | | |" % group)
        out.append("| %s | %s | %s | %.2f× | %s | %s | %s: %s |" % (
            r["name"].strip(), fmt(r["ours"]), fmt(r["anchor_value"]), float(r["ratio"]),
            fmt(r["ours_aux"]) if float(r["ours_aux"]) >= 0 else "–",
            fmt(r["anchor_aux"]) if float(r["anchor_aux"]) >= 0 else "–",
            r["series"], r["anchor"]))
    return "Figures in %s (ratio: ours / anchor).\n\n" % unit + "\n".join(out) + "\n"


def apps_table(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    configs = []
    for r in rows:
        if r["config"] not in configs:
            configs.append(r["config"])
    runs = sorted({int(r["run"]) for r in rows})
    out = ["| run | " + " | ".join(configs) + " |", "|---" + "|---:" * len(configs) + "|"]
    for n in runs:
        cells = []
        for c in configs:
            v = [r for r in rows if r["config"] == c and int(r["run"]) == n]
            cells.append("%.2f" % (int(v[0]["packets"]) / float(v[0]["secs"]) / 1e6)
                         if v and float(v[0]["secs"]) > 0 else "–")
        out.append("| %d | %s |" % (n, " | ".join(cells)))
    return "Mpps counted at the peer, run by run (each run's configurations in turn).\n\n" + \
        "\n".join(out) + "\n"


def main():
    if len(sys.argv) < 2:
        sys.stderr.write("usage: %s RESULTS_DIR [STUDY...]\n" % sys.argv[0])
        return 2
    d = sys.argv[1]
    studies = sys.argv[2:] or STUDIES
    for name in ("machine.txt", "summary.txt"):
        p = os.path.join(d, name)
        if os.path.exists(p):
            print("```")
            print(open(p).read().strip())
            print("```\n")
    for s in studies:
        p = os.path.join(d, s + ".csv")
        if not os.path.exists(p):
            continue
        print("### %s\n" % s)
        print("![%s](img/bench-%s.png)\n" % (s, s))
        print(study_table(p))
        if s == "pmd" and os.path.exists(os.path.join(d, "pmd_apps.csv")):
            print(apps_table(os.path.join(d, "pmd_apps.csv")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
