#!/usr/bin/env python3
"""Broken variants of a plan (the 8B one) for the error-message comparison.
Each edit lands near the middle of the file; the script prints the line and
column of each edit so the parsers' answers can be checked against it."""
import sys, os

src, out = sys.argv[1], sys.argv[2]
data = open(src, "rb").read()
lines = data.split(b"\n")
mid = len(lines) // 2

def save(name, blob, where):
    open(os.path.join(out, name), "wb").write(blob)
    print(f"{name}: {where}")

def line_at(pred, start=mid):
    for i in range(start, len(lines)):
        if pred(lines[i]):
            return i
    raise SystemExit("no line found")

def join(ls): return b"\n".join(ls)

# 1. a missing comma: the first line from the middle that ends with ","
i = line_at(lambda l: l.endswith(b",") and b'"' in l)
ls = list(lines); ls[i] = ls[i][:-1]
save("missing-comma.json", join(ls), f"comma removed at the end of line {i+1} (col {len(ls[i])+1}): {ls[i].strip().decode()}; the next token is on line {i+2}")

# 2. truncated in the middle (at a byte offset, mid-line)
cut = len(data) // 2
nl = data[:cut].count(b"\n") + 1
save("truncated.json", data[:cut], f"cut after byte {cut} (line {nl})")

# 3. a bad escape in a string value in the middle
i = line_at(lambda l: b'"name": "' in l)
ls = list(lines); col = ls[i].index(b'"name": "') + len(b'"name": "')
ls[i] = ls[i][:col] + b"\\q" + ls[i][col:]
save("bad-escape.json", join(ls), f"\\q inserted at line {i+1} col {col+1}")

# 4. a trailing garbage byte after the final newline
save("trailing-byte.json", data + b"x", f"'x' appended after the final newline (line {len(lines)}, col 1)")

# 5. deep nesting: a value in the middle replaced by 300 and by 2000 levels of [
for depth in (300, 2000):
    i = line_at(lambda l: b'"layer": null' in l)
    ls = list(lines); col = ls[i].index(b"null")
    ls[i] = ls[i][:col] + b"[" * depth + b"]" * depth + ls[i][col + 4:]
    save(f"deep-{depth}.json", join(ls), f"{depth} nested arrays at line {i+1} col {col+1} (the plan itself nests 5)")

# 6. invalid UTF-8: a 0xFF byte inside a string in the middle
i = line_at(lambda l: b'"name": "' in l)
ls = list(lines); col = ls[i].index(b'"name": "') + len(b'"name": "')
ls[i] = ls[i][:col] + b"\xff" + ls[i][col:]
save("bad-utf8.json", join(ls), f"byte 0xFF at line {i+1} col {col+1}")

# 7. a raw tab inside a string
ls = list(lines); ls[i] = lines[i][:col] + b"\t" + lines[i][col:]
save("control-char.json", join(ls), f"a raw TAB inside a string at line {i+1} col {col+1}")

# 8. an unclosed string: a string's closing quote removed in the middle
i = line_at(lambda l: l.rstrip().endswith(b'",') and b'"kind": "' in l)
ls = list(lines); s = ls[i].rstrip(); ls[i] = s[:-2] + b","
save("unclosed-string.json", join(ls), f"closing quote removed at line {i+1} col {len(s)-1}")

# 9. a leading zero in a number
i = line_at(lambda l: b'"bytes": ' in l)
ls = list(lines); col = ls[i].index(b'"bytes": ') + len(b'"bytes": ')
ls[i] = ls[i][:col] + b"0" + ls[i][col:]
save("leading-zero.json", join(ls), f"'0' put before a number at line {i+1} col {col+1}")

# 10. an integer beyond uint64 (2^64) for a byte count
ls = list(lines); j = ls[i].index(b'"bytes": ') + len(b'"bytes": ')
end = ls[i].index(b",", j)
ls[i] = ls[i][:j] + b"18446744073709551616" + ls[i][end:]
save("uint64-overflow.json", join(ls), f"bytes = 2^64 at line {i+1} col {j+1}")

# 11. 2^63 (beyond int64, fits uint64) for a byte count
ls = list(lines); ls[i] = lines[i][:j] + b"9223372036854775808" + lines[i][end:]
save("int64-overflow.json", join(ls), f"bytes = 2^63 at line {i+1} col {j+1}")

# 12. 1e400 for a prediction
i = line_at(lambda l: b'"decode_s": ' in l, 0)
ls = list(lines); j = ls[i].index(b'"decode_s": ') + len(b'"decode_s": ')
end = ls[i].index(b",", j) if b"," in ls[i][j:] else len(ls[i])
ls[i] = ls[i][:j] + b"1e400" + ls[i][end:]
save("huge-double.json", join(ls), f"decode_s = 1e400 at line {i+1} col {j+1}")

# 13. a lone surrogate escape in a string
i = line_at(lambda l: b'"name": "' in l)
ls = list(lines); col = ls[i].index(b'"name": "') + len(b'"name": "')
ls[i] = ls[i][:col] + b"\\ud800" + ls[i][col:]
save("lone-surrogate.json", join(ls), f"\\ud800 alone at line {i+1} col {col+1}")
