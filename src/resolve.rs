//! Finds an LLSD's CA ConfigMap in the stream and reads the certificate bytes of its keys.

use crate::index::Index;
use crate::llsd::{CA_BUNDLE_FIELD, CaRef, KeyName, Llsd};
use crate::meta::{name, namespace, qualified, whereabouts};
use crate::names::LLSD_KIND;
use crate::results::KrmResult;
use crate::yaml::Node;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// The CA ConfigMap and the contents of the keys the LLSD names, in the LLSD's key order.
pub struct Found<'n, 'a> {
    /// The CA ConfigMap item.
    pub item: &'n Node<'a>,
    /// Each key with its bytes.
    pub sources: Vec<(KeyName, Vec<u8>)>,
    /// Set when the ConfigMap was found under a name kustomize gave it, not the one in the LLSD.
    pub renamed: Option<KrmResult>,
}

/// Find the CA ConfigMap of `llsd` and read its keys; an error result says what exists instead.
pub fn resolve<'n, 'a>(
    index: &Index<'n, 'a>,
    llsd: &Llsd<'_, '_>,
    ca: &CaRef,
) -> Result<Found<'n, 'a>, KrmResult> {
    let namespace = ca.namespace.as_deref();
    let (at, renamed) = match (
        index.config_maps(namespace, &ca.name),
        index.config_maps_renamed_from(namespace, &ca.name),
    ) {
        ([at], _) => (*at, None),
        ([], [at]) => (*at, Some(renamed_info(llsd, ca, &index.items()[*at]))),
        ([], []) => return Err(not_found(index, llsd, ca)),
        ([], several) | (several, _) => return Err(ambiguous(index, llsd, ca, several)),
    };
    let item = &index.items()[at];
    let sources = read_keys(item, llsd, ca)?;
    Ok(Found {
        item,
        sources,
        renamed,
    })
}

/// kustomize renamed the ConfigMap (a hash suffix, a prefix) and recorded the old name, which
/// is the one the LLSD still uses: follow it.
fn renamed_info(llsd: &Llsd<'_, '_>, ca: &CaRef, cm: &Node<'_>) -> KrmResult {
    KrmResult::info(format!(
        "CA ConfigMap {} was renamed by kustomize to {}; using it",
        qualified(&ca.namespace, &ca.name),
        name(cm).unwrap_or_default()
    ))
    .on(llsd.item)
    .at(format!("{CA_BUNDLE_FIELD}.configMapName"))
}

/// Several ConfigMaps answer to the LLSD's reference (the same object twice, or two that kustomize
/// renamed from the same name). Picking one would build a bundle that may not be the one that
/// lands in the cluster, where the last applied wins.
fn ambiguous(
    index: &Index<'_, '_>,
    llsd: &Llsd<'_, '_>,
    ca: &CaRef,
    several: &[usize],
) -> KrmResult {
    let items = index.items();
    let found: Vec<String> = several
        .iter()
        .map(|&i| {
            let item = &items[i];
            let at = qualified(
                &namespace(item).map(str::to_string),
                name(item).unwrap_or_default(),
            );
            format!("{at} ({})", whereabouts(item, i))
        })
        .collect();
    KrmResult::error(format!(
        "CA ConfigMap {} is ambiguous: {} ConfigMaps answer to it, {}; keep one",
        qualified(&ca.namespace, &ca.name),
        found.len(),
        listed(&found)
    ))
    .on(llsd.item)
    .at(format!("{CA_BUNDLE_FIELD}.configMapName"))
}

/// At most [`MAX_LISTED`] names, then how many more: a namespace of thousands of ConfigMaps must
/// not make a message of thousands of names.
fn listed(names: &[impl AsRef<str>]) -> String {
    let shown: Vec<&str> = names.iter().take(MAX_LISTED).map(AsRef::as_ref).collect();
    match names.len().saturating_sub(MAX_LISTED) {
        0 => shown.join(", "),
        more => format!("{} and {more} more", shown.join(", ")),
    }
}

