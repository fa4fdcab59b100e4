//! A chart's values exactly as Helm computes them (`pkg/cli/values`, `strvals`,
//! `chartutil.CoalesceValues`, `ProcessDependencies`, `ValidateAgainstSchema`).
//!
//! User layers, in Helm's order whatever the command line order: `-f` files (merged deeply)
//! <- `--set-json` <- `--set` <- `--set-string` <- `--set-file`. Then dependencies are enabled
//! or disabled by `condition`/`tags`, aliased, `import-values` are applied, and the user values
//! are coalesced onto the chart's defaults and each sub-chart's (under its name, with `global:`
//! copied down); `null` deletes a default. Values are JSON whose numbers keep Helm's Go types:
//! floats are `float64`, integers `int64`. Pure.

use serde_json::{Map, Number, Value};

use super::{Chart, ChartError};
use crate::values::{self, SetMode, ValuesError, ValuesInput};

const GLOBAL: &str = "global";

/// A number as Go's `float64`.
fn float(n: &Number) -> Value {
    Number::from_f64(n.as_f64().unwrap_or(0.0))
        .map(Value::Number)
        .unwrap_or(Value::Null)
}

/// JSON decoded as Go's `encoding/json` into `interface{}`: every number a `float64`.
fn all_floats(v: Value) -> Value {
    match v {
        Value::Number(n) => float(&n),
        Value::Array(a) => Value::Array(a.into_iter().map(all_floats).collect()),
        Value::Object(m) => Value::Object(m.into_iter().map(|(k, v)| (k, all_floats(v))).collect()),
        other => other,
    }
}

/// Helm's `strvals.typedVal` on a `--set` scalar that our parser kept as a string.
fn typed(v: Value) -> Value {
    match v {
        Value::String(s) => {
            if s.eq_ignore_ascii_case("true") {
                Value::Bool(true)
            } else if s.eq_ignore_ascii_case("false") {
                Value::Bool(false)
            } else if s.eq_ignore_ascii_case("null") {
                Value::Null
            } else if s == "0" {
                Value::from(0i64)
            } else if !s.is_empty()
                && !s.starts_with('0')
                && let Some(i) = go_parse_int(&s)
            {
                Value::from(i)
            } else {
                Value::String(s)
            }
        }
        Value::Array(a) => Value::Array(a.into_iter().map(typed).collect()),
        other => other,
    }
}

/// `strconv.ParseInt(s, 10, 64)`.
fn go_parse_int(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.strip_prefix('+').unwrap_or(s).parse().ok()
}

