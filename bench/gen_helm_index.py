#!/usr/bin/env python3
"""Writes a synthetic Helm repository (index.yaml) for benchmarks: stdlib only, deterministic.

    bench/gen_helm_index.py --out DIR [--charts 2500] [--versions 20] [--pull NAME ...]
                            [--template tests/fixtures/charts/small] [--report WORD ...]

DIR/index.yaml has the shape `helm repo index` writes (apiVersion, entries sorted by name with
versions newest first, generated), with entries as large as real ones from big public repositories
(annotations with an image list, a dependency, maintainers, keywords): 2,500 charts x 20
versions is about 42 MB. Chart URLs are relative (`NAME-VERSION.tgz`). Archives exist only for the
charts named with --pull: a copy of --template renamed, at the newest 1.x version, packaged here
(gzip tar, files under NAME/), with its real sha256 in the index; the other digests are made up.

Prints the pulled charts, the index size and how many charts each word of --report matches, as JSON.
"""

import argparse
import gzip
import hashlib
import io
import json
import os
import random
import tarfile

PREFIXES = [
    "acme", "blue", "cloud", "core", "data", "edge", "fast", "flux", "hyper", "kube", "lite",
    "meta", "micro", "nano", "neo", "open", "pico", "quick", "rapid", "smart", "solid", "star",
    "swift", "terra", "ultra", "vast", "zen", "polar", "amber", "cobalt",
]
PRODUCTS = [
    ("postgres", "Database"), ("mysql", "Database"), ("mariadb", "Database"),
    ("mongodb", "Database"), ("cassandra", "Database"), ("redis", "Cache"),
    ("memcached", "Cache"), ("valkey", "Cache"), ("kafka", "Messaging"),
    ("rabbitmq", "Messaging"), ("nats", "Messaging"), ("pulsar", "Messaging"),
    ("prometheus", "Monitoring"), ("grafana", "Monitoring"), ("exporter", "Monitoring"),
    ("alertmanager", "Monitoring"), ("loki", "Logging"), ("fluentd", "Logging"),
    ("vector", "Logging"), ("elasticsearch", "Search"), ("opensearch", "Search"),
    ("nginx", "Web"), ("haproxy", "Networking"), ("envoy", "Networking"),
    ("traefik", "Networking"), ("keycloak", "Security"), ("vault", "Security"),
    ("cert-manager", "Security"), ("minio", "Storage"), ("ceph", "Storage"),
    ("jenkins", "CI/CD"), ("argo", "CI/CD"), ("tekton", "CI/CD"), ("jupyter", "ML"),
    ("mlflow", "ML"), ("ray", "ML"), ("wordpress", "Web"), ("ghost", "Web"),
    ("gitea", "Developer Tools"), ("sonarqube", "Developer Tools"),
]
KINDS = ["server", "operator", "cluster", "proxy", "agent", "gateway", "controller", "worker",
         "dashboard", "backup", "sidecar", "collector"]
ADJECTIVES = ["highly available", "lightweight", "production-ready", "multi-tenant",
              "horizontally scalable", "secure", "minimal", "batteries-included"]
FEATURES = ["TLS", "persistence", "autoscaling", "metrics", "backups", "replication",
            "network policies", "an ingress", "pod disruption budgets", "OIDC login",
            "a ServiceMonitor", "rolling upgrades", "node affinity", "external secrets"]
EXTRA_KEYWORDS = ["kubernetes", "stateful", "stateless", "observability", "cncf", "sre",
                  "gitops", "edge", "arm64", "fips", "airgap"]


def version_list(n):
    """n versions over majors 1, 2, 3, ... (10 minors each), newest first."""
    return list(reversed([f"{1 + i // 10}.{i % 10}.0" for i in range(n)]))


def chart_names(n, rng):
    names = set()
    while len(names) < n:
        p = rng.choice(PREFIXES)
        prod, cat = rng.choice(PRODUCTS)
        k = rng.choice(KINDS)
        name = f"{p}-{prod}-{k}"
        if name in names:
            name = f"{name}-{len(names)}"
        names.add(name)
    return sorted(names)


