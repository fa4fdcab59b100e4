#!/usr/bin/env python3
"""Writes a synthetic cocktail-pkg index (format v1) for benchmarks: stdlib only, deterministic.

    bench/gen_index.py --out DIR [--packages 5000] [--versions 20] [--bin target/release/cocktail-pkg]
                       [--template catalog/memcached] [--pull NAME ...]

DIR/index.json lists every package (sorted by name) with the exact sha256 of its versions file;
DIR/packages/NAME.json lists its versions newest first (1.0.0 .. 1.9.0, 2.0.0 .. 2.9.0 for 20).
Archive entries point at archives/NAME-VERSION.tgz, which exist only for the packages named with
--pull: for those, a real package (a copy of --template renamed, at the version `^2` resolves to)
is archived with `cocktail-pkg package` and its entry carries the real digest and size. The other
archives do not exist (the server only checks them when asked for one).

Prints the pulled packages and how many packages each word of --report matches, as JSON.
"""

import argparse
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile

API = "cocktail-pkg/v1"

# Name parts and description vocabulary. Word frequencies are uneven on purpose, so search terms
# range from a few dozen hits to a thousand or more.
PREFIXES = [
    "acme", "blue", "cloud", "core", "data", "edge", "fast", "flux", "hyper", "kube", "lite",
    "meta", "micro", "nano", "neo", "open", "pico", "quick", "rapid", "smart", "solid", "star",
    "swift", "terra", "ultra", "vast", "zen", "polar", "amber", "cobalt",
]
PRODUCTS = [
    ("postgres", "database"), ("mysql", "database"), ("mariadb", "database"),
    ("mongodb", "database"), ("cassandra", "database"), ("redis", "cache"),
    ("memcached", "cache"), ("valkey", "cache"), ("kafka", "messaging"),
    ("rabbitmq", "messaging"), ("nats", "messaging"), ("pulsar", "messaging"),
    ("prometheus", "monitoring"), ("grafana", "monitoring"), ("exporter", "monitoring"),
    ("alertmanager", "monitoring"), ("loki", "logging"), ("fluentd", "logging"),
    ("vector", "logging"), ("elasticsearch", "search"), ("opensearch", "search"),
    ("nginx", "web"), ("haproxy", "networking"), ("envoy", "networking"),
    ("traefik", "networking"), ("keycloak", "security"), ("vault", "security"),
    ("cert-manager", "security"), ("minio", "storage"), ("ceph", "storage"),
    ("jenkins", "ci-cd"), ("argo", "ci-cd"), ("tekton", "ci-cd"), ("jupyter", "ml"),
    ("mlflow", "ml"), ("ray", "ml"), ("wordpress", "web"), ("ghost", "web"),
    ("gitea", "developer-tools"), ("sonarqube", "developer-tools"),
]
KINDS = ["server", "operator", "cluster", "proxy", "agent", "gateway", "controller", "worker",
         "dashboard", "backup", "sidecar", "collector"]
ADJECTIVES = ["highly available", "lightweight", "production-ready", "multi-tenant",
              "horizontally scalable", "secure", "minimal", "batteries-included"]
FEATURES = ["TLS", "persistence", "autoscaling", "metrics", "backups", "replication",
            "network policies", "an ingress", "pod disruption budgets", "OIDC login",
            "a ServiceMonitor", "rolling upgrades", "node affinity", "external secrets"]
EXTRA_KEYWORDS = ["kubernetes", "helm-free", "stateful", "stateless", "observability",
                  "cncf", "sre", "gitops", "edge", "arm64", "fips", "airgap"]


def canonical(obj):
    """Pretty JSON with a final newline, like the Rust writer (the digest is of these bytes)."""
    return (json.dumps(obj, indent=2, ensure_ascii=False) + "\n").encode()


