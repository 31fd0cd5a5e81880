#!/usr/bin/env python3
"""The mutation score's table (README "Mutation score").

    mutation-table.py MUTANTS_OUT TRIAGE [MUTANTS_OUT ...] [--rerun RERUN_OUT ...]

Reads cargo-mutants' output directories (mutants.json, caught.txt, missed.txt,
timeout.txt, unviable.txt; several shards add up) and the committed triage
(mutants/triage.toml), and prints:
- per file: mutants generated, viable, killed, survived, timed out;
- the kill rate over viable mutants, and over viable non-equivalent ones,
  with Wilson 95% confidence intervals;
- every survivor with its triage (blind spot or equivalent, and why), or
  UNTRIAGED.
A --rerun directory holds a later re-test of survivors (.ci/mutation-rerun):
a survivor caught there counts as killed. Writes the same as markdown to
MUTANTS_OUT/../score.md. Exits 1 when a
survivor is untriaged, 2 on bad input (naming the file and the problem).

A mutant is named without its line and column ("path: description"), so the
triage survives edits elsewhere in a file.
"""
import json
import math
import re
import sys
import tomllib
from collections import defaultdict
from pathlib import Path

NAME = re.compile(r"^(?P<file>[^:]+):\d+:\d+: (?P<what>.+)$")


def fail(msg):
    print(f"mutation-table: {msg}", file=sys.stderr)
    sys.exit(2)


def key(name, where):
    m = NAME.match(name.strip())
    if not m:
        fail(f"{where}: not a cargo-mutants mutant name: {name!r}")
    return f"{m['file']}: {m['what']}"


def read_names(path):
    if not path.exists():
        return []
    return [(key(line, f"{path}:{i}"), line.strip()) for i, line in
            enumerate(path.read_text().splitlines(), 1) if line.strip()]


def wilson(k, n):
    if n == 0:
        return (0.0, 0.0)
    z = 1.959964
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return (max(0.0, c - h), min(1.0, c + h))


def load_triage(path):
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as e:
        fail(f"{path}: {e}")
    out = {}
    for i, s in enumerate(data.get("survivor", []), 1):
        for field in ("mutant", "class", "reason"):
            if not isinstance(s.get(field), str) or not s[field].strip():
                fail(f"{path}: survivor #{i}: missing or empty '{field}'")
        if s["class"] not in ("blind-spot", "equivalent"):
            fail(f"{path}: survivor #{i}: class must be blind-spot or equivalent, not {s['class']!r}")
        out[s["mutant"]] = s
    return out


def main(argv):
    reruns = []
    args = []
    it = iter(argv[1:])
    for a in it:
        if a == "--rerun":
            reruns.append(Path(next(it, "") or fail("--rerun needs a directory")))
        else:
            args.append(a)
    if len(args) < 2:
        fail("usage: mutation-table.py MUTANTS_OUT TRIAGE [MUTANTS_OUT ...] [--rerun RERUN_OUT ...]")
    outs = [Path(args[0])] + [Path(a) for a in args[2:]]
    triage = load_triage(Path(args[1]))
    files = defaultdict(lambda: defaultdict(int))
    outcome = {}
    for out in outs:
        mj = out / "mutants.json"
        try:
            mutants = json.loads(mj.read_text())
        except (OSError, json.JSONDecodeError) as e:
            fail(f"{mj}: {e}")
        for m in mutants:
            files[m["file"]]["generated"] += 1
        for kind in ("caught", "missed", "timeout", "unviable"):
            for k, full in read_names(out / f"{kind}.txt"):
                f = k.split(": ", 1)[0]
                files[f][kind] += 1
                outcome[k] = (kind, full)
    # A survivor killed by a later re-test counts as killed now. A re-test
    # matches by file and description, so it may also test other mutants of
    # that description (other lines): the survivor counts as killed only if
    # every one of them was killed, never on another line's say-so.
    for rerun in reruns:
        retested = defaultdict(set)
        for kind in ("caught", "timeout", "missed", "unviable"):
            for k, _ in read_names(rerun / f"{kind}.txt"):
                retested[k].add(kind)
        for k, kinds in retested.items():
            if outcome.get(k, ("",))[0] == "missed" and kinds <= {"caught", "timeout"}:
                kind = "caught" if "caught" in kinds else "timeout"
                f = k.split(": ", 1)[0]
                files[f]["missed"] -= 1
                files[f][kind] += 1
                outcome[k] = (kind, outcome[k][1] + " (killed on re-test)")
    rows = []
    tot = defaultdict(int)
    for f in sorted(files):
        c = files[f]
        viable = c["generated"] - c["unviable"]
        tested = c["caught"] + c["missed"] + c["timeout"]
        rows.append((f, c["generated"], viable, c["caught"], c["missed"], c["timeout"], viable - tested))
        for k, v in c.items():
            tot[k] += v
    survivors = sorted(k for k, (kind, _) in outcome.items() if kind == "missed")
    equivalent = [k for k in survivors if triage.get(k, {}).get("class") == "equivalent"]
    untriaged = [k for k in survivors if k not in triage]
    killed = tot["caught"] + tot["timeout"]
    viable = tot["caught"] + tot["missed"] + tot["timeout"]
    lines = ["| file | generated | viable | killed | survived | timed out | not run |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for f, g, v, k, s, t, n in rows:
        lines.append(f"| {f.replace('systems-under-test/raftkv/src/', '')} | {g} | {v} | {k} | {s} | {t} | {n} |")
    lines.append(f"| **all** | {tot['generated']} | {tot['generated'] - tot['unviable']} | {tot['caught']} | {tot['missed']} | {tot['timeout']} | {tot['generated'] - tot['unviable'] - viable} |")
    lo, hi = wilson(killed, viable)
    lines.append("")
    lines.append(f"killed (caught or timed out) {killed} of {viable} viable mutants tested: "
                 f"{100 * killed / max(viable, 1):.1f}% (95% CI {100 * lo:.1f}–{100 * hi:.1f}%)")
    ne = viable - len(equivalent)
    lo, hi = wilson(killed, ne)
    lines.append(f"over the {ne} not triaged equivalent: {100 * killed / max(ne, 1):.1f}% "
                 f"(95% CI {100 * lo:.1f}–{100 * hi:.1f}%)")
    lines.append("")
    lines.append(f"survivors ({len(survivors)}; {len(equivalent)} equivalent, {len(untriaged)} untriaged):")
    for k in survivors:
        t = triage.get(k)
        lines.append(f"- `{k}`: " + (f"**{t['class']}**: {t['reason']}" if t else "**UNTRIAGED**"))
    text = "\n".join(lines) + "\n"
    print(text, end="")
    (outs[0].parent / "score.md").write_text(text)
    return 1 if untriaged else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
