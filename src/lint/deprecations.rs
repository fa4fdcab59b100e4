//! Helm's deprecations rule: the API versions Kubernetes deprecates, with the release that
//! deprecated them, the release that removed them and their replacement, as the `k8s.io/api`
//! types compiled into Helm v4.1.4 declare them (`APILifecycleDeprecated`, `...Removed`,
//! `...Replacement`). Read off the real `helm lint --kube-version 1.99.0` for every
//! group/version and kind. Pure data.

/// (group/version, kind, deprecated in (major, minor), removed in, replacement (group/version, kind)).
pub type Lifecycle = (
    &'static str,
    &'static str,
    (u64, u64),
    Option<(u64, u64)>,
    Option<(&'static str, &'static str)>,
);

/// Every deprecated API Helm v4.1.4 knows (its `List` kinds follow the same lifecycle).
pub const DEPRECATED_APIS: &[Lifecycle] = &[
    (
        "admissionregistration.k8s.io/v1alpha1",
        "MutatingAdmissionPolicy",
        (1, 35),
        Some((1, 38)),
        None,
    ),
    (
        "admissionregistration.k8s.io/v1alpha1",
        "MutatingAdmissionPolicyBinding",
        (1, 35),
        Some((1, 38)),
        None,
    ),
    (
        "admissionregistration.k8s.io/v1alpha1",
        "ValidatingAdmissionPolicy",
        (1, 29),
        Some((1, 32)),
        None,
    ),
    (
        "admissionregistration.k8s.io/v1alpha1",
        "ValidatingAdmissionPolicyBinding",
        (1, 29),
        Some((1, 32)),
        None,
    ),
    (
        "admissionregistration.k8s.io/v1beta1",
        "MutatingAdmissionPolicy",
        (1, 37),
        Some((1, 40)),
        None,
    ),
    (
        "admissionregistration.k8s.io/v1beta1",
        "MutatingAdmissionPolicyBinding",
        (1, 37),
        Some((1, 40)),
        None,
    ),
    (
        "admissionregistration.k8s.io/v1beta1",
        "MutatingWebhookConfiguration",
        (1, 16),
        Some((1, 22)),
        Some((
            "admissionregistration.k8s.io/v1",
            "MutatingWebhookConfiguration",
        )),
    ),
    (
        "admissionregistration.k8s.io/v1beta1",
        "ValidatingAdmissionPolicy",
        (1, 31),
        Some((1, 34)),
        None,
    ),
    (
        "admissionregistration.k8s.io/v1beta1",
        "ValidatingAdmissionPolicyBinding",
        (1, 31),
        Some((1, 34)),
        None,
    ),
    (
        "admissionregistration.k8s.io/v1beta1",
        "ValidatingWebhookConfiguration",
        (1, 16),
        Some((1, 22)),
        Some((
            "admissionregistration.k8s.io/v1",
            "ValidatingWebhookConfiguration",
        )),
    ),
    (
        "apps/v1beta1",
        "ControllerRevision",
        (1, 8),
        Some((1, 16)),
        Some(("apps/v1", "ControllerRevision")),
    ),
    (
        "apps/v1beta1",
        "Deployment",
        (1, 8),
        Some((1, 16)),
        Some(("apps/v1", "Deployment")),
    ),
    (
        "apps/v1beta1",
        "Scale",
        (1, 8),
        Some((1, 16)),
        Some(("autoscaling/v1", "Scale")),
    ),
    (
        "apps/v1beta1",
        "StatefulSet",
        (1, 8),
        Some((1, 16)),
        Some(("apps/v1", "StatefulSet")),
    ),
    (
        "apps/v1beta2",
        "ControllerRevision",
        (1, 9),
        Some((1, 16)),
        Some(("apps/v1", "ControllerRevision")),
    ),
    (
        "apps/v1beta2",
        "DaemonSet",
        (1, 9),
        Some((1, 16)),
        Some(("apps/v1", "DaemonSet")),
    ),
    (
        "apps/v1beta2",
        "Deployment",
        (1, 9),
        Some((1, 16)),
        Some(("apps/v1", "Deployment")),
    ),
    (
        "apps/v1beta2",
        "ReplicaSet",
        (1, 9),
        Some((1, 16)),
        Some(("apps/v1", "ReplicaSet")),
    ),
    (
        "apps/v1beta2",
        "Scale",
        (1, 9),
        Some((1, 16)),
        Some(("autoscaling/v1", "Scale")),
    ),
    (
        "apps/v1beta2",
        "StatefulSet",
        (1, 9),
        Some((1, 16)),
        Some(("apps/v1", "StatefulSet")),
    ),
    (
        "authentication.k8s.io/v1alpha1",
        "SelfSubjectReview",
        (1, 29),
        Some((1, 32)),
        None,
    ),
    (
        "authentication.k8s.io/v1beta1",
        "SelfSubjectReview",
        (1, 30),
        Some((1, 33)),
        None,
    ),
    (
        "authentication.k8s.io/v1beta1",
        "TokenReview",
        (1, 19),
        Some((1, 22)),
        Some(("authentication.k8s.io/v1", "TokenReview")),
    ),
    (
        "authorization.k8s.io/v1beta1",
        "LocalSubjectAccessReview",
        (1, 19),
        Some((1, 22)),
        Some(("authorization.k8s.io/v1", "LocalSubjectAccessReview")),
    ),
    (
        "authorization.k8s.io/v1beta1",
        "SelfSubjectAccessReview",
        (1, 19),
        Some((1, 22)),
        Some(("authorization.k8s.io/v1", "SelfSubjectAccessReview")),
    ),
    (
        "authorization.k8s.io/v1beta1",
        "SelfSubjectRulesReview",
        (1, 19),
        Some((1, 22)),
        Some(("authorization.k8s.io/v1", "SelfSubjectRulesReview")),
    ),
    (
        "authorization.k8s.io/v1beta1",
        "SubjectAccessReview",
        (1, 19),
        Some((1, 22)),
        Some(("authorization.k8s.io/v1", "SubjectAccessReview")),
    ),
    (
        "autoscaling/v2beta1",
        "HorizontalPodAutoscaler",
        (1, 22),
        Some((1, 25)),
        Some(("autoscaling/v2", "HorizontalPodAutoscaler")),
    ),
    (
        "autoscaling/v2beta2",
        "HorizontalPodAutoscaler",
        (1, 23),
        Some((1, 26)),
        Some(("autoscaling/v2", "HorizontalPodAutoscaler")),
    ),
    (
        "batch/v1beta1",
        "CronJob",
        (1, 21),
        Some((1, 25)),
        Some(("batch/v1", "CronJob")),
    ),
    (
        "certificates.k8s.io/v1alpha1",
        "ClusterTrustBundle",
        (1, 34),
        Some((1, 37)),
        None,
    ),
    (
        "certificates.k8s.io/v1beta1",
        "CertificateSigningRequest",
        (1, 19),
        Some((1, 22)),
        Some(("certificates.k8s.io/v1", "CertificateSigningRequest")),
    ),
    (
        "certificates.k8s.io/v1beta1",
        "ClusterTrustBundle",
        (1, 36),
        Some((1, 39)),
        None,
    ),
    (
        "certificates.k8s.io/v1beta1",
        "PodCertificateRequest",
        (1, 38),
        Some((1, 41)),
        None,
    ),
    (
        "coordination.k8s.io/v1alpha2",
        "LeaseCandidate",
        (1, 35),
        Some((1, 38)),
        None,
    ),
    (
        "coordination.k8s.io/v1beta1",
        "Lease",
        (1, 19),
        Some((1, 22)),
        Some(("coordination.k8s.io/v1", "Lease")),
    ),
    (
        "coordination.k8s.io/v1beta1",
        "LeaseCandidate",
        (1, 36),
        Some((1, 39)),
        None,
    ),
    (
        "discovery.k8s.io/v1beta1",
        "EndpointSlice",
        (1, 21),
        Some((1, 25)),
        Some(("discovery.k8s.io/v1", "EndpointSlice")),
    ),
    (
        "events.k8s.io/v1beta1",
        "Event",
        (1, 22),
        Some((1, 25)),
        None,
    ),
    (
        "extensions/v1beta1",
        "DaemonSet",
        (1, 8),
        Some((1, 16)),
        Some(("apps/v1", "DaemonSet")),
    ),
    (
        "extensions/v1beta1",
        "Deployment",
        (1, 8),
        Some((1, 16)),
        Some(("apps/v1", "Deployment")),
    ),
    (
        "extensions/v1beta1",
        "Ingress",
        (1, 14),
        Some((1, 22)),
        Some(("networking.k8s.io/v1", "Ingress")),
    ),
    (
        "extensions/v1beta1",
        "NetworkPolicy",
        (1, 9),
        Some((1, 16)),
        Some(("networking.k8s.io/v1", "NetworkPolicy")),
    ),
    (
        "extensions/v1beta1",
        "ReplicaSet",
        (1, 8),
        Some((1, 16)),
        Some(("apps/v1", "ReplicaSet")),
    ),
    ("extensions/v1beta1", "Scale", (1, 2), Some((1, 16)), None),
    (
        "flowcontrol.apiserver.k8s.io/v1beta1",
        "FlowSchema",
        (1, 23),
        Some((1, 26)),
        Some(("flowcontrol.apiserver.k8s.io/v1beta3", "FlowSchema")),
    ),
    (
        "flowcontrol.apiserver.k8s.io/v1beta1",
        "PriorityLevelConfiguration",
        (1, 23),
        Some((1, 26)),
        Some((
            "flowcontrol.apiserver.k8s.io/v1beta3",
            "PriorityLevelConfiguration",
        )),
    ),
    (
        "flowcontrol.apiserver.k8s.io/v1beta2",
        "FlowSchema",
        (1, 26),
        Some((1, 29)),
        Some(("flowcontrol.apiserver.k8s.io/v1beta3", "FlowSchema")),
    ),
    (
        "flowcontrol.apiserver.k8s.io/v1beta2",
        "PriorityLevelConfiguration",
        (1, 26),
        Some((1, 29)),
        Some((
            "flowcontrol.apiserver.k8s.io/v1beta3",
            "PriorityLevelConfiguration",
        )),
    ),
    (
        "flowcontrol.apiserver.k8s.io/v1beta3",
        "FlowSchema",
        (1, 29),
        Some((1, 32)),
        Some(("flowcontrol.apiserver.k8s.io/v1", "FlowSchema")),
    ),
    (
        "flowcontrol.apiserver.k8s.io/v1beta3",
        "PriorityLevelConfiguration",
        (1, 29),
        Some((1, 32)),
        Some((
            "flowcontrol.apiserver.k8s.io/v1",
            "PriorityLevelConfiguration",
        )),
    ),
    (
        "networking.k8s.io/v1beta1",
        "IPAddress",
        (1, 34),
        Some((1, 37)),
        None,
    ),
    (
        "networking.k8s.io/v1beta1",
        "Ingress",
        (1, 19),
        Some((1, 22)),
        Some(("networking.k8s.io/v1", "Ingress")),
    ),
    (
        "networking.k8s.io/v1beta1",
        "IngressClass",
        (1, 19),
        Some((1, 22)),
        Some(("networking.k8s.io/v1", "IngressClassList")),
    ),
    (
        "networking.k8s.io/v1beta1",
        "ServiceCIDR",
        (1, 34),
        Some((1, 37)),
        None,
    ),
    (
        "node.k8s.io/v1beta1",
        "RuntimeClass",
        (1, 22),
        Some((1, 25)),
        None,
    ),
    ("policy/v1beta1", "Eviction", (1, 22), Some((1, 25)), None),
    (
        "policy/v1beta1",
        "PodDisruptionBudget",
        (1, 21),
        Some((1, 25)),
        Some(("policy/v1", "PodDisruptionBudget")),
    ),
    (
        "rbac.authorization.k8s.io/v1beta1",
        "ClusterRole",
        (1, 17),
        Some((1, 22)),
        Some(("rbac.authorization.k8s.io/v1", "ClusterRole")),
    ),
    (
        "rbac.authorization.k8s.io/v1beta1",
        "ClusterRoleBinding",
        (1, 17),
        Some((1, 22)),
        Some(("rbac.authorization.k8s.io/v1", "ClusterRoleBinding")),
    ),
    (
        "rbac.authorization.k8s.io/v1beta1",
        "Role",
        (1, 17),
        Some((1, 22)),
        Some(("rbac.authorization.k8s.io/v1", "Role")),
    ),
    (
        "rbac.authorization.k8s.io/v1beta1",
        "RoleBinding",
        (1, 17),
        Some((1, 22)),
        Some(("rbac.authorization.k8s.io/v1", "RoleBinding")),
    ),
    (
        "resource.k8s.io/v1alpha3",
        "DeviceTaintRule",
        (1, 36),
        Some((1, 39)),
        None,
    ),
    (
        "resource.k8s.io/v1beta1",
        "DeviceClass",
        (1, 35),
        Some((1, 38)),
        None,
    ),
    (
        "resource.k8s.io/v1beta1",
        "ResourceClaim",
        (1, 35),
        Some((1, 38)),
        None,
    ),
    (
        "resource.k8s.io/v1beta1",
        "ResourceClaimTemplate",
        (1, 35),
        Some((1, 38)),
        None,
    ),
    (
        "resource.k8s.io/v1beta1",
        "ResourceSlice",
        (1, 35),
        Some((1, 38)),
        None,
    ),
    (
        "resource.k8s.io/v1beta2",
        "DeviceClass",
        (1, 36),
        Some((1, 39)),
        None,
    ),
    (
        "resource.k8s.io/v1beta2",
        "ResourceClaim",
        (1, 36),
        Some((1, 39)),
        None,
    ),
    (
        "resource.k8s.io/v1beta2",
        "ResourceClaimTemplate",
        (1, 36),
        Some((1, 39)),
        None,
    ),
    (
        "resource.k8s.io/v1beta2",
        "ResourceSlice",
        (1, 36),
        Some((1, 39)),
        None,
    ),
    (
        "scheduling.k8s.io/v1beta1",
        "PriorityClass",
        (1, 14),
        Some((1, 22)),
        Some(("scheduling.k8s.io/v1", "PriorityClass")),
    ),
    (
        "storage.k8s.io/v1alpha1",
        "CSIStorageCapacity",
        (1, 21),
        Some((1, 24)),
        Some(("storage.k8s.io/v1beta1", "CSIStorageCapacity")),
    ),
    (
        "storage.k8s.io/v1alpha1",
        "VolumeAttachment",
        (1, 21),
        Some((1, 24)),
        Some(("storage.k8s.io/v1", "VolumeAttachment")),
    ),
    (
        "storage.k8s.io/v1alpha1",
        "VolumeAttributesClass",
        (1, 32),
        Some((1, 35)),
        Some(("storage.k8s.io/v1", "VolumeAttributesClass")),
    ),
    (
        "storage.k8s.io/v1beta1",
        "CSIDriver",
        (1, 19),
        Some((1, 22)),
        Some(("storage.k8s.io/v1", "CSIDriver")),
    ),
    (
        "storage.k8s.io/v1beta1",
        "CSINode",
        (1, 17),
        Some((1, 22)),
        Some(("storage.k8s.io/v1", "CSINode")),
    ),
    (
        "storage.k8s.io/v1beta1",
        "CSIStorageCapacity",
        (1, 24),
        Some((1, 27)),
        Some(("storage.k8s.io/v1", "CSIStorageCapacity")),
    ),
    (
        "storage.k8s.io/v1beta1",
        "StorageClass",
        (1, 19),
        Some((1, 22)),
        Some(("storage.k8s.io/v1", "StorageClass")),
    ),
    (
        "storage.k8s.io/v1beta1",
        "VolumeAttachment",
        (1, 19),
        Some((1, 22)),
        Some(("storage.k8s.io/v1", "VolumeAttachment")),
    ),
    (
        "storage.k8s.io/v1beta1",
        "VolumeAttributesClass",
        (1, 34),
        Some((1, 37)),
        Some(("storage.k8s.io/v1", "VolumeAttributesClass")),
    ),
    (
        "storagemigration.k8s.io/v1beta1",
        "StorageVersionMigration",
        (1, 38),
        Some((1, 41)),
        None,
    ),
    ("v1", "ComponentStatus", (1, 19), None, None),
    (
        "v1",
        "Endpoints",
        (1, 33),
        None,
        Some(("discovery.k8s.io/v1", "EndpointSlice")),
    ),
];

