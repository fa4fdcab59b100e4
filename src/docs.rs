//! Package documentation: the values table in a package's README, generated from
//! `values.schema.json` and the defaults. Pure, no IO.
//!
//! The table lives between `<!-- values:start -->` and `<!-- values:end -->`; `cocktail-pkg docs`
//! rewrites it and `cocktail-pkg docs --check` fails when it is stale.
//!
//! Ours: one row per value the schema describes, in schema order. A Helm chart: one row per leaf
//! of `values.yaml` (dotted path, type, default), keys sorted, described by the comments chart
//! authors write for helm-docs (`# -- description` above a key, continued by the comment lines
//! that follow; `# -- (type) description`; `# @default -- text`; `# @ignored`; the older
//! `# path.to.key -- description`) or for Bitnami's readme-generator (`## @param path
//! description`, `## @skip path`), else by the schema's `description`. A map with its own
//! `# --` description is one row, and only its described keys get rows of their own.

use std::collections::BTreeMap;

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
/// A chart's rows come from its `values.yaml` ([`chart_rows`]).
pub fn rows(pkg: &Package) -> Vec<Row> {
    if let Some(chart) = pkg.chart() {
        let text = chart
            .raw
            .get("values.yaml")
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default();
        return chart_rows(&text, &pkg.values, pkg.schema_json.as_ref());
    }
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

/// What the comments of a chart's `values.yaml` say about one key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Note {
    description: String,
    kind: Option<String>,
    default: Option<String>,
    ignored: bool,
}

/// A `# --` comment being read, waiting for the key it describes.
#[derive(Debug, Default)]
struct Pending {
    note: Note,
    /// Plain comment lines right after `# --` continue the description.
    continues: bool,
}

/// The rows of a chart's values table: every leaf of `values` (maps are walked, lists and
/// empty maps are leaves) by dotted path, described from the comments of `values_yaml` and the
/// schema.
pub fn chart_rows(values_yaml: &str, values: &Value, schema: Option<&Value>) -> Vec<Row> {
    let notes = comment_notes(values_yaml);
    let mut out = Vec::new();
    chart_walk(values, &mut Vec::new(), &notes, schema, false, &mut out);
    out
}

fn chart_walk(
    v: &Value,
    path: &mut Vec<String>,
    notes: &BTreeMap<String, Note>,
    schema: Option<&Value>,
    only_described: bool,
    out: &mut Vec<Row>,
) {
    let key = path.join(".");
    let note = notes.get(&key);
    if note.is_some_and(|n| n.ignored) {
        return;
    }
    let described = note.is_some_and(|n| !n.description.is_empty());
    let node = schema.and_then(|root| schema_node(root, path));
    match v {
        Value::Object(m) if !m.is_empty() || path.is_empty() => {
            if described {
                out.push(chart_row(&key, v, note, node));
            }
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            for k in keys {
                path.push(k.clone());
                chart_walk(&m[k], path, notes, schema, only_described || described, out);
                path.pop();
            }
        }
        _ => {
            if only_described && !described {
                return;
            }
            out.push(chart_row(&key, v, note, node));
        }
    }
}

fn chart_row(key: &str, v: &Value, note: Option<&Note>, node: Option<&Value>) -> Row {
    let v = integral(v);
    let schema_kind = node
        .filter(|n| n.get("type").is_some() || n.get("enum").is_some())
        .map(kind_of);
    Row {
        key: key.to_string(),
        kind: note
            .and_then(|n| n.kind.clone())
            .or(schema_kind)
            .unwrap_or_else(|| json_kind(&v).to_string()),
        default: match note.and_then(|n| n.default.as_deref()) {
            Some(d) => format!("`{}`", d.replace('|', "\\|").replace('`', "'")),
            None => format_default(&v),
        },
        description: note
            .map(|n| n.description.clone())
            .filter(|d| !d.is_empty())
            .or_else(|| {
                node.and_then(|n| n.get("description"))
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
            .unwrap_or_default(),
    }
}

/// Helm reads every number of `values.yaml` as a float; the table shows whole ones as
/// integers, as they are written.
fn integral(v: &Value) -> Value {
    match v {
        Value::Number(n) if n.is_f64() => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Value::from(f as i64),
            _ => v.clone(),
        },
        Value::Array(items) => Value::Array(items.iter().map(integral).collect()),
        Value::Object(m) => {
            Value::Object(m.iter().map(|(k, x)| (k.clone(), integral(x))).collect())
        }
        other => other.clone(),
    }
}

/// The schema node describing `path` (through `properties`, `$ref`s resolved).
fn schema_node<'a>(root: &'a Value, path: &[String]) -> Option<&'a Value> {
    let mut node = resolve(root, root);
    for k in path {
        node = resolve(root, node.get("properties")?.get(k)?);
    }
    Some(node)
}

