//! Differential tests of the template engine against expectations recorded from the real
//! helm v4.1.4 binary (Go 1.25): `fixtures/engine_cases.json` holds each template, rendered by
//! `helm template` as `x/templates/cNNN.yaml` of one chart with `fixtures/engine_values.json`
//! as values, with helm's output or error. (Helm shortens parse errors to their last
//! `: `-separated part and reflows some execution errors; those few expectations were restored
//! to Go's full text by hand.) Only Go's builtins, `include` and `tpl` are used, so the cases
//! run against `FuncMap::go()`.
//!
//! Further tests cover limits: fuel, recursion, deep nesting, output size.

use std::sync::Arc;

use gotpl::funcs::{Env, FuncMap, Offline};
use gotpl::{ExecOptions, MissingKey, Templates, Value};

const CASES: &str = include_str!("fixtures/engine_cases.json");
const VALUES: &str = include_str!("fixtures/engine_values.json");
const B: &str = "\u{ab}B\u{bb}";
const E: &str = "\u{ab}E\u{bb}";

/// Runs `f` on a thread with the renderer's 64 MiB stack.
fn big_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(f)
        .and_then(|h| h.join().map_err(|_| std::io::Error::other("panicked")))
        .unwrap_or_else(|e| panic!("thread: {e}"))
}

fn data() -> Value {
    let values: serde_json::Value = serde_json::from_str(VALUES).unwrap_or_default();
    let mut top = gotpl::Map::new();
    top.insert("Values".into(), Value::from_json_values(&values));
    Value::map(top)
}

#[test]
fn matches_helm() {
    big_stack(|| {
        let cases: Vec<serde_json::Value> = serde_json::from_str(CASES).unwrap_or_default();
        assert!(cases.len() > 80);
        let mut set = Templates::new(Arc::new(FuncMap::go()));
        let mut failures = Vec::new();
        let mut parsed = Vec::new();
        for c in &cases {
            // The recorded runs wrapped each template in markers (5 bytes before it), which
            // shifts first-line columns: wrap the same way.
            let tpl = format!("{B}{}{E}", c["tpl"].as_str().unwrap_or(""));
            let file = c["file"].as_str().unwrap_or("");
            match set.parse(file, &tpl) {
                Ok(()) => parsed.push(c),
                Err(e) => {
                    if c["error"].as_str() != Some(e.to_string().as_str()) {
                        failures.push(format!(
                            "{file}: {tpl}\n  want {:?}\n  got parse error {e}",
                            c
                        ));
                    }
                }
            }
        }
        let data = data();
        for c in parsed {
            let file = c["file"].as_str().unwrap_or("");
            let tpl = c["tpl"].as_str().unwrap_or("");
            let mut env = Env::fixed(0, 1);
            let got = set.execute(file, &data, &ExecOptions::default(), &mut env, &mut Offline);
            // Helm deletes "<no value>" from rendered files.
            let got = got
                .map(|s| {
                    let s = s.replace("<no value>", "");
                    s.strip_prefix(B)
                        .and_then(|s| s.strip_suffix(E))
                        .unwrap_or(&s)
                        .to_string()
                })
                .map_err(|e| e.to_string());
            let want = match (c["out"].as_str(), c["error"].as_str()) {
                (Some(o), _) => Ok(o.to_string()),
                (None, Some(e)) => Err(e.to_string()),
                _ => continue,
            };
            if got != want {
                let show = |r: &Result<String, String>| {
                    let s = format!("{r:?}");
                    if s.len() > 600 {
                        format!("{}...", &s[..600])
                    } else {
                        s
                    }
                };
                failures.push(format!(
                    "{file}: {tpl}\n  want {}\n  got  {}",
                    show(&want),
                    show(&got)
                ));
            }
        }
        assert!(
            failures.is_empty(),
            "{} failures:\n{}",
            failures.len(),
            failures.join("\n")
        );
    });
}

fn run_with(src: &str, data: Value, opts: &ExecOptions) -> Result<String, String> {
    let mut set = Templates::new(Arc::new(FuncMap::go()));
    set.parse("t", src).map_err(|e| e.to_string())?;
    let mut env = Env::fixed(0, 1);
    set.execute("t", &data, opts, &mut env, &mut Offline)
        .map_err(|e| e.to_string())
}

fn run(src: &str) -> Result<String, String> {
    run_with(src, data(), &ExecOptions::default())
}

#[test]
fn no_value_and_missing_keys() {
    // Go prints <no value> for a missing value at the top of an action.
    assert_eq!(run("{{ .Values.missing }}").as_deref(), Ok("<no value>"));
    assert_eq!(
        run("{{ printf \"%v\" .Values.missing }}").as_deref(),
        Ok("<nil>")
    );
    let strict = ExecOptions {
        missing_key: MissingKey::Error,
        ..ExecOptions::default()
    };
    assert_eq!(
        run_with("{{ .Values.missing }}", data(), &strict),
        Err("template: t:1:10: executing \"t\" at <.Values.missing>: map has no entry for key \"missing\"".into())
    );
    // A present null is no error under missingkey=error.
    assert_eq!(
        run_with("{{ .Values.nul }}", data(), &strict).as_deref(),
        Ok("<no value>")
    );
}

