//! The served resources: one table drives discovery, routing (plural <-> kind, namespaced or
//! not) and the names in messages.

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
    def("storage.k8s.io", "v1", "storageclasses", "storageclass", "StorageClass", false, false, &["sc"]),
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

/// The served (group, version) pairs, in table order, without repeats.
pub(crate) fn group_versions() -> Vec<(&'static str, &'static str)> {
    let mut out: Vec<(&'static str, &'static str)> = Vec::new();
    for r in RESOURCES {
        if !out.contains(&(r.group, r.version)) {
            out.push((r.group, r.version));
        }
    }
    out
}
