//! Registry authentication: `WWW-Authenticate` challenges (pure parsing) and credentials stored
//! like Docker's `config.json` (`{"auths":{"HOST":{"auth":"base64(user:pass)"}}}`). IO for the
//! credential files only.
//!
//! `registry login` writes `CONFIG/registry/config.json` (the config folder of
//! [`crate::dirs::config_home`]; `0600`, atomic). Credentials are looked up there first, then in
//! Docker's `$DOCKER_CONFIG/config.json` or `~/.docker/config.json` (entries with `auth` or
//! `username`/`password`; credential helpers and `credsStore` are not run). Helm's own
//! `~/.config/helm/registry/config.json` is not read.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde_json::{Map, Value};

use super::OciError;

/// A parsed `WWW-Authenticate` challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// `basic` or `bearer`, lowercase.
    pub scheme: String,
    /// Parameters by lowercase name (`realm`, `service`, `scope`).
    pub params: BTreeMap<String, String>,
}

impl Challenge {
    /// Parses the first challenge of a header value (`Bearer realm="…",service="…"`).
    pub fn parse(header: &str) -> Option<Challenge> {
        let header = header.trim();
        let (scheme, rest) = match header.split_once(char::is_whitespace) {
            Some((s, r)) => (s, r),
            None => (header, ""),
        };
        if scheme.is_empty() {
            return None;
        }
        let mut params = BTreeMap::new();
        let mut chars = rest.chars().peekable();
        loop {
            while chars.peek().is_some_and(|c| c.is_whitespace() || *c == ',') {
                chars.next();
            }
            let mut key = String::new();
            while let Some(&c) = chars.peek() {
                if c == '=' || c == ',' || c.is_whitespace() {
                    break;
                }
                key.push(c);
                chars.next();
            }
            if key.is_empty() {
                break;
            }
            while chars.peek().is_some_and(|c| c.is_whitespace()) {
                chars.next();
            }
            if chars.peek() != Some(&'=') {
                // A second challenge (`Basic realm=…, Bearer …`) or a token68: stop here.
                break;
            }
            chars.next();
            while chars.peek().is_some_and(|c| c.is_whitespace()) {
                chars.next();
            }
            let mut value = String::new();
            if chars.peek() == Some(&'"') {
                chars.next();
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => {
                            if let Some(n) = chars.next() {
                                value.push(n);
                            }
                        }
                        '"' => break,
                        c => value.push(c),
                    }
                }
            } else {
                while let Some(&c) = chars.peek() {
                    if c == ',' {
                        break;
                    }
                    value.push(c);
                    chars.next();
                }
                value = value.trim().to_string();
            }
            params.insert(key.to_ascii_lowercase(), value);
        }
        Some(Challenge {
            scheme: scheme.to_ascii_lowercase(),
            params,
        })
    }

    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }
}

/// A user name and password (or token) for a registry.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"<hidden>")
            .finish()
    }
}

impl Credentials {
    /// `base64(user:password)`, the `auth` field and the Basic header value.
    pub fn encoded(&self) -> String {
        base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", self.username, self.password))
    }

    fn decode(auth: &str) -> Option<Credentials> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(auth.trim())
            .ok()?;
        let text = String::from_utf8(bytes).ok()?;
        let (u, p) = text.split_once(':')?;
        Some(Credentials {
            username: u.into(),
            password: p.into(),
        })
    }
}

/// Where `registry login` stores credentials.
pub fn our_path() -> PathBuf {
    crate::dirs::config_home()
        .join("registry")
        .join("config.json")
}

/// Docker's `config.json`: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
pub fn docker_path() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os(crate::env::DOCKER_CONFIG).filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(dir).join("config.json"));
    }
    std::env::var_os("HOME")
        .filter(|v| !v.is_empty())
        .map(|h| PathBuf::from(h).join(".docker").join("config.json"))
}

/// The host an `auths` key names: `https://HOST/v1/` and `HOST` alike.
fn key_host(key: &str) -> &str {
    let k = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    k.split('/').next().unwrap_or(k)
}

fn read_json(path: &Path) -> Result<Option<Map<String, Value>>, OciError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(OciError::CredentialsRead {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Some(Map::new()));
    }
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(m)) => Ok(Some(m)),
        Ok(_) => Err(OciError::CredentialsParse {
            path: path.to_path_buf(),
            message: "expected a JSON object".into(),
        }),
        Err(e) => Err(OciError::CredentialsParse {
            path: path.to_path_buf(),
            message: e.to_string(),
        }),
    }
}

/// The credentials a config file holds for `registry`.
fn find_in(path: &Path, registry: &str) -> Result<Option<Credentials>, OciError> {
    let Some(config) = read_json(path)? else {
        return Ok(None);
    };
    let Some(Value::Object(auths)) = config.get("auths") else {
        return Ok(None);
    };
    let entry = auths.get(registry).or_else(|| {
        auths
            .iter()
            .find(|(k, _)| key_host(k) == registry)
            .map(|(_, v)| v)
    });
    let Some(entry) = entry else {
        return Ok(None);
    };
    if let Some(auth) = entry.get("auth").and_then(Value::as_str)
        && !auth.is_empty()
    {
        return Credentials::decode(auth)
            .map(Some)
            .ok_or_else(|| OciError::CredentialsParse {
                path: path.to_path_buf(),
                message: format!("the `auth` of {registry} is not base64 of USER:PASSWORD"),
            });
    }
    match (
        entry.get("username").and_then(Value::as_str),
        entry.get("password").and_then(Value::as_str),
    ) {
        (Some(u), Some(p)) => Ok(Some(Credentials {
            username: u.into(),
            password: p.into(),
        })),
        _ => Ok(None),
    }
}

