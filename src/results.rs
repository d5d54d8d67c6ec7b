//! Results in the shape of the KRM functions spec, and the exit code they imply.

use crate::meta::{FileRef, ObjRef, file_of};
use crate::yaml::Node;
use std::collections::HashSet;
use std::fmt;

/// How bad a result is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// The function did not change anything, and exits 1.
    Error,
    /// Worth a look; the change went ahead.
    Warning,
    /// What the function did.
    Info,
}

impl Severity {
    fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// One result: a message, its severity, and where it applies.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct KrmResult {
    /// What a person should know or do.
    pub message: String,
    /// How bad it is.
    pub severity: Severity,
    /// The object at fault.
    pub resource_ref: Option<ObjRef>,
    /// The field at fault, as a dotted path.
    pub field_path: Option<String>,
    /// The file the object came from.
    pub file: Option<FileRef>,
}

impl KrmResult {
    /// An error result.
    pub fn error(message: impl Into<String>) -> Self {
        Self::new(Severity::Error, message.into())
    }

    /// A warning result.
    pub fn warning(message: impl Into<String>) -> Self {
        Self::new(Severity::Warning, message.into())
    }

    /// An info result.
    pub fn info(message: impl Into<String>) -> Self {
        Self::new(Severity::Info, message.into())
    }

    fn new(severity: Severity, message: String) -> Self {
        KrmResult {
            message,
            severity,
            resource_ref: None,
            field_path: None,
            file: None,
        }
    }

    /// About this item: sets the resource reference and, where kpt gave one, the file.
    pub fn on(mut self, item: &Node<'_>) -> Self {
        self.resource_ref = Some(ObjRef::of(item));
        self.file = file_of(item);
        self
    }

    /// At this field of the item.
    pub fn at(mut self, path: impl Into<String>) -> Self {
        self.field_path = Some(path.into());
        self
    }

    fn to_node(&self) -> Node<'_> {
        let mut entries = vec![
            ("message", Node::string(self.message.as_str())),
            ("severity", Node::string(self.severity.as_str())),
        ];
        if let Some(r) = &self.resource_ref {
            let mut reference = vec![
                ("apiVersion", Node::string(r.api_version.as_str())),
                ("kind", Node::string(r.kind.as_str())),
                ("name", Node::string(r.name.as_str())),
            ];
            if let Some(ns) = &r.namespace {
                reference.push(("namespace", Node::string(ns.as_str())));
            }
            entries.push(("resourceRef", Node::map_of(reference)));
        }
        if let Some(path) = &self.field_path {
            entries.push((
                "field",
                Node::map_of(vec![("path", Node::string(path.as_str()))]),
            ));
        }
        if let Some(file) = &self.file {
            let mut fields = vec![("path", Node::string(file.path.as_str()))];
            if let Some(index) = file.index {
                fields.push(("index", Node::int(u64::from(index))));
            }
            entries.push(("file", Node::map_of(fields)));
        }
        Node::map_of(entries)
    }
}

impl fmt::Display for KrmResult {
    /// One line for a log: `error: Deployment ai/ls (deploy.yaml) spec.template: message`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.severity.as_str())?;
        if let Some(r) = &self.resource_ref {
            write!(f, "{r} ")?;
        }
        if let Some(file) = &self.file {
            write!(f, "({}) ", file.path)?;
        }
        if let Some(path) = &self.field_path {
            write!(f, "{path}: ")?;
        }
        f.write_str(&self.message)
    }
}

/// The results as they are reported: errors first, then warnings, then infos, each in the order
/// found. A result found twice (two LLSDs sharing one CA ConfigMap, say) is listed once.
pub fn ordered(results: &[KrmResult]) -> Vec<&KrmResult> {
    let mut seen = HashSet::with_capacity(results.len());
    let mut sorted: Vec<&KrmResult> = results.iter().filter(|r| seen.insert(*r)).collect();
    sorted.sort_by_key(|r| r.severity);
    sorted
}

/// The entries of the `results` list, in [`ordered`] order, one at a time: a list with thousands
/// of results is never held as one tree.
pub fn to_nodes(results: &[KrmResult]) -> impl Iterator<Item = Node<'_>> {
    ordered(results).into_iter().map(KrmResult::to_node)
}

/// True when any result is an error: the function then changes nothing and exits 1.
pub fn has_errors(results: &[KrmResult]) -> bool {
    results.iter().any(|r| r.severity == Severity::Error)
}
