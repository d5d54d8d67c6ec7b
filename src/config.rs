//! The function config: one type, built from every form an orchestrator sends, checked once.

use crate::names::{
    CONFIG_API_VERSION, CONFIG_KIND, CONFIG_MAP, DEFAULT_ENV_VARS, DEFAULT_HASH_ANNOTATION,
    DEFAULT_MOUNT_PATH, SYSTEM_CERTS_DIR,
};
use crate::yaml::{Node, from_node};
use serde::Deserialize;
use std::collections::BTreeMap;

/// What the function writes, with the defaults the operator itself uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FnConfig {
    /// Directory the bundle is mounted at.
    pub mount_path: String,
    /// Environment variables set to the bundle file's path.
    pub env_vars: Vec<String>,
    /// Pod-template annotation that carries the bundle's hash.
    pub hash_annotation: String,
    /// Append the public roots of the `webpki-root-certs` crate to the bundle.
    pub use_default_cas: bool,
}

impl Default for FnConfig {
    fn default() -> Self {
        FnConfig {
            mount_path: DEFAULT_MOUNT_PATH.into(),
            env_vars: DEFAULT_ENV_VARS.iter().map(|s| s.to_string()).collect(),
            hash_annotation: DEFAULT_HASH_ANNOTATION.into(),
            use_default_cas: false,
        }
    }
}

/// The function's own kind. Unknown fields are refused so that a typo is not silently ignored.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct OwnKind {
    #[serde(rename = "apiVersion")]
    _api_version: String,
    #[serde(rename = "kind")]
    _kind: String,
    #[serde(rename = "metadata")]
    _metadata: Option<serde::de::IgnoredAny>,
    mount_path: Option<String>,
    env_vars: Option<Vec<String>>,
    hash_annotation: Option<String>,
    #[serde(rename = "useDefaultCAs")]
    use_default_cas: Option<bool>,
}

/// The keys a ConfigMap function config may carry in `data`.
const CONFIG_MAP_KEYS: [&str; 4] = ["mountPath", "envVars", "hashAnnotation", "useDefaultCAs"];

impl FnConfig {
    /// Build the config from whatever the orchestrator sent: nothing, kpt's placeholder
    /// `function-input`, a ConfigMap with string `data`, or the function's own kind.
    /// Errors name the field at fault and what is accepted.
    pub fn from_node(node: Option<&Node<'_>>) -> Result<Self, ConfigError> {
        let Some(node) = node else {
            return Ok(Self::default());
        };
        let api_version = node.str_at(&["apiVersion"]).unwrap_or_default();
        let kind = node.str_at(&["kind"]).unwrap_or_default();
        let config = match (api_version, kind) {
            CONFIG_MAP => Self::from_config_map(node)?,
            (CONFIG_API_VERSION, CONFIG_KIND) => {
                let own: OwnKind =
                    from_node(node).map_err(|e| ConfigError::new(e.path, e.message))?;
                let defaults = Self::default();
                FnConfig {
                    mount_path: own.mount_path.unwrap_or(defaults.mount_path),
                    env_vars: own.env_vars.unwrap_or(defaults.env_vars),
                    hash_annotation: own.hash_annotation.unwrap_or(defaults.hash_annotation),
                    use_default_cas: own.use_default_cas.unwrap_or(defaults.use_default_cas),
                }
            }
            _ => {
                return Err(ConfigError::new(
                    "",
                    format!(
                        "functionConfig {}; expected {CONFIG_API_VERSION} {CONFIG_KIND}, a v1 \
                         ConfigMap, or none",
                        describe(node)
                    ),
                ));
            }
        };
        config.check()?;
        Ok(config)
    }

