//! The OCI image manifest as charts and packages use it: one config blob, one archive layer,
//! and the annotations `helm push` writes. Pure.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::model::Digest;

/// The OCI image manifest (what we accept and write).
pub const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
/// An OCI image index (a multi-platform image): not a chart.
pub const INDEX_MEDIA_TYPE: &str = "application/vnd.oci.image.index.v1+json";
/// Helm's config blob: `Chart.yaml` as JSON.
pub const HELM_CONFIG: &str = "application/vnd.cncf.helm.config.v1+json";
/// Helm's chart layer: the chart archive.
pub const HELM_LAYER: &str = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";
/// The chart layer of Helm's earliest OCI support, still accepted when pulling.
pub const HELM_LEGACY_LAYER: &str = "application/tar+gzip";
/// Our config blob: `package.yaml` as JSON.
pub const PACKAGE_CONFIG: &str = "application/vnd.cocktail.package.config.v1+json";
/// Our layer: the package archive `cocktail-pkg package` builds.
pub const PACKAGE_LAYER: &str = "application/vnd.cocktail.package.v1.tar+gzip";

/// Largest manifest read (the spec asks registries to accept at least 4 MiB).
pub const MAX_MANIFEST_BYTES: u64 = 4 * 1024 * 1024;
/// Largest config blob read.
pub const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// A content descriptor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    pub media_type: String,
    pub digest: Digest,
    pub size: u64,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl Descriptor {
    pub fn of(media_type: &str, bytes: &[u8]) -> Descriptor {
        Descriptor {
            media_type: media_type.into(),
            digest: Digest::of(bytes),
            size: bytes.len() as u64,
            annotations: BTreeMap::new(),
        }
    }
}

/// An OCI image manifest (schema version 2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    pub schema_version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    pub config: Descriptor,
    #[serde(default)]
    pub layers: Vec<Descriptor>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// What an artifact holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ArtifactKind {
    /// A Helm chart (Helm's media types).
    Chart,
    /// One of our packages (our media types).
    Package,
}

impl ArtifactKind {
    pub fn config_media_type(self) -> &'static str {
        match self {
            ArtifactKind::Chart => HELM_CONFIG,
            ArtifactKind::Package => PACKAGE_CONFIG,
        }
    }

    pub fn layer_media_type(self) -> &'static str {
        match self {
            ArtifactKind::Chart => HELM_LAYER,
            ArtifactKind::Package => PACKAGE_LAYER,
        }
    }
}

impl Manifest {
    /// Parses a manifest, refusing image indexes and anything but schema version 2.
    pub fn parse(bytes: &[u8]) -> Result<Manifest, String> {
        let value: Value = serde_json::from_slice(bytes).map_err(|e| format!("not JSON: {e}"))?;
        match value.get("mediaType").and_then(Value::as_str) {
            Some(INDEX_MEDIA_TYPE) => {
                return Err("it is an image index (a multi-platform image), not a chart".into());
            }
            Some(t) if t != MANIFEST_MEDIA_TYPE => {
                return Err(format!("unsupported manifest media type `{t}`"));
            }
            _ => {}
        }
        let m: Manifest = serde_json::from_value(value).map_err(|e| e.to_string())?;
        if m.schema_version != 2 {
            return Err(format!("schemaVersion {} (expected 2)", m.schema_version));
        }
        Ok(m)
    }

    /// The kind of artifact and its archive layer: a Helm chart's config and chart layer, or
    /// ours; exactly one such layer (a provenance layer beside a chart is ignored).
    pub fn archive_layer(&self) -> Result<(ArtifactKind, &Descriptor), String> {
        let kind = match self.config.media_type.as_str() {
            HELM_CONFIG => ArtifactKind::Chart,
            PACKAGE_CONFIG => ArtifactKind::Package,
            other => return Err(format!("config media type `{other}`")),
        };
        let layers: Vec<&Descriptor> = self
            .layers
            .iter()
            .filter(|l| match kind {
                ArtifactKind::Chart => {
                    l.media_type == HELM_LAYER || l.media_type == HELM_LEGACY_LAYER
                }
                ArtifactKind::Package => l.media_type == PACKAGE_LAYER,
            })
            .collect();
        match layers.as_slice() {
            [one] => Ok((kind, one)),
            [] => Err(format!("no `{}` layer", kind.layer_media_type())),
            _ => Err(format!("{} archive layers (expected one)", layers.len())),
        }
    }

