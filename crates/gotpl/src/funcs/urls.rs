//! Template functions: Sprig's `url.go` (`urlParse`, `urlJoin`) over a port of the parts of
//! Go's `net/url` they use: `url.Parse` (scheme, opaque, authority with userinfo and host
//! checks, percent-decoding, query, fragment) and `URL.String()` (re-escaping per component).
//! Go's `urlquery` is a text/template builtin and lives with the builtins.

use super::strings::{arg_str, go_quote};
use super::{FuncCtx, FuncError, FuncMap, FuncResult, Sig, Ty};
use crate::value::{Map, Value};

pub(crate) fn register(map: &mut FuncMap) {
    map.add("urlParse", Sig::fixed(&[Ty::String]), url_parse);
    map.add("urlJoin", Sig::fixed(&[Ty::Map]), url_join);
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Path,
    Host,
    UserPassword,
    Fragment,
}

/// The fields of a Go `url.URL` Sprig reads or writes.
#[derive(Default, Debug, PartialEq)]
struct Url {
    scheme: String,
    opaque: String,
    user: Option<(String, Option<String>)>,
    host: String,
    path: String,
    raw_path: String,
    omit_host: bool,
    force_query: bool,
    raw_query: String,
    fragment: String,
}

fn should_escape(c: u8, mode: Mode) -> bool {
    if c.is_ascii_alphanumeric() {
        return false;
    }
    if mode == Mode::Host
        && matches!(
            c,
            b'!' | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b';'
                | b'='
                | b':'
                | b'['
                | b']'
                | b'<'
                | b'>'
                | b'"'
        )
    {
        return false;
    }
    match c {
        b'-' | b'_' | b'.' | b'~' => return false,
        b'$' | b'&' | b'+' | b',' | b'/' | b':' | b';' | b'=' | b'?' | b'@' => {
            return match mode {
                Mode::Path => c == b'?',
                Mode::UserPassword => matches!(c, b'@' | b'/' | b'?' | b':'),
                Mode::Fragment => false,
                Mode::Host => true,
            };
        }
        _ => {}
    }
    if mode == Mode::Fragment && matches!(c, b'!' | b'(' | b')' | b'*') {
        return false;
    }
    true
}

fn escape(s: &str, mode: Mode) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if should_escape(b, mode) {
            out.push_str(&format!("%{b:02X}"));
        } else {
            out.push(char::from(b));
        }
    }
    out
}

fn unescape(s: &str, mode: Mode) -> Result<String, String> {
    let b = s.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hex = |j: usize| b.get(j).and_then(|c| char::from(*c).to_digit(16));
                let (Some(h), Some(l)) = (hex(i + 1), hex(i + 2)) else {
                    let end = (i + 3).min(b.len());
                    let bad = String::from_utf8_lossy(&b[i..end]).into_owned();
                    return Err(format!("invalid URL escape {}", go_quote(&bad)));
                };
                if mode == Mode::Host && h < 8 && s.get(i..i + 3) != Some("%25") {
                    let bad = s.get(i..i + 3).unwrap_or("");
                    return Err(format!("invalid URL escape {}", go_quote(bad)));
                }
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            c => {
                if mode == Mode::Host && c < 0x80 && should_escape(c, mode) {
                    return Err(format!(
                        "invalid character {} in host name",
                        go_quote(&char::from(c).to_string())
                    ));
                }
                out.push(c);
                i += 1;
            }
        }
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

fn valid_optional_port(port: &str) -> bool {
    port.is_empty()
        || port
            .strip_prefix(':')
            .is_some_and(|p| p.bytes().all(|c| c.is_ascii_digit()))
}

fn parse_host(host: &str) -> Result<String, String> {
    if host.starts_with('[') {
        let Some(i) = host.rfind(']') else {
            return Err("missing ']' in host".into());
        };
        let colon_port = &host[i + 1..];
        if !valid_optional_port(colon_port) {
            return Err(format!("invalid port {} after host", go_quote(colon_port)));
        }
    } else if let Some(i) = host.rfind(':') {
        let colon_port = &host[i..];
        if !valid_optional_port(colon_port) {
            return Err(format!("invalid port {} after host", go_quote(colon_port)));
        }
    }
    unescape(host, Mode::Host)
}

