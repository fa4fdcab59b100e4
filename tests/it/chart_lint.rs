//! `lint` on Helm charts: Helm's lint rules (compared with the real `helm lint` when `HELM` is
//! set) and ours on chart objects, each rule on a small chart written here.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::{cmd, root, write_files};

struct ChartBuilder {
    files: BTreeMap<String, String>,
}

impl ChartBuilder {
    fn new() -> Self {
        Self {
            files: BTreeMap::new(),
        }
    }

    fn file(mut self, path: &str, text: &str) -> Self {
        self.files.insert(path.to_string(), text.to_string());
        self
    }

    fn write(&self, name: &str) -> (tempfile::TempDir, PathBuf) {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join(name);
        write_files(&dir, &self.files);
        (tmp, dir)
    }
}

const GOOD_CHART_YAML: &str =
    "apiVersion: v2\nname: demo\nversion: 1.0.0\nicon: https://example.com/icon.png\n";

/// A chart helm lints clean, with a Deployment that follows our rules too.
fn good_chart() -> ChartBuilder {
    ChartBuilder::new()
        .file("Chart.yaml", GOOD_CHART_YAML)
        .file("values.yaml", "image: nginx:1.27.3\n")
        .file(
            "templates/deploy.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}-web\n  namespace: {{ .Release.Namespace }}\nspec:\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n        - name: web\n          image: {{ .Values.image }}\n          resources: {requests: {cpu: 10m}, limits: {memory: 64Mi}}\n          readinessProbe: {tcpSocket: {port: 80}}\n          livenessProbe: {tcpSocket: {port: 80}}\n",
        )
}

/// One finding of `lint -o json`.
#[derive(Debug, Clone, PartialEq)]
struct F {
    severity: String,
    rule: String,
    subject: String,
    message: String,
}

/// Runs `cocktail-pkg lint -o json ARGS`: exit code, findings, stderr.
fn lint(args: &[&str]) -> (i32, Vec<F>, String) {
    let out = cmd()
        .arg("lint")
        .args(args)
        .args(["-o", "json"])
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    let code = out.status.code().unwrap_or(-1);
    let json: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("lint printed no JSON ({e}): {stdout}\n{stderr}"));
    let findings = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| F {
            severity: f["severity"].as_str().unwrap().to_string(),
            rule: f["rule"].as_str().unwrap().to_string(),
            subject: f["subject"].as_str().unwrap().to_string(),
            message: f["message"].as_str().unwrap().to_string(),
        })
        .collect();
    (code, findings, stderr)
}

fn lint_dir(dir: &Path, extra: &[&str]) -> (i32, Vec<F>, String) {
    let d = dir.to_str().unwrap();
    let mut args = vec![d];
    args.extend_from_slice(extra);
    lint(&args)
}

fn has(findings: &[F], severity: &str, subject: &str, message_part: &str) -> bool {
    findings
        .iter()
        .any(|f| f.severity == severity && f.subject == subject && f.message.contains(message_part))
}

#[track_caller]
fn assert_has(findings: &[F], severity: &str, subject: &str, message_part: &str) {
    assert!(
        has(findings, severity, subject, message_part),
        "no {severity} on {subject} containing {message_part:?} in:\n{findings:#?}"
    );
}

#[test]
fn a_good_chart_lints_clean_with_helms_summary() {
    let (_tmp, dir) = good_chart().write("demo");
    let (code, findings, stderr) = lint_dir(&dir, &[]);
    assert_eq!(code, 0, "{findings:#?}\n{stderr}");
    assert!(findings.is_empty(), "{findings:#?}");
    assert!(
        stderr.contains("1 chart(s) linted, 0 chart(s) failed"),
        "{stderr}"
    );
    // The table shows the same, and `--strict` still passes.
    cmd()
        .args(["lint", "--strict", dir.to_str().unwrap()])
        .assert()
        .success();
}

