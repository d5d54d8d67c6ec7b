//! Finds the LlamaStackDistributions and reads their CA bundle reference into a checked [`CaRef`].

use crate::meta::{is_kind, name, namespace, qualified};
use crate::names::{DEFAULT_CONTAINER, DEFAULT_SOURCE_KEY, LLSD_API_VERSION, LLSD_KIND};
use crate::yaml::{Node, from_node};
use serde::Deserialize;
use std::fmt;

/// Where the CA bundle field sits in an LLSD.
pub const CA_BUNDLE_PATH: [&str; 4] = ["spec", "server", "tlsConfig", "caBundle"];
/// [`CA_BUNDLE_PATH`] as a results' `field.path`.
pub const CA_BUNDLE_FIELD: &str = "spec.server.tlsConfig.caBundle";

/// A ConfigMap key that follows the Kubernetes rules, so it is safe as a file name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct KeyName(String);

impl KeyName {
    /// Check a key: not empty, at most 253 characters, only letters, digits, `-`, `_` and `.`,
    /// starting and ending with a letter or digit, and no `..`.
    pub fn new(key: &str) -> Result<Self, String> {
        let alnum = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
        let problem = if key.is_empty() {
            Some("is empty")
        } else if key.len() > 253 {
            Some("is longer than 253 characters")
        } else if key.contains('/') {
            Some("contains '/'")
        } else if key.contains("..") {
            Some("contains '..'")
        } else if !key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            Some("may hold only letters, digits, '-', '_' and '.'")
        } else if !alnum(key.chars().next()) || !alnum(key.chars().last()) {
            Some("must start and end with a letter or digit")
        } else {
            None
        };
        match problem {
            Some(p) => Err(format!(
                "key {key:?} {p}; a key becomes a file name in the mount: letters, digits, '-', '_' \
                 and '.', at most 253 characters"
            )),
            None => Ok(KeyName(key.to_string())),
        }
    }

    /// The key.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KeyName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A checked reference to the CA ConfigMap: name, namespace (defaulted) and keys (merged, unique).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaRef {
    /// Name of the CA ConfigMap.
    pub name: String,
    /// Namespace of the CA ConfigMap; the LLSD's own when not given.
    pub namespace: Option<String>,
    /// Keys to read, in the order given, each once.
    pub keys: Vec<KeyName>,
}

/// One LLSD and what it asks for.
pub struct Llsd<'n, 'a> {
    /// The LLSD item.
    pub item: &'n Node<'a>,
    /// Its index in the item list.
    pub index: usize,
    /// `metadata.name`.
    pub name: String,
    /// `metadata.namespace`, when set.
    pub namespace: Option<String>,
    /// The container to inject into.
    pub container: String,
    /// The CA bundle reference: `None` when the LLSD has none.
    pub ca: Option<Result<CaRef, RefError>>,
}

/// Why the CA bundle reference cannot be used.
#[derive(Debug, PartialEq, Eq)]
pub struct RefError {
    /// The field at fault, from the LLSD's root.
    pub field: String,
    /// What is wrong there.
    pub message: String,
}

/// The caBundle field as written. Unknown fields are tolerated: newer operators add some.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CaBundleSpec {
    config_map_name: Option<String>,
    config_map_namespace: Option<String>,
    config_map_keys: Option<Vec<String>>,
    config_map_key: Option<String>,
    key: Option<String>,
}

/// Every LLSD in the list, in order.
pub fn find<'n, 'a>(items: &'n [Node<'a>]) -> Vec<Llsd<'n, 'a>> {
    items
        .iter()
        .enumerate()
        .filter(|(_, item)| is_kind(item, (LLSD_API_VERSION, LLSD_KIND)))
        .map(|(index, item)| {
            let namespace = namespace(item).map(str::to_string);
            let name = name(item).unwrap_or_default().to_string();
            let ca = match ca_bundle_node(item, &qualified(&namespace, &name)) {
                Ok(node) => node.map(|node| read_ref(node, &namespace)),
                Err(e) => Some(Err(e)),
            };
            Llsd {
                item,
                index,
                name,
                container: item
                    .str_at(&["spec", "server", "containerSpec", "name"])
                    .unwrap_or(DEFAULT_CONTAINER)
                    .to_string(),
                namespace,
                ca,
            }
        })
        .collect()
}

