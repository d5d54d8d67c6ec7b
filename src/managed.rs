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
use std::collections::HashSet;

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

/// The files of the package that are taken: those of the input's items, and those given to the
/// managed ConfigMaps added in this run. kpt refuses two objects at one path and index, and writes
/// an object into the file its path annotation names, so a new ConfigMap needs a file of its own.
pub struct TakenPaths(HashSet<String>);

impl TakenPaths {
    /// The paths the items carry.
    pub fn of(items: &[Node<'_>]) -> Self {
        TakenPaths(
            items
                .iter()
                .filter_map(file_of)
                .map(|file| path_key(&file.path))
                .collect(),
        )
    }

    /// The first free path in `dir` (empty, or ending in `/`) among
    /// `<name>.yaml`, `<name>-<namespace>.yaml`, `<name>-<namespace>-2.yaml`, … (without a
    /// namespace: `<name>-2.yaml`, …), now taken. The order of the LLSDs decides, so the same
    /// input gives the same paths; on later runs the ConfigMap keeps the path it got.
    fn claim(&mut self, dir: &str, name: &str, namespace: Option<&str>) -> String {
        let stem = match namespace {
            Some(ns) => format!("{dir}{name}-{ns}"),
            None => format!("{dir}{name}"),
        };
        let candidates = [format!("{dir}{name}.yaml"), format!("{stem}.yaml")]
            .into_iter()
            .chain((2..).map(|n| format!("{stem}-{n}.yaml")));
        for path in candidates {
            if self.0.insert(path_key(&path)) {
                return path;
            }
        }
        unreachable!("the candidates never run out")
    }
}

/// A path as compared for collisions: without empty and `.` segments, and in ASCII lower case,
/// since two files whose names differ only in case are one file on macOS and Windows. The
/// managed ConfigMap's names are ASCII, and so are the words `select` looks for in unread items:
/// full Unicode case folding (the Kelvin sign `K` is a `k`) would see collisions with items that
/// were never read. The price: directories that differ only in non-ASCII case (`CAFÉ/`,
/// `café/`) count as two, though macOS takes them for one.
fn path_key(path: &str) -> String {
    path.split('/')
        .filter(|s| !s.is_empty() && *s != ".")
        .collect::<Vec<_>>()
        .join("/")
        .to_ascii_lowercase()
}

/// Create or update the managed ConfigMap so that it holds exactly `pem`. A ConfigMap of that
/// name that this function did not make is an error: it is never overwritten. A new one gets a
/// file that no other item uses; an existing one keeps its own.
pub fn plan<'a>(
    index: &Index<'_, 'a>,
    llsd: &Llsd<'_, '_>,
    pem: &str,
    taken: &mut TakenPaths,
) -> Result<Plan<'a>, KrmResult> {
    let Some(at) = find(index, llsd) else {
        return Ok(Plan::Add(new_config_map(llsd, pem, taken)));
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

fn new_config_map<'a>(llsd: &Llsd<'_, '_>, pem: &str, taken: &mut TakenPaths) -> Node<'a> {
    let name = managed_config_map_name(&llsd.name);
    let mut metadata = vec![("name", Node::string(name.clone()))];
    if let Some(ns) = &llsd.namespace {
        metadata.push(("namespace", Node::string(ns.clone())));
    }
    metadata.push(("labels", Node::map_of(labels_of(llsd))));
    // kpt writes each item to the file its path annotation names: put the bundle beside the LLSD,
    // in a file of its own.
    if let Some(file) = file_of(llsd.item) {
        let dir = file
            .path
            .rsplit_once('/')
            .map_or(String::new(), |(dir, _)| format!("{dir}/"));
        let path = taken.claim(&dir, &name, llsd.namespace.as_deref());
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

#[cfg(test)]
mod tests {
    use super::*;

    fn taken(paths: &[&str]) -> TakenPaths {
        TakenPaths(paths.iter().map(|p| path_key(p)).collect())
    }

    #[test]
    fn a_free_name_is_used_as_it_is() {
        let mut t = taken(&["llsd.yaml"]);
        assert_eq!(t.claim("", "x-ca-bundle", Some("ai")), "x-ca-bundle.yaml");
    }

    #[test]
    fn a_taken_name_gets_the_namespace_then_a_counter() {
        let mut t = taken(&["./apps/X-CA-Bundle.yaml"]);
        assert_eq!(
            t.claim("apps/", "x-ca-bundle", Some("b")),
            "apps/x-ca-bundle-b.yaml"
        );
        assert_eq!(
            t.claim("apps/", "x-ca-bundle", Some("b")),
            "apps/x-ca-bundle-b-2.yaml"
        );
        assert_eq!(t.claim("", "x-ca-bundle", None), "x-ca-bundle.yaml");
        assert_eq!(t.claim("", "x-ca-bundle", None), "x-ca-bundle-2.yaml");
    }
}
