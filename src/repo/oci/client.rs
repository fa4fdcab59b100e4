//! The OCI Distribution wire protocol on the blocking client of [`crate::repo::http`]: tag lists,
//! manifests and blobs (pull), blob uploads and manifest PUTs (push), and authentication.
//!
//! Every step is verified before the next: a manifest pinned by digest must hash to it (one by
//! tag must match the registry's `Docker-Content-Digest`), and each blob must have the size and
//! sha256 its descriptor names. Sizes are bounded before and while reading. The cache is
//! written only once the whole artifact is verified, so a failed pull caches nothing.
//!
//! Authentication: a request answered 401 is retried once, after the challenge: `Basic` sends
//! the stored credentials; `Bearer realm=…,service=…,scope=…` fetches a token from the realm
//! (with the credentials as Basic auth, or anonymously) and the token is kept for that scope for
//! the life of the client. Plain HTTP only for loopback registries, or with `--plain-http`.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::{Path, PathBuf};

use reqwest::Method;
use reqwest::blocking::{Client, RequestBuilder, Response};
use reqwest::header::HeaderMap;
use semver::{Version, VersionReq};

use super::OciError;
use super::auth::{Challenge, Credentials};
use super::manifest::{
    ArtifactKind, Descriptor, INDEX_MEDIA_TYPE, MANIFEST_MEDIA_TYPE, MAX_CONFIG_BYTES,
    MAX_MANIFEST_BYTES, Manifest,
};
use super::reference::{OciRef, Selector, is_loopback, tag_for, version_of_tag};
use crate::index::select::is_exact;
use crate::model::Digest;
use crate::repo::client::{MAX_ARCHIVE_BYTES, Progress};
use crate::repo::http::{ATTEMPTS, BACKOFF};
use crate::repo::provenance::{self, Keyring, ProvenanceError, Verified};

/// Most pages of a tag list followed.
const MAX_TAG_PAGES: usize = 50;
/// Largest error body read for its message.
const MAX_ERROR_BODY: u64 = 64 * 1024;
/// Largest token response.
const MAX_TOKEN_BYTES: u64 = 1024 * 1024;

/// What a request is for: the registry, and the repository and access it needs (the token
/// scope).
#[derive(Debug, Clone, Copy)]
struct Target<'a> {
    registry: &'a str,
    repository: Option<&'a str>,
    push: bool,
}

impl Target<'_> {
    fn scope(&self) -> Option<String> {
        self.repository.map(|r| {
            format!(
                "repository:{r}:{}",
                if self.push { "pull,push" } else { "pull" }
            )
        })
    }

    fn token_key(&self) -> String {
        format!("{}|{}", self.registry, self.scope().unwrap_or_default())
    }
}

/// A provenance file that checked out, and its verdict.
type ProvenanceChecked = (Vec<u8>, Verified);

/// `NAME-VERSION.tgz` from a chart's config blob (its Chart.yaml as JSON).
fn archive_file_name(config: &[u8]) -> String {
    let v: serde_json::Value = serde_json::from_slice(config).unwrap_or_default();
    let field = |k: &str| {
        v.get(k)
            .and_then(|x| x.as_str())
            .unwrap_or_default()
            .to_string()
    };
    format!("{}-{}.tgz", field("name"), field("version"))
}

/// A chart or package pulled and verified.
#[derive(Debug, Clone)]
pub struct Pulled {
    /// The reference resolved: by tag, or by digest when pinned.
    pub reference: OciRef,
    /// The tag it was found under (none when pulled by digest).
    pub tag: Option<String>,
    pub manifest_digest: Digest,
    pub kind: ArtifactKind,
    /// The archive layer's descriptor (its digest is the archive's).
    pub layer: Descriptor,
    /// The archive.
    pub bytes: Vec<u8>,
}

/// What to push.
#[derive(Debug, Clone)]
pub struct Push {
    /// The registry and repository (`oci://HOST/PATH/NAME`); the selector is ignored.
    pub repository: OciRef,
    pub tag: String,
    pub kind: ArtifactKind,
    pub config: Vec<u8>,
    pub layer: Vec<u8>,
    pub annotations: std::collections::BTreeMap<String, String>,
    /// Replace a tag that holds another archive.
    pub force: bool,
}

/// What a push did.
#[derive(Debug, Clone)]
pub struct Pushed {
    pub reference: OciRef,
    pub manifest_digest: Digest,
    pub layer_digest: Digest,
    /// The tag already held the same archive: nothing was uploaded.
    pub unchanged: bool,
}

