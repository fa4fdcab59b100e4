//! The served resources: one table drives discovery, routing (plural <-> kind, namespaced or
//! not) and the names in messages. The built-in resources are [`RESOURCES`]; the custom
//! resources of Established CustomResourceDefinitions are interned definitions
//! ([`intern_custom`]) that the store keeps in a table of its own (`Store::custom`).

use std::sync::Mutex;

#[derive(Debug)]
pub(crate) struct ResourceDef {
    pub(crate) group: &'static str,
    pub(crate) version: &'static str,
    pub(crate) plural: &'static str,
    pub(crate) singular: &'static str,
    pub(crate) kind: &'static str,
    pub(crate) namespaced: bool,
    /// Has a `status` subresource.
    pub(crate) status: bool,
    pub(crate) short_names: &'static [&'static str],
    /// Served through a CustomResourceDefinition.
    pub(crate) custom: bool,
    pub(crate) categories: &'static [&'static str],
}

#[expect(
    clippy::too_many_arguments,
    reason = "mirrors the request: every part is needed"
)]
pub(crate) const fn def(
    group: &'static str,
    version: &'static str,
    plural: &'static str,
    singular: &'static str,
    kind: &'static str,
    namespaced: bool,
    status: bool,
    short_names: &'static [&'static str],
) -> ResourceDef {
    ResourceDef {
        group,
        version,
        plural,
        singular,
        kind,
        namespaced,
        status,
        short_names,
        custom: false,
        categories: &[],
    }
}

/// Every served resource: discovery and routing both read this table. Namespaces first.
#[rustfmt::skip]
pub(crate) const RESOURCES: &[ResourceDef] = &[
    def("", "v1", "namespaces", "namespace", "Namespace", false, true, &["ns"]),
    def("", "v1", "configmaps", "configmap", "ConfigMap", true, false, &["cm"]),
    def("", "v1", "secrets", "secret", "Secret", true, false, &[]),
    def("", "v1", "services", "service", "Service", true, true, &["svc"]),
    def("", "v1", "serviceaccounts", "serviceaccount", "ServiceAccount", true, false, &["sa"]),
    def("", "v1", "persistentvolumeclaims", "persistentvolumeclaim", "PersistentVolumeClaim", true, true, &["pvc"]),
    def("", "v1", "pods", "pod", "Pod", true, true, &["po"]),
    def("", "v1", "endpoints", "endpoints", "Endpoints", true, false, &["ep"]),
    def("", "v1", "events", "event", "Event", true, false, &["ev"]),
    def("apps", "v1", "deployments", "deployment", "Deployment", true, true, &["deploy"]),
    def("apps", "v1", "statefulsets", "statefulset", "StatefulSet", true, true, &["sts"]),
    def("apps", "v1", "daemonsets", "daemonset", "DaemonSet", true, true, &["ds"]),
    def("apps", "v1", "replicasets", "replicaset", "ReplicaSet", true, true, &["rs"]),
    def("batch", "v1", "jobs", "job", "Job", true, true, &[]),
    def("batch", "v1", "cronjobs", "cronjob", "CronJob", true, true, &["cj"]),
    def("networking.k8s.io", "v1", "ingresses", "ingress", "Ingress", true, true, &["ing"]),
    def("networking.k8s.io", "v1", "networkpolicies", "networkpolicy", "NetworkPolicy", true, false, &["netpol"]),
    def("networking.k8s.io", "v1", "ingressclasses", "ingressclass", "IngressClass", false, false, &[]),
    def("autoscaling", "v2", "horizontalpodautoscalers", "horizontalpodautoscaler", "HorizontalPodAutoscaler", true, true, &["hpa"]),
    def("policy", "v1", "poddisruptionbudgets", "poddisruptionbudget", "PodDisruptionBudget", true, true, &["pdb"]),
    def("rbac.authorization.k8s.io", "v1", "roles", "role", "Role", true, false, &[]),
    def("rbac.authorization.k8s.io", "v1", "rolebindings", "rolebinding", "RoleBinding", true, false, &[]),
    def("rbac.authorization.k8s.io", "v1", "clusterroles", "clusterrole", "ClusterRole", false, false, &[]),
    def("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "clusterrolebinding", "ClusterRoleBinding", false, false, &[]),
    def("coordination.k8s.io", "v1", "leases", "lease", "Lease", true, false, &[]),
    def("discovery.k8s.io", "v1", "endpointslices", "endpointslice", "EndpointSlice", true, false, &[]),
    // Served from the core/v1 events, converted (`events::events_v1`).
    def("events.k8s.io", "v1", "events", "event", "Event", true, false, &["ev"]),
    def("storage.k8s.io", "v1", "storageclasses", "storageclass", "StorageClass", false, false, &["sc"]),
    def("apiextensions.k8s.io", "v1", "customresourcedefinitions", "customresourcedefinition", "CustomResourceDefinition", false, true, &["crd", "crds"]),
];

impl ResourceDef {
    pub(crate) fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `deployments.apps`, `configmaps`: how messages name the resource.
    pub(crate) fn group_resource(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_string()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// `Deployment.apps`, `Service`: how `Invalid` messages name the kind.
    pub(crate) fn group_kind(&self) -> String {
        if self.group.is_empty() {
            self.kind.to_string()
        } else {
            format!("{}.{}", self.kind, self.group)
        }
    }

    pub(crate) fn is(&self, group: &str, kind: &str) -> bool {
        self.group == group && self.kind == kind
    }
}

pub(crate) fn namespaces_def() -> &'static ResourceDef {
    &RESOURCES[0]
}

pub(crate) fn find_by_plural(
    group: &str,
    version: &str,
    plural: &str,
) -> Option<&'static ResourceDef> {
    RESOURCES
        .iter()
        .find(|r| r.group == group && r.version == version && r.plural == plural)
}

