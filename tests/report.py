"""One ok/FAIL line a check for the Python tests that run a script and read
its output; the output is printed after a failure. Returns the exit code."""


def report(label, checks, out):
    fails = 0
    for ok, what in checks:
        print("%s %s: %s" % ("ok  " if ok else "FAIL", label, what))
        fails += not ok
    if fails:
        print(out)
    return 1 if fails else 0
