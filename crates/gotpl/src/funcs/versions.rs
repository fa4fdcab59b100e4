//! Template functions: Sprig's semver family (`semver`, `semverCompare`) with
//! Masterminds/semver v3 semantics, and [`constraint_matches`], which the chart loader uses for
//! `kubeVersion` and dependency ranges.
//!
//! Versions: an optional `v`, `MAJOR[.MINOR[.PATCH]]` (missing parts are 0), `-prerelease`,
//! `+metadata`. Constraints: `||` of AND groups (commas or spaces), operators `=`, `!=`, `>`,
//! `<`, `>=`/`=>`, `<=`/`=<`, `~`/`~>`, `^`, wildcards `x`/`X`/`*` and missing parts ("dirty"
//! constraints), hyphen ranges `1.2 - 1.4`. A pre-release version only matches a constraint
//! that itself names a pre-release.

use std::cmp::Ordering;
use std::sync::Arc;

use super::{FuncCtx, FuncError, FuncMap, FuncResult, Sig, Ty};
use crate::value::{Object, Value};

pub(crate) fn register(map: &mut FuncMap) {
    use Ty::String as S;
    map.add("semver", Sig::fixed(&[S]), semver_fn);
    map.add("semverCompare", Sig::fixed(&[S, S]), semver_compare);
}

fn semver_fn(_: &mut FuncCtx<'_>, a: &[Value]) -> FuncResult {
    let s = a.first().and_then(Value::as_str).unwrap_or("");
    let v = Version::parse(s).map_err(FuncError::msg)?;
    Ok(Value::Object(Arc::new(v)))
}

fn semver_compare(_: &mut FuncCtx<'_>, a: &[Value]) -> FuncResult {
    let c = a.first().and_then(Value::as_str).unwrap_or("");
    let v = a.get(1).and_then(Value::as_str).unwrap_or("");
    constraint_matches(c, v)
        .map(Value::Bool)
        .map_err(FuncError::msg)
}

/// Sprig's `semverCompare constraint version`: whether `version` satisfies `constraint`, or
/// Masterminds' error text (`improper constraint: foo`, `Invalid Semantic Version`).
pub fn constraint_matches(constraint: &str, version: &str) -> Result<bool, String> {
    let c = Constraints::parse(constraint)?;
    let v = Version::parse(version)?;
    Ok(c.check(&v))
}

/// A Masterminds/semver `*Version`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
    pub pre: String,
    pub metadata: String,
    pub original: String,
}

const INVALID: &str = "Invalid Semantic Version";

fn ident_ok(part: &str) -> bool {
    !part.is_empty() && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

impl Version {
    /// `semver.NewVersion`.
    pub fn parse(s: &str) -> Result<Version, String> {
        let body = s.strip_prefix('v').unwrap_or(s);
        let (body, metadata) = match body.split_once('+') {
            Some((b, m)) => (b, Some(m)),
            None => (body, None),
        };
        let (core, pre) = match body.split_once('-') {
            Some((c, p)) => (c, Some(p)),
            None => (body, None),
        };
        let mut nums = [0u64; 3];
        let parts: Vec<&str> = core.split('.').collect();
        if parts.is_empty() || parts.len() > 3 {
            return Err(INVALID.into());
        }
        for (i, p) in parts.iter().enumerate() {
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(INVALID.into());
            }
            let n: u64 = p.parse().map_err(|_| {
                format!("Error parsing version segment: strconv.ParseUint: parsing {p:?}: value out of range")
            })?;
            if let Some(slot) = nums.get_mut(i) {
                *slot = n;
            }
        }
        let pre = pre.unwrap_or("");
        if pre_given(s) && (pre.is_empty() || !pre.split('.').all(ident_ok)) {
            return Err(INVALID.into());
        }
        for part in pre.split('.').filter(|p| !p.is_empty()) {
            if part.len() > 1 && part.bytes().all(|b| b.is_ascii_digit()) && part.starts_with('0') {
                return Err("Version segment starts with 0".into());
            }
        }
        let metadata = match metadata {
            Some(m) if m.is_empty() || !m.split('.').all(ident_ok) => {
                return Err(INVALID.into());
            }
            Some(m) => m.to_string(),
            None => String::new(),
        };
        Ok(Version {
            major: nums[0],
            minor: nums[1],
            patch: nums[2],
            pre: pre.to_string(),
            metadata,
            original: s.to_string(),
        })
    }

    fn compare(&self, o: &Version) -> Ordering {
        self.major
            .cmp(&o.major)
            .then(self.minor.cmp(&o.minor))
            .then(self.patch.cmp(&o.patch))
            .then_with(|| compare_prerelease(&self.pre, &o.pre))
    }

    fn less_than(&self, o: &Version) -> bool {
        self.compare(o) == Ordering::Less
    }
}

