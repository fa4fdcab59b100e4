//! Values: the user-facing configuration of a package.
//!
//! Layers, lowest first: package defaults <- each `-f` file in order <- `--set` <- `--set-string`
//! <- `--set-file` <- `--set-json`. The user layers are first merged into one *overlay* (later
//! layers win, `null` is kept), then the overlay is coalesced onto the defaults: maps merge deeply,
//! lists and scalars replace, and `null` deletes the key. This is the order Helm users know.
//! The result is checked against `values.schema.json` (JSON Schema 2020-12 unless `$schema` says
//! otherwise); every violation is reported with its path. Pure: file contents come in as text.

use serde_json::{Map, Value};

use crate::yaml::{self, YamlError};

/// Largest list index `--set` accepts (`a[10000]=x` is refused, not a 10,000-slot list).
pub const MAX_SET_INDEX: usize = 10_000;

/// A values step that failed.
#[derive(Debug, thiserror::Error)]
pub enum ValuesError {
    #[error("failed to read values from {what}")]
    Yaml {
        what: String,
        #[source]
        source: YamlError,
    },
    #[error("{what} must be a map of values at the top level, found {found}")]
    NotAMap { what: String, found: &'static str },
    #[error("invalid {flag} `{expr}`: {reason}")]
    Set {
        flag: &'static str,
        expr: String,
        reason: String,
    },
    #[error("values.schema.json is not a valid JSON Schema: {0}")]
    BadSchema(String),
    #[error("values do not match values.schema.json ({} violation{}):\n{}", .0.len(), if .0.len() == 1 { "" } else { "s" }, format_violations(.0))]
    Schema(Vec<Violation>),
}

impl ValuesError {
    pub fn hint(&self) -> Option<String> {
        match self {
            ValuesError::Yaml { source, .. } => source.hint(),
            ValuesError::NotAMap { .. } => Some("a values file looks like `key: value`".into()),
            ValuesError::Set { flag, .. } => Some(format!(
                "{flag} takes `path.to.key=value`; escape literal dots and commas as `\\.` and `\\,`; lists use `a[0]=x` or `a={{x,y}}`"
            )),
            ValuesError::BadSchema(_) => Some("fix values.schema.json in the package".into()),
            ValuesError::Schema(violations) => {
                let mut hint = "see the package's values with `cocktail-pkg show values PKG` and its schema with `cocktail-pkg show schema PKG`".to_string();
                // `--set tag=16` or `--set enabled=true` types the value; a string field
                // needs `--set-string`.
                let scalar_for_string = |m: &str| {
                    m.strip_suffix(" is not of type \"string\"")
                        .is_some_and(|v| v == "true" || v == "false" || v.parse::<f64>().is_ok())
                };
                if let Some(v) = violations.iter().find(|v| scalar_for_string(&v.message)) {
                    let key = v.path.trim_start_matches("$.");
                    hint = format!(
                        "`--set` reads numbers and booleans as such: pass a string with `--set-string {key}=VALUE` (or quote it in a values file); {hint}"
                    );
                }
                Some(hint)
            }
        }
    }
}

/// One schema violation: where (`$.service.port`) and what.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Violation {
    pub path: String,
    pub message: String,
}

