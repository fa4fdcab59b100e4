//! A Helm chart rendered for a release: what `install`, `upgrade` and `diff` apply. The chart
//! renders as `helm install` renders it (`lookup` asks the target; Kubernetes version from the
//! target when it has one), then its output is split the way the release engine needs it:
//!
//! - objects: namespaced objects the chart leaves without a namespace go to the service map,
//!   and the standard labels are added where the chart has not set them;
//! - CustomResourceDefinitions, from `crds/` and from `templates/` alike, apart: they are
//!   applied first, upgraded only safely ([`crate::crd`]) and never deleted;
//! - hooks (`helm.sh/hook`), apart: they run at their events ([`super::hooks`]).

use serde_json::{Map, Value};

use super::OpError;
use super::hooks::hook_of;
use crate::chart::Chart;
use crate::model::ObjectId;
use crate::package::Package;
use crate::release::Hook;
use crate::render::chart::{ChartOutput, split_manifests};
use crate::render::{RenderContext, RenderError, Rendered, RenderedObject};
use crate::targets::Target;

/// The kind whose objects are kept apart.
pub const CRD_KIND: &str = "CustomResourceDefinition";

/// What a chart renders for a release.
#[derive(Debug, Clone, Default)]
pub struct ChartRelease {
    /// The objects of the release's inventory, with the notes.
    pub rendered: Rendered,
    pub hooks: Vec<Hook>,
    /// CRDs: `crds/` files first, then templated ones.
    pub crds: Vec<RenderedObject>,
}

/// `lookup` against a target: get by name, or list a namespace (all namespaces when it is
/// empty). Nothing found is an empty map, as in Helm.
pub struct TargetLookup<'a> {
    pub target: &'a dyn Target,
}

impl gotpl::funcs::Host for TargetLookup<'_> {
    fn lookup(
        &mut self,
        api_version: &str,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Result<gotpl::Value, gotpl::funcs::FuncError> {
        let failed = |e: crate::targets::TargetError| {
            gotpl::funcs::FuncError::msg(crate::error_chain(&e).to_string())
        };
        let json = if name.is_empty() {
            let ns = (!namespace.is_empty()).then_some(namespace);
            let items = self
                .target
                .list(api_version, kind, ns, None)
                .map_err(failed)?
                .into_iter()
                .map(|mut item| {
                    // Unstructured lists give every item its apiVersion and kind.
                    if let Value::Object(m) = &mut item {
                        m.entry("apiVersion")
                            .or_insert_with(|| Value::String(api_version.into()));
                        m.entry("kind")
                            .or_insert_with(|| Value::String(kind.into()));
                    }
                    item
                })
                .collect();
            let mut list = Map::new();
            list.insert("apiVersion".into(), Value::String(api_version.into()));
            list.insert("kind".into(), Value::String(format!("{kind}List")));
            list.insert("metadata".into(), Value::Object(Map::new()));
            list.insert("items".into(), Value::Array(items));
            Value::Object(list)
        } else {
            let id = ObjectId {
                group: ObjectId::group_of(api_version).to_string(),
                kind: kind.to_string(),
                namespace: namespace.to_string(),
                name: name.to_string(),
            };
            self.target
                .get(&id)
                .map_err(failed)?
                .unwrap_or_else(|| Value::Object(Map::new()))
        };
        Ok(crate::chart::values::to_template_value(&json))
    }
}

/// Renders `chart` for a release with resolved `values`.
pub fn render(
    pkg: &Package,
    chart: &Chart,
    values: &Value,
    ctx: &RenderContext,
    target: &dyn Target,
) -> Result<ChartRelease, OpError> {
    let mut host = TargetLookup { target };
    let out = crate::render::chart::render_chart_with(chart, values, ctx, &mut host)?;
    split(pkg, ctx, out)
}

fn object_error(pkg: &Package, template: &str, message: String) -> OpError {
    OpError::Render(RenderError::Object {
        package: pkg.manifest.name.to_string(),
        template: template.to_string(),
        document: 1,
        message,
    })
}

/// Splits a chart's output into objects, CRDs and hooks, each finished for the service map.
pub fn split(
    pkg: &Package,
    ctx: &RenderContext,
    out: ChartOutput,
) -> Result<ChartRelease, OpError> {
    // A document `helm template` prints but that is not an object would be lost on install:
    // Helm refuses it ("unable to build kubernetes objects"), so do we.
    if out.objects.len() < out.manifests.len() {
        for d in &out.manifests {
            let v: Value = crate::yaml::from_str(&d.source, &d.content)?;
            if !v.is_null() && crate::targets::object_id(&v).is_none() {
                return Err(object_error(
                    pkg,
                    &d.source,
                    "the document is not an object with apiVersion, kind and metadata.name".into(),
                ));
            }
        }
    }
    let mut crds = Vec::new();
    for (path, text) in &out.crds {
        for doc in split_manifests(text) {
            let v: Value = crate::yaml::from_str(path, &doc)?;
            if v.is_null() {
                continue;
            }
            let (id, object) = crate::render::finish(v, pkg, ctx, false)
                .map_err(|m| object_error(pkg, path, m))?;
            crds.push(RenderedObject {
                template: path.clone(),
                id,
                object,
            });
        }
    }
    let mut objects = Vec::with_capacity(out.objects.len());
    for o in out.objects {
        let is_crd = o.id.kind == CRD_KIND;
        let (id, object) = crate::render::finish(o.object, pkg, ctx, !is_crd)
            .map_err(|m| object_error(pkg, &o.template, m))?;
        let done = RenderedObject {
            template: o.template,
            id,
            object,
        };
        if is_crd {
            crds.push(done);
        } else {
            objects.push(done);
        }
    }
    let mut seen = std::collections::HashSet::new();
    for o in objects.iter().chain(&crds) {
        if !seen.insert(&o.id) {
            return Err(OpError::Render(RenderError::Duplicate {
                id: Box::new(o.id.clone()),
                first: o.template.clone(),
                second: o.template.clone(),
            }));
        }
    }
    let mut hooks = Vec::new();
    for d in &out.hooks {
        let v: Value = crate::yaml::from_str(&d.source, &d.content)?;
        if v.is_null() {
            continue;
        }
        let (id, object) = crate::render::finish(v, pkg, ctx, true)
            .map_err(|m| object_error(pkg, &d.source, m))?;
        hooks.push(hook_of(id, d.source.clone(), object));
    }
    Ok(ChartRelease {
        rendered: Rendered {
            objects,
            notes: out.notes,
        },
        hooks,
        crds,
    })
}