/// Kinds that have no `List` kind (subresources and reviews).
const NO_LIST: &[&str] = &[
    "Scale",
    "Eviction",
    "TokenReview",
    "SelfSubjectReview",
    "LocalSubjectAccessReview",
    "SelfSubjectAccessReview",
    "SelfSubjectRulesReview",
    "SubjectAccessReview",
];

/// Helm's message when `api_version`/`kind` is deprecated in Kubernetes `major.minor`
/// (`policy/v1beta1 PodDisruptionBudget is deprecated in v1.21+, unavailable in v1.25+; use
/// policy/v1 PodDisruptionBudget`), or `None`.
pub fn deprecation(api_version: &str, kind: &str, major: u64, minor: u64) -> Option<String> {
    let (base, is_list) = match kind.strip_suffix("List") {
        Some(b) if !b.is_empty() && !NO_LIST.contains(&b) => (b, true),
        _ => (kind, false),
    };
    let (gv, k, (dmaj, dmin), removed, replacement) = DEPRECATED_APIS
        .iter()
        .find(|(gv, k, ..)| *gv == api_version && (*k == kind || (is_list && *k == base)))?;
    let is_list = is_list && *k != kind;
    if (dmaj, dmin) > (&major, &minor) {
        return None;
    }
    let shown = if is_list {
        format!("{k}List")
    } else {
        k.to_string()
    };
    let mut msg = format!("{gv} {shown} is deprecated in v{dmaj}.{dmin}+");
    if let Some((rmaj, rmin)) = removed {
        msg.push_str(&format!(", unavailable in v{rmaj}.{rmin}+"));
    }
    if let Some((rgv, rk)) = replacement {
        let rk = if is_list && !rk.ends_with("List") {
            format!("{rk}List")
        } else {
            rk.to_string()
        };
        msg.push_str(&format!("; use {rgv} {rk}"));
    }
    Some(msg)
}

