//! What the registry adds or rewrites on write: Service `clusterIP`/`nodePort` allocation and
//! defaults, Namespace label and phase, Secret type and `stringData`, CRD defaults and
//! `status.storedVersions`.

use std::collections::BTreeSet;

use base64::Engine as _;
use serde_json::{Map, Value, json};

use crate::json::{json_type, meta_mut, obj_mut, str_at};
use crate::resources::ResourceDef;
use crate::store::{Store, Write};
use crate::validation::ApiError;

impl Store {
    /// What the real registry adds on write: Service IPs, ports and defaults, the Namespace
    /// name label and phase, the Secret type. A 500 when an allocation range is full.
    pub(crate) fn normalize_output(
        &mut self,
        w: &Write,
        old: Option<&Value>,
        obj: &mut Value,
    ) -> Result<(), ApiError> {
        match (w.res.group, w.res.kind) {
            ("", "Service") => return self.normalize_service(old, obj),
            ("", "Namespace") => {
                let meta = meta_mut(obj);
                let labels = obj_mut(
                    meta.entry("labels")
                        .or_insert_with(|| Value::Object(Map::new())),
                );
                labels.insert("kubernetes.io/metadata.name".into(), w.name.into());
                let m = obj_mut(obj);
                let spec = obj_mut(m.entry("spec").or_insert_with(|| json!({})));
                spec.entry("finalizers")
                    .or_insert_with(|| json!(["kubernetes"]));
                if old.is_none() {
                    m.insert("status".into(), json!({"phase": "Active"}));
                }
            }
            ("", "Secret") => {
                obj_mut(obj)
                    .entry("type")
                    .or_insert_with(|| "Opaque".into());
            }
            ("apiextensions.k8s.io", "CustomResourceDefinition") => {
                crate::crds::finish_write(old, obj);
            }
            _ => {}
        }
        Ok(())
    }