#[test]
fn chart_yaml_rules_follow_helm() {
    let (_tmp, dir) = good_chart()
        .file(
            "Chart.yaml",
            "apiVersion: v1\nname: demo\nversion: v1.0\nappVersion: 1.2\ntype: application\nsources: [notaurl]\nicon: bad icon\nhome: not a url\nmaintainers:\n  - name: a\n    email: nope\nfoo: bar\ndependencies:\n  - name: x\n    version: 1.0.0\n",
        )
        .write("demo");
    let (code, f, _) = lint_dir(&dir, &[]);
    assert_eq!(code, 1);
    let c = "Chart.yaml";
    assert_has(
        &f,
        "warning",
        c,
        "failed to strictly parse chart metadata file",
    );
    assert_has(&f, "warning", c, "unknown field \"foo\"");
    assert_has(
        &f,
        "error",
        c,
        "appVersion should be of type string but it's of type float64",
    );
    assert_has(&f, "error", c, "invalid email 'nope' for maintainer 'a'");
    assert_has(&f, "error", c, "invalid source URL 'notaurl'");
    assert_has(&f, "error", c, "invalid icon URL 'bad icon'");
    assert_has(&f, "error", c, "chart type is not valid in apiVersion 'v1'");
    assert_has(
        &f,
        "error",
        c,
        "dependencies are not valid in the Chart file with apiVersion 'v1'",
    );
    assert_has(&f, "warning", c, "version 'v1.0' is not a valid SemVerV2");
    assert_has(&f, "warning", c, "invalid home URL 'not a url'");
    assert!(!has(&f, "info", c, "icon is recommended"));

    let (_tmp, dir) = good_chart()
        .file(
            "Chart.yaml",
            "version: abc\nmaintainers: [{email: a@b.io}]\n",
        )
        .write("other");
    let (code, f, _) = lint_dir(&dir, &[]);
    assert_eq!(code, 1);
    assert_has(&f, "error", c, "name is required");
    assert_has(
        &f,
        "error",
        c,
        "apiVersion is required. The value must be either \"v1\" or \"v2\"",
    );
    assert_has(&f, "error", c, "version 'abc' is not a valid SemVer");
    assert_has(&f, "error", c, "each maintainer requires a name");
    assert_has(&f, "info", c, "icon is recommended");
    // The chart does not load: Helm's templates and dependencies rules say so.
    assert_has(&f, "error", "templates/", "chart.metadata.name is required");
    assert_has(&f, "error", "other", "unable to load chart");

    // Ours: a name that breaks labels, a folder named otherwise, and kubeVersion.
    let (_tmp, dir) = good_chart()
        .file(
            "Chart.yaml",
            "apiVersion: v2\nname: Demo_App\nversion: 1.0.0\nicon: https://a.io/i.png\nkubeVersion: '>>1'\n",
        )
        .write("demo");
    let (code, f, _) = lint_dir(&dir, &[]);
    assert_eq!(code, 1);
    assert_has(&f, "warning", c, "chart name \"Demo_App\" is invalid");
    assert_has(
        &f,
        "info",
        c,
        "the chart's folder `demo` is not named after the chart `Demo_App`",
    );
    assert_has(
        &f,
        "error",
        c,
        "kubeVersion '>>1' is not a valid version constraint",
    );

    let (_tmp, dir) = good_chart()
        .file(
            "Chart.yaml",
            &format!("{GOOD_CHART_YAML}kubeVersion: '<1.20.0-0'\n"),
        )
        .write("demo");
    let (code, f, _) = lint_dir(&dir, &[]);
    assert_eq!(code, 0, "{f:#?}");
    assert_has(&f, "warning", c, "incompatible with Kubernetes v1.35.0");
    let (_, f, _) = lint_dir(&dir, &["--kube-version", "1.19.4"]);
    assert!(f.is_empty(), "{f:#?}");
}