#[test]
fn step_budget_bounds_huge_ranges() {
    let opts = ExecOptions {
        max_steps: 10_000,
        ..ExecOptions::default()
    };
    let r = run_with("{{ range 1000000000 }}{{ end }}", Value::Nil, &opts);
    assert!(
        r.as_ref()
            .is_err_and(|e| e.contains("template execution budget exhausted")),
        "{r:?}"
    );
    assert!(r.is_err_and(|e| e.starts_with("template: t:")));
}

#[test]
fn output_cap() {
    let opts = ExecOptions {
        max_output: 1000,
        ..ExecOptions::default()
    };
    let r = run_with("{{ range 10000 }}xx{{ end }}", Value::Nil, &opts);
    assert!(r.is_err_and(|e| e.contains("template output exceeds the limit of 1000 bytes")));
}

#[test]
fn recursion_ends_with_an_error() {
    big_stack(|| {
        // Self-`template`: Go stops at 100000 levels; this executor at max_depth.
        let r = run("{{ define \"a\" }}{{ template \"a\" . }}{{ end }}{{ template \"a\" . }}");
        assert!(
            r.as_ref()
                .is_err_and(|e| e.ends_with("exceeded maximum template depth (1500)")),
            "{r:?}"
        );
        // Self-`include`: Helm's nested reference rule.
        let r = run("{{ define \"b\" }}{{ include \"b\" . }}{{ end }}{{ include \"b\" . }}");
        assert!(
            r.as_ref().is_err_and(|e| e.ends_with(
                "error calling include: rendering template has a nested reference name: b: unable to execute template"
            )),
            "{:?}",
            r.map_err(|e| e.chars().rev().take(200).collect::<String>())
        );
        // `tpl` recursion.
        let r = run("{{ tpl .Values.self . }}");
        let mut top = gotpl::Map::new();
        top.insert("self".into(), Value::str("{{ tpl .self . }}"));
        let r2 = run_with(
            "{{ tpl .self . }}",
            Value::map(top),
            &ExecOptions::default(),
        );
        assert!(r.is_err());
        assert!(r2.is_err_and(|e| e.contains("exceeded maximum template depth")));
    });
}

#[test]
fn nested_includes_fit_the_stack() {
    big_stack(|| {
        // 1000 levels of include, each inside an `if`, as chart helpers nest them.
        let src = "{{ define \"n\" }}{{ if gt . 0 }}{{ include \"n\" (len (slice (printf \"%*s\" . \"\") 1)) }}{{ else }}done{{ end }}{{ end }}{{ include \"n\" 1000 }}";
        assert_eq!(run(src).as_deref(), Ok("done"));
    });
}

#[test]
fn deep_nesting_is_refused_not_overflowing() {
    let src = format!("{{{{ {}1{} }}}}", "(".repeat(100_000), ")".repeat(100_000));
    assert!(run(&src).is_err_and(|e| e.contains("max expression depth exceeded")));
    let src = format!(
        "{}x{}",
        "{{ if 1 }}".repeat(100_000),
        "{{ end }}".repeat(100_000)
    );
    assert!(run(&src).is_err_and(|e| e.contains("max expression depth exceeded")));
    // 200 levels work.
    let src = format!("{{{{ {}1{} }}}}", "(".repeat(200), ")".repeat(200));
    assert_eq!(run(&src).as_deref(), Ok("1"));
}

#[test]
fn later_definitions_replace_earlier_ones() {
    let mut set = Templates::new(Arc::new(FuncMap::go()));
    let ok = set.parse("a", "{{ define \"d\" }}A{{ end }}").is_ok()
        && set.parse("b", "{{ define \"d\" }}B{{ end }}").is_ok()
        && set.parse("c", "{{ define \"d\" }}  {{ end }}").is_ok()
        && set.parse("t", "{{ template \"d\" }}").is_ok();
    assert!(ok);
    let mut env = Env::fixed(0, 1);
    let r = set.execute(
        "t",
        &Value::Nil,
        &ExecOptions::default(),
        &mut env,
        &mut Offline,
    );
    assert_eq!(r.ok().as_deref(), Some("B"));
    // A block is overridden by a later define.
    let mut set = Templates::new(Arc::new(FuncMap::go()));
    assert!(
        set.parse("base", "[{{ block \"x\" . }}default{{ end }}]")
            .is_ok()
    );
    assert!(
        set.parse("over", "{{ define \"x\" }}custom{{ end }}")
            .is_ok()
    );
    let r = set.execute(
        "base",
        &Value::Nil,
        &ExecOptions::default(),
        &mut env,
        &mut Offline,
    );
    assert_eq!(r.ok().as_deref(), Some("[custom]"));
}

#[test]
fn structured_errors() {
    let mut set = Templates::new(Arc::new(FuncMap::go()));
    assert!(set.parse("x.yaml", "a\n  {{ .Values.a.b }}").is_ok());
    let mut env = Env::fixed(0, 1);
    let e = set
        .execute(
            "x.yaml",
            &data(),
            &ExecOptions::default(),
            &mut env,
            &mut Offline,
        )
        .err();
    match e {
        Some(gotpl::Error::Exec(e)) => {
            assert_eq!(e.template, "x.yaml");
            let loc = e.location.clone();
            assert_eq!(loc.map(|l| (l.line, l.col)), Some((2, 12)));
            assert_eq!(e.context, ".Values.a.b");
            assert_eq!(e.message, "nil pointer evaluating interface {}.b");
        }
        other => panic!("{other:?}"),
    }
}