fn format_violations(v: &[Violation]) -> String {
    v.iter()
        .map(|v| format!("  - {}: {}", v.path, v.message))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The user's value layers, in the order they are applied. File contents are already read.
#[derive(Debug, Clone, Default)]
pub struct ValuesInput {
    /// `-f/--values`: (name for errors, YAML text).
    pub files: Vec<(String, String)>,
    /// `--set a.b=c` (typed like Helm: bool, int, null inferred).
    pub set: Vec<String>,
    /// `--set-string a.b=c` (always strings).
    pub set_string: Vec<String>,
    /// `--set-file key=path`, with the file already read: (key, content).
    pub set_file: Vec<(String, String)>,
    /// `--set-json key=JSON`.
    pub set_json: Vec<String>,
    /// `--set-literal key=value`: the value verbatim, a string (commas, braces, `null` kept).
    pub set_literal: Vec<String>,
    /// `--skip-schema-validation` (charts): the values are not checked against the charts'
    /// `values.schema.json`.
    pub skip_schema_validation: bool,
}

/// One `--set-literal KEY=VALUE`: the key's path and the value, verbatim, as a string.
pub fn parse_literal(expr: &str) -> Result<(Vec<Seg>, Value), ValuesError> {
    let (key, raw) = expr.split_once('=').ok_or_else(|| ValuesError::Set {
        flag: "--set-literal",
        expr: expr.to_string(),
        reason: "expected `key=value`".into(),
    })?;
    let path = parse_key("--set-literal", key)?;
    Ok((path, Value::String(raw.to_string())))
}

/// Parses a values YAML text into a map; an empty file is an empty map.
pub fn parse_values(what: &str, text: &str) -> Result<Map<String, Value>, ValuesError> {
    let v: Option<Value> = yaml::from_str_opt(what, text).map_err(|source| ValuesError::Yaml {
        what: what.to_string(),
        source,
    })?;
    match v {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(m)) => Ok(m),
        Some(other) => Err(ValuesError::NotAMap {
            what: what.to_string(),
            found: type_name(&other),
        }),
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a map",
    }
}

/// Merges the user layers into one overlay: later layers win, maps merge, `null` is kept so it
/// can delete a default later.
pub fn user_overlay(input: &ValuesInput) -> Result<Value, ValuesError> {
    let mut overlay = Value::Object(Map::new());
    for (what, text) in &input.files {
        merge_keep_null(&mut overlay, Value::Object(parse_values(what, text)?));
    }
    for expr in &input.set {
        for (path, value) in parse_set("--set", expr, SetMode::Typed)? {
            set_path(&mut overlay, &path, value, "--set", expr)?;
        }
    }
    for expr in &input.set_string {
        for (path, value) in parse_set("--set-string", expr, SetMode::String)? {
            set_path(&mut overlay, &path, value, "--set-string", expr)?;
        }
    }
    for (key, content) in &input.set_file {
        let path = parse_key("--set-file", key)?;
        set_path(
            &mut overlay,
            &path,
            Value::String(content.clone()),
            "--set-file",
            key,
        )?;
    }
    for expr in &input.set_json {
        let (key, json) = split_assignment("--set-json", expr)?;
        let path = parse_key("--set-json", &key)?;
        let value: Value = serde_json::from_str(&json).map_err(|e| ValuesError::Set {
            flag: "--set-json",
            expr: expr.clone(),
            reason: format!("value is not valid JSON: {e}"),
        })?;
        set_path(&mut overlay, &path, value, "--set-json", expr)?;
    }
    for expr in &input.set_literal {
        let (path, value) = parse_literal(expr)?;
        set_path(&mut overlay, &path, value, "--set-literal", expr)?;
    }
    Ok(overlay)
}

/// Coalesces the overlay onto the package defaults: maps merge deeply, other values replace,
/// `null` deletes.
pub fn coalesce(defaults: &Value, overlay: &Value) -> Value {
    let mut out = defaults.clone();
    merge_delete_null(&mut out, overlay);
    strip_nulls_from_defaults(&mut out);
    out
}

/// Applies user layers to package defaults: the values templates see.
pub fn resolve(defaults: &Value, input: &ValuesInput) -> Result<Value, ValuesError> {
    let overlay = user_overlay(input)?;
    Ok(coalesce(defaults, &overlay))
}

/// Merges `overlay` into `base`: maps merge key by key, everything else replaces, `null` is kept.
pub fn merge_keep_null(base: &mut Value, overlay: Value) {
    match (base, overlay) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                match b.get_mut(&k) {
                    Some(existing @ Value::Object(_)) if v.is_object() => {
                        merge_keep_null(existing, v)
                    }
                    _ => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (b, o) => *b = o,
    }
}

fn merge_delete_null(base: &mut Value, overlay: &Value) {
    let (Value::Object(b), Value::Object(o)) = (&mut *base, overlay) else {
        *base = overlay.clone();
        return;
    };
    for (k, v) in o {
        if v.is_null() {
            b.remove(k);
            continue;
        }
        match b.get_mut(k) {
            Some(existing @ Value::Object(_)) if v.is_object() => merge_delete_null(existing, v),
            _ => {
                let mut v = v.clone();
                strip_nulls_from_defaults(&mut v);
                b.insert(k.clone(), v);
            }
        }
    }
}

