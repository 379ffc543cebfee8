#!/usr/bin/env python3
"""Property test of `strata compile` over a seeded grid of its inputs.

The grid is the cartesian product of the axes below: presets x clusters
(single GPUs, several of one kind, odd counts, mixed kinds, two and three
nodes, clusters too small) x --strategy x --balance x --kv-strategy x
--batch x --context x --prefill x --kv-dtype x --max-memory (one device
lowered) x --override x --reserve x --no-offload. A second, smaller grid
places the bundled stories260K.gguf on CPU virtual devices.

The cases run are the corner cases (every value of every axis at least
once, against a cheap base case, and the known hard spots), then cases
drawn from the grid with random.Random(SEED) until there are --cases (and
--cpu-cases) of them, big models weighted down so that a run stays short.
For every case:

  - a plan written (exit 0) must be the only file in its folder, pass
    `strata verify` read back from it and render with `strata viz` (the
    format rotates over text, dot, html and trace by case) to a non-empty
    file; text must be byte for byte the report compile printed
    (docs/cli.md). On CPU devices it must also run (`strata run PLAN
    --model M --tokens 1 -n 4`, exit 0; a --batch 2 plan must be refused
    with exit 1, docs/runtime.md), and every plan of --batch 1 with the
    same KV element type must generate the same tokens, whatever its
    devices (1, 2, 3 or 4), strategy, context, prefill chunk and placement;
  - a refusal must exit 1 with `strata compile: error: MESSAGE` on stderr,
    leave no file, and give one of the reasons in REFUSALS (the model does
    not fit, an --override rule that cannot apply, a prefill chunk longer
    than the context), quoting any --override rule whole;
  - any other exit code, a signal or a timeout is a failure.

Prints one line per failure with the command that reproduces it, then a
summary (cases, plans written, refusals by the first words of their
message, failures by class with one reproducer each) and exits 1 on any
failure. Files go to a temporary folder, each case's removed after it.

usage: plan_grid.py STRATA MODELS_DIR [--seed S] [--cases N]
                    [--cpu-cases M] [--jobs J] [--timeout SECONDS]
                    [--presets A,B] [--list]
"""
import argparse
import collections
import concurrent.futures
import itertools
import json
import os
import random
import re
import shlex
import subprocess
import sys
import tempfile
import time

# --- The grid ---------------------------------------------------------------

# Preset -> weight when drawing. Every preset is also a corner case once.
PRESETS = {
    "llama2-7b": 4,
    "llama3-8b": 6,
    "mistral-7b": 4,
    "llama3-70b": 2,
    "qwen2.5-72b": 2,
    "mixtral-8x7b": 2,
    "mixtral-8x22b": 0.7,
    "llama3.1-405b": 0.25,
    "deepseek-v3": 0.25,
}

# Cluster spec -> its kind (the summary counts cases by kind).
CLUSTERS = {
    "1xH100-80GB": "single",
    "1xH200": "single",
    "2xH100-80GB": "same",
    "4xA100-80GB": "same",
    "8xH100-80GB": "same",
    "3xA100-40GB": "odd",
    "5xL40S": "odd",
    "7xH100-80GB": "odd",
    "2xH100-80GB,2xA100-40GB": "mixed",
    "1xH100-80GB,2xL40S": "mixed",
    "1xB200,2xH200,1xRTX4090": "mixed",
    "2x4xH100-80GB": "two-nodes",
    "2x8xH100-80GB": "two-nodes",
    "2x2xA100-40GB,1x3xL40S": "three-nodes-mixed",
    "1xRTX4090": "too-small",
    "cpu:2x64MiB": "too-small",
}