    /// The manifest as published: canonical JSON bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// What the annotations are made from (a chart's `Chart.yaml` or our `package.yaml`).
#[derive(Debug, Clone, Default)]
pub struct Meta {
    pub name: String,
    pub version: String,
    pub description: String,
    pub home: String,
    pub sources: Vec<String>,
    /// (name, email).
    pub maintainers: Vec<(String, String)>,
    pub annotations: BTreeMap<String, String>,
}

impl Meta {
    pub fn of_chart(m: &crate::chart::Metadata) -> Meta {
        Meta {
            name: m.name.clone(),
            version: m.version.clone(),
            description: m.description.clone(),
            home: m.home.clone(),
            sources: m.sources.clone(),
            maintainers: m
                .maintainers
                .iter()
                .map(|x| (x.name.clone(), x.email.clone()))
                .collect(),
            annotations: m.annotations.clone(),
        }
    }

    pub fn of_package(m: &crate::package::Manifest) -> Meta {
        Meta {
            name: m.name.to_string(),
            version: m.version.to_string(),
            description: m.description.clone().unwrap_or_default(),
            home: m.home.clone().unwrap_or_default(),
            sources: m.sources.clone(),
            maintainers: m
                .maintainers
                .iter()
                .map(|x| (x.name.clone(), x.email.clone().unwrap_or_default()))
                .collect(),
            annotations: m.annotations.clone(),
        }
    }
}

/// The manifest annotations `helm push` writes (helm `pkg/registry/chart.go`): description,
/// title, version, url, created, source (the first), authors (`Name (email), …`), then the
/// chart's own annotations except title and version.
pub fn annotations(meta: &Meta, created: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut add = |k: &str, v: &str| {
        if !v.trim().is_empty() {
            out.insert(k.to_string(), v.to_string());
        }
    };
    add("org.opencontainers.image.description", &meta.description);
    add("org.opencontainers.image.title", &meta.name);
    add("org.opencontainers.image.version", &meta.version);
    add("org.opencontainers.image.url", &meta.home);
    add("org.opencontainers.image.created", created);
    if let Some(s) = meta.sources.first() {
        add("org.opencontainers.image.source", s);
    }
    let authors: Vec<String> = meta
        .maintainers
        .iter()
        .map(|(name, email)| {
            if email.is_empty() {
                name.clone()
            } else {
                format!("{name} ({email})")
            }
        })
        .collect();
    add("org.opencontainers.image.authors", &authors.join(", "));
    for (k, v) in &meta.annotations {
        if k != "org.opencontainers.image.title" && k != "org.opencontainers.image.version" {
            out.insert(k.clone(), v.clone());
        }
    }
    out
}

/// Helm's config blob: `Chart.yaml` as Go's `json.Marshal` writes `chart.Metadata` (its field
/// order, empty fields left out, `<`, `>` and `&` escaped).
pub fn helm_config(m: &crate::chart::Metadata) -> Vec<u8> {
    let mut o = Map::new();
    let s = |o: &mut Map<String, Value>, k: &str, v: &str| {
        if !v.is_empty() {
            o.insert(k.into(), Value::String(v.into()));
        }
    };
    let list = |o: &mut Map<String, Value>, k: &str, v: &[String]| {
        if !v.is_empty() {
            o.insert(k.into(), v.iter().cloned().map(Value::String).collect());
        }
    };
    s(&mut o, "name", &m.name);
    s(&mut o, "home", &m.home);
    list(&mut o, "sources", &m.sources);
    s(&mut o, "version", &m.version);
    s(&mut o, "description", &m.description);
    list(&mut o, "keywords", &m.keywords);
    if !m.maintainers.is_empty() {
        let ms = m
            .maintainers
            .iter()
            .map(|x| {
                let mut e = Map::new();
                s(&mut e, "name", &x.name);
                s(&mut e, "email", &x.email);
                s(&mut e, "url", &x.url);
                Value::Object(e)
            })
            .collect();
        o.insert("maintainers".into(), Value::Array(ms));
    }
    s(&mut o, "icon", &m.icon);
    s(&mut o, "apiVersion", &m.api_version);
    s(&mut o, "condition", &m.condition);
    s(&mut o, "tags", &m.tags);
    s(&mut o, "appVersion", &m.app_version);
    if m.deprecated {
        o.insert("deprecated".into(), Value::Bool(true));
    }
    if !m.annotations.is_empty() {
        o.insert(
            "annotations".into(),
            m.annotations
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect::<Map<_, _>>()
                .into(),
        );
    }
    s(&mut o, "kubeVersion", &m.kube_version);
    if !m.dependencies.is_empty() {
        let ds = m
            .dependencies
            .iter()
            .map(|d| {
                let mut e = Map::new();
                s(&mut e, "name", &d.name);
                s(&mut e, "version", &d.version);
                s(&mut e, "repository", &d.repository);
                s(&mut e, "condition", &d.condition);
                list(&mut e, "tags", &d.tags);
                if d.enabled {
                    e.insert("enabled".into(), Value::Bool(true));
                }
                if !d.import_values.is_empty() {
                    e.insert(
                        "import-values".into(),
                        Value::Array(d.import_values.clone()),
                    );
                }
                s(&mut e, "alias", &d.alias);
                Value::Object(e)
            })
            .collect();
        o.insert("dependencies".into(), Value::Array(ds));
    }
    s(&mut o, "type", &m.chart_type);
    let text = serde_json::to_string(&Value::Object(o)).unwrap_or_default();
    // Go's encoder escapes these for HTML safety; they only occur inside strings.
    text.replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .into_bytes()
}

/// Our config blob: `package.yaml` as JSON (camelCase, the manifest's own fields).
pub fn package_config(m: &crate::package::Manifest) -> Vec<u8> {
    serde_json::to_vec(m).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_helm_manifests_and_finds_the_chart_layer() {
        // What `helm push` (v4.1.4) wrote for tests/fixtures/charts/basic.
        let text = r#"{"schemaVersion":2,"config":{"mediaType":"application/vnd.cncf.helm.config.v1+json","digest":"sha256:faca6c5de3c2872945d4f92039f31f6610995cd48c4619f7eefe3b53681cdb57","size":309},"layers":[{"mediaType":"application/vnd.cncf.helm.chart.content.v1.tar+gzip","digest":"sha256:0cf9acbd7843c02f2a7d5a8bde46f415c12d3a0a737531d77b82abb69422b3dc","size":2093}],"annotations":{"category":"Demo","org.opencontainers.image.authors":"Fixture Author (fixtures@example.com)","org.opencontainers.image.created":"2026-11-30T19:05:52Z","org.opencontainers.image.description":"A typical small application chart","org.opencontainers.image.title":"basic","org.opencontainers.image.version":"1.2.3"}}"#;
        let m = Manifest::parse(text.as_bytes()).unwrap();
        let (kind, layer) = m.archive_layer().unwrap();
        assert_eq!(kind, ArtifactKind::Chart);
        assert_eq!(layer.size, 2093);
        let meta = Meta {
            name: "basic".into(),
            version: "1.2.3".into(),
            description: "A typical small application chart".into(),
            maintainers: vec![("Fixture Author".into(), "fixtures@example.com".into())],
            annotations: [("category".to_string(), "Demo".to_string())].into(),
            ..Meta::default()
        };
        assert_eq!(annotations(&meta, "2026-11-30T19:05:52Z"), m.annotations);
    }

    #[test]
    fn refuses_indexes_and_foreign_artifacts() {
        let index = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}"#;
        assert!(Manifest::parse(index).unwrap_err().contains("image index"));
        let image = format!(
            r#"{{"schemaVersion":2,"config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:{}","size":1}},"layers":[]}}"#,
            "0".repeat(64)
        );
        let m = Manifest::parse(image.as_bytes()).unwrap();
        assert!(m.archive_layer().unwrap_err().contains("config media type"));
    }

