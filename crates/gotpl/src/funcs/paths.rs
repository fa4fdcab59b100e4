//! Template functions: Go's `path` (`base`, `dir`, `clean`, `ext`, `isAbs`) and
//! `path/filepath` (`osBase`, `osDir`, `osClean`, `osExt`, `osIsAbs`), which behave the same
//! for Helm on Linux (separator `/`). Pure string functions: no file system access.

use super::strings::arg_str;
use super::{FuncMap, Sig, Ty};
use crate::value::Value;

pub(crate) fn register(map: &mut FuncMap) {
    let s = &[Ty::String];
    map.add("base", Sig::fixed(s), |_, a| {
        Ok(Value::str(base(arg_str(a, 0))))
    });
    map.add("osBase", Sig::fixed(s), |_, a| {
        Ok(Value::str(base(arg_str(a, 0))))
    });
    map.add("dir", Sig::fixed(s), |_, a| {
        Ok(Value::str(dir(arg_str(a, 0))))
    });
    map.add("osDir", Sig::fixed(s), |_, a| {
        Ok(Value::str(dir(arg_str(a, 0))))
    });
    map.add("clean", Sig::fixed(s), |_, a| {
        Ok(Value::str(clean(arg_str(a, 0))))
    });
    map.add("osClean", Sig::fixed(s), |_, a| {
        Ok(Value::str(clean(arg_str(a, 0))))
    });
    map.add("ext", Sig::fixed(s), |_, a| {
        Ok(Value::str(ext(arg_str(a, 0))))
    });
    map.add("osExt", Sig::fixed(s), |_, a| {
        Ok(Value::str(ext(arg_str(a, 0))))
    });
    map.add("isAbs", Sig::fixed(s), |_, a| {
        Ok(Value::Bool(arg_str(a, 0).starts_with('/')))
    });
    map.add("osIsAbs", Sig::fixed(s), |_, a| {
        Ok(Value::Bool(arg_str(a, 0).starts_with('/')))
    });
}

/// Go's `path.Clean`: the shortest equivalent path (lexical processing only).
pub(crate) fn clean(path: &str) -> String {
    if path.is_empty() {
        return ".".into();
    }
    let p = path.as_bytes();
    let n = p.len();
    let rooted = p[0] == b'/';
    let mut out: Vec<u8> = Vec::with_capacity(n);
    let (mut r, mut dotdot) = (0usize, 0usize);
    if rooted {
        out.push(b'/');
        r = 1;
        dotdot = 1;
    }
    let at = |i: usize| p.get(i).copied();
    while r < n {
        if at(r) == Some(b'/') || (at(r) == Some(b'.') && (r + 1 == n || at(r + 1) == Some(b'/'))) {
            r += 1;
        } else if at(r) == Some(b'.')
            && at(r + 1) == Some(b'.')
            && (r + 2 == n || at(r + 2) == Some(b'/'))
        {
            r += 2;
            if out.len() > dotdot {
                // Back to the previous slash, which goes too (Go's `out.w--` loop).
                let mut w = out.len() - 1;
                while w > dotdot && out.get(w) != Some(&b'/') {
                    w -= 1;
                }
                out.truncate(w);
            } else if !rooted {
                if !out.is_empty() {
                    out.push(b'/');
                }
                out.extend_from_slice(b"..");
                dotdot = out.len();
            }
        } else {
            if (rooted && out.len() != 1) || (!rooted && !out.is_empty()) {
                out.push(b'/');
            }
            while r < n && at(r) != Some(b'/') {
                out.extend(at(r));
                r += 1;
            }
        }
    }
    if out.is_empty() {
        return ".".into();
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Go's `path.Base`.
pub(crate) fn base(path: &str) -> String {
    if path.is_empty() {
        return ".".into();
    }
    let trimmed = path.trim_end_matches('/');
    let last = trimmed.rsplit('/').next().unwrap_or("");
    if last.is_empty() {
        return "/".into();
    }
    last.to_string()
}

/// Go's `path.Dir`.
pub(crate) fn dir(path: &str) -> String {
    let cut = path.rfind('/').map_or(0, |i| i + 1);
    clean(path.get(..cut).unwrap_or(""))
}

/// Go's `path.Ext`.
pub(crate) fn ext(path: &str) -> String {
    for (i, c) in path.char_indices().rev() {
        match c {
            '/' => break,
            '.' => return path.get(i..).unwrap_or("").to_string(),
            _ => {}
        }
    }
    String::new()
}

#[cfg(test)]
mod tests {
    use super::super::cast::tests_support::{call, s};
    use crate::fmt::format_v;

    #[test]
    fn helm_observed_paths() {
        // Expectations read off helm v4.1.4.
        let cases: &[(&str, &str, &str)] = &[
            ("base", "", "."),
            ("base", "/", "/"),
            ("base", "a/b/", "b"),
            ("base", "a/b.tar.gz", "b.tar.gz"),
            ("dir", "a/b/c", "a/b"),
            ("dir", "a", "."),
            ("dir", "/a", "/"),
            ("dir", "a//b/", "a/b"),
            ("clean", "", "."),
            ("clean", "a/../../b/./c//", "../b/c"),
            ("clean", "/../a/..", "/"),
            ("clean", "./", "."),
            // helm v4.1.4: {{ clean "/a/./b/../c//d/" }}
            ("clean", "/a/./b/../c//d/", "/a/c/d"),
            ("clean", "a/b/../../c", "c"),
            ("ext", "a/b.tar.gz", ".gz"),
            ("ext", "a.b/c", ""),
            ("isAbs", "/x", "true"),
            ("isAbs", "x", "false"),
            ("osBase", "a/b", "b"),
            ("osDir", "a/b", "a"),
            ("osClean", "a//b", "a/b"),
            ("osExt", "x.yaml", ".yaml"),
            ("osIsAbs", "/", "true"),
        ];
        for (name, arg, want) in cases {
            assert_eq!(format_v(&call(name, vec![s(arg)])), *want, "{name} {arg}");
        }
    }
}