/// Go's `mergeMaps` of `-f` files: maps merge, everything else replaces.
fn merge_maps(base: &mut Map<String, Value>, over: Map<String, Value>) {
    for (k, v) in over {
        match (base.get_mut(&k), v) {
            (Some(Value::Object(b)), Value::Object(o)) => merge_maps(b, o),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

/// The user's values, merged in Helm's order.
pub fn user_values(input: &ValuesInput) -> Result<Value, ValuesError> {
    let mut base = Map::new();
    for (what, text) in &input.files {
        let parsed = gotpl::yaml::parse_values(text).map_err(|e| ValuesError::Yaml {
            what: what.clone(),
            source: crate::yaml::YamlError::Parse {
                what: what.clone(),
                message: e.0,
            },
        })?;
        if let Value::Object(m) = parsed.to_json() {
            merge_maps(&mut base, m);
        }
    }
    let mut root = Value::Object(base);
    for expr in &input.set_json {
        let (key, json) = expr.split_once('=').ok_or_else(|| ValuesError::Set {
            flag: "--set-json",
            expr: expr.clone(),
            reason: "expected `key=JSON`".into(),
        })?;
        let path = values::parse_key("--set-json", key)?;
        let value: Value = serde_json::from_str(json).map_err(|e| ValuesError::Set {
            flag: "--set-json",
            expr: expr.clone(),
            reason: format!("value is not valid JSON: {e}"),
        })?;
        values::set_path(&mut root, &path, all_floats(value), "--set-json", expr)?;
    }
    for expr in &input.set {
        for (path, value) in values::parse_set("--set", expr, SetMode::String)? {
            values::set_path(&mut root, &path, typed(value), "--set", expr)?;
        }
    }
    for expr in &input.set_string {
        for (path, value) in values::parse_set("--set-string", expr, SetMode::String)? {
            values::set_path(&mut root, &path, value, "--set-string", expr)?;
        }
    }
    for (key, content) in &input.set_file {
        let path = values::parse_key("--set-file", key)?;
        values::set_path(
            &mut root,
            &path,
            Value::String(content.clone()),
            "--set-file",
            key,
        )?;
    }
    for expr in &input.set_literal {
        let (path, value) = values::parse_literal(expr)?;
        values::set_path(&mut root, &path, value, "--set-literal", expr)?;
    }
    Ok(root)
}

fn is_table(v: &Value) -> bool {
    v.is_object()
}

/// Helm's `coalesceTablesFullKey`: `dst` wins; with `merge`, `null` in `dst` is kept.
fn coalesce_tables(dst: &mut Map<String, Value>, mut src: Map<String, Value>, merge: bool) {
    for (k, v) in dst.iter() {
        if v.is_null() {
            src.insert(k.clone(), Value::Null);
        }
    }
    for (k, val) in src {
        match dst.get_mut(&k) {
            Some(dv) if !merge && dv.is_null() => {
                dst.remove(&k);
            }
            None => {
                dst.insert(k, val);
            }
            Some(dv) => {
                if let (Value::Object(d), Value::Object(s)) = (dv, val) {
                    coalesce_tables(d, s, merge);
                }
            }
        }
    }
}

/// Helm's `coalesceValues`: the chart's defaults under `v`.
fn coalesce_values(chart: &Chart, v: &mut Map<String, Value>, merge: bool) {
    let Value::Object(defaults) = &chart.values else {
        return;
    };
    for (key, val) in defaults {
        match v.get_mut(key) {
            Some(value) => {
                if value.is_null() && !merge {
                    v.remove(key);
                } else if let (Value::Object(dest), Value::Object(src)) = (value, val) {
                    let merge = merge || chart.dependencies.iter().any(|d| d.name() == key);
                    coalesce_tables(dest, src.clone(), merge);
                }
            }
            None => {
                v.insert(key.clone(), val.clone());
            }
        }
    }
}

/// Helm's `coalesceGlobals`: the parent's `global:` merged into the sub-chart's.
fn coalesce_globals(dest: &mut Map<String, Value>, src: &Map<String, Value>) {
    let mut dg = match dest.get(GLOBAL) {
        None => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => return,
    };
    let sg = match src.get(GLOBAL) {
        None => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => return,
    };
    for (key, val) in sg {
        if let Value::Object(vv) = &val {
            let mut vv = vv.clone();
            match dg.get(&key) {
                None => {
                    dg.insert(key, Value::Object(vv));
                }
                Some(Value::Object(destv)) => {
                    coalesce_tables(&mut vv, destv.clone(), true);
                    dg.insert(key, Value::Object(vv));
                }
                Some(_) => {}
            }
        } else if dg.get(&key).is_some_and(is_table) {
        } else {
            dg.insert(key, val);
        }
    }
    dest.insert(GLOBAL.into(), Value::Object(dg));
}

fn coalesce(chart: &Chart, dest: &mut Map<String, Value>, merge: bool) -> Result<(), ChartError> {
    coalesce_values(chart, dest, merge);
    for sub in &chart.dependencies {
        let name = sub.name().to_string();
        let mut dv = match dest.remove(&name) {
            None => Map::new(),
            Some(Value::Object(m)) => m,
            Some(_) => return Err(ChartError::ValuesType { name }),
        };
        coalesce_globals(&mut dv, dest);
        coalesce(sub, &mut dv, merge)?;
        dest.insert(name, Value::Object(dv));
    }
    Ok(())
}

/// Helm's `CoalesceValues` (`merge = false`) and `MergeValues` (`merge = true`).
pub fn coalesce_all(chart: &Chart, vals: &Value, merge: bool) -> Result<Value, ChartError> {
    let mut dest = match vals {
        Value::Object(m) => m.clone(),
        _ => Map::new(),
    };
    coalesce(chart, &mut dest, merge)?;
    Ok(Value::Object(dest))
}

/// `Values.Table`: the map at a dotted path.
fn table<'a>(v: &'a Value, path: &str) -> Option<&'a Map<String, Value>> {
    let mut cur = v;
    for part in path.split('.') {
        cur = cur.as_object()?.get(part)?;
    }
    cur.as_object()
}

/// `Values.PathValue`: a non-table value at a dotted path.
fn path_value<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    let (parent, key) = match path.rsplit_once('.') {
        Some((p, k)) => (Some(p), k),
        None => (None, path),
    };
    let t = match parent {
        Some(p) => table(v, p)?,
        None => v.as_object()?,
    };
    t.get(key).filter(|x| !is_table(x))
}