/// The credentials for `registry` (`HOST[:PORT]`): ours first, then Docker's; with the file
/// they came from.
pub fn lookup(registry: &str) -> Result<Option<(Credentials, PathBuf)>, OciError> {
    let ours = our_path();
    if let Some(c) = find_in(&ours, registry)? {
        return Ok(Some((c, ours)));
    }
    if let Some(docker) = docker_path()
        && let Some(c) = find_in(&docker, registry)?
    {
        return Ok(Some((c, docker)));
    }
    Ok(None)
}

fn write(path: &Path, config: &Map<String, Value>) -> Result<(), OciError> {
    let mut text = serde_json::to_vec_pretty(config).unwrap_or_default();
    text.push(b'\n');
    crate::fsutil::write_atomic_private(path, &text).map_err(|source| OciError::CredentialsWrite {
        path: path.to_path_buf(),
        source,
    })
}

/// Stores credentials for `registry` in our file (other entries and keys kept).
pub fn store(registry: &str, creds: &Credentials) -> Result<PathBuf, OciError> {
    let path = our_path();
    let mut config = read_json(&path)?.unwrap_or_default();
    let auths = config
        .entry("auths")
        .or_insert_with(|| Value::Object(Map::new()));
    if !auths.is_object() {
        *auths = Value::Object(Map::new());
    }
    if let Value::Object(a) = auths {
        let mut entry = Map::new();
        entry.insert("auth".into(), Value::String(creds.encoded()));
        a.insert(registry.into(), Value::Object(entry));
    }
    write(&path, &config)?;
    Ok(path)
}

/// Removes the credentials for `registry` from our file.
pub fn remove(registry: &str) -> Result<PathBuf, OciError> {
    let path = our_path();
    let mut config = read_json(&path)?.unwrap_or_default();
    let removed = match config.get_mut("auths") {
        Some(Value::Object(a)) => {
            let keys: Vec<String> = a
                .keys()
                .filter(|k| k.as_str() == registry || key_host(k) == registry)
                .cloned()
                .collect();
            for k in &keys {
                a.remove(k);
            }
            !keys.is_empty()
        }
        _ => false,
    };
    if !removed {
        return Err(OciError::NotLoggedIn(registry.into()));
    }
    write(&path, &config)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bearer_and_basic_challenges() {
        let c = Challenge::parse(
            r#"Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:charts/redis:pull,push""#,
        )
        .unwrap();
        assert_eq!(c.scheme, "bearer");
        assert_eq!(c.param("realm"), Some("https://auth.example.com/token"));
        assert_eq!(c.param("service"), Some("registry.example.com"));
        assert_eq!(c.param("scope"), Some("repository:charts/redis:pull,push"));
        let c = Challenge::parse(r#"Basic realm="Registry Realm""#).unwrap();
        assert_eq!(c.scheme, "basic");
        assert_eq!(c.param("realm"), Some("Registry Realm"));
        let c = Challenge::parse("basic").unwrap();
        assert_eq!(c.scheme, "basic");
        assert!(c.params.is_empty());
        let c = Challenge::parse(r#"Bearer realm=http://x/token, service = "a \"b\"""#).unwrap();
        assert_eq!(c.param("realm"), Some("http://x/token"));
        assert_eq!(c.param("service"), Some("a \"b\""));
        assert_eq!(Challenge::parse("  "), None);
    }

    #[test]
    fn reads_docker_style_entries() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        let enc = Credentials {
            username: "alice".into(),
            password: "pa:ss".into(),
        }
        .encoded();
        std::fs::write(
            &path,
            format!(
                r#"{{"auths":{{"https://index.docker.io/v1/":{{"auth":"{enc}"}},"127.0.0.1:5000":{{"username":"bob","password":"pw"}}}},"credsStore":"desktop"}}"#
            ),
        )
        .unwrap();
        let alice = find_in(&path, "index.docker.io").unwrap().unwrap();
        assert_eq!(alice.username, "alice");
        assert_eq!(alice.password, "pa:ss", "only the first colon separates");
        let bob = find_in(&path, "127.0.0.1:5000").unwrap().unwrap();
        assert_eq!(bob.username, "bob");
        assert_eq!(find_in(&path, "ghcr.io").unwrap(), None);
        assert_eq!(find_in(&dir.path().join("none.json"), "x").unwrap(), None);
        std::fs::write(&path, "{").unwrap();
        assert!(matches!(
            find_in(&path, "x"),
            Err(OciError::CredentialsParse { .. })
        ));
        assert!(
            !format!("{alice:?}").contains("pa:ss"),
            "Debug hides the password"
        );
    }
}