    fn from_config_map(node: &Node<'_>) -> Result<Self, ConfigError> {
        let data: BTreeMap<String, String> = match node.get("data").filter(|d| !d.is_null()) {
            None => BTreeMap::new(),
            Some(data) => from_node(data).map_err(|e| {
                ConfigError::new(
                    format!("data.{}", e.path),
                    format!("{}; data values must be strings", e.message),
                )
            })?,
        };
        if let Some(unknown) = data.keys().find(|k| !CONFIG_MAP_KEYS.contains(&k.as_str())) {
            return Err(ConfigError::new(
                format!("data.{unknown}"),
                format!(
                    "unknown key {unknown:?}; the accepted keys are {}",
                    CONFIG_MAP_KEYS.join(", ")
                ),
            ));
        }
        let mut config = Self::default();
        if let Some(path) = data.get("mountPath") {
            config.mount_path = path.clone();
        }
        if let Some(vars) = data.get("envVars") {
            config.env_vars = vars.split(',').map(|v| v.trim().to_string()).collect();
        }
        if let Some(key) = data.get("hashAnnotation") {
            config.hash_annotation = key.clone();
        }
        if let Some(flag) = data.get("useDefaultCAs") {
            config.use_default_cas = match flag.as_str() {
                "true" => true,
                "false" => false,
                other => {
                    return Err(ConfigError::new(
                        "data.useDefaultCAs",
                        format!("{other:?} is not \"true\" or \"false\""),
                    ));
                }
            };
        }
        Ok(config)
    }

    fn check(&self) -> Result<(), ConfigError> {
        let path = &self.mount_path;
        let segments_ok = path
            .split('/')
            .skip(1)
            .all(|s| !s.is_empty() && s != "." && s != "..");
        // Whitespace or a line break in the path would be mounted as written and end up in the
        // env values, where no TLS library looks for it.
        let odd_char = path.contains(|c: char| c.is_whitespace() || c.is_control());
        if !path.starts_with('/') || !segments_ok || odd_char {
            return Err(ConfigError::new(
                "mountPath",
                format!(
                    "{path:?} must be an absolute, normalised directory path, without whitespace \
                     or control characters"
                ),
            ));
        }
        if SYSTEM_CERTS_DIR == path || SYSTEM_CERTS_DIR.starts_with(&format!("{path}/")) {
            return Err(ConfigError::new(
                "mountPath",
                format!(
                    "{path:?} would hide the system CAs in {SYSTEM_CERTS_DIR}; use a directory of its own, such as {DEFAULT_MOUNT_PATH}"
                ),
            ));
        }
        if self.env_vars.is_empty() {
            return Err(ConfigError::new(
                "envVars",
                "name at least one variable, such as SSL_CERT_FILE",
            ));
        }
        for (i, var) in self.env_vars.iter().enumerate() {
            let valid = var.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                && var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid {
                return Err(ConfigError::new(
                    "envVars",
                    format!("{var:?} is not an environment variable name"),
                ));
            }
            if self.env_vars[..i].contains(var) {
                return Err(ConfigError::new(
                    "envVars",
                    format!("{var} is listed twice"),
                ));
            }
        }
        if !is_qualified_name(&self.hash_annotation) {
            return Err(ConfigError::new(
                "hashAnnotation",
                format!(
                    "{:?} is not a valid annotation key (prefix/name, as in {DEFAULT_HASH_ANNOTATION})",
                    self.hash_annotation
                ),
            ));
        }
        Ok(())
    }
}

/// What a function config of no accepted form is, for the error that refuses it: its
/// apiVersion and kind, or what it lacks of them, or its type when it is not an object.
fn describe(node: &Node<'_>) -> String {
    if node.as_map().is_none() {
        return format!("is {}, not an object", node.a_type_name());
    }
    let text = |key| node.str_at(&[key]).filter(|s| !s.is_empty());
    match (text("apiVersion"), text("kind")) {
        (Some(api_version), Some(kind)) => format!("is {api_version} {kind}"),
        (Some(api_version), None) => format!("is {api_version} but has no kind"),
        (None, Some(kind)) => format!("is a {kind} without apiVersion"),
        (None, None) => "has no apiVersion and no kind".into(),
    }
}

/// A Kubernetes qualified name: an optional DNS-subdomain prefix and `/`, then a name of at most
/// 63 alphanumerics, `-`, `_` and `.`, starting and ending alphanumeric.
fn is_qualified_name(key: &str) -> bool {
    let (prefix, name) = key
        .rsplit_once('/')
        .map_or((None, key), |(p, n)| (Some(p), n));
    let alnum_ends = |s: &str| {
        s.starts_with(|c: char| c.is_ascii_alphanumeric())
            && s.ends_with(|c: char| c.is_ascii_alphanumeric())
    };
    let name_ok = name.len() <= 63
        && alnum_ends(name)
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    let prefix_ok = prefix.is_none_or(|p| {
        p.len() <= 253
            && p.split('.').all(|label| {
                alnum_ends(label)
                    && label
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            })
    });
    name_ok && prefix_ok
}