def sha256(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


def version_list(n):
    """n versions spread over majors 1, 2, 3, ... (10 minors each), newest first."""
    out = [f"{1 + i // 10}.{i % 10}.0" for i in range(n)]
    return list(reversed(out))


def make_archive(binary, template, name, version, work):
    """Archives a copy of `template` renamed to `name` at `version`; returns (bytes, json)."""
    pkg = os.path.join(work, name)
    shutil.copytree(template, pkg)
    manifest = os.path.join(pkg, "package.yaml")
    with open(manifest, encoding="utf-8") as f:
        lines = f.read().splitlines()
    out = []
    for line in lines:
        if line.startswith("name:"):
            line = f"name: {name}"
        elif line.startswith("version:"):
            line = f"version: {version}"
        out.append(line)
    with open(manifest, "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")
    dest = os.path.join(work, "out")
    os.makedirs(dest, exist_ok=True)
    res = subprocess.run([binary, "package", pkg, "-q", "-d", dest, "-o", "json"],
                         check=True, capture_output=True, text=True)
    info = json.loads(res.stdout)
    with open(info["path"], "rb") as f:
        data = f.read()
    return data, info


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--packages", type=int, default=5000)
    ap.add_argument("--versions", type=int, default=20)
    ap.add_argument("--bin", default="target/release/cocktail-pkg")
    ap.add_argument("--template", default="catalog/memcached")
    ap.add_argument("--pull", nargs="*", default=[], help="packages that get a real archive")
    ap.add_argument("--report", nargs="*", default=[], help="search words to count hits of")
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args()

    rng = random.Random(args.seed)
    out = args.out
    os.makedirs(os.path.join(out, "packages"), exist_ok=True)
    os.makedirs(os.path.join(out, "archives"), exist_ok=True)

    # Names: PREFIX-PRODUCT-NNNN, unique thanks to the number; sorted by bytes like the Rust side.
    specs = []
    for i in range(args.packages):
        # Skewed product choice: the first products are much more common than the last.
        product, category = PRODUCTS[min(int(rng.expovariate(1 / 9)), len(PRODUCTS) - 1)]
        name = f"{rng.choice(PREFIXES)}-{product}-{i:04d}"
        specs.append((name, product, category))
    # Packages to pull replace the last generated ones, so the count stays exact.
    for k, name in enumerate(args.pull):
        if name not in {s[0] for s in specs}:
            specs[-1 - k] = (name, "memcached", "cache")
    specs.sort(key=lambda s: s[0].encode())

    versions = version_list(args.versions)
    caret2 = next((v for v in versions if v.startswith("2.")), versions[0])
    pulled = {}
    work = tempfile.mkdtemp(prefix="gen-index-")
    try:
        for name in args.pull:
            data, info = make_archive(args.bin, args.template, name, caret2, work)
            file = f"{name}-{caret2}.tgz"
            with open(os.path.join(out, "archives", file), "wb") as f:
                f.write(data)
            pulled[name] = {"version": caret2, "url": f"archives/{file}",
                            "digest": sha256(data), "size": len(data)}
    finally:
        shutil.rmtree(work, ignore_errors=True)

    summaries = []
    hay = {}
    for n, (name, product, category) in enumerate(specs):
        kind = rng.choice(KINDS)
        feats = rng.sample(FEATURES, 2)
        description = (f"{rng.choice(ADJECTIVES).capitalize()} {product} {kind} for Kubernetes, "
                       f"with {feats[0]} and {feats[1]}.")
        keywords = [product, kind, category] + rng.sample(EXTRA_KEYWORDS, rng.randint(0, 3))
        app = f"{rng.randint(1, 17)}.{rng.randint(0, 30)}.{rng.randint(0, 20)}"
        entries = []
        for j, v in enumerate(versions):
            real = pulled.get(name) if v == (pulled.get(name) or {}).get("version") else None
            e = {
                "version": v,
                "url": real["url"] if real else f"archives/{name}-{v}.tgz",
                "digest": real["digest"] if real else sha256(f"{name}-{v}".encode()),
                "size": real["size"] if real else 12000 + (n * 7 + j * 131) % 9000,
                "appVersion": app,
                "kubeVersion": ">=1.25.0",
                "created": f"2026-{1 + j % 12:02d}-{1 + (n + j) % 28:02d}T12:00:00Z",
                "yanked": False,
            }
            if j % 4 == 0:
                e["changelog"] = [{"description": f"Update {product} to {app}.",
                                   "security": j % 8 == 0}]
            entries.append(e)
        vfile = canonical({"apiVersion": API, "kind": "PackageVersions", "name": name,
                           "versions": entries})
        rel = f"packages/{name}.json"
        with open(os.path.join(out, rel), "wb") as f:
            f.write(vfile)
        summaries.append({
            "name": name,
            "latest": versions[0],
            "appVersion": app,
            "description": description,
            "category": category,
            "keywords": keywords,
            "icon": f"https://icons.example.com/{product}.svg",
            "versionsUrl": rel,
            "versionsDigest": sha256(vfile),
            "versionCount": len(entries),
        })
        hay[name] = f"{name} {description} {' '.join(keywords)}".lower()

    root = canonical({"apiVersion": API, "kind": "Index", "packages": summaries})
    with open(os.path.join(out, "index.json"), "wb") as f:
        f.write(root)

    report = {
        "packages": len(summaries),
        "versions": len(summaries) * len(versions),
        "rootBytes": len(root),
        "pulled": pulled,
        "hits": {w: sum(all(t in h for t in w.lower().split()) for h in hay.values())
                 for w in args.report},
    }
    json.dump(report, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
