//! The managed `<llsd>-ca-bundle` ConfigMap: the copy of the bundle in the LLSD's namespace that
//! the pods mount (pods cannot mount a ConfigMap from another namespace).

use crate::index::Index;
use crate::llsd::Llsd;
use crate::meta::{file_of, is_local_config, qualified};
use crate::names::{
    BUNDLE_KEY, COMPONENT, COMPONENT_LABEL, INDEX_ANNOTATIONS, INSTANCE_LABEL, LLSD_KIND,
    LOCAL_CONFIG_ANNOTATION, MANAGED_BY, MANAGED_BY_LABEL, PATH_ANNOTATIONS,
    managed_config_map_name,
};
use crate::results::KrmResult;
use crate::yaml::Node;

/// What the output needs for the managed ConfigMap.
pub enum Plan<'a> {
    /// A new ConfigMap, to go right after the LLSD.
    Add(Node<'a>),
    /// The existing one at this index, updated.
    Replace(usize, Node<'a>),
    /// The existing one is already right.
    Keep,
}

/// True for objects this function made: they carry its managed-by label.
pub fn is_ours(item: &Node<'_>) -> bool {
    item.str_at(&["metadata", "labels", MANAGED_BY_LABEL]) == Some(MANAGED_BY)
}

/// Index of the ConfigMap named like the LLSD's managed ConfigMap, whoever made it.
pub fn find(index: &Index<'_, '_>, llsd: &Llsd<'_, '_>) -> Option<usize> {
    index.config_map(
        llsd.namespace.as_deref(),
        &managed_config_map_name(&llsd.name),
    )
}

/// Create or update the managed ConfigMap so that it holds exactly `pem`. A ConfigMap of that
/// name that this function did not make is an error: it is never overwritten.
pub fn plan<'a>(
    index: &Index<'_, 'a>,
    llsd: &Llsd<'_, '_>,
    pem: &str,
) -> Result<Plan<'a>, KrmResult> {
    let Some(at) = find(index, llsd) else {
        return Ok(Plan::Add(new_config_map(llsd, pem)));
    };
    let existing = &index.items()[at];
    if is_local_config(existing) {
        return Err(KrmResult::error(format!(
            "ConfigMap {} is marked {LOCAL_CONFIG_ANNOTATION}: \"true\", so it is never deployed, yet the \
             Deployment of {LLSD_KIND} {} mounts it; remove the annotation",
            qualified(&llsd.namespace, &managed_config_map_name(&llsd.name)),
            qualified(&llsd.namespace, &llsd.name)
        ))
        .on(existing)
        .at(format!("metadata.annotations.{LOCAL_CONFIG_ANNOTATION}")));
    }
    if !is_ours(existing) {
        return Err(KrmResult::error(format!(
            "ConfigMap {} exists and was not made by this function (no label {MANAGED_BY_LABEL}: {MANAGED_BY}); \
             rename it: the function writes the CA bundle of {LLSD_KIND} {} under that name",
            qualified(&llsd.namespace, &managed_config_map_name(&llsd.name)),
            qualified(&llsd.namespace, &llsd.name)
        ))
        .on(existing));
    }
    let mut updated = existing.clone();
    if let Some(labels) = updated
        .map_entry("metadata")
        .and_then(|m| m.map_entry("labels"))
    {
        for (key, value) in labels_of(llsd) {
            labels.set(key, value);
        }
    }
    updated.set(
        "data",
        Node::map_of(vec![(BUNDLE_KEY, Node::string(pem.to_string()))]),
    );
    updated.remove("binaryData");
    Ok(if updated.same_as(existing) {
        Plan::Keep
    } else {
        Plan::Replace(at, updated)
    })
}

fn new_config_map<'a>(llsd: &Llsd<'_, '_>, pem: &str) -> Node<'a> {
    let name = managed_config_map_name(&llsd.name);
    let mut metadata = vec![("name", Node::string(name.clone()))];
    if let Some(ns) = &llsd.namespace {
        metadata.push(("namespace", Node::string(ns.clone())));
    }
    metadata.push(("labels", Node::map_of(labels_of(llsd))));
    // kpt writes each item to the file its path annotation names: put the bundle beside the LLSD.
    if let Some(file) = file_of(llsd.item) {
        let dir = file
            .path
            .rsplit_once('/')
            .map_or(String::new(), |(dir, _)| format!("{dir}/"));
        let path = format!("{dir}{name}.yaml");
        let mut annotations: Vec<(&str, Node<'a>)> = PATH_ANNOTATIONS
            .iter()
            .map(|key| (*key, Node::string(path.clone())))
            .collect();
        annotations.extend(
            INDEX_ANNOTATIONS
                .iter()
                .map(|key| (*key, Node::string("0"))),
        );
        metadata.push(("annotations", Node::map_of(annotations)));
    }
    Node::map_of(vec![
        ("apiVersion", Node::string("v1")),
        ("kind", Node::string("ConfigMap")),
        ("metadata", Node::map_of(metadata)),
        (
            "data",
            Node::map_of(vec![(BUNDLE_KEY, Node::string(pem.to_string()))]),
        ),
    ])
}

fn labels_of<'a>(llsd: &Llsd<'_, '_>) -> Vec<(&'static str, Node<'a>)> {
    vec![
        (MANAGED_BY_LABEL, Node::string(MANAGED_BY)),
        (INSTANCE_LABEL, Node::string(llsd.name.clone())),
        (COMPONENT_LABEL, Node::string(COMPONENT)),
    ]
}
