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


def cpus(quantity):
    """A CPU quantity ("2", "1500m") in whole CPUs, rounded up, as the
    downward API gives it with divisor 1."""
    q = str(quantity)
    milli = int(q[:-1]) if q.endswith("m") else int(float(q) * 1000)
    return -(-milli // 1000)


def env_value(c, e):
    """An env var as the kubelet would set it: a value, or the container's
    CPU request through the downward API."""
    ref = e.get("valueFrom", {}).get("resourceFieldRef")
    if ref is None:
        return e.get("value", "")
    assert ref["resource"] == "requests.cpu" and ref.get("containerName") == c["name"], ref
    assert str(ref.get("divisor", "1")) == "1", ref
    return str(cpus(c["resources"]["requests"]["cpu"]))


def container(job):
    c = job["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: env_value(c, e) for e in c.get("env", [])}
    return c["command"] + c["args"], env


def unprivileged(job):
    """The pod runs as a non-root user and the container cannot escalate."""
    pod = job["spec"]["template"]["spec"]
    sc = pod.get("securityContext", {})
    name = job["metadata"]["name"]
    assert sc.get("runAsNonRoot") is True and sc.get("runAsUser", 0) > 0, f"{name}: pod not non-root: {sc}"
    for c in pod["containers"]:
        csc = c.get("securityContext", {})
        assert csc.get("allowPrivilegeEscalation") is False, f"{name}/{c['name']}: {csc}"


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


def pinned_toolchain():
    """The image builds with the toolchain rust-toolchain.toml pins."""
    import re

    with open("rust-toolchain.toml") as f:
        channel = re.search(r'^channel = "([^"]+)"', f.read(), re.M).group(1)
    with open(os.path.join("deploy", "Dockerfile")) as f:
        image = re.search(r"^FROM rust:(\S+?)-\S+ AS build", f.read(), re.M).group(1)
    assert image == channel, f"deploy/Dockerfile builds with rust:{image}, rust-toolchain.toml pins {channel}"
    return channel


def main():
    binary = sys.argv[1]
    channel = pinned_toolchain()
    spec = jobs()["snapstorm-fuzz"]["spec"]
    _, env = container(jobs()["snapstorm-fuzz"])
    assert spec["completionMode"] == "Indexed", spec
    n = spec["completions"]
    assert spec["parallelism"] == n == int(env["SHARDS"]), "completions, parallelism and SHARDS differ"
    for job in jobs().values():
        unprivileged(job)
    # fuzz runs as many seeds at once as the pod has CPUs requested.
    fuzz_cmd, _ = container(jobs()["snapstorm-fuzz"])
    assert '--jobs "$JOBS"' in fuzz_cmd[-1] and int(env["JOBS"]) >= 1, (fuzz_cmd, env)
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
    print(f"deploy/: the Indexed Job ({n} shards, --jobs {env['JOBS']} from the CPU request, non-root, image on Rust {channel}) and the merge Job ran locally on 2 shards: ok")


if __name__ == "__main__":
    main()
