"""Starts a command, waits for its first byte on stdout and then SECONDS
more, sends it SIGINT, and prints its stderr and exit status:
interrupt.py SECONDS CMD...

lit runs tests with SIGINT ignored, which children inherit (and strata
keeps, as programs do); the child gets the default disposition back."""
import signal
import subprocess
import sys
import time


def default_signals():
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


p = subprocess.Popen(sys.argv[2:], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                     preexec_fn=default_signals)
first = p.stdout.read(1)  # strata run prints the prompt once it has loaded
time.sleep(float(sys.argv[1]))
p.send_signal(signal.SIGINT)
try:
    _, err = p.communicate(timeout=60)
except subprocess.TimeoutExpired:
    p.kill()
    print("did not stop within 60 s of SIGINT")
    sys.exit(1)
if not first:
    print("printed nothing before exiting")
sys.stdout.write(err.decode(errors="replace"))
print("exit status %d" % p.returncode)
