//! Package documentation: the values table in a package's README, generated from
//! `values.schema.json` and the defaults. Pure, no IO.
//!
//! The table lives between `<!-- values:start -->` and `<!-- values:end -->`; `cocktail-pkg docs`
//! rewrites it and `cocktail-pkg docs --check` fails when it is stale.

use serde_json::Value;

use crate::package::Package;
use crate::values::{GENERATE_KEYWORD, SECRET_KEYWORD};

pub const START: &str = "<!-- values:start -->";
pub const END: &str = "<!-- values:end -->";

/// Why the README could not be updated.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DocsError {
    #[error("README.md has no `{START}` ... `{END}` block")]
    NoMarkers,
    #[error("package has no README.md")]
    NoReadme,
}

impl DocsError {
    pub fn hint(&self) -> Option<String> {
        Some(format!(
            "add a `## Values` section with the two lines `{START}` and `{END}` to README.md"
        ))
    }
}

/// One row of the values table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub key: String,
    pub kind: String,
    pub default: String,
    pub description: String,
}

/// The rows for every documented value, in schema order. Without a schema, the defaults' keys.
pub fn rows(pkg: &Package) -> Vec<Row> {
    let mut out = Vec::new();
    match &pkg.schema_json {
        Some(schema) => walk(schema, schema, &mut Vec::new(), &pkg.values, &mut out),
        None => walk_values(&pkg.values, &mut Vec::new(), &mut out),
    }
    out
}

fn resolve<'a>(root: &'a Value, node: &'a Value) -> &'a Value {
    let mut cur = node;
    for _ in 0..16 {
        match cur.get("$ref").and_then(Value::as_str) {
            Some(r) if r.starts_with("#/") => match root.pointer(&r[1..]) {
                Some(next) => cur = next,
                None => break,
            },
            _ => break,
        }
    }
    cur
}

fn walk(root: &Value, node: &Value, path: &mut Vec<String>, defaults: &Value, out: &mut Vec<Row>) {
    // Shared definitions (`$ref`) are documented as one value, not expanded.
    let is_ref = node.get("$ref").is_some();
    let node = resolve(root, node);
    if let Some(Value::Object(props)) = node.get("properties")
        && !is_ref
        && (path.is_empty() || !props.is_empty())
        && node.get(GENERATE_KEYWORD).is_none()
    {
        for (k, sub) in props {
            path.push(k.clone());
            walk(root, sub, path, defaults, out);
            path.pop();
        }
        return;
    }
    if path.is_empty() {
        return;
    }
    out.push(Row {
        key: path.join("."),
        kind: kind_of(node),
        default: default_of(node, lookup(defaults, path)),
        description: node
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
    });
}

fn walk_values(v: &Value, path: &mut Vec<String>, out: &mut Vec<Row>) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            for (k, sub) in m {
                path.push(k.clone());
                walk_values(sub, path, out);
                path.pop();
            }
        }
        _ if !path.is_empty() => out.push(Row {
            key: path.join("."),
            kind: json_kind(v).into(),
            default: format_default(v),
            description: String::new(),
        }),
        _ => {}
    }
}

fn lookup<'a>(v: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(v, |cur, k| cur.get(k))
}

fn kind_of(node: &Value) -> String {
    if let Some(Value::Array(choices)) = node.get("enum") {
        return choices
            .iter()
            .map(|c| match c {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect::<Vec<_>>()
            .join(" \\| ");
    }
    match node.get("type") {
        Some(Value::String(t)) => t.clone(),
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" \\| "),
        _ => "any".into(),
    }
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn default_of(node: &Value, value: Option<&Value>) -> String {
    if node.get(GENERATE_KEYWORD).is_some() {
        return "generated at install".into();
    }
    if node.get(SECRET_KEYWORD) == Some(&Value::Bool(true)) {
        return match value {
            None | Some(Value::Null) => "unset".into(),
            Some(_) => "(secret)".into(),
        };
    }
    match value {
        None => "unset".into(),
        Some(v) => format_default(v),
    }
}

fn format_default(v: &Value) -> String {
    let text = match v {
        Value::String(s) if s.contains('\n') => return "(multi-line text)".into(),
        Value::Object(m) if m.is_empty() => "{}".to_string(),
        other => other.to_string(),
    };
    let short: String = if text.chars().count() > 60 {
        text.chars().take(57).collect::<String>() + "..."
    } else {
        text
    };
    format!("`{}`", short.replace('|', "\\|").replace('`', "'"))
}

/// The Markdown table.
pub fn table(rows: &[Row]) -> String {
    let mut s = String::from("| Key | Type | Default | Description |\n|---|---|---|---|\n");
    for r in rows {
        s.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            r.key,
            r.kind,
            r.default,
            r.description.replace('|', "\\|").replace('\n', " ")
        ));
    }
    s
}

/// The README with its values block replaced by a fresh table.
pub fn update_readme(readme: &str, pkg: &Package) -> Result<String, DocsError> {
    let start = readme.find(START).ok_or(DocsError::NoMarkers)?;
    let end = readme.find(END).ok_or(DocsError::NoMarkers)?;
    if end < start {
        return Err(DocsError::NoMarkers);
    }
    let mut out = String::with_capacity(readme.len() + 4096);
    out.push_str(&readme[..start + START.len()]);
    out.push('\n');
    out.push_str(&table(&rows(pkg)));
    out.push_str(&readme[end..]);
    Ok(out)
}