STRATEGIES = ["auto", "pipeline", "tensor"]
BALANCES = ["time", "memory"]
KV_STRATEGIES = ["with-layer", "by-head"]
BATCHES = [1, 2, 4, 8]
CONTEXTS = [512, 2048, 4096, 8192, 32768, 131072]
KV_DTYPES = [None, "f16", "bf16", "f32", "f8_e4m3"]
# --prefill: None is the default, min(context, 512); 2048 is more than
# some contexts (a refusal).
PREFILLS = [None, 1, 128, 2048]
# Resolved per cluster by max_memory_arg: one device lowered to a share of
# its capacity (device 0 to 1/2, the last to 1/4, the middle one to 1/8).
MAX_MEMORY = [None, ("first", 2), ("last", 4), ("middle", 8)]
# Resolved per cluster by override_args: LAST is the last device, MID the
# middle one.
OVERRIDES = [
    None,
    ("lm_head\\.weight=host",),
    ("model\\.embed_tokens\\.weight=disk",),
    ("model\\.layers\\.0\\..*=LAST",),
    ("cache_.*\\.0=MID",),
    ("model\\.layers\\.1\\..*=host", "model\\.norm\\.weight=0"),
    ("model\\.layers\\.[0-9]{1}\\.input_layernorm\\.weight=MID",),
]
# Half the drawn cases have no rule. The last (a regex with a brace) is
# drawn rarely: it is checked before anything else, so every case with it
# ends the same way and would hide what the other axes do.
OVERRIDE_WEIGHTS = [6, 1, 1, 1, 1, 1, 0.3]
RESERVES = [None, "1MiB", "2GiB", "16GiB"]
NO_OFFLOAD = [False, True]

AXES = [
    ("preset", list(PRESETS)),
    ("cluster", list(CLUSTERS)),
    ("strategy", STRATEGIES),
    ("balance", BALANCES),
    ("kv_strategy", KV_STRATEGIES),
    ("batch", BATCHES),
    ("context", CONTEXTS),
    ("prefill", PREFILLS),
    ("kv_dtype", KV_DTYPES),
    ("max_memory", MAX_MEMORY),
    ("override", OVERRIDES),
    ("reserve", RESERVES),
    ("no_offload", NO_OFFLOAD),
]
BASE = dict(preset="llama3-8b", cluster="2xH100-80GB", strategy="auto",
            balance="time", kv_strategy="with-layer", batch=1, context=4096,
            prefill=None, kv_dtype=None, max_memory=None, override=None,
            reserve=None, no_offload=False)

# The CPU grid: stories260K.gguf on CPU virtual devices, each plan run.
CPU_OVERRIDES = [
    None,
    ("output\\.weight=host",),
    ("token_embd\\.weight=disk",),
    ("blk\\.0\\..*=LAST",),
    ("cache_.\\.1=MID",),
    ("blk\\.1\\..*=host", "output_norm\\.weight=0"),
]
CPU_CLUSTERS = ["cpu:1x4MiB", "cpu:2x4MiB", "cpu:3x4MiB", "cpu:4x4MiB",
                "cpu:1x8MiB,cpu:2x2MiB", "cpu:2x256KiB"]
CPU_AXES = [
    ("cluster", CPU_CLUSTERS),
    ("strategy", STRATEGIES),
    ("balance", BALANCES),
    ("kv_strategy", KV_STRATEGIES),
    ("batch", [1, 2]),
    ("context", [64, 256, 2048]),
    ("prefill", [None, 1, 7, 64]),
    ("kv_dtype", [None, "f16", "f32"]),
    ("max_memory", MAX_MEMORY),
    ("override", CPU_OVERRIDES),
    ("no_offload", NO_OFFLOAD),
]
CPU_BASE = dict(cluster="cpu:2x4MiB", strategy="auto", balance="time",
                kv_strategy="with-layer", batch=1, context=256, prefill=None,
                kv_dtype=None, max_memory=None, override=None,
                no_offload=False)
# Corner cases: these clusters with every strategy, the base sizes. Every
# plan of --batch 1 with the same KV element type must generate the same
# tokens (and so do these, of 1, 2, 3 and 4 devices).
CPU_SAME_TOKENS = ["cpu:1x4MiB", "cpu:2x4MiB", "cpu:3x4MiB", "cpu:4x4MiB"]

VIZ_FORMATS = ["text", "dot", "html", "trace"]

# The reasons `strata compile` gives for refusing a valid command line
# (docs/cli.md, docs/placement.md): the model does not fit, or an
# --override rule cannot be applied. Any other message is a failure: the
# plan verifier's and the schedule's problems are bugs (docs/cli.md).
REFUSALS = [
    r"the model does not fit the cluster",
    r"override '[^']*' matches no weight or KV cache",
    r"override '[^']*' would move KV cache",
    r"override '[^']*': device \d+ does not exist",
    r"prefill chunk of \d+ tokens does not fit a context of \d+",
]


def grid_size(axes):
    n = 1
    for _, values in axes:
        n *= len(values)
    return n