#[test]
fn values_rules_follow_helm() {
    let (_tmp, dir) = good_chart()
        .file("values.yaml", "image: nginx:1.27.3\nport: eighty\n")
        .file(
            "values.schema.json",
            r#"{"type": "object", "properties": {"port": {"type": "integer"}}, "required": ["image"]}"#,
        )
        .write("demo");
    let (code, f, _) = lint_dir(&dir, &[]);
    assert_eq!(code, 1);
    assert_has(&f, "error", "values.yaml", "port");
    assert_has(
        &f,
        "error",
        "templates/",
        "values don't meet the specifications",
    );
    // User values count, and --skip-schema-validation skips the schema.
    let (code, f, _) = lint_dir(&dir, &["--set", "port=80"]);
    assert_eq!(code, 0, "{f:#?}");
    let (code, _, _) = lint_dir(&dir, &["--skip-schema-validation"]);
    assert_eq!(code, 0);

    let (_tmp, dir) = good_chart().file("values.yaml", "a: [1\n").write("demo");
    let (code, f, _) = lint_dir(&dir, &[]);
    assert_eq!(code, 1);
    assert_has(&f, "error", "values.yaml", "unable to parse YAML");

    let mut chart = good_chart();
    chart.files.remove("values.yaml");
    let (_tmp, dir) = chart.write("demo");
    let (code, f, _) = lint_dir(&dir, &["--set", "image=nginx:1.27.3"]);
    assert_eq!(code, 0, "{f:#?}");
    assert_has(&f, "info", "values.yaml", "file does not exist");
}

#[test]
fn template_rules_follow_helm() {
    let (_tmp, dir) = good_chart()
        .file("templates/notes.md", "hello\n")
        .file(
            "templates/objects.yaml",
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: Web.Svc\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: a/b\n---\napiVersion: policy/v1beta1\nkind: PodDisruptionBudget\nmetadata:\n  name: pdb\n---\napiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: db\n---\napiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: ConfigMap\n    metadata:\n      name: x\n      annotations: {helm.sh/resource-policy: keep}\n---\nmetadata:\n  name: nokind\n",
        )
        .write("demo");
    let (code, f, _) = lint_dir(&dir, &[]);
    assert_eq!(code, 1);
    let t = "templates/objects.yaml";
    assert_has(
        &f,
        "error",
        "templates/notes.md",
        "file extension '.md' not valid",
    );
    assert_has(
        &f,
        "warning",
        t,
        "\"Web.Svc\": metadata.name: Invalid value: \"Web.Svc\": a DNS-1035 label",
    );
    assert_has(&f, "warning", t, "\"a/b\": may not contain '/'");
    assert_has(
        &f,
        "warning",
        t,
        "policy/v1beta1 PodDisruptionBudget is deprecated in v1.21+, unavailable in v1.25+; use policy/v1 PodDisruptionBudget",
    );
    // The whole file counts for the selector rule, as in Helm (the List has no matchLabels either).
    assert_has(
        &f,
        "error",
        t,
        "a StatefulSet must contain matchLabels or matchExpressions, and \"db\" does not",
    );
    assert_has(
        &f,
        "error",
        t,
        "annotation 'helm.sh/resource-policy' within List objects are ignored",
    );
    assert_has(&f, "error", t, "has no `kind`");
    // Deprecations follow --kube-version.
    let (_, f, _) = lint_dir(&dir, &["--kube-version", "1.20.0"]);
    assert!(!has(&f, "warning", t, "deprecated"), "{f:#?}");

    // No templates/ folder: a warning only.
    let mut chart = good_chart();
    chart.files.remove("templates/deploy.yaml");
    let (_tmp, dir) = chart.write("demo");
    let (code, f, _) = lint_dir(&dir, &[]);
    assert_eq!(code, 0);
    assert_has(&f, "warning", "templates/", "directory does not exist");
}