fn compatible(constraint: &str, version: &str) -> bool {
    super::semver::matches(constraint, version)
}

/// Helm's `processDependencyEnabled`: aliases applied, disabled sub-charts removed, at every
/// level. `path` is the values path of `chart` (`sub.` for a sub-chart).
fn process_enabled(chart: &mut Chart, user: &Value, path: &str) -> Result<(), ChartError> {
    if chart.metadata.dependencies.is_empty() {
        return Ok(());
    }
    let mut deps: Vec<Chart> = Vec::new();
    for existing in &chart.dependencies {
        let listed = chart.metadata.dependencies.iter().any(|r| {
            existing.name() == r.name && compatible(&r.version, &existing.metadata.version)
        });
        if !listed {
            deps.push(existing.clone());
        }
    }
    for req in &mut chart.metadata.dependencies {
        if let Some(found) = chart
            .dependencies
            .iter()
            .find(|c| c.name() == req.name && compatible(&req.version, &c.metadata.version))
        {
            let mut copy = found.clone();
            if !req.alias.is_empty() {
                copy.metadata.name = req.alias.clone();
            }
            deps.push(copy);
        }
        if !req.alias.is_empty() {
            req.name = req.alias.clone();
        }
        req.enabled = true;
    }
    chart.dependencies = deps;
    let cvals = coalesce_all(chart, user, false)?;
    // Tags.
    if let Some(tags) = table(&cvals, "tags") {
        for r in &mut chart.metadata.dependencies {
            let (mut has_true, mut has_false) = (false, false);
            for k in &r.tags {
                match tags.get(k) {
                    Some(Value::Bool(true)) => has_true = true,
                    Some(Value::Bool(false)) => has_false = true,
                    _ => {}
                }
            }
            r.enabled = has_true || !has_false;
        }
    }
    // Conditions.
    for r in &mut chart.metadata.dependencies {
        for c in r.condition.trim().split(',') {
            if c.is_empty() {
                continue;
            }
            if let Some(Value::Bool(b)) = path_value(&cvals, &format!("{path}{c}")) {
                r.enabled = *b;
                break;
            }
        }
    }
    let disabled: Vec<String> = chart
        .metadata
        .dependencies
        .iter()
        .filter(|r| !r.enabled)
        .map(|r| r.name.clone())
        .collect();
    chart
        .dependencies
        .retain(|d| !disabled.iter().any(|n| n == d.name()));
    chart
        .metadata
        .dependencies
        .retain(|r| !disabled.contains(&r.name));
    for sub in &mut chart.dependencies {
        let subpath = format!("{path}{}.", sub.name());
        process_enabled(sub, &cvals, &subpath)?;
    }
    Ok(())
}

