//! The list's ConfigMaps and Deployments, gathered once by namespace and name, so that finding an
//! LLSD's CA ConfigMap, managed ConfigMap and Deployments is a lookup rather than a scan of every
//! item: with an LLSD in every few dozen items, per-LLSD scans made the run quadratic.

use crate::meta::{annotation, is_kind, is_local_config, name, namespace};
use crate::names::{CONFIG_MAP, DEPLOYMENT, PREVIOUS_NAMES_ANNOTATION};
use crate::target;
use crate::yaml::Node;
use std::collections::HashMap;

/// Item indices by name; each list is in item order.
type ByName<'n> = HashMap<&'n str, Vec<usize>>;
/// Item indices by namespace (`""`: not set), then name. Keyed by `&str` rather than by
/// `(Option<&str>, &str)` so that a lookup can borrow its key for less time than the index lives.
type ByNamespace<'n> = HashMap<&'n str, ByName<'n>>;

/// Item indices by what the function looks objects up by.
pub struct Index<'n, 'a> {
    items: &'n [Node<'a>],
    config_maps: ByNamespace<'n>,
    config_maps_by_previous_name: ByNamespace<'n>,
    config_maps_in: ByName<'n>,
    config_maps_named: ByName<'n>,
    deployments_of: ByNamespace<'n>,
    local_config_deployments_of: ByNamespace<'n>,
}

impl<'n, 'a> Index<'n, 'a> {
    /// Index `items` in one pass.
    pub fn new(items: &'n [Node<'a>]) -> Self {
        let mut index = Index {
            items,
            config_maps: HashMap::new(),
            config_maps_by_previous_name: HashMap::new(),
            config_maps_in: HashMap::new(),
            config_maps_named: HashMap::new(),
            deployments_of: HashMap::new(),
            local_config_deployments_of: HashMap::new(),
        };
        for (i, item) in items.iter().enumerate() {
            let ns = namespace(item).unwrap_or_default();
            if is_kind(item, CONFIG_MAP) {
                let name = name(item).unwrap_or_default();
                push(index.config_maps.entry(ns).or_default(), name, i);
                push(&mut index.config_maps_in, ns, i);
                push(&mut index.config_maps_named, name, i);
                let previous = annotation(item, PREVIOUS_NAMES_ANNOTATION).unwrap_or_default();
                let renamed = index.config_maps_by_previous_name.entry(ns).or_default();
                for old in previous.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                    push(renamed, old, i);
                }
            } else if is_kind(item, DEPLOYMENT) {
                let of = if is_local_config(item) {
                    &mut index.local_config_deployments_of
                } else {
                    &mut index.deployments_of
                };
                let of = of.entry(ns).or_default();
                for llsd in target::llsd_names(item) {
                    push(of, llsd, i);
                }
            }
        }
        index
    }

    /// The items indexed.
    pub fn items(&self) -> &'n [Node<'a>] {
        self.items
    }

    /// The first ConfigMap with this namespace and name.
    pub fn config_map(&self, namespace: Option<&str>, name: &str) -> Option<usize> {
        self.config_maps(namespace, name).first().copied()
    }

    /// Every ConfigMap with this namespace and name: more than one is a broken package.
    pub fn config_maps(&self, namespace: Option<&str>, name: &str) -> &[usize] {
        lookup(&self.config_maps, namespace, name)
    }

    /// The ConfigMaps in this namespace that kustomize renamed from `name`.
    pub fn config_maps_renamed_from(&self, namespace: Option<&str>, name: &str) -> &[usize] {
        lookup(&self.config_maps_by_previous_name, namespace, name)
    }

    /// The ConfigMaps in this namespace.
    pub fn config_maps_in(&self, namespace: Option<&str>) -> &[usize] {
        all(self.config_maps_in.get(namespace.unwrap_or_default()))
    }

    /// The ConfigMaps with this name, in any namespace.
    pub fn config_maps_named(&self, name: &str) -> &[usize] {
        all(self.config_maps_named.get(name))
    }

    /// The Deployments in this namespace that belong to the LLSD named `llsd`
    /// (see [`target::llsd_names`]).
    pub fn deployments_of(&self, namespace: Option<&str>, llsd: &str) -> &[usize] {
        lookup(&self.deployments_of, namespace, llsd)
    }

    /// Like [`Index::deployments_of`], for the Deployments marked local-config, kept apart.
    pub fn local_config_deployments_of(&self, namespace: Option<&str>, llsd: &str) -> &[usize] {
        lookup(&self.local_config_deployments_of, namespace, llsd)
    }
}

/// Add item `i` under `key`, once: a Deployment may name the same LLSD in several ways.
fn push<'n>(map: &mut ByName<'n>, key: &'n str, i: usize) {
    let list = map.entry(key).or_default();
    if list.last() != Some(&i) {
        list.push(i);
    }
}

fn lookup<'s>(map: &'s ByNamespace<'_>, namespace: Option<&str>, name: &str) -> &'s [usize] {
    all(map
        .get(namespace.unwrap_or_default())
        .and_then(|by_name| by_name.get(name)))
}

fn all(list: Option<&Vec<usize>>) -> &[usize] {
    list.map_or(&[], Vec::as_slice)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse_document;

    fn items(yaml: &str) -> Vec<Node<'_>> {
        let root = parse_document(yaml).unwrap();
        root.as_seq().unwrap().to_vec()
    }

    #[test]
    fn a_deployment_that_names_its_llsd_three_ways_is_listed_once() {
        let items = items(
            "- {apiVersion: apps/v1, kind: Deployment, metadata: {name: ls, namespace: ai, \
             ownerReferences: [{kind: LlamaStackDistribution, name: ls}]}, spec: {template: \
             {metadata: {labels: {app.kubernetes.io/instance: ls}}}}}\n\
             - {apiVersion: apps/v1, kind: Deployment, metadata: {name: ls, namespace: other}}\n\
             - {apiVersion: apps/v1, kind: Deployment, metadata: {name: ls-extra, namespace: ai}, \
             spec: {template: {metadata: {labels: {app.kubernetes.io/instance: ls}}}}}\n",
        );
        let index = Index::new(&items);
        assert_eq!(index.deployments_of(Some("ai"), "ls"), [0, 2]);
        assert_eq!(index.deployments_of(Some("other"), "ls"), [1]);
        assert_eq!(index.deployments_of(None, "ls"), [] as [usize; 0]);
    }

    #[test]
    fn config_maps_are_found_by_name_previous_name_namespace() {
        let items = items(
            "- {apiVersion: v1, kind: ConfigMap, metadata: {name: ca-5h2k8g7m9t, namespace: sec, \
             annotations: {internal.config.kubernetes.io/previousNames: 'ca, ca-old'}}}\n\
             - {apiVersion: v1, kind: ConfigMap, metadata: {name: ca}}\n\
             - {apiVersion: v2, kind: ConfigMap, metadata: {name: ca, namespace: sec}}\n",
        );
        let index = Index::new(&items);
        assert_eq!(index.config_map(Some("sec"), "ca"), None);
        assert_eq!(index.config_map(None, "ca"), Some(1));
        assert_eq!(index.config_maps_renamed_from(Some("sec"), "ca-old"), [0]);
        assert_eq!(index.config_maps_in(Some("sec")), [0]);
        assert_eq!(index.config_maps_named("ca"), [1]);
    }
}