def key(case):
    return json.dumps(case, sort_keys=True)


def corner_cases():
    """Every value of every axis once against the base case, and the spots
    known to be hard: every strategy and KV strategy on a mixed, an odd and
    a two-node cluster, the big models on their home clusters and on
    clusters too small, and cases the larger grids found failing."""
    cases = []
    for name, values in AXES:
        for v in values:
            cases.append(dict(BASE, **{name: v}))
    for cluster, s in itertools.product(
            ["2xH100-80GB,2xA100-40GB", "3xA100-40GB", "2x4xH100-80GB"],
            STRATEGIES):
        for kv in KV_STRATEGIES:
            cases.append(dict(BASE, cluster=cluster, strategy=s, kv_strategy=kv))
    for preset in ["mixtral-8x7b", "deepseek-v3"]:
        cases.append(dict(BASE, preset=preset, cluster="8xH100-80GB",
                          strategy="tensor", context=2048))
    cases.append(dict(BASE, preset="llama3.1-405b", cluster="2x8xH100-80GB",
                      context=8192))
    cases.append(dict(BASE, preset="llama3-70b", cluster="1xRTX4090",
                      no_offload=True))
    # Found by larger grids (docs/robustness.md): a KV cache moved by a
    # fallback, or by an override of an MLA cache, away from its layer; the
    # 405B's head split by the shard fallback.
    cases.append(dict(BASE, preset="llama3-70b", cluster="3xA100-40GB",
                      balance="memory", batch=4, context=8192,
                      kv_dtype="f8_e4m3", max_memory="2=8GiB", reserve="2GiB"))
    cases.append(dict(BASE, preset="deepseek-v3", cluster="2xH100-80GB",
                      context=2048, override=("cache_.*\\.0=LAST",)))
    cases.append(dict(BASE, preset="llama3.1-405b", cluster="8xH100-80GB",
                      override=("model\\.embed_tokens\\.weight=disk",)))
    return cases


def cpu_corner_cases():
    cases = []
    for name, values in CPU_AXES:
        for v in values:
            cases.append(dict(CPU_BASE, **{name: v}))
    for cluster, s in itertools.product(CPU_SAME_TOKENS, STRATEGIES):
        cases.append(dict(CPU_BASE, cluster=cluster, strategy=s))
    return cases


def draw(rng, axes, weights, count, fixed):
    """The fixed cases (deduplicated, in order), then cases drawn from the
    grid until there are `count` in all (or the fixed ones alone, if more)."""
    seen, cases = set(), []
    for c in fixed:
        if key(c) not in seen:
            seen.add(key(c))
            cases.append(c)
    size = grid_size(axes)
    while len(cases) < min(count, size):
        c = {}
        for name, values in axes:
            w = weights.get(name)
            c[name] = rng.choices(values, weights=w)[0] if w else rng.choice(values)
        if key(c) not in seen:
            seen.add(key(c))
            cases.append(c)
    return cases


# --- Command lines -----------------------------------------------------------