/// `pathToMap`: `a.b` and a table -> `{a: {b: table}}`.
fn path_to_map(path: &str, data: Map<String, Value>) -> Map<String, Value> {
    if path == "." {
        return data;
    }
    let mut cur = data;
    for part in path.split('.').rev() {
        let mut m = Map::new();
        m.insert(part.to_string(), Value::Object(cur));
        cur = m;
    }
    cur
}

/// Helm's `processImportValues` with merging (Helm 3.14+ and 4): children first.
fn process_imports(chart: &mut Chart) -> Result<(), ChartError> {
    for d in &mut chart.dependencies {
        process_imports(d)?;
    }
    if chart.metadata.dependencies.is_empty() {
        return Ok(());
    }
    let cvals = coalesce_all(chart, &Value::Object(Map::new()), true)?;
    let mut b = Map::new();
    for r in &mut chart.metadata.dependencies {
        let mut out = Vec::new();
        for riv in &r.import_values {
            let (child, parent) = match riv {
                Value::Object(iv) => {
                    let (Some(Value::String(c)), Some(Value::String(p))) =
                        (iv.get("child"), iv.get("parent"))
                    else {
                        continue;
                    };
                    (c.clone(), p.clone())
                }
                Value::String(s) => (format!("exports.{s}"), ".".to_string()),
                _ => continue,
            };
            let mut m = Map::new();
            m.insert("child".into(), Value::String(child.clone()));
            m.insert("parent".into(), Value::String(parent.clone()));
            out.push(Value::Object(m));
            if let Some(vv) = table(&cvals, &format!("{}.{child}", r.name)) {
                coalesce_tables(&mut b, path_to_map(&parent, vv.clone()), true);
            }
        }
        r.import_values = out;
    }
    let mut merged = match cvals {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    coalesce_tables(&mut merged, b, true);
    chart.values = Value::Object(merged);
    Ok(())
}

/// The chart as Helm renders it for these user values: disabled sub-charts removed, aliases
/// applied, imported values in place.
pub fn process_dependencies(chart: &Chart, user: &Value) -> Result<Chart, ChartError> {
    let mut c = chart.clone();
    process_enabled(&mut c, user, "")?;
    process_imports(&mut c)?;
    Ok(c)
}

/// Helm's `ValidateAgainstSchema`: each chart's schema against its scoped values.
pub fn validate(chart: &Chart, values: &Value) -> Result<(), ChartError> {
    fn any_schema(c: &Chart) -> bool {
        c.schema.is_some() || c.dependencies.iter().any(any_schema)
    }
    if !any_schema(chart) {
        return Ok(());
    }
    let mut report = String::new();
    // Helm validates the values' JSON (`json.Marshal`): a float64 with an integral value is
    // written as an integer (`2`, not `2.0`), which every draft's `integer` type accepts.
    let as_json = integral_floats_as_integers(values.clone());
    validate_into(chart, &as_json, "", &mut report);
    if report.is_empty() {
        Ok(())
    } else {
        Err(ChartError::SchemaViolations(report.trim_end().to_string()))
    }
}

fn validate_into(chart: &Chart, values: &Value, prefix: &str, out: &mut String) {
    let here = if prefix.is_empty() {
        chart.name().to_string()
    } else {
        format!("{prefix}.{}", chart.name())
    };
    if let Some(schema) = &chart.schema {
        let violations = schema.violations(values);
        if !violations.is_empty() {
            out.push_str(&format!("{here}:\n"));
            for v in violations {
                out.push_str(&format!("  - {}: {}\n", v.path, v.message));
            }
        }
    }
    for sub in &chart.dependencies {
        let empty = Value::Object(Map::new());
        let scoped = values.get(sub.name()).unwrap_or(&empty);
        validate_into(sub, scoped, &here, out);
    }
}

/// The values a chart renders with: dependencies processed, user values coalesced onto the
/// defaults, and the schemas checked. Returns the processed chart and the values.
pub fn resolve(chart: &Chart, input: &ValuesInput) -> Result<(Chart, Value), ResolveError> {
    let user = user_values(input)?;
    Ok(resolve_user(chart, &user, input.skip_schema_validation)?)
}

/// [`resolve`] from the user's values already merged (a release's values, `--reuse-values`).
pub fn resolve_user(
    chart: &Chart,
    user: &Value,
    skip_schema_validation: bool,
) -> Result<(Chart, Value), ChartError> {
    super::check_dependencies(chart)?;
    let processed = process_dependencies(chart, user)?;
    let vals = coalesce_all(&processed, user, false)?;
    if !skip_schema_validation {
        validate(&processed, &vals)?;
    }
    Ok((processed, vals))
}

/// Resolving a chart's values failed.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error(transparent)]
    Values(#[from] ValuesError),
    #[error(transparent)]
    Chart(#[from] ChartError),
}

/// What Go's `json.Marshal` writes for float64s: integral values below 1e21 without a fraction.
pub fn integral_floats_as_integers(v: Value) -> Value {
    match v {
        Value::Number(n) if n.is_f64() => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 1e21 && f.abs() <= i64::MAX as f64 => {
                Value::from(f as i64)
            }
            _ => Value::Number(n),
        },
        Value::Array(a) => Value::Array(a.into_iter().map(integral_floats_as_integers).collect()),
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| (k, integral_floats_as_integers(v)))
                .collect(),
        ),
        other => other,
    }
}