fn valid_userinfo(s: &str) -> bool {
    s.chars().all(|c| {
        c.is_ascii_alphanumeric()
            || matches!(
                c,
                '-' | '.'
                    | '_'
                    | ':'
                    | '~'
                    | '!'
                    | '$'
                    | '&'
                    | '\''
                    | '('
                    | ')'
                    | '*'
                    | '+'
                    | ','
                    | ';'
                    | '='
                    | '%'
                    | '@'
            )
            || !c.is_ascii()
    })
}

/// Go's `url.Parse`.
fn parse(raw: &str) -> Result<Url, String> {
    let wrap = |u: &str, e: String| format!("parse {}: {e}", go_quote(u));
    let (u, frag) = raw.split_once('#').unwrap_or((raw, ""));
    let mut url = parse_no_fragment(u).map_err(|e| wrap(u, e))?;
    if !frag.is_empty() {
        url.fragment = unescape(frag, Mode::Fragment).map_err(|e| wrap(raw, e))?;
    }
    Ok(url)
}

fn parse_no_fragment(raw: &str) -> Result<Url, String> {
    if raw.bytes().any(|b| b < 0x20 || b == 0x7f) {
        return Err("net/url: invalid control character in URL".into());
    }
    let mut url = Url::default();
    if raw == "*" {
        url.path = "*".into();
        return Ok(url);
    }
    // getScheme
    let mut rest = raw;
    for (i, c) in raw.bytes().enumerate() {
        if c.is_ascii_alphabetic() {
            continue;
        }
        if c.is_ascii_digit() || matches!(c, b'+' | b'-' | b'.') {
            if i == 0 {
                break;
            }
            continue;
        }
        if c == b':' {
            if i == 0 {
                return Err("missing protocol scheme".into());
            }
            url.scheme = raw[..i].to_ascii_lowercase();
            rest = &raw[i + 1..];
        }
        break;
    }
    if rest.ends_with('?') && rest.matches('?').count() == 1 {
        url.force_query = true;
        rest = &rest[..rest.len() - 1];
    } else if let Some((r, q)) = rest.split_once('?') {
        url.raw_query = q.to_string();
        rest = r;
    }
    if !rest.starts_with('/') {
        if !url.scheme.is_empty() {
            url.opaque = rest.to_string();
            return Ok(url);
        }
        let segment = rest.split('/').next().unwrap_or("");
        if segment.contains(':') {
            return Err("first path segment in URL cannot contain colon".into());
        }
    }
    if (!url.scheme.is_empty() || !rest.starts_with("///")) && rest.starts_with("//") {
        let authority_and_path = &rest[2..];
        let (authority, path) = match authority_and_path.find('/') {
            Some(i) => (&authority_and_path[..i], &authority_and_path[i..]),
            None => (authority_and_path, ""),
        };
        let (userinfo, hostpart) = match authority.rfind('@') {
            Some(i) => (Some(&authority[..i]), &authority[i + 1..]),
            None => (None, authority),
        };
        url.host = parse_host(hostpart)?;
        if let Some(ui) = userinfo {
            if !valid_userinfo(ui) {
                return Err("net/url: invalid userinfo".into());
            }
            url.user = Some(match ui.split_once(':') {
                None => (unescape(ui, Mode::UserPassword)?, None),
                Some((u, p)) => (
                    unescape(u, Mode::UserPassword)?,
                    Some(unescape(p, Mode::UserPassword)?),
                ),
            });
        }
        rest = path;
    } else if !url.scheme.is_empty() && rest.starts_with('/') {
        url.omit_host = true;
    }
    url.path = unescape(rest, Mode::Path)?;
    if escape(&url.path, Mode::Path) != rest {
        url.raw_path = rest.to_string();
    }
    Ok(url)
}