    #[test]
    fn helm_config_is_go_json_of_chart_yaml() {
        // The config blob helm v4.1.4 pushed for tests/fixtures/charts/basic.
        let expected = r#"{"name":"basic","version":"1.2.3","description":"A typical small application chart","keywords":["web","demo"],"maintainers":[{"name":"Fixture Author","email":"fixtures@example.com"}],"apiVersion":"v2","appVersion":"4.5.6","annotations":{"category":"Demo"},"kubeVersion":"\u003e=1.19.0-0","type":"application"}"#;
        let m = crate::chart::Metadata {
            api_version: "v2".into(),
            name: "basic".into(),
            version: "1.2.3".into(),
            app_version: "4.5.6".into(),
            kube_version: ">=1.19.0-0".into(),
            description: "A typical small application chart".into(),
            chart_type: "application".into(),
            keywords: vec!["web".into(), "demo".into()],
            maintainers: vec![crate::chart::Maintainer {
                name: "Fixture Author".into(),
                email: "fixtures@example.com".into(),
                url: String::new(),
            }],
            annotations: [("category".to_string(), "Demo".to_string())].into(),
            ..Default::default()
        };
        assert_eq!(String::from_utf8(helm_config(&m)).unwrap(), expected);
        assert_eq!(
            Digest::of(expected.as_bytes()).to_string(),
            "sha256:faca6c5de3c2872945d4f92039f31f6610995cd48c4619f7eefe3b53681cdb57"
        );
    }
}
