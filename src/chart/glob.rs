//! The two glob dialects charts meet: Go's `filepath.Match` (`.helmignore`, `--show-only`) and
//! gobwas/glob with `/` as separator (`.Files.Glob`: `**` crosses folders, `{a,b}`
//! alternatives). Also Helm's `.helmignore` rules. Pure.

/// Go's `path/filepath.Match`: `*` and `?` do not cross `/`, `[...]` classes (`^`/`!` negate),
/// `\` escapes. A malformed pattern matches nothing.
pub fn go_match(pattern: &str, name: &str) -> bool {
    Shape::of(pattern).matches(pattern, name)
}

/// The shapes of nearly every ignore rule, matched without building the matcher: a plain
/// name, and `*` then a plain suffix (`*` matches no `/`).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Shape {
    Plain,
    StarSuffix,
    Glob,
}

impl Shape {
    fn of(pattern: &str) -> Shape {
        let meta = |s: &str| s.bytes().any(|b| matches!(b, b'*' | b'?' | b'[' | b'\\'));
        if !meta(pattern) {
            Shape::Plain
        } else if pattern
            .strip_prefix('*')
            .is_some_and(|suffix| !meta(suffix))
        {
            Shape::StarSuffix
        } else {
            Shape::Glob
        }
    }

    /// `go_match(pattern, name)` for a `pattern` of this shape.
    fn matches(self, pattern: &str, name: &str) -> bool {
        match self {
            Shape::Plain => pattern == name,
            Shape::StarSuffix => {
                !name.contains('/') && name.ends_with(pattern.get(1..).unwrap_or(""))
            }
            Shape::Glob => go_match_glob(pattern, name),
        }
    }
}

fn go_match_glob(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    matches(&p, &n, false).unwrap_or(false)
}

/// gobwas/glob (`glob.Compile(pattern, '/')`), as Helm's `.Files.Glob` uses it.
pub fn files_glob(pattern: &str, name: &str) -> bool {
    // Expand `{a,b}` alternatives first (not nested beyond a few levels in practice).
    for alt in expand_braces(pattern, 0) {
        let p: Vec<char> = alt.chars().collect();
        let n: Vec<char> = name.chars().collect();
        if matches(&p, &n, true).unwrap_or(false) {
            return true;
        }
    }
    false
}

fn expand_braces(pattern: &str, depth: usize) -> Vec<String> {
    if depth > 8 {
        return vec![pattern.to_string()];
    }
    let chars: Vec<char> = pattern.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 2,
            '{' => {
                let mut level = 0;
                let mut parts = Vec::new();
                let mut start = i + 1;
                let mut j = i;
                while j < chars.len() {
                    match chars[j] {
                        '\\' => j += 1,
                        '{' => level += 1,
                        '}' => {
                            level -= 1;
                            if level == 0 {
                                parts.push(chars[start..j].iter().collect::<String>());
                                break;
                            }
                        }
                        ',' if level == 1 => {
                            parts.push(chars[start..j].iter().collect::<String>());
                            start = j + 1;
                        }
                        _ => {}
                    }
                    j += 1;
                }
                if j >= chars.len() {
                    return vec![pattern.to_string()];
                }
                let head: String = chars[..i].iter().collect();
                let tail: String = chars[j + 1..].iter().collect();
                let mut out = Vec::new();
                for p in parts {
                    out.extend(expand_braces(&format!("{head}{p}{tail}"), depth + 1));
                    if out.len() > 1024 {
                        break;
                    }
                }
                return out;
            }
            _ => i += 1,
        }
    }
    vec![pattern.to_string()]
}

/// Backtracking matcher; `None` for a malformed pattern. `super_star`: `**` matches across `/`.
fn matches(p: &[char], n: &[char], super_star: bool) -> Option<bool> {
    // Iterative with one backtrack point per star kind keeps this linear-ish; patterns are
    // short, so plain recursion with a memo-free approach is fine but bounded by input size.
    let (mut pi, mut ni) = (0usize, 0usize);
    let mut star: Option<(usize, usize, bool)> = None;
    loop {
        if pi < p.len() {
            match p[pi] {
                '*' => {
                    let double = super_star && p.get(pi + 1) == Some(&'*');
                    let width = if double { 2 } else { 1 };
                    star = Some((pi + width, ni, double));
                    pi += width;
                    continue;
                }
                '?' if ni < n.len() && n[ni] != '/' => {
                    pi += 1;
                    ni += 1;
                    continue;
                }
                '[' if ni < n.len() => {
                    let (ok, next) = class(p, pi, n[ni])?;
                    if ok && n[ni] != '/' {
                        pi = next;
                        ni += 1;
                        continue;
                    }
                }
                '\\' if !super_star || p.get(pi + 1).is_some() => {
                    let c = *p.get(pi + 1)?;
                    if ni < n.len() && n[ni] == c {
                        pi += 2;
                        ni += 1;
                        continue;
                    }
                }
                c if c != '*'
                    && c != '?'
                    && c != '['
                    && c != '\\'
                    && ni < n.len()
                    && n[ni] == c =>
                {
                    pi += 1;
                    ni += 1;
                    continue;
                }
                _ => {}
            }
        } else if ni == n.len() {
            return Some(true);
        }
        // Mismatch: extend the last star by one character, if it may take it.
        match star {
            Some((sp, sn, double)) if sn < n.len() && (double || n[sn] != '/') => {
                star = Some((sp, sn + 1, double));
                pi = sp;
                ni = sn + 1;
            }
            _ => {
                // Validate the rest of the pattern so malformed ones report `None`.
                let mut i = pi;
                while i < p.len() {
                    if p[i] == '[' {
                        class(p, i, 'a')?;
                    }
                    i += 1;
                }
                return Some(false);
            }
        }
    }
}