/// `null` inside a map means "no value": drop such keys so templates see them as undefined.
fn strip_nulls_from_defaults(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.retain(|_, v| !v.is_null());
            m.values_mut().for_each(strip_nulls_from_defaults);
        }
        Value::Array(a) => a.iter_mut().for_each(strip_nulls_from_defaults),
        _ => {}
    }
}

/// One step of a `--set` key path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

/// How `--set` values are typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetMode {
    /// `--set`: `true`/`false` -> bool, `null` -> null, integers -> int, the rest strings.
    Typed,
    /// `--set-string`: always strings.
    String,
}

fn set_err(flag: &'static str, expr: &str, reason: impl Into<String>) -> ValuesError {
    ValuesError::Set {
        flag,
        expr: expr.to_string(),
        reason: reason.into(),
    }
}

/// Splits `a=b,c=d` into assignments on unescaped commas outside `{...}`.
fn split_top_level(expr: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut depth = 0usize;
    let mut chars = expr.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                cur.push(c);
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            '{' => {
                depth += 1;
                cur.push(c);
            }
            '}' => {
                depth = depth.saturating_sub(1);
                cur.push(c);
            }
            ',' if depth == 0 => parts.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    parts.push(cur);
    parts
}

fn split_assignment(flag: &'static str, expr: &str) -> Result<(String, String), ValuesError> {
    let mut escaped = false;
    for (i, c) in expr.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' => escaped = true,
            '=' => return Ok((expr[..i].to_string(), expr[i + 1..].to_string())),
            _ => {}
        }
    }
    Err(set_err(flag, expr, "expected `key=value`"))
}

/// Parses a key path: `a.b`, `a\.b` (one key), `list[0].name`, `m[1][2]`.
pub fn parse_key(flag: &'static str, key: &str) -> Result<Vec<Seg>, ValuesError> {
    let mut segs = Vec::new();
    let mut cur = String::new();
    let mut chars = key.chars().peekable();
    let mut after_index = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(n) => cur.push(n),
                None => return Err(set_err(flag, key, "key ends with a lone `\\`")),
            },
            '.' => {
                if cur.is_empty() && !after_index {
                    return Err(set_err(flag, key, "empty key segment"));
                }
                if !cur.is_empty() {
                    segs.push(Seg::Key(std::mem::take(&mut cur)));
                }
                after_index = false;
            }
            '[' => {
                if !cur.is_empty() {
                    segs.push(Seg::Key(std::mem::take(&mut cur)));
                } else if segs.is_empty() {
                    return Err(set_err(flag, key, "a list index needs a key before it"));
                }
                let mut digits = String::new();
                loop {
                    match chars.next() {
                        Some(']') => break,
                        Some(d) if d.is_ascii_digit() => digits.push(d),
                        _ => return Err(set_err(flag, key, "list index must be `[N]`")),
                    }
                }
                let idx: usize = digits
                    .parse()
                    .map_err(|_| set_err(flag, key, "list index must be `[N]`"))?;
                if idx > MAX_SET_INDEX {
                    return Err(set_err(
                        flag,
                        key,
                        format!("list index {idx} is over the limit of {MAX_SET_INDEX}"),
                    ));
                }
                segs.push(Seg::Index(idx));
                after_index = true;
                if let Some(&n) = chars.peek()
                    && n != '.'
                    && n != '['
                {
                    return Err(set_err(flag, key, "expected `.` or `[` after `]`"));
                }
            }
            _ => cur.push(c),
        }
    }
    if !cur.is_empty() {
        segs.push(Seg::Key(cur));
    } else if !after_index {
        return Err(set_err(flag, key, "empty key segment"));
    }
    Ok(segs)
}