/// Whether the text (after `v` and before `+`) has a `-` introducing a pre-release.
fn pre_given(s: &str) -> bool {
    let body = s.split_once('+').map_or(s, |(b, _)| b);
    body.contains('-')
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)?;
        if !self.pre.is_empty() {
            write!(f, "-{}", self.pre)?;
        }
        if !self.metadata.is_empty() {
            write!(f, "+{}", self.metadata)?;
        }
        Ok(())
    }
}

fn compare_prerelease(a: &str, b: &str) -> Ordering {
    match (a.is_empty(), b.is_empty()) {
        (true, true) => return Ordering::Equal,
        (true, false) => return Ordering::Greater,
        (false, true) => return Ordering::Less,
        _ => {}
    }
    let ap: Vec<&str> = a.split('.').collect();
    let bp: Vec<&str> = b.split('.').collect();
    for i in 0..ap.len().max(bp.len()) {
        let (x, y) = (ap.get(i), bp.get(i));
        let ord = match (x, y) {
            (Some(x), Some(y)) => compare_identifier(x, y),
            (Some(_), None) => Ordering::Greater,
            (None, Some(_)) => Ordering::Less,
            (None, None) => Ordering::Equal,
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    Ordering::Equal
}

fn compare_identifier(x: &str, y: &str) -> Ordering {
    let xn = x
        .parse::<u64>()
        .ok()
        .filter(|_| x.bytes().all(|b| b.is_ascii_digit()));
    let yn = y
        .parse::<u64>()
        .ok()
        .filter(|_| y.bytes().all(|b| b.is_ascii_digit()));
    match (xn, yn) {
        (Some(a), Some(b)) => a.cmp(&b),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => x.cmp(y),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    TildeOrEqual,
    NotEqual,
    Greater,
    Less,
    GreaterEqual,
    LessEqual,
    Tilde,
    Caret,
}

#[derive(Debug, Clone)]
struct Constraint {
    op: Op,
    con: Version,
    dirty: bool,
    minor_dirty: bool,
    patch_dirty: bool,
}

/// `semver.Constraints`: OR groups of AND constraints.
#[derive(Debug, Clone)]
pub struct Constraints {
    groups: Vec<Vec<Constraint>>,
}

fn is_x(s: &str) -> bool {
    matches!(s, "x" | "X" | "*")
}

/// One constraint version as the `cvRegex` sees it: parts of `[0-9xX*|]+`, pre, metadata.
struct CvParts<'a> {
    parts: Vec<&'a str>,
    pre: &'a str,
    meta: &'a str,
}

fn cv_parts(s: &str) -> Option<CvParts<'_>> {
    let body = s.strip_prefix('v').unwrap_or(s);
    let (body, meta) = match body.split_once('+') {
        Some((b, m)) => (b, m),
        None => (body, ""),
    };
    let (core, pre) = match body.split_once('-') {
        Some((c, p)) => (c, p),
        None => (body, ""),
    };
    let parts: Vec<&str> = core.split('.').collect();
    if parts.is_empty() || parts.len() > 3 {
        return None;
    }
    let part_ok = |p: &&str| {
        !p.is_empty()
            && p.bytes()
                .all(|b| b.is_ascii_digit() || matches!(b, b'x' | b'X' | b'*' | b'|'))
    };
    if !parts.iter().all(part_ok) {
        return None;
    }
    if body.contains('-') && (pre.is_empty() || !pre.split('.').all(ident_ok)) {
        return None;
    }
    if s.contains('+') && (meta.is_empty() || !meta.split('.').all(ident_ok)) {
        return None;
    }
    Some(CvParts { parts, pre, meta })
}

const OPS: [(&str, Op); 12] = [
    ("!=", Op::NotEqual),
    (">=", Op::GreaterEqual),
    ("=>", Op::GreaterEqual),
    ("<=", Op::LessEqual),
    ("=<", Op::LessEqual),
    ("~>", Op::Tilde),
    ("=", Op::TildeOrEqual),
    (">", Op::Greater),
    ("<", Op::Less),
    ("~", Op::Tilde),
    ("^", Op::Caret),
    ("", Op::TildeOrEqual),
];

fn parse_one(op: Op, ver: &str) -> Result<Constraint, String> {
    let cv = cv_parts(ver).ok_or_else(|| format!("improper constraint: {ver}"))?;
    let suffix = if cv.pre.is_empty() {
        String::new()
    } else {
        format!("-{}", cv.pre)
    };
    let _ = cv.meta;
    let p0 = cv.parts.first().copied().unwrap_or("");
    let p1 = cv.parts.get(1).copied();
    let p2 = cv.parts.get(2).copied();
    let (mut dirty, mut minor_dirty, mut patch_dirty) = (false, false, false);
    let text = if is_x(p0) {
        dirty = true;
        format!("0.0.0{suffix}")
    } else if p1.is_none_or(is_x) {
        dirty = true;
        minor_dirty = true;
        format!("{p0}.0.0{suffix}")
    } else if p2.is_none_or(is_x) {
        dirty = true;
        patch_dirty = true;
        format!("{p0}.{}.0{suffix}", p1.unwrap_or("0"))
    } else {
        let mut t = format!("{p0}.{}.{}{suffix}", p1.unwrap_or("0"), p2.unwrap_or("0"));
        if !cv.meta.is_empty() {
            t.push('+');
            t.push_str(cv.meta);
        }
        t
    };
    let con = Version::parse(&text).map_err(|_| "constraint Parser Error".to_string())?;
    Ok(Constraint {
        op,
        con,
        dirty,
        minor_dirty,
        patch_dirty,
    })
}

/// Splits an AND group into (operator, version) pairs, as `validConstraintRegex` and
/// `findConstraintRegex` accept them: separated by commas and/or spaces, spaces allowed
/// between operator and version.
fn split_group(group: &str) -> Result<Vec<(Op, String)>, String> {
    let improper = || format!("improper constraint: {group}");
    let mut out = Vec::new();
    let mut rest = group.trim_start();
    let mut first = true;
    while !rest.is_empty() {
        if !first {
            // A separator: whitespace, or a comma with optional whitespace around.
            let before = rest.len();
            rest = rest.trim_start();
            if let Some(r) = rest.strip_prefix(',') {
                rest = r.trim_start();
            } else if rest.len() == before {
                return Err(improper());
            }
            if rest.is_empty() {
                return Err(improper());
            }
        }
        first = false;
        let (op_text, op) = OPS
            .iter()
            .find(|(t, _)| !t.is_empty() && rest.starts_with(t))
            .copied()
            .unwrap_or(("", Op::TildeOrEqual));
        rest = rest.get(op_text.len()..).unwrap_or("").trim_start();
        let end = rest
            .find(|c: char| c.is_whitespace() || c == ',')
            .unwrap_or(rest.len());
        let ver = rest.get(..end).unwrap_or("");
        if ver.is_empty() || cv_parts(ver).is_none() {
            return Err(improper());
        }
        out.push((op, ver.to_string()));
        rest = rest.get(end..).unwrap_or("");
        if rest.trim().is_empty() {
            break;
        }
    }
    if out.is_empty() {
        return Err(improper());
    }
    Ok(out)
}

/// Masterminds' `rewriteRange`: `A - B` becomes `>= A, <= B`.
fn rewrite_ranges(c: &str) -> String {
    let tokens: Vec<&str> = c.split_whitespace().collect();
    if !tokens.contains(&"-") {
        return c.to_string();
    }
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let t = tokens.get(i).copied().unwrap_or("");
        if tokens.get(i + 1) == Some(&"-")
            && let Some(b) = tokens.get(i + 2)
            && cv_parts(t).is_some()
            && cv_parts(b).is_some()
        {
            out.push(format!(">= {t}, <= {b}"));
            i += 3;
            continue;
        }
        out.push(t.to_string());
        i += 1;
    }
    out.join(" ")
}

