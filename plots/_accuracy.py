"""What the accuracy charts share: reading results/accuracy/accuracy.json,
the stamp text, and the command line (NAME.py RESULTS_DIR OUT_DIR)."""
import json
import os
import sys


def load(results):
    """The study's results, or None (with a note) where make accuracy has
    not written them."""
    path = os.path.join(results, "accuracy", "accuracy.json")
    if not os.path.exists(path):
        print(f"{path}: not there (make accuracy writes it); no accuracy charts")
        return None
    with open(path) as f:
        return json.load(f)


def stamp_text(r):
    env = r["environment"]
    return f"CPU: {env['cpu']} · {env['date_utc'][:10]} · commit {str(env['git_commit'])[:10]}"


def cli(main):
    if len(sys.argv) != 3:
        sys.exit(f"usage: {os.path.basename(sys.argv[0])} RESULTS_DIR OUT_DIR")
    os.makedirs(sys.argv[2], exist_ok=True)
    r = load(sys.argv[1])
    if r is not None:
        main(r, sys.argv[2])