fn unescape_value(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    let mut chars = v.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some(n) => out.push(n),
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn typed_scalar(raw: &str, mode: SetMode) -> Value {
    let s = unescape_value(raw);
    if mode == SetMode::String {
        return Value::String(s);
    }
    if s.eq_ignore_ascii_case("true") {
        return Value::Bool(true);
    }
    if s.eq_ignore_ascii_case("false") {
        return Value::Bool(false);
    }
    if s.eq_ignore_ascii_case("null") {
        return Value::Null;
    }
    let digits = s.strip_prefix('-').unwrap_or(&s);
    let leading_zero = digits.len() > 1 && digits.starts_with('0');
    if !digits.is_empty()
        && !leading_zero
        && digits.bytes().all(|b| b.is_ascii_digit())
        && let Ok(n) = s.parse::<i64>()
    {
        return Value::from(n);
    }
    Value::String(s)
}

/// Parses one `--set`/`--set-string` argument into (path, value) assignments.
pub fn parse_set(
    flag: &'static str,
    expr: &str,
    mode: SetMode,
) -> Result<Vec<(Vec<Seg>, Value)>, ValuesError> {
    let mut out = Vec::new();
    for part in split_top_level(expr) {
        if part.is_empty() {
            continue;
        }
        let (key, raw) = split_assignment(flag, &part).map_err(|_| {
            set_err(
                flag,
                expr,
                format!("`{part}` is not a `key=value` assignment"),
            )
        })?;
        let path = parse_key(flag, &key).map_err(|e| match e {
            ValuesError::Set { reason, .. } => set_err(flag, expr, reason),
            other => other,
        })?;
        let value = if raw.len() >= 2 && raw.starts_with('{') && raw.ends_with('}') {
            let inner = &raw[1..raw.len() - 1];
            if inner.is_empty() {
                Value::Array(Vec::new())
            } else {
                Value::Array(
                    split_top_level(inner)
                        .iter()
                        .map(|item| typed_scalar(item, mode))
                        .collect(),
                )
            }
        } else {
            typed_scalar(&raw, mode)
        };
        out.push((path, value));
    }
    if out.is_empty() {
        return Err(set_err(flag, expr, "expected `key=value`"));
    }
    Ok(out)
}

/// Sets `value` at `path` inside `root`, creating maps and padding lists with `null` as needed.
/// A scalar in the way is replaced by the map or list the path needs.
pub fn set_path(
    root: &mut Value,
    path: &[Seg],
    value: Value,
    flag: &'static str,
    expr: &str,
) -> Result<(), ValuesError> {
    if path.is_empty() {
        return Err(set_err(flag, expr, "empty key"));
    }
    let mut cur = root;
    for seg in path {
        cur = match seg {
            Seg::Key(k) => as_map(cur).entry(k.clone()).or_insert(Value::Null),
            Seg::Index(idx) => {
                let list = as_list(cur);
                if list.len() <= *idx {
                    list.resize(idx + 1, Value::Null);
                }
                &mut list[*idx]
            }
        };
    }
    *cur = value;
    Ok(())
}

fn as_map(v: &mut Value) -> &mut Map<String, Value> {
    if !v.is_object() {
        *v = Value::Object(Map::new());
    }
    match v {
        Value::Object(m) => m,
        _ => unreachable!("the value was made a map above"),
    }
}

fn as_list(v: &mut Value) -> &mut Vec<Value> {
    if !v.is_array() {
        *v = Value::Array(Vec::new());
    }
    match v {
        Value::Array(l) => l,
        _ => unreachable!("the value was made a list above"),
    }
}

/// Schema keyword marking a value the install generates once when the user leaves it unset.
pub const GENERATE_KEYWORD: &str = "x-cocktail-generate";
/// Schema keyword marking a value as secret: masked wherever values are shown.
pub const SECRET_KEYWORD: &str = "x-cocktail-secret";

/// What kind of value to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Generate {
    /// 24 random letters and digits.
    Password,
    /// 48 random lowercase hex digits.
    Token,
}

impl Generate {
    /// The fixed value used instead of a random one where output must be reproducible (`lint`,
    /// the server's publish checks, tests and snapshots).
    pub fn placeholder(self) -> String {
        match self {
            Generate::Password => "GeneratedPlaceholder0000".into(),
            Generate::Token => "ab".repeat(24),
        }
    }

    pub fn length(self) -> usize {
        match self {
            Generate::Password => 24,
            Generate::Token => 48,
        }
    }
    /// The characters a generated value is drawn from.
    pub fn alphabet(self) -> &'static [u8] {
        match self {
            Generate::Password => b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
            Generate::Token => b"0123456789abcdef",
        }
    }
}