/// A function config that cannot be used, with the field at fault.
#[derive(Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// Dotted path of the field, empty for the config as a whole.
    pub field: String,
    /// What is wrong and what is accepted.
    pub message: String,
}

impl ConfigError {
    fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.field.is_empty() {
            write!(f, "invalid function config: {}", self.message)
        } else {
            write!(
                f,
                "invalid function config: {}: {}",
                self.field, self.message
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse_document;

    fn config(yaml: &str) -> Result<FnConfig, ConfigError> {
        let node = parse_document(yaml).unwrap();
        FnConfig::from_node(Some(&node))
    }

    #[test]
    fn every_form_gives_a_config() {
        assert_eq!(FnConfig::from_node(None).unwrap(), FnConfig::default());
        let placeholder =
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: function-input}\ndata: {}\n";
        assert_eq!(config(placeholder).unwrap(), FnConfig::default());
        let map = config("apiVersion: v1\nkind: ConfigMap\ndata: {mountPath: /certs, envVars: 'A, B', useDefaultCAs: 'true'}\n").unwrap();
        assert_eq!(
            (
                map.mount_path.as_str(),
                map.env_vars.clone(),
                map.use_default_cas
            ),
            ("/certs", vec!["A".into(), "B".into()], true)
        );
        let own = config("apiVersion: fn.llamastack.io/v1alpha1\nkind: LlsdCaBundle\nmetadata: {name: x}\nhashAnnotation: example.com/ca\n").unwrap();
        assert_eq!(own.hash_annotation, "example.com/ca");
    }

    #[test]
    fn bad_configs_name_the_field() {
        let cases = [
            (
                "apiVersion: fn.llamastack.io/v1alpha1\nkind: LlsdCaBundle\nmountPth: /x\n",
                "mountPth",
                "unknown field",
            ),
            (
                "apiVersion: v1\nkind: ConfigMap\ndata: {mount: /x}\n",
                "data.mount",
                "accepted keys",
            ),
            (
                "apiVersion: v1\nkind: ConfigMap\ndata: {mountPath: /etc/ssl/certs}\n",
                "mountPath",
                "hide the system CAs",
            ),
            (
                "apiVersion: v1\nkind: ConfigMap\ndata: {mountPath: relative}\n",
                "mountPath",
                "absolute",
            ),
            (
                "apiVersion: v1\nkind: ConfigMap\ndata: {mountPath: \"/etc/ssl/x\\ny\"}\n",
                "mountPath",
                "control characters",
            ),
            (
                "apiVersion: v1\nkind: ConfigMap\ndata: {mountPath: /etc/ssl/my certs}\n",
                "mountPath",
                "whitespace",
            ),
            (
                "apiVersion: v1\nkind: ConfigMap\ndata: {mountPath: /etc/../certs}\n",
                "mountPath",
                "normalised",
            ),
            (
                "apiVersion: v1\nkind: ConfigMap\ndata: {envVars: 'A,,B'}\n",
                "envVars",
                "not an environment",
            ),
            (
                "apiVersion: fn.llamastack.io/v1alpha1\nkind: LlsdCaBundle\nhashAnnotation: -x\n",
                "hashAnnotation",
                "annotation key",
            ),
            (
                "apiVersion: v1\nkind: ConfigMap\ndata: {envVars: '1X'}\n",
                "envVars",
                "not an environment",
            ),
            (
                "apiVersion: v1\nkind: ConfigMap\ndata: {hashAnnotation: 'a/b/c!'}\n",
                "hashAnnotation",
                "annotation key",
            ),
            (
                "apiVersion: v1\nkind: ConfigMap\ndata: {useDefaultCAs: yes}\n",
                "data.useDefaultCAs",
                "not \"true\"",
            ),
            (
                "apiVersion: v1\nkind: Secret\n",
                "",
                "is v1 Secret; expected fn.llamastack.io/v1alpha1",
            ),
            ("[a, b]\n", "", "is a list, not an object; expected"),
            ("just text\n", "", "is a string, not an object"),
            ("{}\n", "", "has no apiVersion and no kind"),
            (
                "kind: LlsdCaBundle\n",
                "",
                "LlsdCaBundle without apiVersion",
            ),
            ("apiVersion: v1\n", "", "is v1 but has no kind"),
        ];
        for (yaml, field, text) in cases {
            let err = config(yaml).unwrap_err();
            assert_eq!(err.field, field, "{yaml}");
            assert!(err.message.contains(text), "{yaml}: {}", err.message);
        }
    }
}
