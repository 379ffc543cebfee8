#!/usr/bin/env python3
"""cold.txt (coldrun.sh) -> Markdown: per file and mode, medians (min-max)
of the parse's wall and CPU ms and minor faults, and peak RSS in MiB, with
its growth over reading the text alone."""
import statistics, sys
from collections import OrderedDict

runs = OrderedDict()
for line in open(sys.argv[1]):
    f = line.split()
    if len(f) < 10 or f[1] != "RESULT":
        continue
    file, mode = f[0], f[2]
    wall, cpu, faults = float(f[3]), float(f[4]), int(f[5])
    peak = int(f[9])
    runs.setdefault((file, mode), []).append((wall, cpu, faults, peak))

def med(xs): return statistics.median(xs)
print("| file | mode | wall median (min-max) ms | CPU median (min-max) ms | minor faults | peak RSS MiB (over text) |")
print("| --- | --- | --- | --- | --- | --- |")
for (file, mode), rs in runs.items():
    base_mode = "readpadded" if mode in ("dom", "ondemand", "domsketch", "odsketch", "readpadded") else "read"
    base = med([r[3] for r in runs[(file, base_mode)]])
    w = [r[0] for r in rs]; c = [r[1] for r in rs]
    peak = med([r[3] for r in rs])
    print(f"| {file} | {mode} | {med(w):.1f} ({min(w):.1f}-{max(w):.1f}) | {med(c):.1f} ({min(c):.1f}-{max(c):.1f}) "
          f"| {med([r[2] for r in rs]):.0f} | {peak/1024:.1f} (+{(peak-base)/1024:.1f}) |")