/// The caBundle node of the LLSD named `llsd`, `None` when it names no CA bundle. A level of the
/// path that is there but not a mapping, or a key that misspells one (`TLSConfig`, `ca_bundle`),
/// is an error: read as "no CA bundle", it would remove an earlier injection.
fn ca_bundle_node<'n, 'a>(
    item: &'n Node<'a>,
    llsd: &str,
) -> Result<Option<&'n Node<'a>>, RefError> {
    let mut node = item;
    for depth in 1..=CA_BUNDLE_PATH.len() {
        let key = CA_BUNDLE_PATH[depth - 1];
        let parent = CA_BUNDLE_PATH[..depth - 1].join(".");
        let at = |field: &str| match parent.as_str() {
            "" => field.to_string(),
            parent => format!("{parent}.{field}"),
        };
        let next = node.get(key).filter(|n| !n.is_null());
        if let Some(near) = misspelling(node, key) {
            let message = match next {
                Some(_) => format!(
                    "{LLSD_KIND} {llsd} has both {key} and {near} at {}; which is meant is unclear",
                    at(key)
                ),
                None => format!(
                    "{LLSD_KIND} {llsd} has no {}; found {near}: field names are exact, so it \
                     would be ignored",
                    at(key)
                ),
            };
            return Err(RefError {
                field: at(near),
                message,
            });
        }
        let Some(next) = next else {
            return Ok(None);
        };
        if depth == CA_BUNDLE_PATH.len() {
            return Ok(Some(next));
        }
        if next.as_map().is_none() {
            let field = at(key);
            let message = format!(
                "invalid type: {field} of {LLSD_KIND} {llsd} is {}; expected a mapping, \
                 which {CA_BUNDLE_FIELD} is read from",
                next.a_type_name()
            );
            return Err(RefError { field, message });
        }
        node = next;
    }
    unreachable!("the loop returns at the path's last key")
}

/// A key of `map` other than `key` that reads as `key` once case, `_` and `-` are set aside.
fn misspelling<'n>(map: &'n Node<'_>, key: &str) -> Option<&'n str> {
    let folded = |k: &str| -> String {
        k.chars()
            .filter(|c| !matches!(c, '_' | '-'))
            .map(|c| c.to_ascii_lowercase())
            .collect()
    };
    let wanted = folded(key);
    map.as_map()?
        .iter()
        .filter_map(|(k, _)| k.as_str())
        .find(|k| *k != key && folded(k) == wanted)
}

