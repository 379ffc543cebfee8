#!/usr/bin/env python3
"""Round-trips every .sir file of the repository through `strata opt`.

For each graph that parses (each `// -----` chunk separately), printing it,
parsing the print and printing again must give the same bytes. Files under
examples/ are written canonically, so their print must equal the file itself
without its comment lines. Exits non-zero listing every file that fails.
"""
import pathlib
import re
import subprocess
import sys


def run_opt(strata, text):
    return subprocess.run([strata, "opt", "--no-verify", "-"], input=text.encode(),
                          capture_output=True)


def without_comments(text):
    lines = [l for l in text.splitlines() if not l.lstrip().startswith("//")]
    return "\n".join(lines).strip("\n") + "\n"


def main():
    strata, root = sys.argv[1], pathlib.Path(sys.argv[2])
    files = sorted(root.glob("tests/**/*.sir")) + sorted(root.glob("examples/*.sir"))
    failures, graphs = [], 0
    for path in files:
        chunks = re.split(r"^// -----\s*$", path.read_text(), flags=re.M)
        for i, chunk in enumerate(chunks):
            first = run_opt(strata, chunk)
            if first.returncode != 0:
                continue  # a test of an error: nothing to round-trip
            graphs += 1
            second = run_opt(strata, first.stdout.decode())
            where = f"{path.relative_to(root)} (chunk {i})"
            if second.returncode != 0 or second.stdout != first.stdout:
                failures.append(f"{where}: printing its own output changed it")
            elif path.parent.name == "examples" and first.stdout.decode() != without_comments(chunk):
                failures.append(f"{where}: not in canonical form")
    for f in failures:
        print("FAIL:", f)
    print(f"{graphs - len(failures)} passed, {len(failures)} failed")
    return 1 if failures or graphs == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
