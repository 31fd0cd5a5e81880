"""Runs the Kubernetes Jobs of deploy/ locally: the Indexed Job's shell command
once per completion index (as the pods would, with a small seed range and the
given snapstorm binary on PATH), then the merge Job's, and checks the exit
codes and the merged campaign. Also checks the shard count is the same in
completions, parallelism and SHARDS. Usage: check-deploy.py SNAPSTORM_BINARY"""
import json
import os
import subprocess
import sys
import tempfile

import yaml


def jobs():
    out = {}
    for name in ("fuzz-indexed-job.yaml", "merge-job.yaml"):
        with open(os.path.join("deploy", name)) as f:
            for doc in yaml.safe_load_all(f):
                if doc and doc.get("kind") == "Job":
                    out[doc["metadata"]["name"]] = doc
    return out


def container(job):
    c = job["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e.get("value", "") for e in c.get("env", [])}
    return c["command"] + c["args"], env


def run(argv, env, expect, what):
    p = subprocess.run(argv, env=env, capture_output=True, text=True)
    if p.returncode != expect:
        sys.exit(f"{what}: exit {p.returncode}, expected {expect}\n{p.stdout}\n{p.stderr}")
    return p.stdout


def campaign(binary, shards, overrides, merge_expect):
    js = jobs()
    fuzz, merge = js["snapstorm-fuzz"], js["snapstorm-merge"]
    argv, env = container(fuzz)
    with tempfile.TemporaryDirectory() as tmp:
        base = dict(os.environ, PATH=os.path.dirname(os.path.abspath(binary)) + os.pathsep + os.environ["PATH"])
        env = {**base, **env, **overrides, "SHARDS": str(shards), "CAMPAIGN_DIR": tmp}
        for k in range(shards):
            run(argv, {**env, "JOB_COMPLETION_INDEX": str(k)}, 0, f"shard pod {k}")
        margv, menv = container(merge)
        text = run(margv, {**base, **menv, "CAMPAIGN_DIR": tmp}, merge_expect, "merge pod")
        with open(os.path.join(tmp, "merged", "campaign.json")) as f:
            c = json.load(f)
        assert c["coverage"]["missing"] == [], c["coverage"]
        assert len(c["shards"]) == shards, c["shards"]
        return c, text


def main():
    binary = sys.argv[1]
    spec = jobs()["snapstorm-fuzz"]["spec"]
    _, env = container(jobs()["snapstorm-fuzz"])
    assert spec["completionMode"] == "Indexed", spec
    n = spec["completions"]
    assert spec["parallelism"] == n == int(env["SHARDS"]), "completions, parallelism and SHARDS differ"
    c, _ = campaign(binary, 2, {"SCENARIO": "baseline", "SEEDS": "1..4", "DURATION": "5", "MUTANT": ""}, 0)
    assert c["seeds"] == [1, 2, 3, 4] and not c["failures"], c
    # A mutant: shard pods still succeed, the merge pod fails and names the repro.
    c, text = campaign(
        binary,
        2,
        {"SCENARIO": "lagging-follower", "SEEDS": "1..2", "DURATION": "25", "MUTANT": "applied-not-reset-on-install"},
        1,
    )
    assert len(c["failures"]) == 2 and "--bug applied-not-reset-on-install" in text, text
    print(f"deploy/: the Indexed Job ({n} shards) and the merge Job ran locally on 2 shards: ok")


if __name__ == "__main__":
    main()
