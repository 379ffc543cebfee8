#!/usr/bin/env python3
"""Checks a file against the Trace Event Format that strata writes.

Usage: check_trace.py TRACE.json [--streams N] [--busy-streams N]
                      [--source predicted|measured] [--min-flows N]

Checks: the top level ({"traceEvents": [...], "displayTimeUnit": ...}); each
event's required keys and their types; ph values; dur >= 0; every pid and
(pid, tid) used named by "M" metadata; the complete events of each stream in
file order by time and not overlapping; every flow id started once and
finished once, not before it started. Prints a one-line summary; exits 1
with every problem found otherwise.
"""
import argparse
import json
import sys

EPS_US = 1e-6  # the writer's times are exact nanoseconds


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("trace")
    ap.add_argument("--streams", type=int, help="thread_name entries expected")
    ap.add_argument("--busy-streams", type=int,
                    help="streams with complete events expected")
    ap.add_argument("--source", help="otherData.source expected")
    ap.add_argument("--min-flows", type=int, default=0)
    args = ap.parse_args()
    problems = []

    def bad(msg):
        problems.append(msg)

    with open(args.trace, encoding="utf-8") as f:
        doc = json.load(f)
    if not isinstance(doc, dict) or not isinstance(doc.get("traceEvents"), list):
        print("not a trace: expected an object with a traceEvents array")
        return 1
    if doc.get("displayTimeUnit") not in ("ms", "ns"):
        bad("displayTimeUnit must be \"ms\" or \"ns\"")
    if args.source is not None and doc.get("otherData", {}).get("source") != args.source:
        bad("otherData.source is %r, expected %r"
            % (doc.get("otherData", {}).get("source"), args.source))

    def number(v):
        return isinstance(v, (int, float)) and not isinstance(v, bool)

    def integer(v):
        return isinstance(v, int) and not isinstance(v, bool)

    processes, threads = set(), set()
    used_pids, used_threads = set(), set()
    complete = {}  # (pid, tid) -> [(ts, dur, index)]
    flows = {}  # id -> {"s": ts, "f": ts}
    for i, e in enumerate(doc["traceEvents"]):
        at = "traceEvents[%d]" % i
        if not isinstance(e, dict):
            bad(at + ": not an object")
            continue
        ph = e.get("ph")
        if ph not in ("X", "M", "s", "f"):
            bad(at + ": ph %r is not one strata writes (X, M, s, f)" % (ph,))
            continue
        if not isinstance(e.get("name"), str):
            bad(at + ": name must be a string")
        if not integer(e.get("pid")) or not integer(e.get("tid")):
            bad(at + ": pid and tid must be integers")
            continue
        pid, tid = e["pid"], e["tid"]
        if ph == "M":
            a = e.get("args")
            if not isinstance(a, dict):
                bad(at + ": metadata needs args")
                continue
            if e["name"] == "process_name" and isinstance(a.get("name"), str):
                processes.add(pid)
            elif e["name"] == "thread_name" and isinstance(a.get("name"), str):
                if (pid, tid) in threads:
                    bad(at + ": thread %d of process %d named twice" % (tid, pid))
                threads.add((pid, tid))
            elif e["name"] in ("process_sort_index", "thread_sort_index"):
                if not integer(a.get("sort_index")):
                    bad(at + ": sort_index must be an integer")
            else:
                bad(at + ": unexpected metadata %r" % e["name"])
            continue
        if not number(e.get("ts")):
            bad(at + ": ts must be a number")
            continue
        if not isinstance(e.get("cat"), str):
            bad(at + ": cat must be a string")
        used_pids.add(pid)
        used_threads.add((pid, tid))
        if ph == "X":
            if not number(e.get("dur")) or e["dur"] < 0:
                bad(at + ": dur must be a number >= 0")
                continue
            if not isinstance(e.get("args"), dict):
                bad(at + ": args must be an object")
            complete.setdefault((pid, tid), []).append((e["ts"], e["dur"], i))
        else:
            if "id" not in e:
                bad(at + ": a flow event needs an id")
                continue
            ends = flows.setdefault(e["id"], {})
            if ph in ends:
                bad(at + ": flow %r has two %r events" % (e["id"], ph))
            ends[ph] = e["ts"]
            if ph == "f" and e.get("bp") != "e":
                bad(at + ": a flow end must bind to its enclosing slice (bp e)")

    for pid in sorted(used_pids - processes):
        bad("process %d has events but no process_name" % pid)
    for pid, tid in sorted(used_threads - threads):
        bad("thread %d of process %d has events but no thread_name" % (tid, pid))
    for (pid, tid), evs in sorted(complete.items()):
        for (t0, d0, i0), (t1, _, i1) in zip(evs, evs[1:]):
            if t1 < t0:
                bad("thread %d/%d: traceEvents[%d] starts before traceEvents[%d], "
                    "which comes first" % (pid, tid, i1, i0))
            elif t1 + EPS_US < t0 + d0:
                bad("thread %d/%d: traceEvents[%d] (%.3f us) starts before "
                    "traceEvents[%d] ends (%.3f us)" % (pid, tid, i1, t1, i0, t0 + d0))
    for fid, ends in sorted(flows.items(), key=lambda kv: str(kv[0])):
        if set(ends) != {"s", "f"}:
            bad("flow %r lacks its %s" % (fid, "start" if "s" not in ends else "end"))
        elif ends["f"] + EPS_US < ends["s"]:
            bad("flow %r ends before it starts" % (fid,))
    nflows = sum(1 for ends in flows.values() if set(ends) == {"s", "f"})
    if args.streams is not None and len(threads) != args.streams:
        bad("%d streams named, expected %d" % (len(threads), args.streams))
    if args.busy_streams is not None and len(complete) != args.busy_streams:
        bad("%d streams have events, expected %d" % (len(complete), args.busy_streams))
    if nflows < args.min_flows:
        bad("%d flows, expected at least %d" % (nflows, args.min_flows))
    if problems:
        for p in problems[:50]:
            print("%s: %s" % (args.trace, p))
        return 1
    print("trace ok: %d complete events on %d of %d streams, %d processes, %d flows"
          % (sum(len(v) for v in complete.values()), len(complete), len(threads),
             len(processes), nflows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