/// A schema-annotated value path (`["auth", "password"]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Annotated<T> {
    pub path: Vec<String>,
    pub what: T,
}

/// Called for every schema node with its value path.
type SchemaVisitor<'a> = dyn FnMut(&[String], &Map<String, Value>) + 'a;

fn walk_schema(schema: &Value, path: &mut Vec<String>, visit: &mut SchemaVisitor<'_>) {
    let Value::Object(m) = schema else {
        return;
    };
    visit(path, m);
    if let Some(Value::Object(props)) = m.get("properties") {
        for (k, sub) in props {
            path.push(k.clone());
            walk_schema(sub, path, visit);
            path.pop();
        }
    }
}

/// Paths the schema marks with `x-cocktail-generate` (`"password"` or `"token"`).
pub fn generated_paths(schema: &Value) -> Result<Vec<Annotated<Generate>>, ValuesError> {
    let mut out = Vec::new();
    let mut bad = None;
    walk_schema(schema, &mut Vec::new(), &mut |path, m| {
        if let Some(g) = m.get(GENERATE_KEYWORD) {
            match g.as_str() {
                Some("password") => out.push(Annotated {
                    path: path.to_vec(),
                    what: Generate::Password,
                }),
                Some("token") => out.push(Annotated {
                    path: path.to_vec(),
                    what: Generate::Token,
                }),
                _ => {
                    bad = Some(format!(
                        "`{GENERATE_KEYWORD}` at {} must be \"password\" or \"token\", found {g}",
                        dotted(path)
                    ))
                }
            }
        }
    });
    match bad {
        Some(b) => Err(ValuesError::BadSchema(b)),
        None => Ok(out),
    }
}

/// Paths the schema marks with `x-cocktail-secret: true`.
pub fn secret_paths(schema: &Value) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    walk_schema(schema, &mut Vec::new(), &mut |path, m| {
        if m.get(SECRET_KEYWORD) == Some(&Value::Bool(true)) {
            out.push(path.to_vec());
        }
    });
    out
}

/// `$.a.b` for a key path.
pub fn dotted(path: &[String]) -> String {
    let segs: Vec<Seg> = path.iter().map(|k| Seg::Key(k.clone())).collect();
    seg_path(&segs)
}

fn seg_path(segs: &[Seg]) -> String {
    let mut p = String::new();
    for s in segs {
        match s {
            Seg::Key(k) => p.push_str(&format!("/{}", k.replace('~', "~0").replace('/', "~1"))),
            Seg::Index(i) => p.push_str(&format!("/{i}")),
        }
    }
    pointer_to_path(&p)
}

/// Fills every generated path the values leave unset (missing, `null` or `""`) using `make`.
/// Returns the paths filled. Pure: the caller supplies the randomness.
pub fn fill_generated(
    values: &mut Value,
    paths: &[Annotated<Generate>],
    make: &mut dyn FnMut(Generate) -> String,
) -> Vec<String> {
    let mut filled = Vec::new();
    for a in paths {
        let unset = match values.pointer(&pointer(&a.path)) {
            None | Some(Value::Null) => true,
            Some(Value::String(s)) => s.is_empty(),
            Some(_) => false,
        };
        if unset {
            let segs: Vec<Seg> = a.path.iter().map(|k| Seg::Key(k.clone())).collect();
            // Building a path of map keys cannot fail.
            let _ = set_path(values, &segs, Value::String(make(a.what)), "generate", "");
            filled.push(dotted(&a.path));
        }
    }
    filled
}

fn pointer(path: &[String]) -> String {
    path.iter()
        .map(|k| format!("/{}", k.replace('~', "~0").replace('/', "~1")))
        .collect()
}

/// Replaces every secret value present in `values` with `"*****"`.
pub fn mask_secrets(values: &mut Value, secret_paths: &[Vec<String>]) {
    for p in secret_paths {
        if let Some(v) = values.pointer_mut(&pointer(p))
            && !v.is_null()
        {
            *v = Value::String("*****".into());
        }
    }
}

