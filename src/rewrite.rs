//! Edits a Deployment's pod template in place: the bundle volume, its read-only mount, the
//! environment variables, and the hash annotation that rolls the pods; and undoes that edit.

use crate::config::FnConfig;
use crate::names::{BUNDLE_KEY, DEFAULT_ENV_VARS, HASH_PREFIX, LLSD_KIND, VOLUME_NAME};
use crate::results::KrmResult;
use crate::target::{CONTAINERS_PATH, containers};
use crate::yaml::Node;

/// What to inject into one Deployment.
pub struct Injection<'c> {
    /// The LLSD it is for, as `namespace/name`, to name it in conflicts.
    pub llsd: String,
    /// The managed ConfigMap the volume mounts.
    pub config_map: String,
    /// Mount path, variable names, annotation key.
    pub config: &'c FnConfig,
    /// `sha256:<hex>` of the bundle.
    pub hash: String,
    /// Values the LLSD's own `containerSpec.env` gives some of the variables; they win.
    pub user_env: Vec<(String, String)>,
}

/// The injected Deployment and the warnings and infos about what was replaced.
pub type Injected<'a> = (Node<'a>, Vec<KrmResult>);

/// The layout operator v0.3/v0.4 injected: an init container copied the CA into an `emptyDir`.
const LEGACY_INIT_CONTAINER: &str = "ca-bundle-init";
const LEGACY_SOURCE_VOLUME: &str = "ca-bundle-source";
const LEGACY_FILE: &str = "/etc/ssl/certs/ca-bundle.crt";

/// The bundle file's path inside the container.
pub fn bundle_file(config: &FnConfig) -> String {
    format!("{}/{BUNDLE_KEY}", config.mount_path)
}

/// Inject into container `container` of `deployment`. Conflicts with objects this function did
/// not make are errors and change nothing.
pub fn inject<'a>(
    deployment: &Node<'a>,
    container: usize,
    plan: &Injection<'_>,
) -> Result<Injected<'a>, KrmResult> {
    let mut edited = deployment.clone();
    let mut notes = Vec::new();
    let conflict =
        |message: String, field: String| KrmResult::error(message).on(deployment).at(field);
    let shape = |what: &str| {
        conflict(
            format!("{what} is not the shape Kubernetes expects"),
            what.to_string(),
        )
    };
    let file = bundle_file(plan.config);

    let pod = pod_spec_mut(&mut edited).ok_or_else(|| shape("spec.template.spec"))?;
    let migrated = migrate_legacy(pod);
    if !migrated.is_empty() {
        notes.push(
            KrmResult::info(format!(
                "migrated the operator v0.3/v0.4 CA injection: removed {}",
                migrated.join(", ")
            ))
            .on(deployment),
        );
    }

    let injected_before = pod
        .get("volumes")
        .and_then(Node::as_seq)
        .is_some_and(|v| v.iter().any(|v| is_our_volume(v, &plan.config_map)));
    if injected_before {
        let taken = take_out_earlier_injection(pod, container, plan.config);
        if !taken.is_empty() {
            notes.push(
                KrmResult::info(format!(
                    "removed what an earlier injection left that the current one does not write: {}",
                    taken.join("; ")
                ))
                .on(deployment),
            );
        }
    }

    let volumes = pod
        .seq_entry("volumes")
        .and_then(Node::as_seq_mut)
        .ok_or_else(|| shape("spec.template.spec.volumes"))?;
    // Any volume of that name that is not this function's is in the way; copies of this
    // function's own (Kubernetes refuses two volumes of one name) are merged into the first.
    match volumes.iter().position(|v| {
        v.str_at(&["name"]) == Some(VOLUME_NAME) && !is_our_volume(v, &plan.config_map)
    }) {
        Some(i) => {
            return Err(conflict(
                format!(
                    "volume {VOLUME_NAME:?} exists and was not made by this function (it does not mount \
                     ConfigMap {}), so the CA bundle of {LLSD_KIND} {} cannot be mounted; rename or \
                     remove the volume",
                    plan.config_map, plan.llsd
                ),
                format!("spec.template.spec.volumes[{i}]"),
            ));
        }
        None => upsert_named(volumes, VOLUME_NAME, bundle_volume(&plan.config_map)),
    }

    let containers_path = CONTAINERS_PATH.join(".");
    let target = pod
        .get_mut("containers")
        .and_then(Node::as_seq_mut)
        .and_then(|c| c.get_mut(container))
        .ok_or_else(|| shape(&containers_path))?;
    let mount_field = format!("{containers_path}[{container}].volumeMounts");
    let mounts = target
        .seq_entry("volumeMounts")
        .and_then(Node::as_seq_mut)
        .ok_or_else(|| shape(&mount_field))?;
    let path = plan.config.mount_path.as_str();
    if let Some((i, taken)) = mounts.iter().enumerate().find_map(|(i, m)| {
        let other = m.str_at(&["name"]) != Some(VOLUME_NAME);
        let taken = m
            .str_at(&["mountPath"])
            .filter(|at| other && shadows(at, path))?;
        Some((i, taken))
    }) {
        let inside = if shadows(path, taken) {
            String::new()
        } else {
            format!(" (inside {path})")
        };
        return Err(conflict(
            format!(
                "volume {:?} is already mounted at {taken}{inside}, where the CA bundle of {LLSD_KIND} {} \
                 goes; choose another mountPath in the function config",
                mounts[i].str_at(&["name"]).unwrap_or_default(),
                plan.llsd
            ),
            format!("{mount_field}[{i}]"),
        ));
    }
    let mount = Node::map_of(vec![
        ("name", Node::string(VOLUME_NAME)),
        ("mountPath", Node::string(path.to_string())),
        ("readOnly", Node::plain("true")),
    ]);
    upsert_named(mounts, VOLUME_NAME, mount);

    let env_field = format!("{containers_path}[{container}].env");
    let env = target
        .seq_entry("env")
        .and_then(Node::as_seq_mut)
        .ok_or_else(|| shape(&env_field))?;
    for var in &plan.config.env_vars {
        let user = plan
            .user_env
            .iter()
            .find(|(name, _)| name == var)
            .map(|(_, v)| v.as_str());
        let value = user.unwrap_or(&file);
        let previous = env
            .iter()
            .find(|e| e.str_at(&["name"]) == Some(var.as_str()));
        let old = previous.map(|e| e.str_at(&["value"]).unwrap_or("(valueFrom)").to_string());
        let entry = Node::map_of(vec![
            ("name", Node::string(var.clone())),
            ("value", Node::string(value.to_string())),
        ]);
        upsert_named(env, var, entry);
        if let Some(user) = user {
            notes.push(
                KrmResult::warning(format!(
                    "{var} is set to {user:?} by the LlamaStackDistribution's containerSpec.env, which wins: \
                     the CA bundle at {file} is not used through {var}"
                ))
                .on(deployment)
                .at(env_field.clone()),
            );
        } else if let Some(old) = old.filter(|old| old != &file && old != LEGACY_FILE) {
            notes.push(
                KrmResult::warning(format!("replaced {var}={old:?} with {file:?}"))
                    .on(deployment)
                    .at(env_field.clone()),
            );
        }
    }

    let annotations = edited
        .map_entry("spec")
        .and_then(|s| s.map_entry("template"))
        .and_then(|t| t.map_entry("metadata"))
        .and_then(|m| m.map_entry("annotations"))
        .ok_or_else(|| shape("spec.template.metadata.annotations"))?;
    annotations.set(
        plan.config.hash_annotation.clone(),
        Node::string(plan.hash.clone()),
    );
    Ok((edited, notes))
}