/// JSON values (numbers typed as above) to template values: a float is a Go `float64`, an
/// integer an `int64`.
pub fn to_template_value(v: &Value) -> gotpl::Value {
    match v {
        Value::Null => gotpl::Value::Nil,
        Value::Bool(b) => gotpl::Value::Bool(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) if !n.is_f64() => gotpl::Value::Int64(i),
            _ => gotpl::Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => gotpl::Value::str(s.as_str()),
        Value::Array(a) => gotpl::Value::list(a.iter().map(to_template_value).collect()),
        Value::Object(m) => gotpl::Value::map(
            m.iter()
                .map(|(k, v)| (k.clone(), to_template_value(v)))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn chart(files: &[(&str, &str)]) -> Chart {
        let f = files
            .iter()
            .map(|(p, d)| (p.to_string(), d.as_bytes().to_vec()))
            .collect();
        super::super::load(&f).unwrap()
    }

    #[test]
    fn helm_layer_order_and_types() {
        // `helm template` gives {"b":{"c":7},"j":3 (int64),"k":3 (float64),"s":"1","s2":5}.
        let v = user_values(&ValuesInput {
            set: vec![
                "b.c=7".into(),
                "s2=+5".into(),
                "j=3".into(),
                "n=null".into(),
            ],
            set_json: vec![r#"b={"c":5}"#.into(), "k=3".into()],
            set_string: vec!["s=1".into()],
            ..Default::default()
        })
        .unwrap();
        assert_eq!(
            v,
            json!({"b": {"c": 7}, "s2": 5, "j": 3, "k": 3.0, "s": "1", "n": null})
        );
        assert!(v["k"].as_number().unwrap().is_f64());
        assert!(!v["j"].as_number().unwrap().is_f64());
    }

    #[test]
    fn null_deletes_defaults_and_subchart_defaults() {
        let c = chart(&[
            ("Chart.yaml", "apiVersion: v2\nname: p\nversion: 1.0.0\n"),
            ("values.yaml", "a: 1\nb: 2\nglobal: {g: 1}\n"),
            (
                "charts/s/Chart.yaml",
                "apiVersion: v2\nname: s\nversion: 1.0.0\n",
            ),
            ("charts/s/values.yaml", "x: 1\nz: 2\n"),
        ]);
        let user = json!({"a": null, "s": {"x": null}, "extra": null});
        let v = coalesce_all(&c, &user, false).unwrap();
        assert_eq!(
            v,
            json!({"b": 2.0, "global": {"g": 1.0}, "extra": null,
                   "s": {"z": 2.0, "global": {"g": 1.0}}})
        );
    }
}
