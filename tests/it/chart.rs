//! Helm charts: `template` and `show` on charts, compared with the real helm v4.1.4.
//!
//! Expected outputs were produced by `/opt/k8stools/helm/helm` (v4.1.4): the fixture goldens
//! under `tests/fixtures/helm-golden/` (see its README) and, for the charts written here, by
//! running `helm template` on the same files.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::support::{cmd, root, write_files};

/// A chart folder written to a temporary directory.
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

/// A parent chart with an aliased, conditional sub-chart that exports values.
fn app_chart() -> ChartBuilder {
    ChartBuilder::new()
        .file(
            "Chart.yaml",
            "apiVersion: v2\nname: app\nversion: 1.0.0\ndependencies:\n  - name: db\n    version: \"1.x\"\n    alias: store\n    condition: store.enabled\n    import-values:\n      - child: info\n        parent: imported\n",
        )
        .file(
            "values.yaml",
            "replicas: 2\ndrop: me\nglobal: {region: eu}\nstore: {size: 5}\n",
        )
        .file("charts/db/Chart.yaml", "apiVersion: v2\nname: db\nversion: 1.2.0\n")
        .file(
            "charts/db/values.yaml",
            "enabled: true\nsize: 1\nkeep: x\ninfo: {port: 5432}\n",
        )
        .file(
            "charts/db/templates/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-{{ .Chart.Name }}\ndata:\n  size: {{ .Values.size | quote }}\n  keep: {{ .Values.keep | default \"gone\" | quote }}\n  region: {{ .Values.global.region }}\n",
        )
        .file(
            "templates/_helpers.tpl",
            "{{- define \"app.name\" -}}{{ .Release.Name }}-app{{- end }}\n",
        )
        .file(
            "templates/deploy.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ include \"app.name\" . }}\nspec:\n  replicas: {{ .Values.replicas }}\n  template:\n    metadata:\n      annotations:\n        drop: {{ .Values.drop | quote }}\n        port: {{ .Values.imported.port | quote }}\n        kinds: {{ printf \"%T/%T\" .Values.replicas .Values.n }}\n",
        )
        .file(
            "templates/svc.yaml",
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ include \"app.name\" . }}\n",
        )
        .file("templates/NOTES.txt", "Installed {{ .Release.Name }}.\n")
}