#[cfg(test)]
mod tests {
    use super::deprecation;

    #[test]
    fn messages_like_helm() {
        assert_eq!(
            deprecation("policy/v1beta1", "PodDisruptionBudget", 1, 35).unwrap(),
            "policy/v1beta1 PodDisruptionBudget is deprecated in v1.21+, unavailable in v1.25+; use policy/v1 PodDisruptionBudget"
        );
        assert!(deprecation("policy/v1beta1", "PodDisruptionBudget", 1, 20).is_none());
        assert_eq!(
            deprecation("v1", "EndpointsList", 1, 35).unwrap(),
            "v1 EndpointsList is deprecated in v1.33+; use discovery.k8s.io/v1 EndpointSliceList"
        );
        assert_eq!(
            deprecation("networking.k8s.io/v1beta1", "IngressClassList", 1, 35).unwrap(),
            "networking.k8s.io/v1beta1 IngressClassList is deprecated in v1.19+, unavailable in v1.22+; use networking.k8s.io/v1 IngressClassList"
        );
        assert_eq!(
            deprecation("v1", "ComponentStatus", 1, 35).unwrap(),
            "v1 ComponentStatus is deprecated in v1.19+"
        );
        assert!(deprecation("apps/v1", "Deployment", 1, 99).is_none());
        assert!(deprecation("extensions/v1beta1", "ScaleList", 1, 35).is_none());
    }
}