pub(crate) fn find_by_group_plural(group: &str, plural: &str) -> Option<&'static ResourceDef> {
    RESOURCES
        .iter()
        .find(|r| r.group == group && r.plural == plural)
}

pub(crate) fn find_by_kind(api_version: &str, kind: &str) -> Option<&'static ResourceDef> {
    RESOURCES
        .iter()
        .find(|r| r.kind == kind && r.api_version() == api_version)
}

/// The names of one served version of a custom resource, as a CRD declares them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CustomNames {
    pub(crate) group: String,
    pub(crate) version: String,
    pub(crate) plural: String,
    pub(crate) singular: String,
    pub(crate) kind: String,
    pub(crate) namespaced: bool,
    pub(crate) status: bool,
    pub(crate) short_names: Vec<String>,
    pub(crate) categories: Vec<String>,
}

/// Every custom definition handed out so far, process-wide: a definition is leaked once and
/// shared by every server and every later CRD that declares the same names.
static INTERNED: Mutex<Vec<&'static ResourceDef>> = Mutex::new(Vec::new());

/// The `&'static` definition of a custom resource (the routing code holds definitions by
/// `'static` reference); memory grows only with distinct definitions.
pub(crate) fn intern_custom(n: &CustomNames) -> &'static ResourceDef {
    let mut interned = crate::lock(&INTERNED);
    let same = |r: &&'static ResourceDef| -> bool {
        r.group == n.group
            && r.version == n.version
            && r.plural == n.plural
            && r.singular == n.singular
            && r.kind == n.kind
            && r.namespaced == n.namespaced
            && r.status == n.status
            && r.short_names
                .iter()
                .copied()
                .eq(n.short_names.iter().map(String::as_str))
            && r.categories
                .iter()
                .copied()
                .eq(n.categories.iter().map(String::as_str))
    };
    if let Some(r) = interned.iter().copied().find(|r| same(r)) {
        return r;
    }
    let leak = |s: &str| -> &'static str { Box::leak(s.to_string().into_boxed_str()) };
    let leak_all = |v: &[String]| -> &'static [&'static str] {
        Box::leak(
            v.iter()
                .map(|s| leak(s))
                .collect::<Vec<_>>()
                .into_boxed_slice(),
        )
    };
    let r: &'static ResourceDef = Box::leak(Box::new(ResourceDef {
        group: leak(&n.group),
        version: leak(&n.version),
        plural: leak(&n.plural),
        singular: leak(&n.singular),
        kind: leak(&n.kind),
        namespaced: n.namespaced,
        status: n.status,
        short_names: leak_all(&n.short_names),
        custom: true,
        categories: leak_all(&n.categories),
    }));
    interned.push(r);
    r
}

/// Kubernetes version priority (`v2` > `v1` > `v1beta2` > `v1beta1` > `v1alpha1` > `foo`), as the
/// server orders the versions of a group: the first is the preferred one.
pub(crate) fn version_order(a: &str, b: &str) -> std::cmp::Ordering {
    fn parse(v: &str) -> Option<(u64, u8, u64)> {
        let rest = v.strip_prefix('v')?;
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let major: u64 = rest[..digits].parse().ok()?;
        let tail = &rest[digits..];
        if tail.is_empty() {
            return Some((major, 2, 0));
        }
        let (level, n) = if let Some(n) = tail.strip_prefix("beta") {
            (1, n)
        } else if let Some(n) = tail.strip_prefix("alpha") {
            (0, n)
        } else {
            return None;
        };
        Some((major, level, n.parse().ok()?))
    }
    match (parse(a), parse(b)) {
        (Some((ma, la, na)), Some((mb, lb, nb))) => lb.cmp(&la).then(mb.cmp(&ma)).then(nb.cmp(&na)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.cmp(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_sort_by_kubernetes_priority() {
        let mut v = vec![
            "v1alpha1", "foo", "v1", "v2beta1", "v1beta2", "v2", "v1beta1", "bar",
        ];
        v.sort_by(|a, b| version_order(a, b));
        assert_eq!(
            v,
            [
                "v2", "v1", "v2beta1", "v1beta2", "v1beta1", "v1alpha1", "bar", "foo"
            ]
        );
    }

    #[test]
    fn equal_custom_definitions_are_interned_once() {
        let n = CustomNames {
            group: "example.com".into(),
            version: "v1".into(),
            plural: "widgets".into(),
            singular: "widget".into(),
            kind: "Widget".into(),
            namespaced: true,
            status: true,
            short_names: vec!["wd".into()],
            categories: vec![],
        };
        let a = intern_custom(&n);
        let b = intern_custom(&n.clone());
        assert!(std::ptr::eq(a, b));
        assert_eq!(a.api_version(), "example.com/v1");
        let c = intern_custom(&CustomNames {
            namespaced: false,
            ..n
        });
        assert!(!std::ptr::eq(a, c));
    }
}