impl Constraints {
    /// `semver.NewConstraint`.
    pub fn parse(c: &str) -> Result<Constraints, String> {
        let c = rewrite_ranges(c);
        let mut groups = Vec::new();
        for group in c.split("||") {
            let mut cs = Vec::new();
            for (op, ver) in split_group(group)? {
                cs.push(parse_one(op, &ver)?);
            }
            groups.push(cs);
        }
        Ok(Constraints { groups })
    }

    /// `Constraints.Check`.
    pub fn check(&self, v: &Version) -> bool {
        self.groups.iter().any(|g| g.iter().all(|c| c.check(v)))
    }
}

impl Constraint {
    fn check(&self, v: &Version) -> bool {
        let c = &self.con;
        let pre_blocked = !v.pre.is_empty() && c.pre.is_empty();
        match self.op {
            Op::NotEqual => {
                if self.dirty {
                    if pre_blocked {
                        return false;
                    }
                    if c.major != v.major {
                        return true;
                    }
                    if c.minor != v.minor && !self.minor_dirty {
                        return true;
                    } else if self.minor_dirty {
                        return false;
                    } else if c.patch != v.patch && !self.patch_dirty {
                        return true;
                    } else if self.patch_dirty {
                        if !v.pre.is_empty() || !c.pre.is_empty() {
                            return compare_prerelease(&v.pre, &c.pre) != Ordering::Equal;
                        }
                        return false;
                    }
                }
                v.compare(c) != Ordering::Equal
            }
            Op::Greater => {
                if pre_blocked {
                    return false;
                }
                if !self.dirty {
                    return v.compare(c) == Ordering::Greater;
                }
                if v.major > c.major {
                    true
                } else if v.major < c.major || self.minor_dirty {
                    false
                } else if self.patch_dirty {
                    v.minor > c.minor
                } else {
                    v.compare(c) == Ordering::Greater
                }
            }
            Op::Less => !pre_blocked && v.compare(c) == Ordering::Less,
            Op::GreaterEqual => !pre_blocked && v.compare(c) != Ordering::Less,
            Op::LessEqual => {
                if pre_blocked {
                    return false;
                }
                if !self.dirty {
                    return v.compare(c) != Ordering::Greater;
                }
                !(v.major > c.major
                    || (v.major == c.major && v.minor > c.minor && !self.minor_dirty))
            }
            Op::Tilde => !pre_blocked && self.tilde(v),
            Op::TildeOrEqual => {
                if pre_blocked {
                    return false;
                }
                if self.dirty {
                    return self.tilde(v);
                }
                v.compare(c) == Ordering::Equal
            }
            Op::Caret => {
                if pre_blocked || v.less_than(c) {
                    return false;
                }
                if c.major > 0 || self.minor_dirty {
                    return v.major == c.major;
                }
                if v.major > 0 {
                    return false;
                }
                if c.minor > 0 || self.patch_dirty {
                    return v.minor == c.minor;
                }
                if v.minor > 0 {
                    return false;
                }
                c.patch == v.patch
            }
        }
    }

