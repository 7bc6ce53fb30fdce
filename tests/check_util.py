# SPDX-License-Identifier: LGPL-2.1-or-later
"""check_util.py — the checks of the Python tests (test_report.py,
test_video_eval.py): a failed check is printed and counted, and the test
goes on; `failures` is the count so far."""

failures = 0


def check(cond, what):
    """Counts and prints a failed check (the test goes on)."""
    global failures
    if not cond:
        failures += 1
        print(f"FAIL: {what}")
