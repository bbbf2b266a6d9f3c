#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
# k8s_manifest.py JOB_YAML MERGE_YAML - parses deploy/k8s's manifests (Debian's
# python3-yaml), checks the Indexed Job's shape and prints the command lines a
# shard and the merge run, one JSON list per line: the shard count, then a
# shard's argv ($(JOB_COMPLETION_INDEX) left for the caller), then the merge's
# shell command. Exits 1 naming what is wrong.
import json
import sys

import yaml


def fail(msg):
    print("k8s_manifest: " + msg, file=sys.stderr)
    sys.exit(1)


docs = list(yaml.safe_load_all(open(sys.argv[1])))
merge_docs = list(yaml.safe_load_all(open(sys.argv[2])))
claims = {d["metadata"]["name"] for d in docs if d and d["kind"] == "PersistentVolumeClaim"}
jobs = [d for d in docs if d and d["kind"] == "Job"]
if len(jobs) != 1:
    fail("one Job expected in %s" % sys.argv[1])
spec = jobs[0]["spec"]
if spec.get("completionMode") != "Indexed":
    fail("the Job is not Indexed")
pod = spec["template"]["spec"]
(c,) = pod["containers"]
env = {e["name"]: e for e in c.get("env", [])}
shards = int(env["EVTLS_SHARD_COUNT"]["value"])
if spec["completions"] != shards or spec["parallelism"] != shards:
    fail("completions %s and parallelism %s are not EVTLS_SHARD_COUNT %d"
         % (spec["completions"], spec["parallelism"], shards))
ref = env["JOB_COMPLETION_INDEX"]["valueFrom"]["fieldRef"]["fieldPath"]
if "job-completion-index" not in ref:
    fail("JOB_COMPLETION_INDEX does not come from the completion index")
argv = c["command"] + c["args"]
if argv[0] != "evtls-load" or "--start-at" not in argv or "--json" not in argv:
    fail("the shard's command is not evtls-load --start-at ... --json ...")
out = argv[argv.index("--json") + 1]
if "$(JOB_COMPLETION_INDEX)" not in out:
    fail("--json %s is the same file for every shard" % out)
mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
vols = {v["name"]: v for v in pod["volumes"]}
res_dir = out.rsplit("/", 1)[0]
vol = vols[mounts[res_dir]]
if vol["persistentVolumeClaim"]["claimName"] not in claims:
    fail("the results volume's claim is not in the file")
(mjob,) = [d for d in merge_docs if d and d["kind"] == "Job"]
mpod = mjob["spec"]["template"]["spec"]
(mc,) = mpod["containers"]
mcmd = " ".join(mc["args"])
if "evtls-load merge" not in mcmd or res_dir not in mcmd:
    fail("the merge Job does not merge %s" % res_dir)
mvol = {v["name"]: v for v in mpod["volumes"]}
mm = {m["mountPath"]: m["name"] for m in mc["volumeMounts"]}
if mvol[mm[res_dir]]["persistentVolumeClaim"]["claimName"] != vol["persistentVolumeClaim"]["claimName"]:
    fail("the merge Job reads another volume")
print(json.dumps([shards]))
print(json.dumps(argv))
print(json.dumps(mc["command"] + mc["args"]))