#[test]
fn templates_render_as_helm_lint_renders_them() {
    // Release `test-release` in `default` (or -n), Kubernetes v1.35.0, IsInstall false, and
    // Helm's lint mode: `required` and `fail` do not stop the render.
    let (_tmp, dir) = good_chart()
        .file(
            "templates/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-{{ .Release.Namespace }}-{{ .Capabilities.KubeVersion.Minor }}-{{ .Release.IsInstall }}\ndata:\n  host: {{ required \"host is required\" .Values.host | quote }}\n  {{- if not .Values.host }}\n  {{- fail \"set host\" }}\n  {{- end }}\n",
        )
        .write("demo");
    let (code, f, _) = lint_dir(&dir, &[]);
    assert_eq!(code, 0, "{f:#?}");
    // A wrong name would show the values used: make one and read them back.
    let (_tmp2, dir2) = good_chart()
        .file(
            "templates/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}_{{ .Release.Namespace }}_{{ .Capabilities.KubeVersion.Minor }}_{{ .Release.IsInstall }}\n",
        )
        .write("demo");
    let (_, f, _) = lint_dir(&dir2, &[]);
    assert_has(
        &f,
        "warning",
        "templates/cm.yaml",
        "\"test-release_default_35_false\"",
    );
    let (_, f, _) = lint_dir(&dir2, &["-n", "shop", "--kube-version", "1.30.1"]);
    assert_has(
        &f,
        "warning",
        "templates/cm.yaml",
        "\"test-release_shop_30_false\"",
    );

    // A real template error is an error under templates/, with Helm's file:line:col.
    let (_tmp3, dir3) = good_chart()
        .file("templates/cm.yaml", "a: {{ .Values.missing.deep }}\n")
        .write("demo");
    let (code, f, _) = lint_dir(&dir3, &[]);
    assert_eq!(code, 1);
    assert_has(&f, "error", "templates/", "demo/templates/cm.yaml:1:");
}

#[test]
fn crds_and_dependencies_rules_follow_helm() {
    let (_tmp, dir) = good_chart()
        .file(
            "Chart.yaml",
            &format!("{GOOD_CHART_YAML}dependencies:\n  - name: db\n    version: 1.0.0\n  - name: cache\n    version: 1.0.0\n"),
        )
        .file("charts/db/Chart.yaml", "apiVersion: v2\nname: db\nversion: 1.0.0\n")
        .file("charts/extra/Chart.yaml", "apiVersion: v2\nname: extra\nversion: 1.0.0\n")
        .file(
            "crds/bad.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n---\napiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: a.b.io\n",
        )
        .file("crds/notes.txt", "ignored: [\n")
        .write("demo");
    let (code, f, _) = lint_dir(&dir, &[]);
    assert_eq!(code, 1);
    assert_has(
        &f,
        "error",
        "crds/bad.yaml",
        "apiVersion is not in 'apiextensions.k8s.io'",
    );
    assert_has(
        &f,
        "error",
        "crds/bad.yaml",
        "object kind is not 'CustomResourceDefinition'",
    );
    assert!(!f.iter().any(|x| x.subject.contains("notes.txt")));
    assert_has(
        &f,
        "warning",
        "demo",
        "chart directory is missing these dependencies: cache",
    );
    assert_has(
        &f,
        "error",
        "demo",
        "chart metadata is missing these dependencies: extra",
    );
}