    fn tilde(&self, v: &Version) -> bool {
        let c = &self.con;
        if v.less_than(c) {
            return false;
        }
        if c.major == 0 && c.minor == 0 && c.patch == 0 && !self.minor_dirty && !self.patch_dirty {
            return true;
        }
        if v.major != c.major {
            return false;
        }
        v.minor == c.minor || self.minor_dirty
    }
}

impl Object for Version {
    fn type_name(&self) -> &str {
        "*semver.Version"
    }

    fn kind_name(&self) -> &str {
        "ptr"
    }

    fn field(&self, name: &str) -> Option<Value> {
        Some(match name {
            "Major" => Value::Int64(self.major as i64),
            "Minor" => Value::Int64(self.minor as i64),
            "Patch" => Value::Int64(self.patch as i64),
            "Prerelease" => Value::str(self.pre.as_str()),
            "Metadata" => Value::str(self.metadata.as_str()),
            "Original" => Value::str(self.original.as_str()),
            "String" => Value::str(self.to_string()),
            "IncMajor" => Value::Object(Arc::new(Version {
                major: self.major.saturating_add(1),
                minor: 0,
                patch: 0,
                pre: String::new(),
                metadata: String::new(),
                original: format!("{}.0.0", self.major.saturating_add(1)),
            })),
            "IncMinor" => Value::Object(Arc::new(Version {
                major: self.major,
                minor: self.minor.saturating_add(1),
                patch: 0,
                pre: String::new(),
                metadata: String::new(),
                original: format!("{}.{}.0", self.major, self.minor.saturating_add(1)),
            })),
            "IncPatch" => {
                // A pre-release's patch bump is the release itself.
                let patch = if self.pre.is_empty() {
                    self.patch.saturating_add(1)
                } else {
                    self.patch
                };
                Value::Object(Arc::new(Version {
                    major: self.major,
                    minor: self.minor,
                    patch,
                    pre: String::new(),
                    metadata: String::new(),
                    original: format!("{}.{}.{patch}", self.major, self.minor),
                }))
            }
            _ => return None,
        })
    }