/// Reads the helm-docs and readme-generator comments of a `values.yaml`, by dotted key path.
/// A line-based reading that follows block-map indentation; keys inside lists are not
/// documented (as helm-docs).
fn comment_notes(text: &str) -> BTreeMap<String, Note> {
    let mut notes: BTreeMap<String, Note> = BTreeMap::new();
    // Open block maps (and lists, as `None`) by indentation.
    let mut stack: Vec<(usize, Option<String>)> = Vec::new();
    let mut pending: Option<Pending> = None;
    let mut block: Option<usize> = None;
    for line in text.lines() {
        let trimmed = line.trim_start_matches([' ', '\t']);
        let indent = line.len() - trimmed.len();
        if let Some(b) = block {
            if trimmed.is_empty() || indent > b {
                continue;
            }
            block = None;
        }
        if trimmed.is_empty() {
            continue;
        }
        if let Some(comment) = trimmed.strip_prefix('#') {
            read_comment(comment, &mut pending, &mut notes);
            continue;
        }
        if trimmed == "---" || trimmed.starts_with("--- ") || trimmed == "..." {
            stack.clear();
            pending = None;
            continue;
        }
        while stack.last().is_some_and(|(i, _)| *i >= indent) {
            stack.pop();
        }
        if trimmed == "-" || trimmed.starts_with("- ") {
            stack.push((indent, None));
            pending = None;
            continue;
        }
        let Some((key, rest)) = split_key(trimmed) else {
            pending = None;
            continue;
        };
        let in_list = stack.iter().any(|(_, k)| k.is_none());
        let note = pending.take().map(|p| p.note);
        if !in_list && let Some(note) = note {
            let mut path: Vec<&str> = stack.iter().filter_map(|(_, k)| k.as_deref()).collect();
            path.push(&key);
            let entry = notes.entry(path.join(".")).or_default();
            merge(entry, note);
        }
        let value = strip_props(rest);
        if value.starts_with(['|', '>']) {
            block = Some(indent);
        } else if value.is_empty() || value.starts_with('#') {
            stack.push((indent, Some(key)));
        }
    }
    notes
}

fn merge(into: &mut Note, note: Note) {
    if !note.description.is_empty() {
        into.description = note.description;
    }
    if note.kind.is_some() {
        into.kind = note.kind;
    }
    if note.default.is_some() {
        into.default = note.default;
    }
    into.ignored |= note.ignored;
}

/// One comment line (without its first `#`).
fn read_comment(comment: &str, pending: &mut Option<Pending>, notes: &mut BTreeMap<String, Note>) {
    let body = comment.trim_start_matches('#').trim();
    if body == "--" || body.starts_with("-- ") {
        let mut text = body[2..].trim();
        let mut kind = None;
        if let Some(r) = text.strip_prefix('(')
            && let Some((k, after)) = r.split_once(')')
        {
            kind = Some(k.trim().to_string());
            text = after.trim();
        }
        *pending = Some(Pending {
            note: Note {
                description: text.to_string(),
                kind,
                ..Note::default()
            },
            continues: true,
        });
        return;
    }
    if let Some(rest) = body.strip_prefix("@default") {
        // helm-docs authors often write the default in backticks already.
        let value = rest
            .trim_start()
            .trim_start_matches("--")
            .trim()
            .trim_matches('`');
        let p = pending.get_or_insert_with(Pending::default);
        p.note.default = Some(value.to_string());
        p.continues = false;
        return;
    }
    if body.starts_with("@ignored") {
        let p = pending.get_or_insert_with(Pending::default);
        p.note.ignored = true;
        p.continues = false;
        return;
    }
    if let Some(rest) = body.strip_prefix("@param ") {
        let rest = rest.trim();
        let (path, description) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
        notes.entry(path.to_string()).or_default().description = description.trim().to_string();
        return;
    }
    if let Some(rest) = body.strip_prefix("@skip ") {
        notes.entry(rest.trim().to_string()).or_default().ignored = true;
        return;
    }
    if body.starts_with('@') {
        // Other readme-generator or helm-docs annotations (@section, @extra, @raw...).
        return;
    }
    // The older helm-docs form names the key: `# path.to.key -- description`.
    if let Some((path, description)) = body.split_once(" -- ")
        && !path.is_empty()
        && !path.contains(char::is_whitespace)
    {
        notes.entry(path.to_string()).or_default().description = description.trim().to_string();
        return;
    }
    if let Some(p) = pending
        && p.continues
    {
        if !p.note.description.is_empty() && !body.is_empty() {
            p.note.description.push(' ');
        }
        p.note.description.push_str(body);
    }
}