/// The client: HTTP, credentials, tokens, and the cache.
pub struct OciClient {
    http: Option<Client>,
    cache: PathBuf,
    plain_http: bool,
    /// Bearer tokens by `registry|scope`.
    tokens: HashMap<String, String>,
    /// Registries that asked for Basic auth.
    basic: HashSet<String>,
    /// Credentials by registry, looked up once (`None`: none stored).
    creds: HashMap<String, Option<Credentials>>,
}

fn registry_detail(body: &[u8]) -> String {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) else {
        return String::from_utf8_lossy(body)
            .trim()
            .chars()
            .take(200)
            .collect();
    };
    v["errors"]
        .as_array()
        .map(|errs| {
            errs.iter()
                .map(|e| {
                    let code = e["code"].as_str().unwrap_or("");
                    let msg = e["message"].as_str().unwrap_or("");
                    match (code.is_empty(), msg.is_empty()) {
                        (false, false) => format!("{code}: {msg}"),
                        (false, true) => code.to_string(),
                        _ => msg.to_string(),
                    }
                })
                .collect::<Vec<_>>()
                .join("; ")
        })
        .unwrap_or_default()
}

fn no_match(r: &OciRef, req: &str, versions: &[(Version, String)]) -> OciError {
    OciError::NoMatchingTag {
        reference: r.base(),
        req: req.to_string(),
        available: if versions.is_empty() {
            "none".into()
        } else {
            versions
                .iter()
                .map(|(v, _)| v.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        },
    }
}

/// Reads at most `max` bytes of a body.
fn read_capped(resp: Response, max: u64) -> Vec<u8> {
    let mut out = Vec::new();
    let _ = resp.take(max).read_to_end(&mut out);
    out
}

fn read_opt(path: &Path) -> Option<Vec<u8>> {
    std::fs::read(path).ok()
}

impl OciClient {
    /// A client using `cache`; `plain_http` talks HTTP to every registry.
    pub fn new(cache: PathBuf, plain_http: bool) -> Self {
        Self {
            http: None,
            cache,
            plain_http,
            tokens: HashMap::new(),
            basic: HashSet::new(),
            creds: HashMap::new(),
        }
    }

    /// A client on the user's cache; plain HTTP with `plain_http` or `COCKTAIL_PKG_PLAIN_HTTP`.
    pub fn from_env(plain_http: bool) -> Self {
        let env = std::env::var(crate::env::PLAIN_HTTP)
            .is_ok_and(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "1" | "true" | "yes"));
        Self::new(crate::dirs::cache_home(), plain_http || env)
    }

    fn http(&mut self) -> Result<Client, OciError> {
        if let Some(c) = &self.http {
            return Ok(c.clone());
        }
        let c = crate::repo::http::client().map_err(|e| OciError::Client(e.to_string()))?;
        self.http = Some(c.clone());
        Ok(c)
    }

    fn scheme(&self, registry: &str) -> &'static str {
        if self.plain_http || is_loopback(registry) {
            "http"
        } else {
            "https"
        }
    }

    /// `SCHEME://REGISTRY/v2/`.
    pub fn base_url(&self, registry: &str) -> String {
        format!("{}://{registry}/v2/", self.scheme(registry))
    }

    fn credentials(&mut self, registry: &str) -> Result<Option<Credentials>, OciError> {
        if let Some(c) = self.creds.get(registry) {
            return Ok(c.clone());
        }
        let found = super::auth::lookup(registry)?.map(|(c, _)| c);
        self.creds.insert(registry.to_string(), found.clone());
        Ok(found)
    }

    /// One request, with the cached authorization, and once more after a 401 challenge.
    /// Transport failures are returned with `attempts: 1` (callers retry what is idempotent).
    fn send(
        &mut self,
        method: Method,
        target: Target<'_>,
        url: &str,
        build: &dyn Fn(RequestBuilder) -> RequestBuilder,
    ) -> Result<Response, OciError> {
        let client = self.http()?;
        let method_name: &'static str = match method.as_str() {
            "GET" => "GET",
            "HEAD" => "HEAD",
            "POST" => "POST",
            "PUT" => "PUT",
            "PATCH" => "PATCH",
            "DELETE" => "DELETE",
            _ => "request",
        };
        let mut challenged = false;
        loop {
            let mut req = build(client.request(method.clone(), url));
            if let Some(token) = self.tokens.get(&target.token_key()) {
                req = req.bearer_auth(token);
            } else if self.basic.contains(target.registry)
                && let Some(c) = self.credentials(target.registry)?
            {
                req = req.basic_auth(&c.username, Some(&c.password));
            }
            let resp = req.send().map_err(|e| OciError::Transport {
                method: method_name,
                url: url.to_string(),
                attempts: 1,
                message: crate::error_chain(&e),
            })?;
            if resp.status() != reqwest::StatusCode::UNAUTHORIZED {
                return Ok(resp);
            }
            let had_credentials = self.credentials(target.registry)?.is_some();
            let header = resp
                .headers()
                .get(reqwest::header::WWW_AUTHENTICATE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let detail = registry_detail(&read_capped(resp, MAX_ERROR_BODY));
            if challenged {
                return Err(OciError::Unauthorized {
                    registry: target.registry.into(),
                    had_credentials,
                    detail,
                });
            }
            challenged = true;
            let challenge = header.as_deref().and_then(Challenge::parse);
            match challenge {
                Some(c) if c.scheme == "basic" => {
                    if !had_credentials {
                        return Err(OciError::Unauthorized {
                            registry: target.registry.into(),
                            had_credentials,
                            detail,
                        });
                    }
                    self.basic.insert(target.registry.to_string());
                }
                Some(c) if c.scheme == "bearer" => {
                    let token = self.fetch_token(target, &c)?;
                    self.tokens.insert(target.token_key(), token);
                }
                _ => {
                    return Err(OciError::Challenge {
                        registry: target.registry.into(),
                        challenge: header.unwrap_or_else(|| "(no WWW-Authenticate header)".into()),
                    });
                }
            }
        }
    }

    /// The token flow: `GET realm?service=…&scope=…`, with the credentials as Basic auth when
    /// there are some.
    fn fetch_token(&mut self, target: Target<'_>, c: &Challenge) -> Result<String, OciError> {
        let realm = c.param("realm").unwrap_or_default().to_string();
        let token_err = |message: String| OciError::Token {
            realm: realm.clone(),
            message,
        };
        let mut url = reqwest::Url::parse(&realm)
            .map_err(|e| token_err(format!("the realm is not a URL: {e}")))?;
        let creds = self.credentials(target.registry)?;
        let realm_host = url.host_str().unwrap_or_default().to_string();
        let realm_loopback = is_loopback(&realm_host)
            || realm_host.trim_start_matches('[').trim_end_matches(']') == "::1";
        if creds.is_some() && url.scheme() == "http" && !self.plain_http && !realm_loopback {
            return Err(OciError::InsecureRealm { url: realm });
        }
        {
            let mut q = url.query_pairs_mut();
            if let Some(s) = c.param("service") {
                q.append_pair("service", s);
            }
            let ours = target.scope();
            if let Some(s) = &ours {
                q.append_pair("scope", s);
            }
            if let Some(s) = c.param("scope")
                && Some(s) != ours.as_deref()
            {
                q.append_pair("scope", s);
            }
        }
        let client = self.http()?;
        let mut req = client.get(url.as_str());
        if let Some(c) = &creds {
            req = req.basic_auth(&c.username, Some(&c.password));
        }
        let resp = req.send().map_err(|e| token_err(crate::error_chain(&e)))?;
        let status = resp.status();
        if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::FORBIDDEN {
            return Err(OciError::Unauthorized {
                registry: target.registry.into(),
                had_credentials: creds.is_some(),
                detail: format!("the token service answered {status}"),
            });
        }
        if !status.is_success() {
            return Err(token_err(format!("answered {status}")));
        }
        let body = read_capped(resp, MAX_TOKEN_BYTES);
        let v: serde_json::Value = serde_json::from_slice(&body)
            .map_err(|e| token_err(format!("the answer is not JSON: {e}")))?;
        v["token"]
            .as_str()
            .or_else(|| v["access_token"].as_str())
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .ok_or_else(|| token_err("the answer holds no token".into()))
    }

    /// The error for a non-success status.
    fn status_error(
        method: &'static str,
        target: Target<'_>,
        url: &str,
        what: &str,
        resp: Response,
    ) -> OciError {
        let status = resp.status();
        let detail = registry_detail(&read_capped(resp, MAX_ERROR_BODY));
        match status.as_u16() {
            404 => OciError::NotFound {
                what: what.to_string(),
                registry: target.registry.into(),
                detail,
            },
            403 => OciError::Denied {
                registry: target.registry.into(),
                repository: target.repository.unwrap_or("/v2/").into(),
                detail,
            },
            s => OciError::Status {
                method,
                url: url.to_string(),
                status: s,
                detail,
            },
        }
    }

    /// GET with retries (5xx, transport failures and bodies cut short), reading at most `max`
    /// bytes, checking the length the registry announced and, with `expect`, the descriptor's
    /// size and digest.
    #[expect(
        clippy::too_many_arguments,
        reason = "one private helper for every GET"
    )]
    fn get_bytes(
        &mut self,
        target: Target<'_>,
        url: &str,
        accept: Option<&str>,
        what: &str,
        max: u64,
        expect: Option<(&Digest, u64)>,
        progress: Progress<'_>,
    ) -> Result<(Vec<u8>, HeaderMap), OciError> {
        if let Some((_, size)) = expect
            && size > max
        {
            return Err(OciError::TooLarge {
                what: what.into(),
                url: url.into(),
                max,
            });
        }
        let mut delay = BACKOFF;
        let mut last = String::new();
        for attempt in 1..=ATTEMPTS {
            if attempt > 1 {
                tracing::debug!("GET {url} failed ({last}); retrying in {delay:?}");
                std::thread::sleep(delay);
                delay *= 2;
            }
            let resp = match self.send(Method::GET, target, url, &|r| match accept {
                Some(a) => r.header(reqwest::header::ACCEPT, a),
                None => r,
            }) {
                Ok(r) => r,
                Err(OciError::Transport { message, .. }) => {
                    last = message;
                    continue;
                }
                Err(e) => return Err(e),
            };
            if resp.status().is_server_error() {
                last = format!("server error {}", resp.status());
                continue;
            }
            if !resp.status().is_success() {
                return Err(Self::status_error("GET", target, url, what, resp));
            }
            let headers = resp.headers().clone();
            match read_body(resp, what, url, max, &mut *progress) {
                Ok(body) => {
                    if let Some((digest, size)) = expect {
                        if body.len() as u64 != size {
                            return Err(OciError::SizeMismatch {
                                what: what.into(),
                                url: url.into(),
                                expected: size,
                                actual: body.len() as u64,
                            });
                        }
                        let actual = Digest::of(&body);
                        if &actual != digest {
                            return Err(OciError::DigestMismatch {
                                what: what.into(),
                                url: url.into(),
                                expected: digest.clone(),
                                actual,
                            });
                        }
                    }
                    return Ok((body, headers));
                }
                Err(OciError::Body { message, .. }) => last = message,
                Err(e) => return Err(e),
            }
        }
        Err(OciError::Transport {
            method: "GET",
            url: url.to_string(),
            attempts: ATTEMPTS,
            message: last,
        })
    }

    /// The semver tags of a repository, newest first (Helm's `_` read as `+`).
    pub fn versions(&mut self, r: &OciRef) -> Result<Vec<(Version, String)>, OciError> {
        let target = Target {
            registry: &r.registry,
            repository: Some(&r.repository),
            push: false,
        };
        let base = self.base_url(&r.registry);
        let mut url = format!("{base}{}/tags/list?n=1000", r.repository);
        let mut tags: Vec<String> = Vec::new();
        for _ in 0..MAX_TAG_PAGES {
            let (body, headers) = self.get_bytes(
                target,
                &url,
                Some("application/json"),
                &format!("the tag list of {}", r.base()),
                MAX_MANIFEST_BYTES,
                None,
                &mut |_, _| {},
            )?;
            let v: serde_json::Value =
                serde_json::from_slice(&body).map_err(|e| OciError::Body {
                    what: "the tag list".into(),
                    url: url.clone(),
                    message: format!("not JSON: {e}"),
                })?;
            if let Some(list) = v["tags"].as_array() {
                tags.extend(list.iter().filter_map(|t| t.as_str().map(str::to_string)));
            }
            // `Link: </v2/NAME/tags/list?last=x&n=1000>; rel="next"`.
            let next = headers
                .get(reqwest::header::LINK)
                .and_then(|l| l.to_str().ok())
                .filter(|l| l.contains("rel=\"next\"") || l.contains("rel=next"))
                .and_then(|l| {
                    let start = l.find('<')? + 1;
                    let end = l[start..].find('>')? + start;
                    Some(l[start..end].to_string())
                });
            match next {
                Some(n) => {
                    url = reqwest::Url::parse(&base)
                        .and_then(|b| b.join(&n))
                        .map(|u| u.to_string())
                        .map_err(|e| OciError::Body {
                            what: "the tag list".into(),
                            url: url.clone(),
                            message: format!("bad Link header: {e}"),
                        })?;
                }
                None => break,
            }
        }
        let mut versions: Vec<(Version, String)> = tags
            .into_iter()
            .filter_map(|t| version_of_tag(&t).map(|v| (v, t)))
            .collect();
        versions.sort_by(|a, b| b.0.cmp(&a.0));
        Ok(versions)
    }

    /// The tag or digest to fetch: a requirement is resolved from the tag list (an exact
    /// version is its tag).
    pub fn resolve(&mut self, r: &OciRef) -> Result<OciRef, OciError> {
        let req = match &r.selector {
            Selector::Tag(_) | Selector::Digest(_) => return Ok(r.clone()),
            Selector::Req(req) => req.clone(),
            Selector::Constraint(c) => {
                let versions = self.versions(r)?;
                return versions
                    .iter()
                    .find(|(v, _)| {
                        gotpl::funcs::versions::constraint_matches(c, &v.to_string())
                            .unwrap_or(false)
                    })
                    .map(|(_, t)| r.with(Selector::Tag(t.clone())))
                    .ok_or_else(|| no_match(r, c, &versions));
            }
        };
        if let Some(q) = &req
            && is_exact(q)
            && let [c] = q.comparators.as_slice()
        {
            let v = Version {
                major: c.major,
                minor: c.minor.unwrap_or(0),
                patch: c.patch.unwrap_or(0),
                pre: c.pre.clone(),
                build: semver::BuildMetadata::EMPTY,
            };
            return Ok(r.with(Selector::Tag(tag_for(&v))));
        }
        let versions = self.versions(r)?;
        let any = VersionReq::STAR;
        let q = req.as_ref().unwrap_or(&any);
        versions
            .iter()
            .find(|(v, _)| q.matches(v))
            .map(|(_, t)| r.with(Selector::Tag(t.clone())))
            .ok_or_else(|| no_match(r, &q.to_string(), &versions))
    }

    fn blob_cache(&self, digest: &Digest) -> PathBuf {
        self.cache.join("oci-v1").join("sha256").join(digest.hex())
    }

    fn archive_cache(&self, digest: &Digest) -> PathBuf {
        self.cache
            .join("packages-v1")
            .join("sha256")
            .join(format!("{}.tgz", digest.hex()))
    }

    /// Fetches and verifies a manifest by tag or digest: (digest, bytes, manifest).
    fn manifest(
        &mut self,
        r: &OciRef,
        push: bool,
    ) -> Result<(Digest, Vec<u8>, Manifest), OciError> {
        let reference = match &r.selector {
            Selector::Tag(t) => t.clone(),
            Selector::Digest(d) => d.to_string(),
            Selector::Req(_) | Selector::Constraint(_) => {
                return Err(OciError::InvalidReference {
                    reference: r.to_string(),
                    reason: "not resolved to a tag".into(),
                });
            }
        };
        let bad = |reason: String| OciError::BadManifest {
            reference: r.to_string(),
            reason,
        };
        let cached = match &r.selector {
            Selector::Digest(d) => read_opt(&self.blob_cache(d)).filter(|b| Digest::of(b) == *d),
            _ => None,
        };
        let bytes = match cached {
            Some(b) => b,
            None => {
                let url = format!(
                    "{}{}/manifests/{reference}",
                    self.base_url(&r.registry),
                    r.repository
                );
                let target = Target {
                    registry: &r.registry,
                    repository: Some(&r.repository),
                    push,
                };
                let accept = format!(
                    "{MANIFEST_MEDIA_TYPE}, {INDEX_MEDIA_TYPE}, application/vnd.docker.distribution.manifest.v2+json"
                );
                let (body, headers) = self.get_bytes(
                    target,
                    &url,
                    Some(&accept),
                    &format!("manifest {r}"),
                    MAX_MANIFEST_BYTES,
                    None,
                    &mut |_, _| {},
                )?;
                let actual = Digest::of(&body);
                let expected = match &r.selector {
                    Selector::Digest(d) => Some(d.clone()),
                    _ => headers
                        .get("docker-content-digest")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.parse::<Digest>().ok()),
                };
                if let Some(expected) = expected
                    && expected != actual
                {
                    return Err(OciError::DigestMismatch {
                        what: format!("manifest {r}"),
                        url,
                        expected,
                        actual,
                    });
                }
                body
            }
        };
        let manifest = Manifest::parse(&bytes).map_err(bad)?;
        Ok((Digest::of(&bytes), bytes, manifest))
    }

    /// Pulls a chart or package: resolve, manifest, config, layer, each verified; then caches
    /// the manifest, the config and the archive.
    pub fn pull(&mut self, r: &OciRef, progress: Progress<'_>) -> Result<Pulled, OciError> {
        Ok(self.pull_checked(r, None, progress)?.0)
    }

    /// Like [`OciClient::pull`], with the chart's provenance layer (media type
    /// `application/vnd.cncf.helm.chart.provenance.v1.prov`, which `helm push` adds for a signed
    /// chart) verified against `keyring` before anything is cached: (pulled, provenance file,
    /// verdict).
    pub fn pull_verified(
        &mut self,
        r: &OciRef,
        keyring: &Keyring,
        progress: Progress<'_>,
    ) -> Result<(Pulled, Vec<u8>, Verified), OciError> {
        let (pulled, checked) = self.pull_checked(r, Some(keyring), progress)?;
        let (prov, verified) = checked.ok_or_else(|| OciError::BadManifest {
            reference: pulled.reference.to_string(),
            reason: "its provenance was not checked".into(),
        })?;
        Ok((pulled, prov, verified))
    }

    fn pull_checked(
        &mut self,
        r: &OciRef,
        keyring: Option<&Keyring>,
        progress: Progress<'_>,
    ) -> Result<(Pulled, Option<ProvenanceChecked>), OciError> {
        let resolved = self.resolve(r)?;
        let (manifest_digest, manifest_bytes, manifest) = self.manifest(&resolved, false)?;
        let (kind, layer) = manifest
            .archive_layer()
            .map_err(|reason| OciError::NotAPackage {
                reference: resolved.to_string(),
                reason,
            })?;
        let layer = layer.clone();
        let target = Target {
            registry: &resolved.registry,
            repository: Some(&resolved.repository),
            push: false,
        };
        let blobs = format!(
            "{}{}/blobs/",
            self.base_url(&resolved.registry),
            resolved.repository
        );
        let blob_url = |d: &Digest| format!("{blobs}{d}");
        let config_desc = manifest.config.clone();
        let config_path = self.blob_cache(&config_desc.digest);
        let config = match read_opt(&config_path)
            .filter(|b| Digest::of(b) == config_desc.digest && b.len() as u64 == config_desc.size)
        {
            Some(b) => b,
            None => {
                let url = blob_url(&config_desc.digest);
                self.get_bytes(
                    target,
                    &url,
                    None,
                    &format!("the config blob of {resolved}"),
                    MAX_CONFIG_BYTES,
                    Some((&config_desc.digest, config_desc.size)),
                    &mut |_, _| {},
                )?
                .0
            }
        };
        if !serde_json::from_slice::<serde_json::Value>(&config).is_ok_and(|v| v.is_object()) {
            return Err(OciError::BadManifest {
                reference: resolved.to_string(),
                reason: "its config blob is not a JSON object".into(),
            });
        }
        let layer_path = self.archive_cache(&layer.digest);
        let bytes = match read_opt(&layer_path)
            .filter(|b| Digest::of(b) == layer.digest && b.len() as u64 == layer.size)
        {
            Some(b) => b,
            None => {
                let url = blob_url(&layer.digest);
                self.get_bytes(
                    target,
                    &url,
                    None,
                    &format!("the archive of {resolved}"),
                    MAX_ARCHIVE_BYTES,
                    Some((&layer.digest, layer.size)),
                    progress,
                )?
                .0
            }
        };
        let checked = match keyring {
            None => None,
            Some(keyring) => {
                let subject = resolved.to_string();
                let Some(desc) = manifest
                    .layers
                    .iter()
                    .find(|l| l.media_type == provenance::OCI_MEDIA_TYPE)
                    .cloned()
                else {
                    return Err(ProvenanceError::Missing {
                        subject,
                        location: format!("no `{}` layer", provenance::OCI_MEDIA_TYPE),
                    }
                    .into());
                };
                let (prov, _) = self.get_bytes(
                    target,
                    &blob_url(&desc.digest),
                    None,
                    &format!("the provenance file of {resolved}"),
                    provenance::MAX_PROV_BYTES,
                    Some((&desc.digest, desc.size)),
                    &mut |_, _| {},
                )?;
                // Helm signs `NAME-VERSION.tgz`, the name `helm package` gives the archive.
                let file = archive_file_name(&config);
                let verified = provenance::verify(&subject, &prov, keyring, &file, &bytes)?;
                Some((prov, verified))
            }
        };
        // Everything verified: now it may be cached.
        let writes = [
            (self.blob_cache(&manifest_digest), &manifest_bytes),
            (config_path, &config),
            (layer_path, &bytes),
        ];
        for (path, data) in writes {
            if !path.exists() {
                crate::fsutil::write_atomic(&path, data)
                    .map_err(|source| OciError::Cache { path, source })?;
            }
        }
        let tag = match &resolved.selector {
            Selector::Tag(t) => Some(t.clone()),
            _ => None,
        };
        Ok((
            Pulled {
                reference: resolved,
                tag,
                manifest_digest,
                kind,
                layer,
                bytes,
            },
            checked,
        ))
    }

    /// Uploads a blob unless the registry has it (HEAD first): POST, then one monolithic PUT.
    fn upload_blob(
        &mut self,
        r: &OciRef,
        what: &str,
        media_type: &str,
        data: &[u8],
    ) -> Result<Descriptor, OciError> {
        let desc = Descriptor::of(media_type, data);
        let target = Target {
            registry: &r.registry,
            repository: Some(&r.repository),
            push: true,
        };
        let base = self.base_url(&r.registry);
        let head_url = format!("{base}{}/blobs/{}", r.repository, desc.digest);
        let resp = self.send(Method::HEAD, target, &head_url, &|b| b)?;
        if resp.status().is_success() {
            return Ok(desc);
        }
        if resp.status() != reqwest::StatusCode::NOT_FOUND {
            return Err(Self::status_error("HEAD", target, &head_url, what, resp));
        }
        let post_url = format!("{base}{}/blobs/uploads/", r.repository);
        let resp = self.send(Method::POST, target, &post_url, &|b| {
            b.header(reqwest::header::CONTENT_LENGTH, "0")
        })?;
        if resp.status() != reqwest::StatusCode::ACCEPTED {
            return Err(Self::status_error("POST", target, &post_url, what, resp));
        }
        let location = resp
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| OciError::Upload {
                what: what.into(),
                url: post_url.clone(),
                message: "the registry answered 202 without a Location".into(),
            })?
            .to_string();
        let mut put_url = reqwest::Url::parse(&post_url)
            .and_then(|u| u.join(&location))
            .map_err(|e| OciError::Upload {
                what: what.into(),
                url: post_url.clone(),
                message: format!("bad Location `{location}`: {e}"),
            })?;
        put_url
            .query_pairs_mut()
            .append_pair("digest", &desc.digest.to_string());
        let put_url = put_url.to_string();
        let body = data.to_vec();
        let resp = self.send(Method::PUT, target, &put_url, &|b| {
            b.header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
                .body(body.clone())
        })?;
        if resp.status() != reqwest::StatusCode::CREATED {
            return Err(Self::status_error("PUT", target, &put_url, what, resp));
        }
        Ok(desc)
    }

    /// Pushes a chart or package: its config and archive blobs, then the manifest under `tag`.
    /// A tag that already holds the same archive is left alone; one holding another archive
    /// is refused unless `force`.
    pub fn push(&mut self, p: &Push) -> Result<Pushed, OciError> {
        let r = p.repository.with(Selector::Tag(p.tag.clone()));
        let layer_digest = Digest::of(&p.layer);
        match self.manifest(&r, true) {
            Ok((digest, _, existing)) => {
                if let Ok((_, layer)) = existing.archive_layer()
                    && layer.digest == layer_digest
                {
                    return Ok(Pushed {
                        reference: r,
                        manifest_digest: digest,
                        layer_digest,
                        unchanged: true,
                    });
                }
                if !p.force {
                    return Err(OciError::TagExists {
                        reference: r.to_string(),
                        existing: existing
                            .archive_layer()
                            .map(|(_, l)| l.digest.clone())
                            .unwrap_or(digest),
                    });
                }
            }
            Err(OciError::NotFound { .. }) => {}
            Err(e) => return Err(e),
        }
        let config =
            self.upload_blob(&r, "the config blob", p.kind.config_media_type(), &p.config)?;
        let layer = self.upload_blob(&r, "the archive", p.kind.layer_media_type(), &p.layer)?;
        let manifest = Manifest {
            schema_version: 2,
            media_type: Some(MANIFEST_MEDIA_TYPE.into()),
            config,
            layers: vec![layer],
            annotations: p.annotations.clone(),
        };
        let bytes = manifest.to_bytes();
        let manifest_digest = Digest::of(&bytes);
        let target = Target {
            registry: &r.registry,
            repository: Some(&r.repository),
            push: true,
        };
        let url = format!(
            "{}{}/manifests/{}",
            self.base_url(&r.registry),
            r.repository,
            p.tag
        );
        let resp = self.send(Method::PUT, target, &url, &|b| {
            b.header(reqwest::header::CONTENT_TYPE, MANIFEST_MEDIA_TYPE)
                .body(bytes.clone())
        })?;
        if resp.status() != reqwest::StatusCode::CREATED {
            return Err(Self::status_error(
                "PUT",
                target,
                &url,
                "the manifest",
                resp,
            ));
        }
        if let Some(d) = resp
            .headers()
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<Digest>().ok())
            && d != manifest_digest
        {
            return Err(OciError::DigestMismatch {
                what: "the stored manifest".into(),
                url,
                expected: manifest_digest,
                actual: d,
            });
        }
        Ok(Pushed {
            reference: r,
            manifest_digest,
            layer_digest,
            unchanged: false,
        })
    }

    /// Checks credentials against a registry (`GET /v2/` through its challenge).
    pub fn login(&mut self, registry: &str, creds: &Credentials) -> Result<(), OciError> {
        self.creds.insert(registry.to_string(), Some(creds.clone()));
        let target = Target {
            registry,
            repository: None,
            push: false,
        };
        let url = self.base_url(registry);
        let mut last = String::new();
        let mut delay = BACKOFF;
        for attempt in 1..=ATTEMPTS {
            if attempt > 1 {
                std::thread::sleep(delay);
                delay *= 2;
            }
            match self.send(Method::GET, target, &url, &|b| b) {
                Ok(resp) if resp.status().is_server_error() => {
                    last = format!("server error {}", resp.status());
                }
                Ok(resp) if resp.status().is_success() => {
                    if !self.basic.contains(registry)
                        && !self.tokens.contains_key(&target.token_key())
                    {
                        tracing::debug!("{registry} asked for no credentials");
                    }
                    return Ok(());
                }
                Ok(resp) => return Err(Self::status_error("GET", target, &url, "/v2/", resp)),
                Err(OciError::Transport { message, .. }) => last = message,
                Err(e) => return Err(e),
            }
        }
        Err(OciError::Transport {
            method: "GET",
            url,
            attempts: ATTEMPTS,
            message: last,
        })
    }
}

