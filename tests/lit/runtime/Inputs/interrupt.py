"""Starts a command, sends it SIGINT after a delay, prints its exit status
and stderr: interrupt.py SECONDS CMD..."""
import signal
import subprocess
import sys
import time

p = subprocess.Popen(sys.argv[2:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
time.sleep(float(sys.argv[1]))
p.send_signal(signal.SIGINT)
try:
    _, err = p.communicate(timeout=60)
except subprocess.TimeoutExpired:
    p.kill()
    print("did not stop within 60 s of SIGINT")
    sys.exit(1)
sys.stdout.write(err)
print("exit status %d" % p.returncode)
