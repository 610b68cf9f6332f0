"""CPU of the grey small-face looks (round 20, detection/greysmall.py): two source trees interleaved call by
call on the bytes path (``beautify(JPEG q92, 0.5)``), on no-face photos in grey and colour and the 12 MP
group (colour and grey): median CPU ms (``time.process_time``, all threads) per arm, the median of the
per-round B/A ratios, faces found and whether the output bytes agree.

Usage: python bench/turned20_cost.py A_SRC B_SRC [--rounds 5] [--cases NAME ...]

Each arm is a worker process (this script with ``--worker``, ``PYTHONPATH=SRC``); per round and case the
arms run once each, A first in even rounds, B first in odd ones; each worker's first call of a case
warms up, untimed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def _grey(img):
    import cv2
    import numpy as np

    return np.repeat(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)[..., None], 3, 2)


def _cases() -> dict:
    sys.path.insert(0, HERE)
    from faces import CASES

    return {
        "grey rocket 1080p": lambda: _grey(CASES["no-face 1080p (rocket)"]()),
        "grey coffee 1080p": lambda: _grey(CASES["no-face 1080p (coffee)"]()),
        "colour rocket 1080p": CASES["no-face 1080p (rocket)"],
        "colour coffee 1080p": CASES["no-face 1080p (coffee)"],
        "12 MP group": CASES["12 MP group, 10 faces"],
        "grey 12 MP group": lambda: _grey(CASES["12 MP group, 10 faces"]()),
    }


def worker() -> None:
    import hashlib

    import cv2

    from cosbeauty.imaging.pipeline import beautify

    proto = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    cases, encoded = _cases(), {}
    for line in sys.stdin:
        name = json.loads(line)["case"]
        if name not in encoded:
            img = cases[name]()
            encoded[name] = cv2.imencode(".jpg", cv2.cvtColor(img, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 92])[1].tobytes()
            beautify(encoded[name], 0.5)
        c = time.process_time()
        res = beautify(encoded[name], 0.5)
        out = {"cpu": (time.process_time() - c) * 1000, "faces": len(res.faces),
               "sha": hashlib.sha256(res.data).hexdigest()[:12]}
        proto.write(json.dumps(out) + "\n")
        proto.flush()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("a_src")
    ap.add_argument("b_src")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--cases", nargs="+", default=None)
    args = ap.parse_args()
    names = args.cases or ["grey rocket 1080p", "grey coffee 1080p", "colour rocket 1080p", "colour coffee 1080p",
                           "12 MP group", "grey 12 MP group"]
    arms = {}
    for tag, src in (("A", args.a_src), ("B", args.b_src)):
        env = dict(os.environ, PYTHONPATH=os.path.abspath(src))
        arms[tag] = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--worker"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, env=env)

    def ask(tag: str, name: str) -> dict:
        p = arms[tag]
        p.stdin.write(json.dumps({"case": name}) + "\n")
        p.stdin.flush()
        return json.loads(p.stdout.readline())

    got: dict[tuple[str, str], list[dict]] = {}
    loads = []
    for r in range(args.rounds):
        for name in names:
            for tag in (("A", "B") if r % 2 == 0 else ("B", "A")):
                got.setdefault((name, tag), []).append(ask(tag, name))
            loads.append(os.getloadavg()[0])
    print(f"bytes path, beautify(JPEG q92, 0.5); {args.rounds} interleaved rounds; load {min(loads):.1f}-{max(loads):.1f}")
    print("| case | A CPU ms | B CPU ms | B/A (median of rounds) | faces A / B | same bytes |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name in names:
        a, b = got[(name, "A")], got[(name, "B")]
        ratio = statistics.median(y["cpu"] / x["cpu"] for x, y in zip(a, b))
        same = all(x["sha"] == y["sha"] for x, y in zip(a, b))
        print(f"| {name} | {statistics.median(x['cpu'] for x in a):.0f} | {statistics.median(y['cpu'] for y in b):.0f} | "
              f"{ratio:.2f} | {a[0]['faces']} / {b[0]['faces']} | {'yes' if same else 'no'} |")
    for p in arms.values():
        p.stdin.close()
        p.wait()
    return 0


if __name__ == "__main__":
    if "--worker" in sys.argv:
        worker()
        raise SystemExit(0)
    raise SystemExit(main())