/// A block-map key line: the key (unquoted) and what follows its colon.
fn split_key(line: &str) -> Option<(String, &str)> {
    for quote in ['"', '\''] {
        if let Some(rest) = line.strip_prefix(quote) {
            let end = rest.find(quote)?;
            let after = rest[end + 1..].trim_start_matches([' ', '\t']);
            let value = after.strip_prefix(':')?;
            return Some((rest[..end].to_string(), value));
        }
    }
    if line.starts_with(['{', '[', '&', '*', '!', '|', '>', '?', '%', '@', '`']) {
        return None;
    }
    let bytes = line.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'#' && i > 0 && matches!(bytes[i - 1], b' ' | b'\t') {
            return None;
        }
        if *b == b':' && matches!(bytes.get(i + 1), None | Some(b' ' | b'\t')) {
            let key = line[..i].trim_end();
            if key.is_empty() {
                return None;
            }
            return Some((key.to_string(), &line[i + 1..]));
        }
    }
    None
}

/// The value part of a key line without an anchor or tag in front (`&anchor`, `!!map`).
fn strip_props(rest: &str) -> &str {
    let mut v = rest.trim();
    while v.starts_with(['&', '!']) {
        v = v
            .split_once(char::is_whitespace)
            .map_or("", |(_, r)| r.trim_start());
    }
    v
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_comments_are_read_by_key_path() {
        let text = r#"# -- top
# continued
a: 1
b:
  # -- nested (with: colon)
  "quoted key": x
  'single': y
  block: |
    # -- inside a block scalar, not a comment
    c: 1
  # -- after the block
  after: 2
  list:
    - name: x
      # -- inside a list
      value: y
  # -- (int) typed
  # @default -- `3`
  typed:
anchored: &anchor
  # -- under an anchor
  k: v
# anchored.k -- old style wins later
# @param b.after Bitnami style
## @skip b.list
url: http://x:8080  # -- not a key comment
---
# -- second document
z: 1
"#;
        let notes = comment_notes(text);
        let d = |k: &str| notes.get(k).map(|n| n.description.as_str());
        assert_eq!(d("a"), Some("top continued"));
        assert_eq!(d("b.quoted key"), Some("nested (with: colon)"));
        assert_eq!(d("b.single"), None);
        assert_eq!(d("b.after"), Some("Bitnami style"));
        assert_eq!(d("b.list.value"), None);
        assert_eq!(d("c"), None);
        assert_eq!(d("b.c"), None);
        let typed = &notes["b.typed"];
        assert_eq!(typed.kind.as_deref(), Some("int"));
        assert_eq!(typed.default.as_deref(), Some("3"));
        assert_eq!(d("anchored.k"), Some("old style wins later"));
        assert!(notes["b.list"].ignored);
        assert_eq!(d("z"), Some("second document"));
        assert_eq!(d("url"), None);
    }

    #[test]
    fn chart_rows_walk_values_with_notes_and_schema() {
        let values = serde_json::json!({
            "replicas": 2.0,
            "ratio": 0.5,
            "image": {"tag": null, "repo": "nginx"},
            "empty": {},
        });
        let schema = serde_json::json!({
            "properties": {"image": {"$ref": "#/$defs/image"}},
            "$defs": {"image": {"properties": {"repo": {"type": "string", "description": "from the schema"}}}}
        });
        let rows = chart_rows(
            "# -- how many\nreplicas: 2\nimage:\n  # -- (string) the tag\n  tag:\n",
            &values,
            Some(&schema),
        );
        let got: Vec<(&str, &str, &str, &str)> = rows
            .iter()
            .map(|r| {
                (
                    r.key.as_str(),
                    r.kind.as_str(),
                    r.default.as_str(),
                    r.description.as_str(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("empty", "object", "`{}`", ""),
                ("image.repo", "string", "`\"nginx\"`", "from the schema"),
                ("image.tag", "string", "`null`", "the tag"),
                ("ratio", "number", "`0.5`", ""),
                ("replicas", "integer", "`2`", "how many"),
            ]
        );
    }
}