#[test]
fn our_rules_apply_to_chart_objects_as_warnings() {
    let (_tmp, dir) = good_chart()
        .file("values.yaml", "image: nginx\n")
        .file("charts/sub/Chart.yaml", "apiVersion: v2\nname: sub\nversion: 1.0.0\n")
        .file(
            "charts/sub/templates/job.yaml",
            "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: migrate\nspec:\n  template:\n    spec:\n      containers:\n        - name: m\n          image: busybox:latest\n",
        )
        .file(
            "Chart.yaml",
            &format!("{GOOD_CHART_YAML}dependencies:\n  - name: sub\n    version: 1.0.0\n"),
        )
        .write("demo");
    let (code, f, _) = lint_dir(&dir, &[]);
    assert_eq!(code, 0, "{f:#?}");
    assert_has(
        &f,
        "warning",
        "Deployment/test-release-web (templates/deploy.yaml)",
        "uses image `nginx` without a tag",
    );
    assert_has(
        &f,
        "warning",
        "Job/migrate (charts/sub/templates/job.yaml)",
        "`latest`",
    );
    assert_has(
        &f,
        "warning",
        "Job/migrate (charts/sub/templates/job.yaml)",
        "no resource requests",
    );
    // Our labels are added at install: no label or workload-group advice on charts.
    assert!(
        !f.iter()
            .any(|x| x.rule == "workload-group" || x.rule == "labels"),
        "{f:#?}"
    );
    // --strict fails on warnings, as helm lint --strict.
    let (code, _, stderr) = lint_dir(&dir, &["--strict"]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("1 chart(s) linted, 1 chart(s) failed"),
        "{stderr}"
    );
}

#[test]
fn sub_charts_and_archives() {
    let (tmp, dir) = good_chart()
        .file(
            "Chart.yaml",
            &format!("{GOOD_CHART_YAML}dependencies:\n  - name: db\n    version: 1.0.0\n"),
        )
        .file(
            "charts/db/Chart.yaml",
            "apiVersion: v2\nname: db\nversion: 1.0\n",
        )
        .file(
            "charts/db/templates/sts.yaml",
            "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: db\n",
        )
        .write("demo");
    // Helm lints sub-chart files only with --with-subcharts.
    let (code, f, _) = lint_dir(&dir, &[]);
    assert_eq!(code, 0, "{f:#?}");
    let (code, f, stderr) = lint_dir(&dir, &["--with-subcharts"]);
    assert_eq!(code, 1);
    assert_has(
        &f,
        "error",
        "charts/db/templates/sts.yaml",
        "a StatefulSet must contain matchLabels",
    );
    assert_has(
        &f,
        "error",
        "charts/db/Chart.yaml",
        "version should be of type string",
    );
    assert!(
        stderr.contains("2 chart(s) linted, 1 chart(s) failed"),
        "{stderr}"
    );

    // The same chart as an archive.
    let files: BTreeMap<String, Vec<u8>> = walk(&dir);
    let bytes = cocktail_pkg::archive::write("demo", &files).unwrap();
    let archive = tmp.path().join("demo-1.0.0.tgz");
    std::fs::write(&archive, bytes).unwrap();
    let (code, f, _) = lint_dir(&archive, &["--with-subcharts"]);
    assert_eq!(code, 1);
    assert_has(
        &f,
        "error",
        "charts/db/templates/sts.yaml",
        "a StatefulSet must contain matchLabels",
    );
    let (code, f, _) = lint_dir(&archive, &[]);
    assert_eq!(code, 0, "{f:#?}");
}

