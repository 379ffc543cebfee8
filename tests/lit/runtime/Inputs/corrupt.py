"""Changes a copy of a model file: corrupt.py SRC DST (flip N | truncate N).

flip N: inverts N bytes ending 100 bytes before the end (inside the last
tensor's data); truncate N: keeps the first N bytes."""
import os
import shutil
import sys

src, dst, how, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
shutil.copyfile(src, dst)
os.chmod(dst, 0o644)
with open(dst, "r+b") as f:
    if how == "truncate":
        f.truncate(n)
    else:
        f.seek(-(100 + n), os.SEEK_END)
        data = f.read(n)
        f.seek(-(100 + n), os.SEEK_END)
        f.write(bytes(b ^ 0xFF for b in data))
