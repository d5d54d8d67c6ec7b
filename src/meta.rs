//! Identity of an item: its reference, namespace, file and local-config mark.

use crate::names::{INDEX_ANNOTATIONS, LOCAL_CONFIG_ANNOTATION, PATH_ANNOTATIONS};
use crate::yaml::Node;
use std::fmt;

/// Which object a result is about, as in the KRM functions spec's `resourceRef`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ObjRef {
    /// `apiVersion` of the object.
    pub api_version: String,
    /// `kind` of the object.
    pub kind: String,
    /// `metadata.namespace`, when set.
    pub namespace: Option<String>,
    /// `metadata.name`.
    pub name: String,
}

impl ObjRef {
    /// The reference of an item; missing fields read as empty.
    pub fn of(item: &Node<'_>) -> Self {
        let text = |path: &[&str]| item.str_at(path).unwrap_or_default().to_string();
        ObjRef {
            api_version: text(&["apiVersion"]),
            kind: text(&["kind"]),
            namespace: namespace(item).map(str::to_string),
            name: text(&["metadata", "name"]),
        }
    }
}

impl fmt::Display for ObjRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} {ns}/{}", self.kind, self.name),
            None => write!(f, "{} {}", self.kind, self.name),
        }
    }
}

/// The file an item came from, as kpt's path annotations say.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FileRef {
    /// Path relative to the package.
    pub path: String,
    /// Index of the object within the file.
    pub index: Option<u32>,
}

impl fmt::Display for FileRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.index {
            Some(index) => write!(f, "{}, index {index}", self.path),
            None => f.write_str(&self.path),
        }
    }
}

/// Where input item `i` can be found, for messages that point at one of several look-alikes: its
/// file and index when kpt said, its place in the list otherwise.
pub fn whereabouts(item: &Node<'_>, i: usize) -> String {
    file_of(item).map_or_else(|| format!("items[{i}]"), |file| file.to_string())
}

/// True when the item is an object of this `apiVersion` and `kind`.
pub fn is_kind(item: &Node<'_>, (api_version, kind): (&str, &str)) -> bool {
    item.str_at(&["apiVersion"]) == Some(api_version) && item.str_at(&["kind"]) == Some(kind)
}

/// `metadata.name`.
pub fn name<'n>(item: &'n Node<'_>) -> Option<&'n str> {
    item.str_at(&["metadata", "name"])
}

/// `metadata.namespace`; missing or empty means "not set".
pub fn namespace<'n>(item: &'n Node<'_>) -> Option<&'n str> {
    item.str_at(&["metadata", "namespace"])
        .filter(|ns| !ns.is_empty())
}

/// An annotation's value, as text whatever YAML type it reads as: annotations are strings to
/// Kubernetes, and kpt and kustomize (kyaml) read `local-config: true` or `index: 0` written
/// without quotes as the strings `"true"` and `"0"`.
pub fn annotation<'n>(item: &'n Node<'_>, key: &str) -> Option<&'n str> {
    item.at(&["metadata", "annotations"])?
        .get(key)?
        .scalar_text()
}

/// Objects marked local-config (the Kptfile, function configs) are never changed.
pub fn is_local_config(item: &Node<'_>) -> bool {
    annotation(item, LOCAL_CONFIG_ANNOTATION) == Some("true")
}

/// The file an item came from, if kpt said.
pub fn file_of(item: &Node<'_>) -> Option<FileRef> {
    let path = PATH_ANNOTATIONS
        .iter()
        .find_map(|key| annotation(item, key))?;
    let index = INDEX_ANNOTATIONS
        .iter()
        .find_map(|key| annotation(item, key)?.parse().ok());
    Some(FileRef {
        path: path.to_string(),
        index,
    })
}

/// `namespace/name`, or `name` when no namespace is set.
pub fn qualified(namespace: &Option<String>, name: &str) -> String {
    match namespace {
        Some(ns) => format!("{ns}/{name}"),
        None => name.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse_document;

    #[test]
    fn an_item_is_found_by_its_file_and_index_or_by_its_place() {
        let items = parse_document(
            "- {metadata: {annotations: {config.kubernetes.io/path: a.yaml, config.kubernetes.io/index: 1}}}\n\
             - {metadata: {annotations: {internal.config.kubernetes.io/path: b.yaml}}}\n\
             - {metadata: {name: c}}\n",
        )
        .unwrap();
        let items = items.as_seq().unwrap();
        let found: Vec<String> = items
            .iter()
            .enumerate()
            .map(|(i, item)| whereabouts(item, i))
            .collect();
        assert_eq!(found, ["a.yaml, index 1", "b.yaml", "items[2]"]);
    }
}