fn stdout(args: &[&str]) -> String {
    let out = cmd().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn stderr_failure(args: &[&str]) -> String {
    let out = cmd().args(args).output().unwrap();
    assert!(!out.status.success(), "{args:?} should fail");
    String::from_utf8(out.stderr).unwrap()
}

#[test]
fn template_equals_helm_with_alias_condition_imports_globals_and_null() {
    let (_tmp, dir) = app_chart().write("app");
    let d = dir.to_str().unwrap();
    // `helm template rel app --set drop=null --set store.keep=null --set n=3 -n prod`
    let want = "---
# Source: app/charts/store/templates/cm.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: rel-store
data:
  size: \"5\"
  keep: \"gone\"
  region: eu
---
# Source: app/templates/svc.yaml
apiVersion: v1
kind: Service
metadata:
  name: rel-app
---
# Source: app/templates/deploy.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: rel-app
spec:
  replicas: 2
  template:
    metadata:
      annotations:
        drop: 
        port: \"5432\"
        kinds: float64/int64
";
    let got = stdout(&[
        "template",
        d,
        "--release-name",
        "rel",
        "--set",
        "drop=null",
        "--set",
        "store.keep=null",
        "--set",
        "n=3",
        "-n",
        "prod",
    ]);
    assert_eq!(got, want);
}

#[test]
fn disabled_subchart_and_helm_execution_errors() {
    let (_tmp, dir) = app_chart().write("app");
    // helm: `Error: app/templates/deploy.yaml:11:24\n  executing "app/templates/deploy.yaml"
    // at <.Values.imported.port>:\n    nil pointer evaluating interface {}.port`
    let err = stderr_failure(&[
        "template",
        dir.to_str().unwrap(),
        "--release-name",
        "rel",
        "--set",
        "store.enabled=false",
    ]);
    assert!(
        err.contains("app/templates/deploy.yaml:11:24\n  executing \"app/templates/deploy.yaml\" at <.Values.imported.port>:\n    nil pointer evaluating interface {}.port"),
        "{err}"
    );
}

#[test]
fn chart_archive_renders_like_its_folder() {
    let (tmp, dir) = app_chart().write("app");
    let files: BTreeMap<String, Vec<u8>> = app_chart()
        .files
        .iter()
        .map(|(k, v)| (k.clone(), v.as_bytes().to_vec()))
        .collect();
    let bytes = cocktail_pkg::archive::write("app", &files).unwrap();
    let tgz = tmp.path().join("app-1.0.0.tgz");
    std::fs::write(&tgz, bytes).unwrap();
    let a = stdout(&["template", dir.to_str().unwrap()]);
    let b = stdout(&["template", tgz.to_str().unwrap()]);
    assert_eq!(a, b);
    assert!(a.contains("name: release-name-app"), "{a}");
}

#[test]
fn missing_dependency_names_it_and_how_to_get_it() {
    let (_tmp, dir) = ChartBuilder::new()
        .file(
            "Chart.yaml",
            "apiVersion: v2\nname: p\nversion: 1.0.0\ndependencies:\n- name: redis\n  version: 1.0.0\n",
        )
        .file("templates/a.yaml", "a: 1\n")
        .write("p");
    let err = stderr_failure(&["template", dir.to_str().unwrap()]);
    assert!(
        err.contains("missing from its charts/ folder: redis"),
        "{err}"
    );
    assert!(err.contains("helm dependency build"), "{err}");
}

/// `helm template`'s text needs no objects, so the chart renders without them; `-o json` and
/// `--output-dir` still get every object, with whole numbers as integers.
#[test]
fn template_of_a_chart_as_json_or_into_a_folder_has_its_objects() {
    let (tmp, dir) = app_chart().write("app");
    let d = dir.to_str().unwrap();
    let list: serde_json::Value =
        serde_json::from_str(&stdout(&["template", d, "-o", "json"])).unwrap();
    let items = list["items"].as_array().unwrap();
    let kinds: Vec<&str> = items.iter().map(|o| o["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["ConfigMap", "Service", "Deployment"], "{list}");
    assert!(items[2]["spec"]["replicas"].is_i64(), "{list}");
    let out = tmp.path().join("out");
    let done = cmd()
        .args(["template", d, "--output-dir", out.to_str().unwrap()])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&done.stderr);
    assert!(
        done.status.success() && said.contains("3 objects"),
        "{said}"
    );
    let deploy = std::fs::read_to_string(out.join("app/app/templates/deploy.yaml")).unwrap();
    assert!(deploy.contains("kind: Deployment"), "{deploy}");
}

/// Renders run on the main thread when its stack may grow to the render stack; where the hard
/// stack limit forbids raising it, they get a thread of their own: the same output, and a
/// self-including template still meets the engine's limit, not the end of a stack.
#[cfg(target_os = "linux")]
#[test]
fn renders_alike_with_or_without_a_raised_stack_limit() {
    let (_tmp, dir) = app_chart().write("app");
    let (_tmp2, hostile) = ChartBuilder::new()
        .file("Chart.yaml", "apiVersion: v2\nname: h\nversion: 1.0.0\n")
        .file(
            "templates/a.yaml",
            "{{ define \"x\" }}{{ include \"x\" . }}{{ end }}{{ include \"x\" . }}",
        )
        .write("h");
    // 990 nested includes take more than the default 8 MiB of stack in a debug build (about
    // 10 MiB measured), so the main thread must have grown past it.
    let (_tmp3, deep) = ChartBuilder::new()
        .file("Chart.yaml", "apiVersion: v2\nname: d\nversion: 1.0.0\n")
        .file("templates/a.yaml", "depth: {{ include \"deep\" 0 }}\n{{- define \"deep\" }}{{ if lt . 990 }}{{ include \"deep\" (add1 .) | trim }}{{ else }}{{ . }}{{ end }}{{ end }}")
        .write("d");
    let bin = crate::support::bin();
    // `ulimit -Hs`: a hard limit of 16 MiB, below the 64 MiB render stack.
    let low = |chart: &std::path::Path| {
        std::process::Command::new("sh")
            .arg("-c")
            .arg("ulimit -Ss 8192 && ulimit -Hs 16384 && exec \"$0\" template \"$1\"")
            .arg(&bin)
            .arg(chart)
            .env("NO_COLOR", "1")
            .output()
            .unwrap()
    };
    for chart in [&dir, &deep] {
        let raised = stdout(&["template", chart.to_str().unwrap()]);
        let kept = low(chart);
        assert!(
            kept.status.success(),
            "{}",
            String::from_utf8_lossy(&kept.stderr)
        );
        assert_eq!(String::from_utf8(kept.stdout).unwrap(), raised);
    }
    assert!(stdout(&["template", deep.to_str().unwrap()]).contains("depth: 990"));
    for out in [
        low(&hostile),
        cmd()
            .args(["template", hostile.to_str().unwrap()])
            .output()
            .unwrap(),
    ] {
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(err.contains("nested reference name: x"), "{err}");
    }
}

#[test]
fn hostile_templates_fail_clearly() {
    let cases = [
        (
            "{{ define \"x\" }}{{ include \"x\" . }}{{ end }}{{ include \"x\" . }}",
            "",
        ),
        ("{{ repeat 1000000000 \"x\" }}", ""),
        (
            "{{ range $i := until 100000000 }}{{ range until 100000000 }}{{ end }}{{ end }}",
            "",
        ),
    ];
    for (tpl, _) in cases {
        let (_tmp, dir) = ChartBuilder::new()
            .file("Chart.yaml", "apiVersion: v2\nname: h\nversion: 1.0.0\n")
            .file("templates/a.yaml", tpl)
            .write("h");
        let err = stderr_failure(&["template", dir.to_str().unwrap()]);
        assert!(
            err.contains("error: failed to render chart `h`"),
            "{tpl}: {err}"
        );
    }
}

#[test]
fn show_on_charts_is_helm_show() {
    let (_tmp, dir) = ChartBuilder::new()
        .file(
            "Chart.yaml",
            "apiVersion: v2\nname: demo\nversion: v0.1.0\nappVersion: 1.16\nkubeVersion: \">=1.20.0-0\"\nkeywords: [a, b]\nmaintainers:\n  - name: me\n    email: a@b\nannotations:\n  foo: bar\ndeprecated: true\n",
        )
        .file("values.yaml", "a: 1\n")
        .file("crds/foo.yaml", "kind: CustomResourceDefinition\n")
        .file("templates/a.yaml", "a: 1\n")
        .write("demo");
    let d = dir.to_str().unwrap();
    // `helm show chart`
    assert_eq!(
        stdout(&["show", "chart", d]),
        "annotations:\n  foo: bar\napiVersion: v2\nappVersion: \"1.16\"\ndeprecated: true\nkeywords:\n- a\n- b\nkubeVersion: '>=1.20.0-0'\nmaintainers:\n- email: a@b\n  name: me\nname: demo\nversion: v0.1.0\n\n"
    );
    assert_eq!(stdout(&["show", "values", d]), "a: 1\n");
    assert_eq!(
        stdout(&["show", "crds", d]),
        "---\nkind: CustomResourceDefinition\n\n"
    );
}

/// Random and crypto output differs on every run, in helm as in ours: the fixtures put it only
/// under keys whose name ends in `Random` (see the goldens' README), whose values are masked.
fn mask_random(text: &str) -> String {
    text.lines()
        .map(|line| match line.find("Random: ") {
            Some(i) if !line[..i].trim().contains(' ') => {
                format!("{}Random: <random>\n", &line[..i])
            }
            _ => format!("{line}\n"),
        })
        .collect()
}

/// The golden cases where helm fails: ours fails too (exit 1), and the fragments that matter
/// (template file, line and column, the message) are in both helm's error and ours. Wording
/// that differs on purpose: our schema errors list `$.path: message` (clearer than helm's), and
/// a missing dependency or an unsupported Kubernetes version is explained in our words.
const GOLDEN_ERR: &[(&str, &[&str])] = &[
    (
        "big-validate-fail",
        &[
            "execution error at (big/templates/deployments.yaml:1:4)",
            "postgresql.auth.password is required",
        ],
    ),
    ("capabilities-kube-too-old", &[">=1.21.0-0", "1.20.0"]),
    ("helmignore-negate", &["Chart.yaml file is missing"]),
    (
        "library-chart-direct",
        &["library charts are not installable"],
    ),
    ("missing-dep", &["missing", "charts/", "postgresql"]),
    (
        "required-fail-divf-zero",
        &[
            "required-fail/templates/cm.yaml:11:12",
            "executing \"required-fail/templates/cm.yaml\" at <divf 1 0>:",
            "error calling divf:",
            "decimal division by 0",
        ],
    ),
    (
        "required-fail-fail",
        &[
            "execution error at (required-fail/templates/cm.yaml:8:6): mode \"forbidden\" is not allowed",
        ],
    ),
    (
        "required-fail-missing-define",
        &[
            "required-fail/templates/cm.yaml:14:14",
            "at <include \"required-fail.no-such-define\" .>:",
            "no template \"required-fail.no-such-define\"",
        ],
    ),
    (
        "required-fail",
        &[
            "execution error at (required-fail/templates/cm.yaml:6:11): database.host is required: set it with --set database.host=...",
        ],
    ),
    (
        "schema-2019-09-bad",
        &[
            "values don't meet the specifications of the schema(s) in the following chart(s):",
            "schema-2019-09",
            "password",
        ],
    ),
    (
        "schema-2020-12-bad-prefix",
        &["schema-2020-12", "point", "number"],
    ),
    ("schema-2020-12-bad", &["strictsub", "level", "maximum"]),
    (
        "schema-draft4-bad",
        &["schema-draft4", "replicas", "inimum"],
    ),
    ("schema-draft6-bad", &["schema-draft6", "Team", "^[a-z]+$"]),
    (
        "schema-draft7-bad",
        &["schema-draft7", "persistence", "size"],
    ),
    ("schema-subchart-global", &["strict", "global"]),
    (
        "show-only-missing",
        &["could not find template templates/nope.yaml in chart"],
    ),
];

#[test]
fn fixture_charts_fail_where_helm_fails() {
    let dir = root().join("tests/fixtures/helm-golden");
    let mut every_err: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            name.strip_suffix(".err").map(str::to_string)
        })
        .collect();
    every_err.sort();
    let mut listed: Vec<String> = GOLDEN_ERR.iter().map(|(c, _)| c.to_string()).collect();
    listed.sort();
    assert_eq!(every_err, listed, "every .err golden is checked");
    let mut failures = Vec::new();
    for (case, fragments) in GOLDEN_ERR {
        let helm = std::fs::read_to_string(dir.join(format!("{case}.err"))).unwrap();
        assert!(helm.starts_with("exit: 1\n"), "{case}: {helm}");
        let out = cmd()
            .args(our_args(case))
            .env("TZ", "UTC")
            .output()
            .unwrap();
        let ours = String::from_utf8_lossy(&out.stderr).to_string();
        if out.status.code() != Some(1) || !ours.starts_with("error: ") {
            failures.push(format!(
                "{case}: expected a failure (exit 1), got {:?}: {ours}",
                out.status.code()
            ));
            continue;
        }
        for f in *fragments {
            if !helm.contains(f) {
                failures.push(format!("{case}: helm's error lacks {f:?}: {helm}"));
            }
            if !ours.contains(f) {
                failures.push(format!("{case}: our error lacks {f:?}: {ours}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `CASE.args`: helm's arguments, one per line (release name, chart, flags); blank lines are
/// not arguments, as in `regen.sh`.
fn golden_args(case: &str) -> Vec<String> {
    let dir = root().join("tests/fixtures/helm-golden");
    std::fs::read_to_string(dir.join(format!("{case}.args")))
        .unwrap()
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// Our `template` arguments for the same run as helm's `CASE.args`.
fn our_args(case: &str) -> Vec<String> {
    let args = golden_args(case);
    let mut argv = vec![
        "template".to_string(),
        args[1].clone(),
        "--release-name".into(),
        args[0].clone(),
    ];
    argv.extend(args[2..].iter().cloned());
    argv
}

/// Runs one golden case: `CASE.args` is helm's argument list (release name, chart, flags).
fn run_golden(case: &str) -> (String, String) {
    let dir = root().join("tests/fixtures/helm-golden");
    let argv = our_args(case);
    let got = stdout(&argv.iter().map(String::as_str).collect::<Vec<_>>());
    let want = std::fs::read_to_string(dir.join(format!("{case}.yaml"))).unwrap();
    (got, want)
}

fn unified_diff(want: &str, got: &str) -> String {
    similar::TextDiff::from_lines(want, got)
        .unified_diff()
        .header("helm", "cocktail-pkg")
        .to_string()
}

/// The fixture charts whose output equals helm's byte for byte today. The others differ by
/// engine gaps listed in docs/concepts/helm-charts.md (or use helm flags we do not offer).
const GOLDEN_EQUAL: &[&str] = &[
    "apiv1-requirements",
    "apiv1-requirements-toggles",
    "basic",
    "basic-release-contains-name",
    "basic-show-only",
    "basic-upgrade",
    "big",
    "big-minimal",
    "capabilities",
    "capabilities-api-group",
    "capabilities-flags",
    "crds",
    "crds-include",
    "deps-import-values",
    "deps-tree",
    "deps-tree-show-only-subchart",
    "deps-tree-toggles",
    "documents",
    "files",
    "gotemplate",
    "hooks",
    "hooks-no-hooks",
    "hooks-skip-tests-upgrade",
    "kinds-order",
    "library-user",
    "lookup",
    "numbers",
    "printf-verbs",
    "required-fail-ok",
    "schema-2019-09",
    "schema-2020-12",
    "schema-2020-12-skip-validation",
    "schema-draft4",
    "schema-draft6",
    "schema-draft7",
    "small",
    "sprig-dates",
    "sprig-defaults-reflect",
    "sprig-dicts",
    "sprig-lists",
    "sprig-math",
    "sprig-paths-urls",
    "sprig-random-crypto",
    "sprig-regex",
    "sprig-semver",
    "sprig-strings",
    "template-meta",
    "toyaml-tricky",
    "tpl-values",
    "values-layering",
    "vendored-tgz",
    "vendored-tgz-no-crds",
    "whitespace",
];

#[test]
fn fixture_charts_render_exactly_as_helm() {
    let mut failures = Vec::new();
    for case in GOLDEN_EQUAL {
        let (got, want) = run_golden(case);
        let (got, want) = (mask_random(&got), mask_random(&want));
        if got != want {
            failures.push(format!("{case}:\n{}", unified_diff(&want, &got)));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The goldens are helm's real output: with a helm binary (`HELM`, which `.ci/run` installs from
/// the npm package that ships helm v4), each case that must equal helm is rendered by helm
/// itself, live, and compared with the golden — so `fixture_charts_render_exactly_as_helm`
/// compares cocktail-pkg with the helm that runs here, not with a stale recording.
#[test]
fn goldens_are_what_the_real_helm_renders() {
    let Some(helm) = std::env::var_os("HELM").filter(|h| !h.is_empty()) else {
        eprintln!("HELM is not set: the live helm comparison is skipped (CI sets it)");
        return;
    };
    let dir = root().join("tests/fixtures/helm-golden");
    let scratch = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for case in GOLDEN_EQUAL {
        let args = golden_args(case);
        let out = std::process::Command::new(&helm)
            .arg("template")
            .args(&args)
            .current_dir(root())
            .env("TZ", "UTC")
            .env("HELM_CACHE_HOME", scratch.path().join("cache"))
            .env("HELM_CONFIG_HOME", scratch.path().join("config"))
            .env("HELM_DATA_HOME", scratch.path().join("data"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{case}: helm failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let live = String::from_utf8(out.stdout).unwrap();
        let golden = std::fs::read_to_string(dir.join(format!("{case}.yaml"))).unwrap();
        let (live, golden) = (mask_random(&live), mask_random(&golden));
        if live != golden {
            failures.push(format!("{case}:\n{}", unified_diff(&golden, &live)));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A chart installs into a folder target (GitOps layout) like a package: its objects are
/// written with the service map's namespace, its hooks are written for the GitOps tool (Argo
/// CD runs Helm hooks from their annotations) and recorded as written, not run.
#[test]
fn a_chart_installs_into_a_folder_with_its_hooks_written() {
    let dir = tempfile::tempdir().unwrap();
    let target = format!("dir:{}", dir.path().display());
    crate::support::cmd()
        .args([
            "install",
            "h",
            "tests/fixtures/charts/hooks",
            "-n",
            "shop",
            "--target",
            &target,
        ])
        .assert()
        .success();
    let out = crate::support::cmd()
        .args(["get", "manifest", "h", "-n", "shop", "--target", &target])
        .output()
        .unwrap();
    let manifest = String::from_utf8(out.stdout).unwrap();
    assert!(
        manifest.contains("# Source: hooks/templates/deployment.yaml"),
        "{manifest}"
    );
    assert!(manifest.contains("namespace: shop"), "{manifest}");
    assert!(
        !manifest.contains("h-migrate"),
        "hooks are not in the manifest: {manifest}"
    );
    let out = crate::support::cmd()
        .args([
            "get", "hooks", "h", "-n", "shop", "--target", &target, "-o", "json",
        ])
        .output()
        .unwrap();
    let hooks: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut written: Vec<&str> = hooks
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["lastRun"]["phase"] == "written")
        .map(|h| h["id"]["name"].as_str().unwrap())
        .collect();
    // The install's hooks (pre-install and post-install); not the others.
    written.sort();
    assert_eq!(written, ["h-hook-secret", "h-migrate", "h-post"]);
}

/// A billion-laughs alias bomb in a chart's values.yaml or in a `-f` file is refused at once,
/// with go-yaml's message, instead of expanding 10^10 nodes.
#[test]
fn alias_bombs_in_values_are_refused() {
    let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..10 {
        let refs = vec![format!("*a{}", i - 1); 10].join(", ");
        bomb.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
    }
    let (_tmp, dir) = ChartBuilder::new()
        .file("Chart.yaml", "apiVersion: v2\nname: bomb\nversion: 1.0.0\n")
        .file("values.yaml", &bomb)
        .file("templates/x.yaml", "a: {{ len .Values.a9 }}\n")
        .write("bomb");
    let err = stderr_failure(&["template", dir.to_str().unwrap()]);
    assert!(err.contains("excessive aliasing"), "{err}");

    let (_tmp2, plain) = ChartBuilder::new()
        .file(
            "Chart.yaml",
            "apiVersion: v2\nname: plain\nversion: 1.0.0\n",
        )
        .file("templates/x.yaml", "a: {{ len .Values.a9 }}\n")
        .write("plain");
    let file = plain.parent().unwrap().join("bomb.yaml");
    std::fs::write(&file, &bomb).unwrap();
    let err = stderr_failure(&[
        "template",
        plain.to_str().unwrap(),
        "-f",
        file.to_str().unwrap(),
    ]);
    assert!(err.contains("excessive aliasing"), "{err}");
}

/// A chart big enough to render on several threads: templates that write into `.Values` still
/// see each other's writes in Helm's order (the concurrent render notices the shared write and
/// renders again one template after the other), and the output does not depend on the threads.
#[test]
fn templates_that_write_shared_values_render_in_helms_order_on_many_threads() {
    // Every template reads and writes `.Values.seen`; sorted as Helm executes them (reverse
    // name order), each must see the names of all that ran before it.
    let mut chart = ChartBuilder::new()
        .file(
            "Chart.yaml",
            "apiVersion: v2\nname: order\nversion: 1.0.0\n",
        )
        .file("values.yaml", "seen: []\n");
    let padding = format!("{{{{- /* {} */ -}}}}\n", "x".repeat(2048));
    for name in ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"] {
        chart = chart.file(
            &format!("templates/{name}.yaml"),
            &format!(
                "{padding}{{{{- $_ := set .Values \"seen\" (append .Values.seen \"{name}\") -}}}}\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  seen: {{{{ .Values.seen | join \",\" | quote }}}}\n"
            ),
        );
    }
    let (_tmp, dir) = chart.write("order");
    let out = stdout(&["template", dir.to_str().unwrap(), "--release-name", "r"]);
    for (i, name) in ["j", "i", "h", "g", "f", "e", "d", "c", "b", "a"]
        .iter()
        .enumerate()
    {
        let before: Vec<&str> = ["j", "i", "h", "g", "f", "e", "d", "c", "b", "a"][..=i].to_vec();
        let want = format!("  name: {name}\ndata:\n  seen: \"{}\"\n", before.join(","));
        assert!(out.contains(&want), "{name}: want {want:?} in\n{out}");
    }
    if let Some(helm) = std::env::var_os("HELM") {
        let helm = std::process::Command::new(helm)
            .args(["template", "r", dir.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(helm.status.success());
        assert_eq!(out, String::from_utf8(helm.stdout).unwrap());
    }
    // The same chart without the writes renders concurrently, like helm.
    let mut chart =
        ChartBuilder::new().file("Chart.yaml", "apiVersion: v2\nname: calm\nversion: 1.0.0\n");
    for name in ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"] {
        chart = chart.file(
            &format!("templates/{name}.yaml"),
            &format!(
                "{padding}apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  template: {{{{ .Template.Name | quote }}}}\n"
            ),
        );
    }
    let (_tmp, dir) = chart.write("calm");
    let out = stdout(&["template", dir.to_str().unwrap(), "--release-name", "r"]);
    for name in ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"] {
        assert!(
            out.contains(&format!(
                "  name: {name}\ndata:\n  template: \"calm/templates/{name}.yaml\"\n"
            )),
            "{name} in\n{out}"
        );
    }
}
