//! Finds the Deployments that belong to an LLSD and the container in each that runs the server.

use crate::index::Index;
use crate::llsd::Llsd;
use crate::meta::name;
use crate::names::{INSTANCE_LABEL, LLSD_GROUP, LLSD_KIND};
use crate::results::KrmResult;
use crate::yaml::Node;

/// Where the pod template's containers sit in a Deployment.
pub const CONTAINERS_PATH: [&str; 4] = ["spec", "template", "spec", "containers"];

/// The Deployments of `llsd`: same namespace, and the LLSD's name, an ownerReference to it, or
/// its `app.kubernetes.io/instance` label on the pod template.
pub fn deployments_of<'i>(index: &'i Index<'_, '_>, llsd: &Llsd<'_, '_>) -> &'i [usize] {
    index.deployments_of(llsd.namespace.as_deref(), &llsd.name)
}

/// The Deployments that would be [`deployments_of`] `llsd` but are marked local-config, which the
/// function never changes: only for telling why nothing was injected.
pub fn local_config_deployments_of<'i>(
    index: &'i Index<'_, '_>,
    llsd: &Llsd<'_, '_>,
) -> &'i [usize] {
    index.local_config_deployments_of(llsd.namespace.as_deref(), &llsd.name)
}

/// The names of the LLSDs that `deployment` answers to: its own name, the LLSDs among its
/// ownerReferences (of any version of the group), and its pod template's `app.kubernetes.io/instance` label.
pub fn llsd_names<'n>(deployment: &'n Node<'_>) -> impl Iterator<Item = &'n str> {
    let owners = deployment
        .at(&["metadata", "ownerReferences"])
        .and_then(Node::as_seq)
        .unwrap_or_default()
        .iter()
        .filter(|r| {
            let group = r.str_at(&["apiVersion"]).and_then(|v| v.split_once('/'));
            r.str_at(&["kind"]) == Some(LLSD_KIND) && group.map(|(g, _)| g) == Some(LLSD_GROUP)
        })
        .filter_map(|r| r.str_at(&["name"]));
    let instance = deployment.str_at(&["spec", "template", "metadata", "labels", INSTANCE_LABEL]);
    name(deployment).into_iter().chain(owners).chain(instance)
}

/// The pod template's containers: none when the list is missing or null, an error when it is
/// not a list of mappings, since the function cannot tell where its mounts would be.
pub fn containers<'n, 'a>(deployment: &'n Node<'a>) -> Result<&'n [Node<'a>], KrmResult> {
    let wrong = |field: String, found: &Node<'_>, wanted: &str| {
        KrmResult::error(format!(
            "invalid type: must be {wanted}, found {}",
            found.a_type_name()
        ))
        .on(deployment)
        .at(field)
    };
    let path = CONTAINERS_PATH.join(".");
    let containers = match deployment.at(&CONTAINERS_PATH) {
        Some(node) if !node.is_null() => node
            .as_seq()
            .ok_or_else(|| wrong(path.clone(), node, "a list of containers"))?,
        _ => return Ok(&[]),
    };
    match containers.iter().position(|c| c.as_map().is_none()) {
        Some(i) => Err(wrong(
            format!("{path}[{i}]"),
            &containers[i],
            "a container, a mapping such as `{name: llama-stack, image: …}`",
        )),
        None => Ok(containers),
    }
}

/// The index of the container to inject into, and an info result when it was chosen because it
/// is the pod's only container rather than by name.
pub fn pick_container(
    deployment: &Node<'_>,
    llsd: &Llsd<'_, '_>,
) -> Result<(usize, Option<KrmResult>), KrmResult> {
    let containers = containers(deployment)?;
    let names: Vec<&str> = containers
        .iter()
        .map(|c| c.str_at(&["name"]).unwrap_or(""))
        .collect();
    if let Some(i) = names.iter().position(|n| *n == llsd.container) {
        return Ok((i, None));
    }
    if let [only] = names.as_slice() {
        return Ok((0, Some(single_container_fallback(deployment, llsd, only))));
    }
    let found = if names.is_empty() {
        "none".to_string()
    } else {
        names.join(", ")
    };
    Err(KrmResult::error(format!(
        "no container named {:?} in the pod template (containers: {found}); set spec.server.containerSpec.name \
         in {} {} to the server's container",
        llsd.container, LLSD_KIND, llsd.name
    ))
    .on(deployment)
    .at(CONTAINERS_PATH.join(".")))
}

/// A Deployment with one container runs the server in it whatever it is called; saying so lets
/// a person spot a wrong guess.
fn single_container_fallback(deployment: &Node<'_>, llsd: &Llsd<'_, '_>, only: &str) -> KrmResult {
    KrmResult::info(format!(
        "no container named {:?}; using the pod's only container {only:?}",
        llsd.container
    ))
    .on(deployment)
    .at(CONTAINERS_PATH.join("."))
}