fn userinfo_string(user: &(String, Option<String>)) -> String {
    let mut s = escape(&user.0, Mode::UserPassword);
    if let Some(p) = &user.1 {
        s.push(':');
        s.push_str(&escape(p, Mode::UserPassword));
    }
    s
}

impl Url {
    /// `URL.EscapedPath()`: `RawPath` when it is a valid encoding of `Path`.
    fn escaped_path(&self) -> String {
        if !self.raw_path.is_empty()
            && unescape(&self.raw_path, Mode::Path).is_ok_and(|p| p == self.path)
        {
            return self.raw_path.clone();
        }
        if self.path == "*" {
            return "*".into();
        }
        escape(&self.path, Mode::Path)
    }

    /// Go's `URL.String()`.
    fn to_go_string(&self) -> String {
        let mut buf = String::new();
        if !self.scheme.is_empty() {
            buf.push_str(&self.scheme);
            buf.push(':');
        }
        if !self.opaque.is_empty() {
            buf.push_str(&self.opaque);
        } else {
            let has_authority =
                !self.scheme.is_empty() || !self.host.is_empty() || self.user.is_some();
            let omit = self.omit_host && self.host.is_empty() && self.user.is_none();
            if has_authority && !omit {
                if !self.host.is_empty() || !self.path.is_empty() || self.user.is_some() {
                    buf.push_str("//");
                }
                if let Some(u) = &self.user {
                    buf.push_str(&userinfo_string(u));
                    buf.push('@');
                }
                buf.push_str(&escape(&self.host, Mode::Host));
            }
            let path = self.escaped_path();
            if !path.is_empty() && !path.starts_with('/') && !self.host.is_empty() {
                buf.push('/');
            }
            if buf.is_empty() && path.split('/').next().unwrap_or("").contains(':') {
                buf.push_str("./");
            }
            buf.push_str(&path);
        }
        if self.force_query || !self.raw_query.is_empty() {
            buf.push('?');
            buf.push_str(&self.raw_query);
        }
        if !self.fragment.is_empty() {
            buf.push('#');
            buf.push_str(&escape(&self.fragment, Mode::Fragment));
        }
        buf
    }

    /// `URL.Hostname()`.
    fn hostname(&self) -> String {
        let mut host = self.host.as_str();
        if let Some(i) = host.rfind(':')
            && valid_optional_port(&host[i..])
        {
            host = &host[..i];
        }
        if host.starts_with('[') && host.ends_with(']') && host.len() >= 2 {
            host = &host[1..host.len() - 1];
        }
        host.to_string()
    }
}

fn url_parse(_: &mut FuncCtx<'_>, a: &[Value]) -> FuncResult {
    let u =
        parse(arg_str(a, 0)).map_err(|e| FuncError::msg(format!("unable to parse url: {e}")))?;
    let mut m = Map::new();
    m.insert("scheme".into(), Value::str(u.scheme.as_str()));
    m.insert("host".into(), Value::str(u.host.as_str()));
    m.insert("hostname".into(), Value::str(u.hostname()));
    m.insert("path".into(), Value::str(u.path.as_str()));
    m.insert("query".into(), Value::str(u.raw_query.as_str()));
    m.insert("opaque".into(), Value::str(u.opaque.as_str()));
    m.insert("fragment".into(), Value::str(u.fragment.as_str()));
    let userinfo = u.user.as_ref().map(userinfo_string).unwrap_or_default();
    m.insert("userinfo".into(), Value::str(userinfo));
    Ok(Value::map(m))
}