    pub(crate) fn normalize_service(
        &mut self,
        old: Option<&Value>,
        obj: &mut Value,
    ) -> Result<(), ApiError> {
        let used_ips: BTreeSet<String> = self
            .objects
            .iter()
            .filter(|(k, _)| k.0.is_empty() && k.1 == "services")
            .filter_map(|(_, s)| str_at(&s.obj, "/spec/clusterIP").map(str::to_string))
            .collect();
        let mut used_ports: BTreeSet<i64> = self
            .objects
            .iter()
            .filter(|(k, _)| k.0.is_empty() && k.1 == "services")
            .filter(|(_, s)| Some(&s.obj) != old)
            .flat_map(|(_, s)| {
                s.obj
                    .pointer("/spec/ports")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|p| p.get("nodePort").and_then(Value::as_i64))
            })
            .collect();
        let old_ip = old
            .and_then(|o| str_at(o, "/spec/clusterIP"))
            .filter(|s| !s.is_empty())
            .map(str::to_string);
        let old_ports: Vec<Value> = old
            .and_then(|o| o.pointer("/spec/ports"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let m = obj_mut(obj);
        if old.is_none() {
            m.insert("status".into(), json!({"loadBalancer": {}}));
        }
        let spec = obj_mut(m.entry("spec").or_insert_with(|| json!({})));
        let ty = spec
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("ClusterIP")
            .to_string();
        spec.insert("type".into(), ty.clone().into());
        if ty != "ExternalName" {
            let ip = match spec
                .get("clusterIP")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
            {
                Some(ip) => ip.to_string(),
                None => match old_ip {
                    Some(ip) => ip,
                    None => self.allocate_ip(&used_ips).ok_or_else(|| {
                        ApiError::internal("failed to allocate a serviceIP: range is full")
                    })?,
                },
            };
            spec.insert("clusterIP".into(), ip.clone().into());
            spec.insert("clusterIPs".into(), json!([ip]));
            spec.entry("ipFamilies").or_insert_with(|| json!(["IPv4"]));
            spec.entry("ipFamilyPolicy")
                .or_insert_with(|| "SingleStack".into());
            spec.entry("internalTrafficPolicy")
                .or_insert_with(|| "Cluster".into());
        }
        spec.entry("sessionAffinity")
            .or_insert_with(|| "None".into());
        if ty == "NodePort" || ty == "LoadBalancer" {
            spec.entry("externalTrafficPolicy")
                .or_insert_with(|| "Cluster".into());
            if ty == "LoadBalancer" {
                spec.entry("allocateLoadBalancerNodePorts")
                    .or_insert(Value::Bool(true));
            }
            if let Some(Value::Array(ports)) = spec.get_mut("ports") {
                for p in ports.iter_mut() {
                    if p.get("nodePort").and_then(Value::as_i64).is_some() {
                        continue;
                    }
                    let same = old_ports.iter().find(|o| {
                        o.get("port") == p.get("port") && o.get("protocol") == p.get("protocol")
                    });
                    let port = match same.and_then(|o| o.get("nodePort")).and_then(Value::as_i64) {
                        Some(n) => n,
                        None => self.allocate_node_port(&used_ports).ok_or_else(|| {
                            ApiError::internal("failed to allocate a nodePort: range is full")
                        })?,
                    };
                    used_ports.insert(port);
                    obj_mut(p).insert("nodePort".into(), port.into());
                }
            }
        }
        Ok(())
    }

    /// The next free cluster IP in 10.96.0.10 - 10.96.253.232, `None` when all are used.
    pub(crate) fn allocate_ip(&mut self, used: &BTreeSet<String>) -> Option<String> {
        for _ in 10..=65_000 {
            let n = self.next_ip;
            self.next_ip = if n >= 65_000 { 10 } else { n + 1 };
            if n.is_multiple_of(256) || n % 256 == 255 {
                continue;
            }
            let ip = format!("10.96.{}.{}", n / 256, n % 256);
            if !used.contains(&ip) {
                return Some(ip);
            }
        }
        None
    }

    /// The next free node port in 30000-32767, `None` when all are used.
    pub(crate) fn allocate_node_port(&mut self, used: &BTreeSet<i64>) -> Option<i64> {
        for _ in 30_000..=32_767 {
            let p = self.next_node_port;
            self.next_node_port = if p >= 32_767 { 30_000 } else { p + 1 };
            if !used.contains(&i64::from(p)) {
                return Some(i64::from(p));
            }
        }
        None
    }
}

/// Input normalization before ownership is computed: Secret `stringData` folded into `data`
/// (and `data` checked as base64), Service port defaults.
pub(crate) fn normalize_input(res: &ResourceDef, obj: &mut Value) -> Result<(), ApiError> {
    match (res.group, res.kind) {
        ("", "Secret") => {
            let m = obj_mut(obj);
            if let Some(sd) = m.shift_remove("stringData") {
                let Value::Object(sd) = sd else {
                    return Err(ApiError::bad_request(
                        "json: cannot unmarshal into Go struct field Secret.stringData of type map[string]string",
                    ));
                };
                let data = obj_mut(m.entry("data").or_insert_with(|| json!({})));
                for (k, v) in sd {
                    let Some(s) = v.as_str() else {
                        return Err(ApiError::bad_request(format!(
                            "json: cannot unmarshal {} into Go struct field Secret.stringData of type string",
                            json_type(&v)
                        )));
                    };
                    data.insert(
                        k,
                        base64::engine::general_purpose::STANDARD.encode(s).into(),
                    );
                }
            }
            if let Some(data) = m.get("data") {
                let Some(data) = data.as_object() else {
                    return Err(ApiError::bad_request(
                        "json: cannot unmarshal into Go struct field Secret.data of type map[string][]uint8",
                    ));
                };
                for (k, v) in data {
                    let ok = v.as_str().is_some_and(|s| {
                        base64::engine::general_purpose::STANDARD.decode(s).is_ok()
                    });
                    if !ok {
                        return Err(ApiError::bad_request(format!(
                            "illegal base64 data in Secret.data[{k}]"
                        )));
                    }
                }
            }
        }
        ("", "Service") => {
            if let Some(Value::Array(ports)) = obj.pointer_mut("/spec/ports") {
                for p in ports.iter_mut() {
                    if let Value::Object(pm) = p {
                        pm.entry("protocol").or_insert_with(|| "TCP".into());
                        if !pm.contains_key("targetPort")
                            && let Some(port) = pm.get("port").cloned()
                        {
                            pm.insert("targetPort".into(), port);
                        }
                    }
                }
            }
        }
        ("apiextensions.k8s.io", "CustomResourceDefinition") => crate::crds::apply_defaults(obj),
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_allocation_ranges_are_none_not_a_hang_or_a_duplicate() {
        let mut store = Store::new(1);
        let ip = store.allocate_ip(&BTreeSet::new());
        assert_eq!(ip.as_deref(), Some("10.96.0.10"));
        let all_ips: BTreeSet<String> = (0..=65_000u32)
            .map(|n| format!("10.96.{}.{}", n / 256, n % 256))
            .collect();
        assert_eq!(store.allocate_ip(&all_ips), None);
        let all_ports: BTreeSet<i64> = (30_000..=32_767).collect();
        assert_eq!(store.allocate_node_port(&all_ports), None);
        let mut one_left = all_ports.clone();
        one_left.remove(&31_000);
        assert_eq!(store.allocate_node_port(&one_left), Some(31_000));
    }
}