fn walk(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p
                    .strip_prefix(dir)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Differential: the real helm lint

/// One `[ERROR]`/`[WARNING]` line of `helm lint`, keyed by what it is about: a file of the
/// chart (`templates/a.yaml`, prefixed with `charts/db/` for a sub-chart) or `<chart>` for the
/// chart as a whole.
#[derive(Debug, Clone, PartialEq)]
struct HelmFinding {
    error: bool,
    key: String,
    line: String,
}

fn helm_lint(helm: &Path, chart: &Path, args: &[&str], scratch: &Path) -> (bool, Vec<HelmFinding>) {
    let out = std::process::Command::new(helm)
        .arg("lint")
        .arg(chart)
        .args(args)
        .current_dir(root())
        .env("HELM_CACHE_HOME", scratch.join("cache"))
        .env("HELM_CONFIG_HOME", scratch.join("config"))
        .env("HELM_DATA_HOME", scratch.join("data"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let chart_abs = chart.canonicalize().unwrap();
    let mut section = String::new();
    let mut found = Vec::new();
    for line in text.lines() {
        if let Some(path) = line.strip_prefix("==> Linting ") {
            let p = Path::new(path.trim());
            let abs = root().join(p).canonicalize().unwrap_or(p.to_path_buf());
            section = abs
                .strip_prefix(&chart_abs)
                .map(|r| r.to_string_lossy().to_string())
                .unwrap_or_default();
            if !section.is_empty() {
                section.push('/');
            }
            continue;
        }
        let (error, rest) = if let Some(r) = line.strip_prefix("[ERROR] ") {
            (true, r)
        } else if let Some(r) = line.strip_prefix("[WARNING] ") {
            (false, r)
        } else {
            continue;
        };
        let path = rest.split_once(": ").map(|(p, _)| p).unwrap_or("");
        let key = if path.is_empty() || path.starts_with('/') {
            format!("{section}<chart>")
        } else {
            format!("{section}{path}")
        };
        found.push(HelmFinding {
            error,
            key,
            line: line.to_string(),
        });
    }
    (out.status.success(), found)
}

/// The key of one of our findings, as for helm's (findings of our own rules about objects
/// have none).
fn our_key(f: &F, chart_labels: &[String]) -> Option<String> {
    if let Some(label) = chart_labels.iter().find(|l| **l == f.subject) {
        let prefix = if label.starts_with("charts/") {
            format!("{label}/")
        } else {
            String::new()
        };
        return Some(format!("{prefix}<chart>"));
    }
    if f.subject.contains(' ') {
        return None;
    }
    Some(f.subject.clone())
}

#[test]
fn every_fixture_chart_lints_as_helm_lints_it() {
    let Some(helm) = std::env::var_os("HELM").filter(|h| !h.is_empty()) else {
        eprintln!("HELM is not set: the differential helm lint comparison is skipped (CI sets it)");
        return;
    };
    let helm = PathBuf::from(helm);
    let scratch = tempfile::tempdir().unwrap();
    let charts_dir = root().join("tests/fixtures/charts");
    let mut charts: Vec<PathBuf> = std::fs::read_dir(&charts_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("Chart.yaml").is_file())
        .collect();
    charts.sort();
    assert!(charts.len() >= 25, "{charts:?}");
    let mut failures = Vec::new();
    for chart in &charts {
        for mode in [&[][..], &["--with-subcharts"][..]] {
            let name = chart.file_name().unwrap().to_string_lossy().to_string();
            let (helm_ok, helm_findings) = helm_lint(&helm, chart, mode, scratch.path());
            let rel = chart
                .strip_prefix(root())
                .unwrap()
                .to_str()
                .unwrap()
                .to_string();
            let mut args = vec![rel.as_str()];
            args.extend_from_slice(mode);
            let (code, ours, stderr) = lint(&args);
            let labels: Vec<String> = std::iter::once(name.clone())
                .chain(
                    ours.iter()
                        .map(|f| f.subject.as_str())
                        .filter(|s| s.starts_with("charts/"))
                        .map(|s| {
                            // `charts/db/templates/x.yaml` -> `charts/db` (the deepest `charts/X`).
                            let idx = s.rfind("/charts/").map(|i| i + 8).unwrap_or(7);
                            let end = s[idx..].find('/').map(|e| idx + e).unwrap_or(s.len());
                            s[..end].to_string()
                        }),
                )
                .collect();
            let what = format!("{name} {mode:?}");
            if !helm_ok && code == 0 {
                failures.push(format!(
                    "{what}: helm fails, we pass\n{helm_findings:#?}\n{stderr}"
                ));
            }
            for h in &helm_findings {
                let matched = ours.iter().any(|f| {
                    let strict_enough = !h.error || f.severity == "error";
                    let Some(k) = our_key(f, &labels) else {
                        return false;
                    };
                    strict_enough
                        && (k == h.key || (k.ends_with("templates/") && h.key.starts_with(&k)))
                });
                if !matched {
                    failures.push(format!(
                        "{what}: no counterpart for helm's {}\nours: {ours:#?}",
                        h.line
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