fn url_join(_: &mut FuncCtx<'_>, a: &[Value]) -> FuncResult {
    let d = a
        .first()
        .and_then(Value::as_map)
        .map(|m| m.snapshot())
        .unwrap_or_default();
    let get = |key: &str| -> Result<String, FuncError> {
        match d.get(key) {
            None => Ok(String::new()),
            Some(Value::String(s)) => Ok(s.to_string()),
            Some(v) => {
                let kind = if v.is_nil() { "invalid" } else { v.kind_name() };
                Err(FuncError::msg(format!(
                    "unable to parse {key} key, must be of type string, but {kind} found"
                )))
            }
        }
    };
    let mut u = Url {
        scheme: get("scheme")?,
        host: get("host")?,
        path: get("path")?,
        raw_query: get("query")?,
        opaque: get("opaque")?,
        fragment: get("fragment")?,
        ..Url::default()
    };
    let userinfo = get("userinfo")?;
    if !userinfo.is_empty() {
        let tmp = parse(&format!("proto://{userinfo}@host"))
            .map_err(|e| FuncError::msg(format!("unable to parse userinfo in dict: {e}")))?;
        u.user = tmp.user;
    }
    Ok(Value::str(u.to_go_string()))
}

#[cfg(test)]
mod tests {
    use super::super::cast::tests_support::{call, call_err, s};
    use crate::fmt::format_v;
    use crate::value::{Map, Value};

    #[test]
    fn helm_observed_url_parse() {
        // Expectations read off helm v4.1.4.
        let cases: &[(&str, &str)] = &[
            (
                "https://u:p%40ss@example.com:8443/a%20b/c?x=1&y=2#frag%20x",
                "map[fragment:frag x host:example.com:8443 hostname:example.com opaque: path:/a b/c query:x=1&y=2 scheme:https userinfo:u:p%40ss]",
            ),
            (
                "mailto:joe@example.com",
                "map[fragment: host: hostname: opaque:joe@example.com path: query: scheme:mailto userinfo:]",
            ),
            (
                "/just/a/path",
                "map[fragment: host: hostname: opaque: path:/just/a/path query: scheme: userinfo:]",
            ),
            (
                "http://[::1]:80/x",
                "map[fragment: host:[::1]:80 hostname:::1 opaque: path:/x query: scheme:http userinfo:]",
            ),
        ];
        for (u, want) in cases {
            assert_eq!(format_v(&call("urlParse", vec![s(u)])), *want, "{u}");
        }
    }

    #[test]
    fn helm_observed_url_join() {
        let d = |pairs: &[(&str, &str)]| {
            Value::map(
                pairs
                    .iter()
                    .map(|(k, v)| (k.to_string(), Value::str(*v)))
                    .collect::<Map>(),
            )
        };
        let cases: Vec<(Value, &str)> = vec![
            (
                d(&[
                    ("scheme", "https"),
                    ("host", "example.com:8443"),
                    ("path", "/a b"),
                    ("query", "x=1"),
                    ("fragment", "f g"),
                    ("userinfo", "u:p@ss"),
                ]),
                "https://u:p%40ss@example.com:8443/a%20b?x=1#f%20g",
            ),
            (
                d(&[("scheme", "mailto"), ("opaque", "joe@example.com")]),
                "mailto:joe@example.com",
            ),
            (d(&[("host", "h"), ("path", "rel")]), "//h/rel"),
            (d(&[("path", "a:b")]), "./a:b"),
        ];
        for (m, want) in cases {
            assert_eq!(format_v(&call("urlJoin", vec![m.clone()])), want, "{m:?}");
        }
    }

    #[test]
    fn helm_observed_url_errors() {
        assert_eq!(
            call_err("urlParse", vec![s("http://[::1")]),
            "unable to parse url: parse \"http://[::1\": missing ']' in host"
        );
        let m = Value::map(
            [("host".to_string(), Value::Int(1))]
                .into_iter()
                .collect::<Map>(),
        );
        assert_eq!(
            call_err("urlJoin", vec![m]),
            "unable to parse host key, must be of type string, but int found"
        );
        assert_eq!(
            call_err("urlParse", vec![s("%zz")]),
            "unable to parse url: parse \"%zz\": invalid URL escape \"%zz\""
        );
    }
}