fn read_ref(node: &Node<'_>, llsd_namespace: &Option<String>) -> Result<CaRef, RefError> {
    let at = |field: &str, message: String| {
        let field = if field.is_empty() {
            CA_BUNDLE_FIELD.to_string()
        } else {
            format!("{CA_BUNDLE_FIELD}.{field}")
        };
        RefError { field, message }
    };
    if node.as_map().is_none() {
        let found = node.a_type_name();
        return Err(at(
            "",
            format!("invalid type: must be a mapping with configMapName, found {found}"),
        ));
    }
    if let Some(key) = node.find_duplicate_key() {
        return Err(at(
            &key,
            "this key appears twice; which one is meant is unclear".into(),
        ));
    }
    let spec: CaBundleSpec = from_node(node).map_err(|e| at(&e.path, e.message))?;
    let name = match spec.config_map_name {
        Some(name) if !name.is_empty() => name,
        _ => {
            return Err(at(
                "configMapName",
                "is required: name the ConfigMap that holds the CA certificates".into(),
            ));
        }
    };
    let forms: Vec<(&str, Vec<String>)> = [
        ("configMapKeys", spec.config_map_keys),
        ("configMapKey", spec.config_map_key.map(|k| vec![k])),
        ("key", spec.key.map(|k| vec![k])),
    ]
    .into_iter()
    .filter_map(|(field, keys)| keys.map(|k| (field, k)))
    .collect();
    let (field, raw_keys) = match forms.as_slice() {
        [] => ("configMapKeys", vec![DEFAULT_SOURCE_KEY.to_string()]),
        [(field, keys)] => (*field, keys.clone()),
        [(first, _), (second, _), ..] => {
            return Err(at(
                second,
                format!(
                    "{first} and {second} are both set; keep one (configMapKeys is the current form)"
                ),
            ));
        }
    };
    if raw_keys.is_empty() {
        return Err(at(
            field,
            "lists no keys; omit it to read \"ca-bundle.crt\"".into(),
        ));
    }
    let mut keys: Vec<KeyName> = Vec::new();
    for (i, raw) in raw_keys.iter().enumerate() {
        let key = KeyName::new(raw).map_err(|m| {
            at(
                &if field == "configMapKeys" {
                    format!("{field}[{i}]")
                } else {
                    field.to_string()
                },
                m,
            )
        })?;
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    let namespace = spec
        .config_map_namespace
        .filter(|ns| !ns.is_empty())
        .or_else(|| llsd_namespace.clone());
    Ok(CaRef {
        name,
        namespace,
        keys,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_field_path_spells_the_tree_path() {
        assert_eq!(CA_BUNDLE_PATH.join("."), CA_BUNDLE_FIELD);
    }
    use crate::yaml::parse_document;

    fn ca_ref(ca_bundle: &str) -> Result<CaRef, RefError> {
        let yaml = format!(
            "apiVersion: llamastack.io/v1alpha1\nkind: LlamaStackDistribution\nmetadata: {{name: s, namespace: ai}}\nspec:\n  server:\n    tlsConfig:\n      caBundle: {ca_bundle}\n"
        );
        let doc = parse_document(&yaml).unwrap();
        let items = std::slice::from_ref(&doc);
        let found = find(items).pop().unwrap();
        found.ca.unwrap()
    }

    fn keys(r: &CaRef) -> Vec<&str> {
        r.keys.iter().map(KeyName::as_str).collect()
    }

    #[test]
    fn key_forms_merge_into_one_list() {
        let r = ca_ref("{configMapName: ca}").unwrap();
        assert_eq!(
            (r.namespace.as_deref(), keys(&r)),
            (Some("ai"), vec!["ca-bundle.crt"])
        );
        assert_eq!(
            keys(&ca_ref("{configMapName: ca, configMapKeys: [a.crt, b.crt, a.crt]}").unwrap()),
            ["a.crt", "b.crt"]
        );
        assert_eq!(
            keys(&ca_ref("{configMapName: ca, configMapKey: one.pem}").unwrap()),
            ["one.pem"]
        );
        assert_eq!(keys(&ca_ref("{configMapName: ca, key: k}").unwrap()), ["k"]);
        assert_eq!(
            ca_ref("{configMapName: ca, configMapNamespace: sec}")
                .unwrap()
                .namespace
                .as_deref(),
            Some("sec")
        );
    }

    #[test]
    fn bad_references_name_the_field() {
        for (ca_bundle, field, text) in [
            (
                "{configMapName: ca, configMapKey: a, key: b}",
                "key",
                "both set",
            ),
            ("{configMapNamespace: x}", "configMapName", "required"),
            (
                "{configMapName: ca, configMapKeys: [ok, ../etc]}",
                "configMapKeys[1]",
                "'/'",
            ),
            (
                "{configMapName: ca, configMapKeys: ['']}",
                "configMapKeys[0]",
                "empty",
            ),
            (
                "{configMapName: ca, configMapKeys: [-a]}",
                "configMapKeys[0]",
                "start and end",
            ),
            (
                "{configMapName: ca, configMapKeys: [a b]}",
                "configMapKeys[0]",
                "only letters",
            ),
            (
                "{configMapName: ca, configMapKeys: []}",
                "configMapKeys",
                "no keys",
            ),
            (
                "{configMapName: ca, configMapKeys: a.crt}",
                "configMapKeys",
                "invalid type",
            ),
            ("just-a-string", "", "invalid type"),
            ("[a, b]", "", "invalid type"),
            (
                "{configMapName: ca, configMapName: cb}",
                "configMapName",
                "twice",
            ),
        ] {
            let err = ca_ref(ca_bundle).unwrap_err();
            let want = if field.is_empty() {
                CA_BUNDLE_FIELD.to_string()
            } else {
                format!("{CA_BUNDLE_FIELD}.{field}")
            };
            assert_eq!(err.field, want, "{ca_bundle}");
            assert!(err.message.contains(text), "{ca_bundle}: {}", err.message);
        }
        assert!(KeyName::new(&"a".repeat(254)).is_err());
    }

    /// The CA reference of an LLSD whose `spec` is `spec`.
    fn ca_of_spec(spec: &str) -> Option<Result<CaRef, RefError>> {
        let yaml = format!(
            "apiVersion: llamastack.io/v1alpha1\nkind: LlamaStackDistribution\nmetadata: {{name: s, namespace: ai}}\nspec: {spec}\n"
        );
        let doc = parse_document(&yaml).unwrap();
        find(std::slice::from_ref(&doc)).pop().unwrap().ca
    }

    #[test]
    fn a_path_of_the_wrong_type_is_an_error_not_no_bundle() {
        for (spec, field, text) in [
            ("a-string", "spec", "is a string; expected a mapping"),
            ("{server: []}", "spec.server", "is a list"),
            (
                "{server: {tlsConfig: 3}}",
                "spec.server.tlsConfig",
                "is an integer",
            ),
            (
                "{server: {tlsConfig: {cabundle: {configMapName: ca}}}}",
                "spec.server.tlsConfig.cabundle",
                "found cabundle: field names are exact",
            ),
        ] {
            let err = ca_of_spec(spec).unwrap().unwrap_err();
            assert_eq!(err.field, field, "{spec}");
            assert!(err.message.contains(text), "{spec}: {}", err.message);
            assert!(err.message.contains("ai/s"), "{spec}: {}", err.message);
        }
    }

    #[test]
    fn an_absent_or_null_path_names_no_bundle() {
        for spec in [
            "null",
            "{server: null}",
            "{server: {tlsConfig: null}}",
            "{server: {tlsConfig: {}}}",
            "{server: {tlsConfig: {other: 1, caBundle: null}}}",
        ] {
            assert!(ca_of_spec(spec).is_none(), "{spec}");
        }
    }
}