/// How many names a message lists.
const MAX_LISTED: usize = 20;

/// The missing-ConfigMap error, with the near misses a person would look for: a kustomize
/// hash-suffixed copy, the same name in another namespace, or the ConfigMaps that do exist.
fn not_found(index: &Index<'_, '_>, llsd: &Llsd<'_, '_>, ca: &CaRef) -> KrmResult {
    let wanted = qualified(&ca.namespace, &ca.name);
    let items = index.items();
    let same_namespace: Vec<&str> = index
        .config_maps_in(ca.namespace.as_deref())
        .iter()
        .filter_map(|&i| name(&items[i]))
        .collect();
    let hashed = same_namespace.iter().find(|n| has_hash_suffix(n, &ca.name));
    let elsewhere: Vec<String> = index
        .config_maps_named(&ca.name)
        .iter()
        .map(|&i| qualified(&namespace(&items[i]).map(str::to_string), &ca.name))
        .collect();
    let hint = if let Some(hashed) = hashed {
        hash_suffix_hint(llsd, ca, hashed)
    } else if !elsewhere.is_empty() {
        format!(
            "found {} in another namespace; set configMapNamespace",
            listed(&elsewhere)
        )
    } else if same_namespace.is_empty() {
        "there is no ConfigMap in that namespace in the input; add the CA ConfigMap to the package"
            .to_string()
    } else {
        format!("ConfigMaps in that namespace: {}", listed(&same_namespace))
    };
    KrmResult::error(format!(
        "CA ConfigMap {wanted} not found in the input; {hint}"
    ))
    .on(llsd.item)
    .at(format!("{CA_BUNDLE_FIELD}.configMapName"))
}

/// The CA ConfigMap came from a kustomize `configMapGenerator`, which appended a hash to its name,
/// and the annotation that records the old name was lost (kustomize strips it from what it
/// writes). kustomize rewrites a reference to the new name only when it knows the field names a
/// ConfigMap, and only within one namespace, so the remedy depends on where the ConfigMap lives.
fn hash_suffix_hint(llsd: &Llsd<'_, '_>, ca: &CaRef, hashed: &str) -> String {
    let found = qualified(&ca.namespace, hashed);
    let no_hash = "set `options: {disableNameSuffixHash: true}` on its configMapGenerator \
                   (the hash annotation this function writes still rolls the pods when the CA changes)";
    if ca.namespace == llsd.namespace {
        format!(
            "{found} differs only by a kustomize hash suffix: kustomize does not know this field names a \
             ConfigMap; add to kustomization.yaml `configurations: [llsd-ca-name-reference.yaml]` with a \
             nameReference (kind: ConfigMap, fieldSpecs: [{{kind: {LLSD_KIND}, path: \
             spec/server/tlsConfig/caBundle/configMapName}}]), or {no_hash}"
        )
    } else {
        format!(
            "{found} differs only by a kustomize hash suffix, and kustomize never rewrites a reference \
             to another namespace; {no_hash}"
        )
    }
}