/// Matches `c` against the class starting at `p[start] == '['`; returns (matched, index after).
fn class(p: &[char], start: usize, c: char) -> Option<(bool, usize)> {
    let mut i = start + 1;
    let negate = matches!(p.get(i), Some('^') | Some('!'));
    if negate {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    loop {
        let ch = *p.get(i)?;
        if ch == ']' && !first {
            i += 1;
            break;
        }
        first = false;
        let lo = if ch == '\\' {
            i += 1;
            *p.get(i)?
        } else {
            ch
        };
        i += 1;
        let mut hi = lo;
        if p.get(i) == Some(&'-') && p.get(i + 1).is_some_and(|&x| x != ']') {
            i += 1;
            hi = if p[i] == '\\' {
                i += 1;
                *p.get(i)?
            } else {
                p[i]
            };
            i += 1;
        }
        if lo <= c && c <= hi {
            matched = true;
        }
    }
    Some((matched != negate, i))
}

/// One rule of `.helmignore`.
#[derive(Debug, Clone)]
struct Rule {
    pattern: String,
    negate: bool,
    must_dir: bool,
    kind: RuleKind,
    shape: Shape,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum RuleKind {
    Root,
    Path,
    Base,
}

/// Helm's `.helmignore` rules (`pkg/ignore`), plus its default `templates/.?*`.
#[derive(Debug, Clone, Default)]
pub struct IgnoreRules {
    rules: Vec<Rule>,
}

impl IgnoreRules {
    /// Parses `.helmignore` text; `**` is refused as by Helm.
    pub fn parse(text: &str) -> Result<IgnoreRules, String> {
        let mut r = IgnoreRules::default();
        for line in text.lines() {
            r.add(line)?;
        }
        r.add("templates/.?*")?;
        Ok(r)
    }

    /// Only Helm's default rule.
    pub fn defaults() -> IgnoreRules {
        let mut r = IgnoreRules::default();
        let _ = r.add("templates/.?*");
        r
    }

    fn add(&mut self, line: &str) -> Result<(), String> {
        let mut rule = line.trim();
        if rule.is_empty() || rule.starts_with('#') {
            return Ok(());
        }
        if rule.contains("**") {
            return Err("double-star (**) syntax is not supported".into());
        }
        let negate = rule.starts_with('!');
        if negate {
            rule = &rule[1..];
        }
        let must_dir = rule.ends_with('/');
        if must_dir {
            rule = &rule[..rule.len() - 1];
        }
        let kind = if rule.starts_with('/') {
            rule = &rule[1..];
            RuleKind::Root
        } else if rule.contains('/') {
            RuleKind::Path
        } else {
            RuleKind::Base
        };
        self.rules.push(Rule {
            pattern: rule.to_string(),
            negate,
            must_dir,
            kind,
            shape: Shape::of(rule),
        });
        Ok(())
    }

    /// Whether `path` (relative, `/`-separated) is ignored; `is_dir` for folders.
    pub fn ignore(&self, path: &str, is_dir: bool) -> bool {
        if path.is_empty() || path == "." || path == "./" {
            return false;
        }
        let base = path.rsplit('/').next().unwrap_or(path);
        for r in &self.rules {
            let hit = || match r.kind {
                RuleKind::Root | RuleKind::Path => r.shape.matches(&r.pattern, path),
                RuleKind::Base => r.shape.matches(&r.pattern, base),
            };
            if r.negate {
                if r.must_dir && !is_dir {
                    return true;
                }
                if !hit() {
                    return true;
                }
                continue;
            }
            if r.must_dir && !is_dir {
                continue;
            }
            if hit() {
                return true;
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_filepath_match() {
        for (p, n, want) in [
            ("*.yaml", "a.yaml", true),
            ("*.yaml", "x/a.yaml", false),
            ("templates/*", "templates/a.yaml", true),
            ("templates/a?.yaml", "templates/ab.yaml", true),
            ("[a-c]x", "bx", true),
            ("[^a-c]x", "bx", false),
            ("a\\*", "a*", true),
            ("[", "a", false),
            // The shapes matched without the matcher: plain names and `*` + suffix.
            (".DS_Store", ".DS_Store", true),
            (".DS_Store", "x/.DS_Store", false),
            ("", "", true),
            ("*", "ab", true),
            ("*", "a/b", false),
            ("*~", "values.yaml~", true),
            ("*.tmp", "x/a.tmp", false),
            ("*.tmp", ".tmp", true),
            ("*a*", "xay", true),
        ] {
            assert_eq!(go_match(p, n), want, "{p} {n}");
        }
    }

    #[test]
    fn files_globs() {
        assert!(files_glob("files/*", "files/a.txt"));
        assert!(!files_glob("files/*", "files/x/a.txt"));
        assert!(files_glob("files/**", "files/x/a.txt"));
        assert!(files_glob("**.toml", "x/y/a.toml"));
        assert!(files_glob("files/{a,b}.txt", "files/b.txt"));
    }

    #[test]
    fn helmignore_rules() {
        let r = IgnoreRules::parse("# c\n*.tmp\n/secret.txt\ndocs/\n").unwrap();
        assert!(r.ignore("a.tmp", false));
        assert!(r.ignore("x/a.tmp", false));
        assert!(r.ignore("secret.txt", false));
        assert!(r.ignore("docs", true));
        assert!(!r.ignore("docs", false));
        assert!(r.ignore("templates/.hidden", false));
        assert!(!r.ignore("templates/a.yaml", false));
        assert!(IgnoreRules::parse("a/**/b").is_err());
    }
}