/// The values at `secret_paths` that are set (strings, or other scalars as text), so output
/// that may contain them (a diff of rendered objects) can hide them.
pub fn secret_values(values: &Value, secret_paths: &[Vec<String>]) -> Vec<String> {
    secret_paths
        .iter()
        .filter_map(|p| values.pointer(&pointer(p)))
        .filter_map(|v| match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
        .filter(|s| s.chars().count() >= 4)
        .collect()
}

/// Hides secret values wherever they appear in a text (a diff, an error message) by a short
/// hash, so a change still shows but the value does not.
pub fn redact(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_string();
    for s in secrets {
        let hidden = format!(
            "(hidden, {})",
            &crate::model::Digest::of(s.as_bytes()).hex()[..12]
        );
        out = out.replace(s.as_str(), &hidden);
    }
    out
}

/// A random value of the given kind from the operating system's generator.
pub fn random_value(kind: Generate) -> Result<String, getrandom::Error> {
    let alphabet = kind.alphabet();
    // Rejection sampling keeps every character equally likely.
    let limit = 256 - (256 % alphabet.len());
    let mut out = String::with_capacity(kind.length());
    let mut buf = [0u8; 64];
    while out.len() < kind.length() {
        getrandom::fill(&mut buf)?;
        for b in buf {
            if (b as usize) < limit && out.len() < kind.length() {
                out.push(alphabet[b as usize % alphabet.len()] as char);
            }
        }
    }
    Ok(out)
}

/// A compiled `values.schema.json`.
pub struct Schema {
    validator: jsonschema::Validator,
}

impl std::fmt::Debug for Schema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Schema")
    }
}

impl Schema {
    /// Compiles a schema. Remote `$ref`s are not fetched (no network during validation).
    pub fn compile(schema: &Value) -> Result<Self, ValuesError> {
        let validator = jsonschema::options()
            .should_validate_formats(true)
            .build(schema)
            .map_err(|e| ValuesError::BadSchema(e.to_string()))?;
        Ok(Self { validator })
    }

    /// Every violation of the schema by `values`, in document order.
    pub fn violations(&self, values: &Value) -> Vec<Violation> {
        let mut out: Vec<Violation> = self
            .validator
            .iter_errors(values)
            .map(|e| Violation {
                path: pointer_to_path(e.instance_path().as_str()),
                message: e.to_string(),
            })
            .collect();
        out.dedup();
        out
    }

    pub fn validate(&self, values: &Value) -> Result<(), ValuesError> {
        let v = self.violations(values);
        if v.is_empty() {
            Ok(())
        } else {
            Err(ValuesError::Schema(v))
        }
    }
}