/// Remove what [`inject`] added for the managed ConfigMap `config_map`, and only that. Returns
/// `None` when the Deployment carries none of it, and an error when its containers cannot be
/// read: taking the volume alone away would leave mounts of a volume that no longer exists.
pub fn remove<'a>(
    deployment: &Node<'a>,
    config_map: &str,
    config: &FnConfig,
) -> Result<Option<Node<'a>>, KrmResult> {
    let mut edited = deployment.clone();
    let Some(pod) = pod_spec_mut(&mut edited) else {
        return Ok(None);
    };
    let Some(volumes) = pod.get_mut("volumes").and_then(Node::as_seq_mut) else {
        return Ok(None);
    };
    let before = volumes.len();
    volumes.retain(|v| !is_our_volume(v, config_map));
    if volumes.len() == before {
        return Ok(None);
    }
    containers(deployment)?;
    drop_if_empty(pod, "volumes");
    if let Some(containers) = pod.get_mut("containers").and_then(Node::as_seq_mut) {
        for container in containers {
            take_out(container, Mounts::All, |_| true);
        }
    }
    if let Some(template) = edited.get_mut("spec").and_then(|s| s.get_mut("template")) {
        if let Some(metadata) = template.get_mut("metadata") {
            if let Some(annotations) = metadata.get_mut("annotations") {
                if annotations
                    .str_at(&[config.hash_annotation.as_str()])
                    .is_some_and(|h| h.starts_with(HASH_PREFIX))
                {
                    annotations.remove(&config.hash_annotation);
                }
            }
            drop_if_empty(metadata, "annotations");
        }
        drop_if_empty(template, "metadata");
    }
    Ok(Some(edited))
}

/// The volume this function makes: its name, mounting the managed ConfigMap `config_map`.
fn is_our_volume(volume: &Node<'_>, config_map: &str) -> bool {
    volume.str_at(&["name"]) == Some(VOLUME_NAME)
        && volume.str_at(&["configMap", "name"]) == Some(config_map)
}

