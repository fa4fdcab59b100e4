//! The one door to YAML: every YAML byte cocktail-pkg reads or writes goes through here.
//!
//! Reading uses serde-saphyr with budgets on, so alias bombs, deep nesting and oversized documents
//! are refused with an error instead of a hang, a panic or an out-of-memory. Pure, no IO.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_saphyr::{Budget, Options};

/// Largest YAML text accepted in one read (values files, package files, one rendered template).
pub const MAX_YAML_BYTES: usize = 8 * 1024 * 1024;
/// Deepest nesting of maps and lists accepted.
pub const MAX_DEPTH: usize = 64;
/// Most alias (`*ref`) uses accepted in one read.
pub const MAX_ALIASES: usize = 1_000;
/// Most events replayed from aliases in one read (the alias-bomb guard).
pub const MAX_REPLAYED_EVENTS: usize = 100_000;

/// A YAML read or write that failed.
#[derive(Debug, thiserror::Error)]
pub enum YamlError {
    #[error("{what} is {size} bytes, over the {max}-byte limit for YAML input")]
    TooLarge {
        what: String,
        size: usize,
        max: usize,
    },
    #[error("{what} is not valid YAML: {message}")]
    Parse { what: String, message: String },
    #[error("failed to write YAML: {0}")]
    Write(String),
}

impl YamlError {
    pub fn hint(&self) -> Option<String> {
        match self {
            YamlError::TooLarge { .. } => Some("split the file or remove unused data".into()),
            YamlError::Parse { message, .. } if message.contains("budget") => Some(format!(
                "YAML input is limited to {MAX_DEPTH} levels of nesting, {MAX_ALIASES} aliases and \
                 {MAX_REPLAYED_EVENTS} alias-expanded events"
            )),
            YamlError::Parse { .. } => {
                Some("check indentation, quoting and that keys appear only once".into())
            }
            YamlError::Write(_) => None,
        }
    }
}

fn options() -> Options {
    let mut budget = Budget::default();
    budget.max_depth = MAX_DEPTH;
    budget.max_aliases = MAX_ALIASES;
    budget.max_anchors = MAX_ALIASES;
    budget.max_documents = 10_000;
    budget.max_nodes = 1_000_000;
    budget.max_total_scalar_bytes = MAX_YAML_BYTES;
    budget.max_recorded_anchor_events = MAX_REPLAYED_EVENTS;
    let mut opts = Options::default();
    opts.budget = Some(budget);
    opts.alias_limits.max_total_replayed_events = MAX_REPLAYED_EVENTS;
    opts.alias_limits.max_replay_stack_depth = 16;
    opts.with_snippet = false;
    opts
}

fn check_size(what: &str, text: &str) -> Result<(), YamlError> {
    if text.len() > MAX_YAML_BYTES {
        return Err(YamlError::TooLarge {
            what: what.to_string(),
            size: text.len(),
            max: MAX_YAML_BYTES,
        });
    }
    Ok(())
}

/// Parses one YAML document. `what` names the input in errors (`values file a.yaml`).
pub fn from_str<T: DeserializeOwned>(what: &str, text: &str) -> Result<T, YamlError> {
    check_size(what, text)?;
    serde_saphyr::from_str_with_options(text, options()).map_err(|e| YamlError::Parse {
        what: what.to_string(),
        message: clean_message(&e.to_string()),
    })
}

/// Parses YAML that may be empty or only comments; an empty document gives `None`.
pub fn from_str_opt<T: DeserializeOwned>(what: &str, text: &str) -> Result<Option<T>, YamlError> {
    if is_blank(text) {
        return Ok(None);
    }
    let v: Option<T> = from_str(what, text)?;
    Ok(v)
}

/// True when `text` holds no YAML content: only whitespace, comments and document markers.
pub fn is_blank(text: &str) -> bool {
    text.lines().all(|l| {
        let t = l.trim();
        t.is_empty() || t.starts_with('#') || t == "---" || t == "..."
    })
}

/// Writes a value as a YAML document (no leading `---`).
pub fn to_string<T: Serialize>(value: &T) -> Result<String, YamlError> {
    let mut opts = serde_saphyr::SerializerOptions::default();
    // Multi-line strings become `|` blocks; long single lines stay on one line, unfolded.
    opts.folded_wrap_chars = usize::MAX / 2;
    serde_saphyr::to_string_with_options(value, opts).map_err(|e| YamlError::Write(e.to_string()))
}

fn clean_message(msg: &str) -> String {
    msg.lines()
        .map(str::trim_end)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

/// Splits a YAML stream into documents on `---` lines. Returns each document's text and the
/// 1-based line where it starts, so errors can point into the source.
pub fn split_documents(text: &str) -> Vec<(usize, String)> {
    let mut docs = Vec::new();
    let mut current = String::new();
    let mut start = 1;
    for (i, line) in text.lines().enumerate() {
        let is_sep = line == "---"
            || line.starts_with("--- ")
            || line.starts_with("---\t")
            || line.trim_end() == "---";
        if is_sep {
            docs.push((start, std::mem::take(&mut current)));
            start = i + 2;
            let rest = line[3..].trim();
            if !rest.is_empty() && !rest.starts_with('#') {
                current.push_str(rest);
                current.push('\n');
                start = i + 1;
            }
        } else {
            current.push_str(line);
            current.push('\n');
        }
    }
    docs.push((start, current));
    docs
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn reads_plain_yaml() {
        let v: Value = from_str("t", "a: 1\nb: [x, true, null]\n").unwrap();
        assert_eq!(v, serde_json::json!({"a": 1, "b": ["x", true, null]}));
    }

    #[test]
    fn refuses_alias_bomb() {
        let mut y = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            y.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let err = from_str::<Value>("bomb.yaml", &y).unwrap_err();
        assert!(matches!(err, YamlError::Parse { .. }), "{err}");
    }

    #[test]
    fn refuses_deep_nesting() {
        let y = "a: ".to_string() + &"[".repeat(10_000) + &"]".repeat(10_000);
        let err = from_str::<Value>("deep.yaml", &y).unwrap_err();
        assert!(matches!(err, YamlError::Parse { .. }), "{err}");
        let mut block = String::new();
        for i in 0..200 {
            block.push_str(&" ".repeat(i));
            block.push_str("k:\n");
        }
        let err = from_str::<Value>("deep.yaml", &block).unwrap_err();
        assert!(matches!(err, YamlError::Parse { .. }), "{err}");
    }

    #[test]
    fn refuses_oversized_input() {
        let y = "a: ".to_string() + &"x".repeat(MAX_YAML_BYTES);
        assert!(matches!(
            from_str::<Value>("big.yaml", &y),
            Err(YamlError::TooLarge { .. })
        ));
    }

    #[test]
    fn splits_documents_with_lines() {
        let docs = split_documents("a: 1\n---\nb: 2\n--- # c\nc: 3\n");
        assert_eq!(docs.len(), 3);
        assert_eq!(docs[1], (3, "b: 2\n".to_string()));
        assert_eq!(docs[2], (5, "c: 3\n".to_string()));
    }
}