def package_chart(template, name, version):
    """A gzip tar of `template` renamed to `name` at `version`, files under NAME/."""
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as gz:
        with tarfile.open(fileobj=gz, mode="w", format=tarfile.GNU_FORMAT) as tar:
            for dirpath, dirnames, filenames in os.walk(template):
                dirnames.sort()
                for fn in sorted(filenames):
                    path = os.path.join(dirpath, fn)
                    rel = os.path.relpath(path, template).replace(os.sep, "/")
                    with open(path, "rb") as f:
                        data = f.read()
                    if rel == "Chart.yaml":
                        lines = []
                        for line in data.decode().splitlines():
                            if line.startswith("name:"):
                                line = f"name: {name}"
                            elif line.startswith("version:"):
                                line = f"version: {version}"
                            lines.append(line)
                        data = ("\n".join(lines) + "\n").encode()
                    info = tarfile.TarInfo(f"{name}/{rel}")
                    info.size = len(data)
                    info.mode = 0o644
                    info.mtime = 0
                    tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def q(s):
    return json.dumps(s)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--charts", type=int, default=2500)
    ap.add_argument("--versions", type=int, default=20)
    ap.add_argument("--template", default="tests/fixtures/charts/small")
    ap.add_argument("--pull", nargs="*", default=[], help="charts that get a real archive")
    ap.add_argument("--report", nargs="*", default=[], help="search words to count hits of")
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args()

    rng = random.Random(args.seed)
    os.makedirs(args.out, exist_ok=True)
    names = chart_names(args.charts - len(args.pull), rng)
    names = sorted(set(names) | set(args.pull))
    versions = version_list(args.versions)
    descriptions = {}
    pulled = {}
    out = io.StringIO()
    w = out.write
    w("apiVersion: v1\nentries:\n")
    for name in names:
        prod = next((p for p, _ in PRODUCTS if f"-{p}-" in f"-{name}-"), "app")
        cat = next((c for p, c in PRODUCTS if p == prod), "Infrastructure")
        desc = (f"{rng.choice(ADJECTIVES).capitalize()} {prod} {name.split('-')[-1]} for "
                f"Kubernetes with {rng.choice(FEATURES)}, {rng.choice(FEATURES)} and "
                f"{rng.choice(FEATURES)}")
        descriptions[name] = desc
        keywords = [prod, cat.lower().replace("/", "-")] + rng.sample(EXTRA_KEYWORDS, 2)
        w(f"  {name}:\n")
        real_version = next((v for v in versions if v.startswith("1.")), versions[-1])
        for i, v in enumerate(versions):
            app = f"{rng.randint(1, 30)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}"
            digest = hashlib.sha256(f"{name}-{v}".encode()).hexdigest()
            if name in args.pull and v == real_version:
                data = package_chart(args.template, name, v)
                with open(os.path.join(args.out, f"{name}-{v}.tgz"), "wb") as f:
                    f.write(data)
                digest = hashlib.sha256(data).hexdigest()
                pulled[name] = {"version": v, "digest": "sha256:" + digest, "size": len(data)}
            day = 28 - (i % 28)
            w("  - annotations:\n")
            w(f"      category: {cat}\n")
            w("      images: |\n")
            w(f"        - name: {name}\n")
            w(f"          image: docker.io/acme/{name}:{app}-debian-12-r{i}\n")
            w("    apiVersion: v2\n")
            w(f"    appVersion: {app}\n")
            w(f"    created: \"2025-{1 + i % 12:02d}-{day:02d}T10:22:31.123456789Z\"\n")
            w("    dependencies:\n")
            w("    - name: common\n")
            w("      repository: oci://registry-1.docker.io/acmecharts\n")
            w("      version: 2.x.x\n")
            w(f"    description: {q(desc)}\n")
            w(f"    digest: {digest}\n")
            w(f"    icon: https://acme.example.com/icons/{name}.svg\n")
            w("    keywords:\n")
            for k in keywords:
                w(f"    - {k}\n")
            w("    maintainers:\n")
            w("    - name: Acme Charts\n")
            w("      url: https://github.com/acme/charts\n")
            w(f"    name: {name}\n")
            w("    urls:\n")
            w(f"    - {name}-{v}.tgz\n")
            w(f"    version: {v}\n")
    w("generated: \"2025-06-30T00:00:00.000000000Z\"\n")
    data = out.getvalue().encode()
    with open(os.path.join(args.out, "index.yaml"), "wb") as f:
        f.write(data)

    hits = {}
    for word in args.report:
        ws = word.lower().split()
        hits[word] = sum(
            1 for n in names if all(x in f"{n} {descriptions[n]}".lower() for x in ws))
    print(json.dumps({"charts": len(names), "bytes": len(data), "pulled": pulled, "hits": hits}))


if __name__ == "__main__":
    main()