/// Which of the volume's mounts in a container [`take_out`] removes.
enum Mounts<'c> {
    /// None: the variables pointing into them are looked at all the same.
    Keep,
    /// Every one.
    All,
    /// Only one at this path: where this function puts its mount.
    At(&'c str),
}

/// Take this function's volume mounts out of `container` as `mounts` says, and the variables
/// that point at the bundle file in a mount looked at and whose name `var_may_go` accepts.
/// Returns what went, to say so.
fn take_out(
    container: &mut Node<'_>,
    mounts: Mounts<'_>,
    var_may_go: impl Fn(&str) -> bool,
) -> Vec<String> {
    let mut taken = Vec::new();
    let mut files = Vec::new();
    if let Some(list) = container.get_mut("volumeMounts").and_then(Node::as_seq_mut) {
        list.retain(|m| {
            let Some(dir) = m
                .str_at(&["mountPath"])
                .filter(|_| m.str_at(&["name"]) == Some(VOLUME_NAME))
            else {
                return true;
            };
            let goes = match mounts {
                Mounts::Keep => false,
                Mounts::All => true,
                Mounts::At(path) => normalised(dir) == normalised(path),
            };
            if goes {
                taken.push(format!("mount {VOLUME_NAME}"));
            }
            if goes || matches!(mounts, Mounts::Keep) {
                files.push(format!("{}/{BUNDLE_KEY}", dir.trim_end_matches('/')));
            }
            !goes
        });
    }
    if let Some(env) = container.get_mut("env").and_then(Node::as_seq_mut) {
        env.retain(|e| {
            let name = e.str_at(&["name"]).unwrap_or_default();
            let stale = var_may_go(name)
                && e.str_at(&["value"])
                    .is_some_and(|v| files.iter().any(|f| f == v));
            if stale {
                taken.push(format!("env {name}"));
            }
            !stale
        });
    }
    drop_if_empty(container, "volumeMounts");
    drop_if_empty(container, "env");
    taken
}

/// A Deployment this function injected before, under another config or into another container
/// (the function config's `envVars` shrank, the LLSD's `containerSpec.name` changed): what the
/// current injection does not write again goes, so that no variable points at a file that is no
/// longer mounted there. Only what this function would have written goes: in the target, a
/// default variable the config no longer lists; in another container, the mount at the mount
/// path and the default or configured variables pointing into it. A user's own variable pointing
/// at the bundle (`CURL_CA_BUNDLE`, say), or a sidecar's own mount of the volume elsewhere, stays.
/// Returns a description of what went, per container.
fn take_out_earlier_injection(pod: &mut Node<'_>, target: usize, config: &FnConfig) -> Vec<String> {
    let Some(containers) = pod.get_mut("containers").and_then(Node::as_seq_mut) else {
        return Vec::new();
    };
    let default = |name: &str| DEFAULT_ENV_VARS.contains(&name);
    let configured = |name: &str| config.env_vars.iter().any(|v| v == name);
    let mut said = Vec::new();
    for (i, container) in containers.iter_mut().enumerate() {
        let taken = if i == target {
            take_out(container, Mounts::Keep, |name| {
                default(name) && !configured(name)
            })
        } else {
            take_out(container, Mounts::At(&config.mount_path), |name| {
                default(name) || configured(name)
            })
        };
        if !taken.is_empty() {
            let name = container.str_at(&["name"]).unwrap_or_default();
            said.push(format!("{} from container {name:?}", taken.join(", ")));
        }
    }
    said
}

