#!/usr/bin/env python3
"""Fails if an HTML report refers to anything outside itself: a URL, an
external script, style sheet, image or font."""
import re
import sys

text = open(sys.argv[1], encoding="utf-8").read()
problems = []
for pattern in (r"https?://", r"<script[^>]*\bsrc=", r"<link\b", r"<img\b",
                r"@import", r"url\(", r"<iframe\b", r"\bsrc\s*="):
    for m in re.finditer(pattern, text, re.IGNORECASE):
        problems.append("%s: refers outside the page at offset %d: %r"
                        % (sys.argv[1], m.start(), text[m.start():m.start() + 60]))
if not text.startswith("<!DOCTYPE html>") or not text.rstrip().endswith("</html>"):
    problems.append("%s: not a whole HTML document" % sys.argv[1])
for p in problems:
    print(p)
sys.exit(1 if problems else 0)