/// `/service/ports/0/name` -> `$.service.ports[0].name`.
pub fn pointer_to_path(pointer: &str) -> String {
    let mut out = String::from("$");
    for raw in pointer.split('/').skip(1) {
        let seg = raw.replace("~1", "/").replace("~0", "~");
        if !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_digit()) {
            out.push_str(&format!("[{seg}]"));
        } else if seg
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            out.push('.');
            out.push_str(&seg);
        } else {
            out.push_str(&format!("[{}]", Value::String(seg)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn set(expr: &str) -> Value {
        user_overlay(&ValuesInput {
            set: vec![expr.into()],
            ..Default::default()
        })
        .unwrap()
    }

    #[test]
    fn set_forms() {
        let cases: &[(&str, Value)] = &[
            ("a=b", json!({"a": "b"})),
            ("a.b.c=1", json!({"a": {"b": {"c": 1}}})),
            ("a=1,b=2", json!({"a": 1, "b": 2})),
            ("a=true", json!({"a": true})),
            ("a=FALSE", json!({"a": false})),
            ("a=null", json!({"a": null})),
            ("a=", json!({"a": ""})),
            ("a=007", json!({"a": "007"})),
            ("a=0", json!({"a": 0})),
            ("a=-12", json!({"a": -12})),
            ("a=1.5", json!({"a": "1.5"})),
            (
                "a=99999999999999999999",
                json!({"a": "99999999999999999999"}),
            ),
            ("a={x,y,3}", json!({"a": ["x", "y", 3]})),
            ("a={}", json!({"a": []})),
            ("a\\.b=c", json!({"a.b": "c"})),
            (
                "anno.kubernetes\\.io/x=y",
                json!({"anno": {"kubernetes.io/x": "y"}}),
            ),
            ("a=b\\,c", json!({"a": "b,c"})),
            ("a=x=y", json!({"a": "x=y"})),
            ("l[0]=x", json!({"l": ["x"]})),
            ("l[2]=x", json!({"l": [null, null, "x"]})),
            ("l[1].name=n", json!({"l": [null, {"name": "n"}]})),
            ("m[0][1]=z", json!({"m": [[null, "z"]]})),
            ("l[0].a=1,l[0].b=2", json!({"l": [{"a": 1, "b": 2}]})),
        ];
        for (expr, want) in cases {
            assert_eq!(&set(expr), want, "--set {expr}");
        }
    }

    #[test]
    fn set_string_never_infers() {
        let v = user_overlay(&ValuesInput {
            set_string: vec!["a=true,b=1,c=null,d={1,2}".into()],
            ..Default::default()
        })
        .unwrap();
        assert_eq!(
            v,
            json!({"a": "true", "b": "1", "c": "null", "d": ["1", "2"]})
        );
    }

    #[test]
    fn set_errors_name_the_problem() {
        let cases = [
            ("novalue", "is not a `key=value` assignment"),
            ("a..b=1", "empty key segment"),
            ("a[x]=1", "list index must be `[N]`"),
            ("a[99999]=1", "over the limit"),
            ("[0]=1", "needs a key"),
            ("a[0]b=1", "expected `.` or `[`"),
        ];
        for (expr, want) in cases {
            let err = user_overlay(&ValuesInput {
                set: vec![expr.into()],
                ..Default::default()
            })
            .unwrap_err()
            .to_string();
            assert!(err.contains(want), "--set {expr}: {err}");
            assert!(err.contains(expr), "--set {expr}: {err}");
        }
    }

    #[test]
    fn layers_apply_in_order() {
        let defaults = json!({
            "image": {"repository": "redis", "tag": "7.2"},
            "replicas": 1,
            "list": [1, 2, 3],
            "remove": {"me": true},
            "keep": "x"
        });
        let input = ValuesInput {
            files: vec![
                (
                    "one.yaml".into(),
                    "replicas: 2\nimage:\n  tag: '7.4'\nlist: [9]\n".into(),
                ),
                ("two.yaml".into(), "replicas: 3\nremove: null\n".into()),
            ],
            set: vec!["replicas=4".into(), "extra.a=1".into()],
            set_string: vec!["extra.a=1".into()],
            set_file: vec![("cert".into(), "PEM\n".into())],
            set_json: vec!["extra.b={\"c\":[1,2]}".into(), "keep=null".into()],
            set_literal: vec!["motd=a,b={c}".into()],
            ..Default::default()
        };
        let v = resolve(&defaults, &input).unwrap();
        assert_eq!(
            v,
            json!({
                "image": {"repository": "redis", "tag": "7.4"},
                "replicas": 4,
                "list": [9],
                "extra": {"a": "1", "b": {"c": [1, 2]}},
                "cert": "PEM\n",
                "motd": "a,b={c}"
            })
        );
    }

    #[test]
    fn null_in_a_later_file_deletes_but_a_later_map_restores() {
        let defaults = json!({"a": {"x": 1, "y": 2}});
        let input = ValuesInput {
            files: vec![
                ("1".into(), "a: null\n".into()),
                ("2".into(), "a: {z: 3}\n".into()),
            ],
            ..Default::default()
        };
        // Helm semantics: user layers merge first (the later map replaces the null), then the
        // overlay merges onto the defaults.
        assert_eq!(
            resolve(&defaults, &input).unwrap(),
            json!({"a": {"x": 1, "y": 2, "z": 3}})
        );
    }

    #[test]
    fn defaults_with_null_are_dropped() {
        let v = coalesce(&json!({"a": null, "b": {"c": null, "d": 1}}), &json!({}));
        assert_eq!(v, json!({"b": {"d": 1}}));
    }

    #[test]
    fn values_file_must_be_a_map() {
        let err = parse_values("list.yaml", "- a\n- b\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "list.yaml must be a map of values at the top level, found a list"
        );
        assert!(
            parse_values("empty.yaml", "# nothing\n")
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn schema_lists_every_violation_with_path() {
        let schema = Schema::compile(&json!({
            "type": "object",
            "properties": {
                "replicas": {"type": "integer", "minimum": 1},
                "service": {"type": "object", "properties": {
                    "type": {"enum": ["ClusterIP", "NodePort", "LoadBalancer"]},
                    "nodePort": {"type": "integer", "minimum": 30000, "maximum": 32767}
                }},
                "ports": {"type": "array", "items": {"type": "object", "required": ["name"]}}
            },
            "additionalProperties": false
        }))
        .unwrap();
        let v = json!({
            "replicas": 0,
            "service": {"type": "Nodeport", "nodePort": 80},
            "ports": [{"name": "a"}, {}],
            "typo": 1
        });
        let mut paths: Vec<String> = schema.violations(&v).into_iter().map(|v| v.path).collect();
        paths.sort();
        assert_eq!(
            paths,
            [
                "$",
                "$.ports[1]",
                "$.replicas",
                "$.service.nodePort",
                "$.service.type"
            ]
        );
        assert!(schema.validate(&json!({"replicas": 2})).is_ok());
    }

    /// Issue 10, defect 7: `--set image.tag=16` makes a number; the hint names `--set-string`.
    #[test]
    fn a_number_for_a_string_field_suggests_set_string() {
        let schema = Schema::compile(&json!({
            "type": "object",
            "properties": {"image": {"type": "object", "properties": {"tag": {"type": "string"}}}}
        }))
        .unwrap();
        let input = ValuesInput {
            set: vec!["image.tag=16".into()],
            ..Default::default()
        };
        let values = resolve(&json!({"image": {"tag": "1.26"}}), &input).unwrap();
        let err = schema.validate(&values).unwrap_err();
        let hint = err.hint().unwrap();
        assert!(hint.contains("--set-string image.tag=VALUE"), "{hint}");
        // Other violations keep the plain hint.
        let err = schema
            .validate(&json!({"image": {"tag": ["x"]}}))
            .unwrap_err();
        assert!(!err.hint().unwrap().contains("--set-string"));
    }

    #[test]
    fn bad_schema_is_reported() {
        assert!(matches!(
            Schema::compile(&json!({"type": 12})),
            Err(ValuesError::BadSchema(_))
        ));
    }

    #[test]
    fn pointer_paths() {
        assert_eq!(pointer_to_path(""), "$");
        assert_eq!(pointer_to_path("/a/0/b"), "$.a[0].b");
        assert_eq!(pointer_to_path("/x~1y"), "$[\"x/y\"]");
    }

    #[test]
    fn generated_values_fill_only_unset_paths() {
        let schema = json!({"type": "object", "properties": {
            "auth": {"type": "object", "properties": {
                "password": {"type": ["string", "null"], "x-cocktail-generate": "password", "x-cocktail-secret": true},
                "cookie": {"type": "string", "x-cocktail-generate": "token"}
            }},
            "other": {"type": "string", "x-cocktail-generate": "password"}
        }});
        let paths = generated_paths(&schema).unwrap();
        assert_eq!(paths.len(), 3);
        let mut v = json!({"auth": {"password": null, "cookie": "keep"}, "other": ""});
        let filled = fill_generated(&mut v, &paths, &mut |k| format!("gen-{k:?}"));
        assert_eq!(filled, ["$.auth.password", "$.other"]);
        assert_eq!(
            v,
            json!({"auth": {"password": "gen-Password", "cookie": "keep"}, "other": "gen-Password"})
        );
        assert_eq!(
            secret_paths(&schema),
            vec![vec!["auth".to_string(), "password".to_string()]]
        );
        mask_secrets(&mut v, &secret_paths(&schema));
        assert_eq!(v["auth"]["password"], "*****");
        assert!(generated_paths(&json!({"x-cocktail-generate": 1})).is_err());
    }

    #[test]
    fn random_values_have_the_right_shape() {
        let p = random_value(Generate::Password).unwrap();
        assert_eq!(p.len(), 24);
        assert!(p.bytes().all(|b| b.is_ascii_alphanumeric()));
        let t = random_value(Generate::Token).unwrap();
        assert_eq!(t.len(), 48);
        assert!(t.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(random_value(Generate::Password).unwrap(), p);
    }
}
