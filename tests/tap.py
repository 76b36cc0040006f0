"""TAP output for the Python tests: ok() per check, done() at the end."""
import sys

_n = 0
_failed = 0


def ok(cond, what):
    global _n, _failed
    _n += 1
    _failed += not cond
    print("%s %d - %s" % ("ok" if cond else "not ok", _n, what), flush=True)


def skip(why):
    """A check that could not run here."""
    global _n
    _n += 1
    print("ok %d # SKIP %s" % (_n, why), flush=True)


def done():
    """The plan line; exits 1 if a check failed."""
    print("1..%d" % _n)
    sys.exit(1 if _failed else 0)
