#!/usr/bin/env python3
"""The identifier key written the way a Python user would write it (`casefold`, then NFKC):
the baseline that `scripts/bench.sh` measures the core's `match_key` against.

Times one pass over the same 1,000 identifiers as the criterion bench `match_key/mixed`
(core/benches/core.rs, `identifiers()`: mostly ASCII e-mail addresses, one in ten with Unicode
that folds, decomposes or has compatibility forms) and prints the best of several runs, in
microseconds.

Usage: keys.py
"""

import timeit
import unicodedata

# The same ten strings, in the same order, as `identifiers()` in core/benches/core.rs.
TRICKY = [
    "Straße@Example.de",
    "ＭＡＲＩＡ@example.jp",
    "ﬁona@example.com",
    "\u212aelvin@example.com",
    "zoe\u0308@example.com",
    "İlkay@example.com.tr",
    "ΣΟΦΙΑ@example.gr",
    "Ǆemal@example.ba",
    " name\u200b@acme.com ",
    "𝐀lice@example.com",
]


def identifiers():
    def one(i):
        if i % 10 == 0:
            return TRICKY[(i // 10) % len(TRICKY)]
        if i % 10 in (1, 2):
            return f"First.Last{i}@Example.COM"
        return f"user.{i}@example.com"

    return [one(i) for i in range(1000)]


def match_key(value):
    return unicodedata.normalize("NFKC", value.casefold()).strip()


def main():
    inputs = identifiers()

    def one_pass():
        for value in inputs:
            match_key(value)

    runs = timeit.repeat(one_pass, number=200, repeat=7)
    print(f"{min(runs) / 200 * 1e6:.0f} µs")


if __name__ == "__main__":
    main()