/// `name-` followed by the 10 lowercase alphanumerics kustomize's generators append.
fn has_hash_suffix(candidate: &str, name: &str) -> bool {
    candidate
        .strip_prefix(name)
        .and_then(|rest| rest.strip_prefix('-'))
        .is_some_and(|hash| {
            hash.len() == 10
                && hash
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
}

/// The bytes of each key the LLSD names, from `data` or `binaryData`. Only those two maps are read,
/// and of them only the keys named: the rest of the ConfigMap is none of the function's business,
/// however it is written.
fn read_keys(
    cm: &Node<'_>,
    llsd: &Llsd<'_, '_>,
    ca: &CaRef,
) -> Result<Vec<(KeyName, Vec<u8>)>, KrmResult> {
    let wanted = qualified(&ca.namespace, &ca.name);
    let fail = |field: String, problem: String| {
        KrmResult::error(format!(
            "CA ConfigMap {wanted} cannot be read: {field} {problem}"
        ))
        .on(cm)
        .at(field)
    };
    if let Some(key) = cm.find_duplicate_key() {
        return Err(KrmResult::error(format!(
            "the key {key} appears twice in the CA ConfigMap; which one is meant is unclear"
        ))
        .on(cm)
        .at(key));
    }
    let map = |field: &str| match cm.get(field) {
        Some(node) if node.as_map().is_some() => Ok(Some(node)),
        Some(node) if node.is_null() => Ok(None),
        Some(node) => Err(fail(
            field.to_string(),
            format!("must be a mapping, found: {}", node.type_name()),
        )),
        None => Ok(None),
    };
    let (data, binary) = (map("data")?, map("binaryData")?);
    let mut sources = Vec::new();
    let mut missing = Vec::new();
    for key in &ca.keys {
        let (field, value) = match (
            data.and_then(|d| d.get(key.as_str())),
            binary.and_then(|b| b.get(key.as_str())),
        ) {
            (Some(_), Some(_)) => {
                return Err(fail(
                    format!("binaryData.{key}"),
                    "is also in data; the API server refuses a key in both, so which is meant is unclear"
                        .to_string(),
                ));
            }
            (Some(value), None) => ("data", value),
            (None, Some(value)) => ("binaryData", value),
            (None, None) => {
                missing.push(key.as_str());
                continue;
            }
        };
        let at = format!("{field}.{key}");
        // The API server stores a key without a value as the empty string.
        let text = match value.as_str() {
            Some(text) => text,
            None if value.is_null() => "",
            None => {
                return Err(fail(
                    at,
                    format!("must be a string, found: {}", value.type_name()),
                ));
            }
        };
        let bytes = if field == "data" {
            text.as_bytes().to_vec()
        } else {
            // Like Kubernetes (Go's base64), line breaks in the base64 are ignored: `base64`
            // wraps its output at 76 columns.
            let joined: String = text.chars().filter(|c| !matches!(c, '\r' | '\n')).collect();
            STANDARD
                .decode(joined)
                .map_err(|e| fail(at, format!("is not base64 ({e})")))?
        };
        sources.push((key.clone(), bytes));
    }
    if missing.is_empty() {
        return Ok(sources);
    }
    let keys_of = |map: Option<&Node<'_>>| -> Vec<String> {
        map.and_then(Node::as_map)
            .unwrap_or_default()
            .iter()
            .filter_map(|(k, _)| k.scalar_text().map(str::to_string))
            .collect()
    };
    let mut present = keys_of(data);
    present.sort();
    let mut binary_keys = keys_of(binary);
    binary_keys.sort();
    present.extend(binary_keys.into_iter().map(|k| format!("{k} (binaryData)")));
    let has = if present.is_empty() {
        "it has no keys".to_string()
    } else {
        format!("it has: {}", listed(&present))
    };
    Err(KrmResult::error(format!(
        "CA ConfigMap {wanted} has no key {}; {has}",
        missing.join(", ")
    ))
    .on(llsd.item)
    .at(format!("{CA_BUNDLE_FIELD}.configMapKeys")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_list_is_cut_after_twenty_names() {
        let names: Vec<String> = (0..25).map(|i| format!("c{i}")).collect();
        let text = listed(&names);
        assert!(text.starts_with("c0, c1, "), "{text}");
        assert!(text.ends_with("c19 and 5 more"), "{text}");
        assert_eq!(listed(&["a", "b"]), "a, b");
    }

    #[test]
    fn a_hash_suffix_is_ten_lowercase_alphanumerics() {
        assert!(has_hash_suffix("ca-5t2h9mk4bg", "ca"));
        assert!(!has_hash_suffix("ca-5T2H9MK4BG", "ca"));
        assert!(!has_hash_suffix("ca-5t2h9mk4b", "ca"));
        assert!(!has_hash_suffix("cab-5t2h9mk4bg", "ca"));
    }
}