def devices_of(strata, cluster):
    """Capacities of the cluster's devices, from `strata devices --json`."""
    p = subprocess.run([strata, "devices", "--cluster", cluster, "--json"],
                       capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        sys.exit("strata devices --cluster %s exited %d: %s"
                 % (cluster, p.returncode, p.stderr.strip()))
    d = json.loads(p.stdout)
    return [dev["capacity_bytes"] for node in d["nodes"] for dev in node["devices"]]


def max_memory_arg(kind, caps):
    if kind is None or isinstance(kind, str):
        return kind  # None, or written out (the corner cases)
    which, share = kind
    d = {"first": 0, "last": len(caps) - 1, "middle": len(caps) // 2}[which]
    kib = max(1, caps[d] // share // 1024)
    return "%d=%dMiB" % (d, kib // 1024) if kib >= 65536 else "%d=%dKiB" % (d, kib)


def override_args(rules, caps):
    if rules is None:
        return []
    last, mid = len(caps) - 1, len(caps) // 2
    args = []
    for r in rules:
        r = re.sub(r"=LAST$", "=%d" % last, r)
        r = re.sub(r"=MID$", "=%d" % mid, r)
        args += ["--override", r]
    return args


def compile_args(case, model, caps):
    a = ["compile", model, "--cluster", case["cluster"],
         "--strategy", case["strategy"], "--balance", case["balance"],
         "--kv-strategy", case["kv_strategy"], "--batch", str(case["batch"]),
         "--context", str(case["context"])]
    if case.get("prefill"):
        a += ["--prefill", str(case["prefill"])]
    if case.get("kv_dtype"):
        a += ["--kv-dtype", case["kv_dtype"]]
    mm = max_memory_arg(case.get("max_memory"), caps)
    if mm:
        a += ["--max-memory", mm]
    a += override_args(case.get("override"), caps)
    if case.get("reserve"):
        a += ["--reserve", case["reserve"]]
    if case.get("no_offload"):
        a += ["--no-offload"]
    return a


# --- Running a case ----------------------------------------------------------

class Failure(Exception):
    def __init__(self, stage, what, cmd):
        super().__init__(what)
        self.stage, self.what, self.cmd = stage, what, cmd


def quote(argv):
    return " ".join(shlex.quote(a) for a in argv)


def first_line(text):
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


def first_difference(a, b):
    """The first line (from 1) where two texts differ, or 0."""
    for n, (x, y) in enumerate(itertools.zip_longest(
            a.splitlines(True), b.splitlines(True))):
        if x != y:
            return n + 1
    return 0


def run(argv, stage, timeout, repro):
    """Runs argv; a timeout or a signal is a failure of `stage`."""
    try:
        p = subprocess.run(argv, capture_output=True, text=True,
                           errors="replace", timeout=timeout)
    except subprocess.TimeoutExpired:
        raise Failure(stage, "timed out after %d s" % timeout, repro)
    if p.returncode < 0:
        raise Failure(stage, "killed by signal %d: %s"
                      % (-p.returncode, first_line(p.stderr)), repro)
    return p


def check_case(strata, model, caps, case, index, workdir, timeout, cpu):
    """Returns ('plan', tokens or None) or ('refused', message); raises
    Failure. Every file goes into a folder of its own, removed after."""
    d = os.path.join(workdir, "case%05d" % index)
    os.mkdir(d)
    plan = os.path.join(d, "plan.json")
    args = compile_args(case, model, caps)
    repro = quote(["strata"] + args + ["-o", "plan.json"])
    try:
        c = run([strata] + args + ["-o", plan], "compile", timeout, repro)
        left = sorted(os.listdir(d))
        if c.returncode != 0:
            m = re.search(r"strata compile: error: (.*)", c.stderr, re.S)
            if c.returncode != 1:
                raise Failure("compile", "exit %d (a refusal must exit 1): %s"
                              % (c.returncode, first_line(c.stderr)), repro)
            if not m or not m.group(1).strip():
                raise Failure("compile", "exit 1 without 'strata compile: "
                              "error: MESSAGE': %r" % c.stderr[-300:], repro)
            message = " ".join(m.group(1).split())
            if left:
                raise Failure("compile", "refused (%s) but left %s"
                              % (message, ", ".join(left)), repro)
            # A rule the message quotes must be one the user gave, whole.
            rules = [b for a, b in zip(args, args[1:]) if a == "--override"]
            for q in re.findall(r"override '([^']*)'", message):
                if q not in rules and q not in [r.rsplit("=", 1)[0] for r in rules]:
                    raise Failure("compile", "refused, quoting override '%s', "
                                  "which is not a rule given (%s): %s"
                                  % (q, ", ".join(rules), message), repro)
            body = re.sub(r"^\S+( on \S+)?: (pass '[^']*' failed: )?", "",
                          message)
            if not any(re.match(r, body) for r in REFUSALS):
                raise Failure("compile", "refused for a reason that is no "
                              "fault of the input: %s" % message, repro)
            if body.startswith("the model does not fit the cluster:") and \
                    "over by" not in body:
                raise Failure("compile", "refused as not fitting, but no "
                              "device is over: %s" % message, repro)
            return ("refused", message)
        if left != ["plan.json"]:
            raise Failure("compile", "exit 0 but the folder holds %s"
                          % (", ".join(left) or "nothing"), repro)
        if os.path.getsize(plan) == 0:
            raise Failure("compile", "exit 0 but plan.json is empty", repro)

        vrepro = repro + " && strata verify plan.json"
        v = run([strata, "verify", plan, "--quiet"], "verify", timeout, vrepro)
        if v.returncode != 0:
            raise Failure("verify", "exit %d: %s" % (
                v.returncode, first_line(v.stderr) or first_line(v.stdout)),
                vrepro)

        fmt = VIZ_FORMATS[index % len(VIZ_FORMATS)]
        out = os.path.join(d, "viz." + fmt)
        zrepro = repro + " && strata viz plan.json --format %s -o viz.%s" % (fmt, fmt)
        z = run([strata, "viz", plan, "--format", fmt, "-o", out], "viz",
                timeout, zrepro)
        if z.returncode != 0:
            raise Failure("viz", "--format %s: exit %d: %s" % (
                fmt, z.returncode, first_line(z.stderr)), zrepro)
        if not os.path.exists(out) or os.path.getsize(out) == 0:
            raise Failure("viz", "--format %s: exit 0 but no output" % fmt, zrepro)
        if fmt == "text":
            # docs/cli.md: byte for byte what `compile -o plan.json` printed.
            with open(out, encoding="utf-8", errors="replace") as f:
                line = first_difference(f.read(), c.stdout)
            if line:
                raise Failure("viz", "--format text differs from the report "
                              "compile printed, first at line %d" % line, zrepro)

        tokens = None
        if cpu:
            rargs = ["run", plan, "--model", model, "--tokens", "1", "-n", "4"]
            rrepro = repro + " && " + quote(["strata"] + rargs).replace(
                shlex.quote(plan), "plan.json")
            r = run([strata] + rargs, "run", timeout, rrepro)
            if case["batch"] > 1:
                # docs/runtime.md: `strata run` takes plans of --batch 1
                # only; it must say so (exit 1), not fail otherwise.
                if r.returncode != 1 or "strata run: error: " not in r.stderr:
                    raise Failure("run", "a --batch %d plan: exit %d "
                                  "(expected 1 and a message): %s" % (
                                      case["batch"], r.returncode,
                                      first_line(r.stderr)), rrepro)
            elif r.returncode != 0:
                raise Failure("run", "exit %d: %s" % (
                    r.returncode, first_line(r.stderr)), rrepro)
            else:
                tokens = r.stdout
        return ("plan", tokens)
    except Failure as e:
        e.what = e.what.replace(d + os.sep, "")  # plan.json, as in e.cmd
        raise
    finally:
        for f in os.listdir(d):
            os.remove(os.path.join(d, f))
        os.rmdir(d)


# --- Summaries ---------------------------------------------------------------

def normalise(text, words):
    """The first words of a message, with the model, cluster and numbers
    taken out, so that messages of one kind group together."""
    text = re.sub(r"^\S+( on \S+)?: ", "", text)
    text = re.sub(r"pass '([^']*)' failed:\s*", r"\1: ", text)
    text = re.sub(r"'[^']*'", "'...'", text)
    text = re.sub(r'"[^"]*\d[^"]*"', '"..."', text)
    text = re.sub(r"\d+(\.\d+)?", "N", text)
    return " ".join(text.split()[:words])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("strata")
    ap.add_argument("models", help="the shared models folder (stories260K.gguf)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--cases", type=int, default=240,
                    help="cases of the preset grid, corner cases included")
    ap.add_argument("--cpu-cases", type=int, default=60,
                    help="cases of the CPU grid, corner cases included")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=int, default=300,
                    help="seconds per command before it counts as a failure")
    ap.add_argument("--presets", metavar="A,B",
                    help="draw only these presets (corner cases of others "
                    "are left out)")
    ap.add_argument("--list", action="store_true",
                    help="print the cases' command lines and stop")
    args = ap.parse_args()

    stories = os.path.join(args.models, "stories260K.gguf")
    rng = random.Random(args.seed)
    only = set(args.presets.split(",")) if args.presets else set(PRESETS)
    if only - set(PRESETS):
        ap.error("unknown presets: " + ", ".join(sorted(only - set(PRESETS))))
    weights = {"preset": [w if p in only else 0 for p, w in PRESETS.items()],
               "override": OVERRIDE_WEIGHTS}
    fixed = [c for c in corner_cases() if c["preset"] in only]
    cases = [("preset:" + c["preset"], c, False)
             for c in draw(rng, AXES, weights, args.cases, fixed)]
    cases += [(stories, c, True)
              for c in draw(rng, CPU_AXES, {}, args.cpu_cases, cpu_corner_cases())]
    caps = {cl: devices_of(args.strata, cl)
            for cl in sorted({c["cluster"] for _, c, _ in cases})}

    print("grid: %d preset cases of %d, %d CPU cases of %d, seed %d"
          % (sum(1 for *_, cpu in cases if not cpu), grid_size(AXES),
             sum(1 for *_, cpu in cases if cpu), grid_size(CPU_AXES), args.seed))
    if args.list:
        for model, c, _ in cases:
            print(quote(["strata"] + compile_args(c, model, caps[c["cluster"]])))
        return 0

    start = time.time()
    results = {}
    with tempfile.TemporaryDirectory(prefix="strata-plan-grid-") as workdir:
        with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
            futures = {
                pool.submit(check_case, args.strata, model, caps[c["cluster"]],
                            c, i, workdir, args.timeout, cpu): i
                for i, (model, c, cpu) in enumerate(cases)}
            for f in concurrent.futures.as_completed(futures):
                i = futures[f]
                try:
                    results[i] = f.result()
                except Failure as e:
                    results[i] = ("failed", e)

    failures = []
    refusals = collections.Counter()
    refused_by = {}
    written = collections.Counter()
    classes = collections.OrderedDict()
    tokens = collections.defaultdict(list)
    for i, (model, c, cpu) in enumerate(cases):
        kind, what = results[i]
        if kind == "plan":
            written["cpu" if cpu else "preset"] += 1
            if cpu and what is not None:
                tokens[c["kv_dtype"]].append((what, i))
        elif kind == "refused":
            refusals[normalise(what, 7)] += 1
            refused_by.setdefault(normalise(what, 7), (i, what))
        else:
            failures.append((i, what))
    # The same tokens from 1, 2, 3 and 4 devices, whatever the strategy:
    # the text most plans generated is the reference.
    def command(i, out):
        model, c, _ = cases[i]
        return quote(["strata"] + compile_args(c, model, caps[c["cluster"]])
                     + ["-o", out])
    for _, outs in sorted(tokens.items(), key=str):
        common = collections.Counter(t for t, _ in outs).most_common(1)[0][0]
        ref = next(i for t, i in outs if t == common)
        for t, i in outs:
            if t != common:
                failures.append((i, Failure(
                    "tokens", "generated %r where case %d (%s) generated %r"
                    % (t, ref, cases[ref][1]["cluster"] + " "
                       + cases[ref][1]["strategy"], common),
                    "%s && %s && for p in a b; do strata run $p.json --model "
                    "%s --tokens 1 -n 4; done" % (
                        command(i, "a.json"), command(ref, "b.json"),
                        shlex.quote(cases[i][0])))))

    for i, e in sorted(failures, key=lambda f: f[0]):
        print("FAIL [%s] case %d: %s\n  %s" % (e.stage, i, e.what, e.cmd))
        cls = e.stage + ": " + normalise(e.what, 8)
        classes.setdefault(cls, []).append(e)

    print("\n%d cases in %.0f s: %d plans written (%d of presets, %d on CPU "
          "devices, run), %d refused, %d failed"
          % (len(cases), time.time() - start, sum(written.values()),
             written["preset"], written["cpu"], sum(refusals.values()),
             len(failures)))
    by_kind = collections.defaultdict(collections.Counter)
    failed = {i for i, _ in failures}
    for i, (_, c, cpu) in enumerate(cases):
        kind = "cpu" if cpu else CLUSTERS.get(c["cluster"], "other")
        outcome = "failed" if i in failed else results[i][0]
        by_kind[kind][outcome] += 1
    print("by cluster kind (written/refused/failed): " + ", ".join(
        "%s %d/%d/%d" % (k, n["plan"], n["refused"], n["failed"])
        for k, n in by_kind.items()))
    if refusals:
        print("refusals:")
        for msg, n in refusals.most_common():
            i, what = refused_by[msg]
            model, c, _ = cases[i]
            print("  %5d  %s\n         e.g. %s\n         %s" % (
                n, msg, quote(["strata"] + compile_args(
                    c, model, caps[c["cluster"]])), what[:300]))
    if classes:
        print("failures by class (first reproducer of each):")
        for cls, es in classes.items():
            print("  %5d  %s\n         %s" % (len(es), cls, es[0].cmd))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
