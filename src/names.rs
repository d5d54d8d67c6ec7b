//! Every name, path, key and limit the function reads or writes, in one place.

/// API group of the objects the function serves.
pub const LLSD_GROUP: &str = "llamastack.io";
/// `apiVersion` of the objects the function serves.
pub const LLSD_API_VERSION: &str = "llamastack.io/v1alpha1";
/// `kind` of the objects the function serves.
pub const LLSD_KIND: &str = "LlamaStackDistribution";
/// Container the operator runs the server in, used when the LLSD names none.
pub const DEFAULT_CONTAINER: &str = "llama-stack";
/// CA ConfigMap key read when the LLSD names none.
pub const DEFAULT_SOURCE_KEY: &str = "ca-bundle.crt";

/// Key of the certificates in the managed ConfigMap, and the file name in the mount.
pub const BUNDLE_KEY: &str = "ca-bundle.crt";
/// Name of the pod volume that carries the bundle.
pub const VOLUME_NAME: &str = "ca-bundle";
/// Default mount directory: beside the system CAs, never over them.
pub const DEFAULT_MOUNT_PATH: &str = "/etc/ssl/certs/ca-bundle";
/// The system trust directory that a mount must never cover.
pub const SYSTEM_CERTS_DIR: &str = "/etc/ssl/certs";
/// Environment variables pointed at the bundle file: OpenSSL/Python `ssl` and `requests` read them.
pub const DEFAULT_ENV_VARS: [&str; 2] = ["SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"];
/// Pod-template annotation holding the bundle's hash, so pods roll when the CA changes.
pub const DEFAULT_HASH_ANNOTATION: &str = "configmap.hash/ca-bundle";
/// Prefix of the hash annotation's value.
pub const HASH_PREFIX: &str = "sha256:";

/// Label that marks objects this function made.
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
/// Value of [`MANAGED_BY_LABEL`] on objects this function made.
pub const MANAGED_BY: &str = "llsd-ca-bundle";
/// Label naming the LLSD an object belongs to.
pub const INSTANCE_LABEL: &str = "app.kubernetes.io/instance";
/// The longest label value Kubernetes takes, and so the longest LLSD name [`INSTANCE_LABEL`] holds.
pub const MAX_LABEL_VALUE: usize = 63;
/// Label naming an object's role.
pub const COMPONENT_LABEL: &str = "app.kubernetes.io/component";
/// Value of [`COMPONENT_LABEL`] on the managed ConfigMap.
pub const COMPONENT: &str = "ca-bundle";

/// `apiVersion` and `kind` of a ConfigMap.
pub const CONFIG_MAP: (&str, &str) = ("v1", "ConfigMap");
/// `apiVersion` and `kind` of a Deployment.
pub const DEPLOYMENT: (&str, &str) = ("apps/v1", "Deployment");

/// `apiVersion` of the function's own config kind.
pub const CONFIG_API_VERSION: &str = "fn.llamastack.io/v1alpha1";
/// `kind` of the function's own config kind.
pub const CONFIG_KIND: &str = "LlsdCaBundle";
/// Name of the empty ConfigMap kpt sends when `kpt fn eval` gets no config.
pub const PLACEHOLDER_CONFIG_NAME: &str = "function-input";

/// Marks objects, such as the Kptfile and function configs, that are never deployed or changed.
pub const LOCAL_CONFIG_ANNOTATION: &str = "config.kubernetes.io/local-config";
/// kpt's file path annotations, current and legacy.
pub const PATH_ANNOTATIONS: [&str; 2] = [
    "internal.config.kubernetes.io/path",
    "config.kubernetes.io/path",
];
/// kpt's index-in-file annotations, current and legacy.
pub const INDEX_ANNOTATIONS: [&str; 2] = [
    "internal.config.kubernetes.io/index",
    "config.kubernetes.io/index",
];
/// Names an object had before kustomize renamed it (a hash suffix, a prefix).
pub const PREVIOUS_NAMES_ANNOTATION: &str = "internal.config.kubernetes.io/previousNames";

/// What the managed bundle ConfigMap's name adds to its LLSD's name.
pub const MANAGED_SUFFIX: &str = "-ca-bundle";

/// Name of the managed bundle ConfigMap of an LLSD.
pub fn managed_config_map_name(llsd: &str) -> String {
    format!("{llsd}{MANAGED_SUFFIX}")
}