    fn call_method(&self, name: &str, args: &[Value]) -> Option<Result<Value, FuncError>> {
        let other = || -> Result<Version, FuncError> {
            match args.first() {
                Some(Value::Object(o)) if o.type_name() == "*semver.Version" => {
                    let s = o
                        .field("Original")
                        .and_then(|v| v.as_str().map(str::to_string));
                    Version::parse(&s.unwrap_or_default()).map_err(FuncError::msg)
                }
                _ => Err(FuncError::msg(
                    "wrong type for value; expected *semver.Version",
                )),
            }
        };
        Some(match name {
            "Compare" => other().map(|o| {
                Value::Int(match self.compare(&o) {
                    Ordering::Less => -1,
                    Ordering::Equal => 0,
                    Ordering::Greater => 1,
                })
            }),
            "LessThan" => other().map(|o| Value::Bool(self.compare(&o) == Ordering::Less)),
            "GreaterThan" => other().map(|o| Value::Bool(self.compare(&o) == Ordering::Greater)),
            "Equal" => other().map(|o| Value::Bool(self.compare(&o) == Ordering::Equal)),
            _ => return None,
        })
    }

    fn to_value(&self) -> Value {
        // Go's JSON of *semver.Version is its string.
        Value::str(self.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn semver_compare_rows() {
        // Each row checked with helm v4.1.4 (`semverCompare C V`).
        let rows: &[(&str, &str, Result<bool, &str>)] = &[
            (">=1.2.3", "1.2.3", Ok(true)),
            (">=1.2.3", "1.2.2", Ok(false)),
            (">= 1.2, < 3", "2.9.9", Ok(true)),
            (">= 1.2, < 3", "3.0.0", Ok(false)),
            (">=1.2 <3", "1.5.0", Ok(true)),
            ("~1.2", "1.2.9", Ok(true)),
            ("~1.2", "1.3.0", Ok(false)),
            ("~1", "1.9.0", Ok(true)),
            ("^1.2", "1.9.0", Ok(true)),
            ("^1.2", "2.0.0", Ok(false)),
            ("^0.2.3", "0.2.9", Ok(true)),
            ("^0.2.3", "0.3.0", Ok(false)),
            ("^0.0.3", "0.0.4", Ok(false)),
            ("1.2.x", "1.2.7", Ok(true)),
            ("1.2.x", "1.3.0", Ok(false)),
            ("*", "5.0.0", Ok(true)),
            ("1.2 - 1.4", "1.4.9", Ok(true)),
            ("1.2 - 1.4", "1.5.0", Ok(false)),
            ("1.2.3 - 1.4.5", "1.4.6", Ok(false)),
            (">=1.0.0", "1.1.0-beta.1", Ok(false)),
            (">=1.0.0-0", "1.1.0-beta.1", Ok(true)),
            (">= 1.19.0-0", "v1.30.0-gke.100", Ok(true)),
            (">=1.21.0-0", "v1.20.5", Ok(false)),
            ("<1.25.0", "v1.24.3+k3s1", Ok(true)),
            ("1.2.3", "1.2.3+meta", Ok(true)),
            ("!=1.2.3", "1.2.4", Ok(true)),
            ("!=1.2.x", "1.2.4", Ok(false)),
            (">1.2", "1.2.9", Ok(false)),
            (">1.2", "1.3.0", Ok(true)),
            ("<=1.2", "1.2.9", Ok(true)),
            ("<1 || >=3", "3.1.0", Ok(true)),
            ("<1 || >=3", "2.0.0", Ok(false)),
            (">=1.2.3", "1.2", Ok(false)),
            (">=1.2.3", "v1.3", Ok(true)),
            ("^0.0", "0.0.5", Ok(true)),
            ("^0", "0.9.0", Ok(true)),
            ("~0.0.0", "3.0.0", Ok(true)),
            (">=1.2.3,<2", "1.5.0", Ok(true)),
            (">=1.2.3 ,<2", "1.5.0", Ok(true)),
            ("1.x.x", "1.9.9", Ok(true)),
            ("= 1.2.3", "1.2.3", Ok(true)),
            ("=>1.2", "1.2.0", Ok(true)),
            ("~>1.2.3", "1.2.9", Ok(true)),
            (">=01.2.3", "1.2.3", Ok(true)),
            ("1.2.3-alpha", "1.2.3-alpha", Ok(true)),
            ("^1.2.3-beta", "1.2.4", Ok(true)),
            (">=1.2.3-beta", "1.2.3-alpha", Ok(false)),
            ("", "1.0.0", Err("improper constraint: ")),
            ("foo", "1.0.0", Err("improper constraint: foo")),
            (">=1.0.0", "foo", Err("Invalid Semantic Version")),
        ];
        for (c, v, want) in rows {
            let got = constraint_matches(c, v);
            assert_eq!(
                got.as_ref().map_err(String::as_str),
                want.as_ref().map_err(|e| *e),
                "{c} / {v}"
            );
        }
    }

    #[test]
    fn versions_parse_and_print() {
        let v = Version::parse("v1.2.3-rc.1+build.5")
            .unwrap_or_else(|_| Version::parse("0").unwrap_or_else(|_| unreachable!()));
        assert_eq!((v.major, v.minor, v.patch), (1, 2, 3));
        assert_eq!(v.to_string(), "1.2.3-rc.1+build.5");
        assert_eq!(
            v.field("Original")
                .and_then(|x| x.as_str().map(str::to_string))
                .as_deref(),
            Some("v1.2.3-rc.1+build.5")
        );
        assert_eq!(
            Version::parse("1.2").map(|v| v.to_string()).ok().as_deref(),
            Some("1.2.0")
        );
        assert_eq!(
            Version::parse("1.2.3-01").err().as_deref(),
            Some("Version segment starts with 0")
        );
        assert!(Version::parse("1.2.3.4").is_err());
        assert!(Version::parse("").is_err());
        assert!(compare_prerelease("alpha", "alpha.1") == Ordering::Less);
        assert!(compare_prerelease("alpha.2", "alpha.10") == Ordering::Less);
        assert!(compare_prerelease("1", "alpha") == Ordering::Less);
    }
}