/// Reads a body up to `max` bytes, reporting progress; a body shorter than announced is an
/// error.
fn read_body(
    mut resp: Response,
    what: &str,
    url: &str,
    max: u64,
    progress: Progress<'_>,
) -> Result<Vec<u8>, OciError> {
    let total = resp.content_length();
    if total.is_some_and(|t| t > max) {
        return Err(OciError::TooLarge {
            what: what.into(),
            url: url.into(),
            max,
        });
    }
    let mut out = Vec::with_capacity(total.unwrap_or(0).min(max) as usize);
    let mut buf = [0u8; 64 * 1024];
    loop {
        let n = match resp.read(&mut buf) {
            Ok(n) => n,
            Err(e) => {
                return Err(OciError::Body {
                    what: what.into(),
                    url: url.into(),
                    message: format!(
                        "the download broke off after {} of {} bytes ({e})",
                        out.len(),
                        total.map_or("?".to_string(), |t| t.to_string())
                    ),
                });
            }
        };
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
        if out.len() as u64 > max {
            return Err(OciError::TooLarge {
                what: what.into(),
                url: url.into(),
                max,
            });
        }
        progress(out.len() as u64, total);
    }
    if let Some(t) = total
        && out.len() as u64 != t
    {
        return Err(OciError::Body {
            what: what.into(),
            url: url.into(),
            message: format!("the download broke off after {} of {t} bytes", out.len()),
        });
    }
    Ok(out)
}