/// Operator v0.3/v0.4 copied the CA into an `emptyDir` with an init container and mounted one file
/// over the system path with `subPath`. That layout is replaced by the current one; this removes
/// its parts and says which it found. It is recognised by its two halves together, the init
/// container `ca-bundle-init` and the `emptyDir` volume `ca-bundle`, and only its own parts go: the
/// source volume only as a ConfigMap volume, the `subPath` mount only of the `emptyDir`. Anything
/// else with those names is someone else's, and left alone (or a conflict).
fn migrate_legacy(pod: &mut Node<'_>) -> Vec<String> {
    let mut removed = Vec::new();
    let named = |list: &str, name: &str| -> Option<&Node<'_>> {
        pod.get(list)?
            .as_seq()?
            .iter()
            .find(|n| n.str_at(&["name"]) == Some(name))
    };
    let legacy = named("initContainers", LEGACY_INIT_CONTAINER).is_some()
        && named("volumes", VOLUME_NAME).is_some_and(|v| v.get("emptyDir").is_some());
    if !legacy {
        return removed;
    }
    if let Some(init) = pod.get_mut("initContainers").and_then(Node::as_seq_mut) {
        init.retain(|c| c.str_at(&["name"]) != Some(LEGACY_INIT_CONTAINER));
        removed.push(format!("init container {LEGACY_INIT_CONTAINER}"));
    }
    drop_if_empty(pod, "initContainers");
    if let Some(volumes) = pod.get_mut("volumes").and_then(Node::as_seq_mut) {
        let ours = |v: &Node<'_>| match v.str_at(&["name"]) {
            Some(VOLUME_NAME) => v.get("emptyDir").is_some(),
            Some(LEGACY_SOURCE_VOLUME) => v.get("configMap").is_some(),
            _ => false,
        };
        for v in volumes.iter().filter(|v| ours(v)) {
            removed.push(format!(
                "volume {}",
                v.str_at(&["name"]).unwrap_or_default()
            ));
        }
        volumes.retain(|v| !ours(v));
    }
    if let Some(containers) = pod.get_mut("containers").and_then(Node::as_seq_mut) {
        for container in containers {
            if let Some(mounts) = container.get_mut("volumeMounts").and_then(Node::as_seq_mut) {
                let before = mounts.len();
                mounts.retain(|m| {
                    !(m.str_at(&["name"]) == Some(VOLUME_NAME)
                        && m.str_at(&["mountPath"]) == Some(LEGACY_FILE)
                        && m.get("subPath").is_some())
                });
                if mounts.len() < before {
                    removed.push(format!("subPath mount at {LEGACY_FILE}"));
                }
            }
        }
    }
    removed
}

/// True when a mount at `other` would share or hide the bundle's directory `dir`: it is the same
/// directory, however written (`/a/b/`, `/a//b`), or anything inside it (the bundle file itself,
/// through `subPath`). A mount of a parent directory is fine: the bundle's mount sits on top of it.
fn shadows(other: &str, dir: &str) -> bool {
    normalised(other).starts_with(&normalised(dir))
}

/// The segments of an absolute path, read as the kernel would: no empty or `.` segments, and `..`
/// taking one back.
fn normalised(path: &str) -> Vec<&str> {
    let mut segments = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    segments
}

fn bundle_volume<'a>(config_map: &str) -> Node<'a> {
    let item = Node::map_of(vec![
        ("key", Node::string(BUNDLE_KEY)),
        ("path", Node::string(BUNDLE_KEY)),
    ]);
    Node::map_of(vec![
        ("name", Node::string(VOLUME_NAME)),
        (
            "configMap",
            Node::map_of(vec![
                ("name", Node::string(config_map.to_string())),
                ("items", Node::seq(vec![item])),
            ]),
        ),
    ])
}

/// Replace the entry named `name` in place (keeping it when it already says the same), or append;
/// drop any later entry of that name, which would otherwise override it (the last one wins).
fn upsert_named<'a>(list: &mut Vec<Node<'a>>, name: &str, entry: Node<'a>) {
    let mut found = false;
    list.retain_mut(|old| {
        if old.str_at(&["name"]) != Some(name) {
            return true;
        }
        if found {
            return false;
        }
        found = true;
        if !old.same_as(&entry) {
            *old = entry.clone();
        }
        true
    });
    if !found {
        list.push(entry);
    }
}

fn pod_spec_mut<'n, 'a>(deployment: &'n mut Node<'a>) -> Option<&'n mut Node<'a>> {
    deployment
        .get_mut("spec")?
        .get_mut("template")?
        .get_mut("spec")
        .filter(|p| p.as_map().is_some())
}

fn drop_if_empty(node: &mut Node<'_>, key: &str) {
    let empty = node.get(key).is_some_and(|v| {
        v.as_seq().is_some_and(<[_]>::is_empty) || v.as_map().is_some_and(<[_]>::is_empty)
    });
    if empty {
        node.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::shadows;

    macro_rules! shadow {
        ($name:ident, $other:expr, $expected:expr) => {
            #[test]
            fn $name() {
                assert_eq!(shadows($other, "/etc/ssl/certs/ca-bundle"), $expected);
            }
        };
    }

    shadow!(same_dir, "/etc/ssl/certs/ca-bundle", true);
    shadow!(trailing_slash, "/etc/ssl/certs/ca-bundle/", true);
    shadow!(repeated_slashes, "//etc//ssl/certs//ca-bundle", true);
    shadow!(dot_segments, "/etc/ssl/./certs/x/../ca-bundle", true);
    shadow!(bundle_file, "/etc/ssl/certs/ca-bundle/ca-bundle.crt", true);
    shadow!(deeper, "/etc/ssl/certs/ca-bundle/extra/dir", true);
    shadow!(parent_is_fine, "/etc/ssl", false);
    shadow!(system_certs_is_fine, "/etc/ssl/certs/", false);
    shadow!(legacy_file_is_fine, "/etc/ssl/certs/ca-bundle.crt", false);
    shadow!(sibling_prefix_is_fine, "/etc/ssl/certs/ca-bundle2", false);
}
