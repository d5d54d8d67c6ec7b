//! Finds the Deployments that belong to an LLSD and the container in each that runs the server.

use crate::llsd::Llsd;
use crate::meta::{is_kind, is_local_config, name, namespace};
use crate::names::{INSTANCE_LABEL, LLSD_KIND};
use crate::results::KrmResult;
use crate::yaml::Node;

/// Where the pod template's containers sit in a Deployment.
pub const CONTAINERS_PATH: [&str; 4] = ["spec", "template", "spec", "containers"];

/// Indices of the Deployments of `llsd`: same namespace, and the LLSD's name, an ownerReference
/// to it, or its `app.kubernetes.io/instance` label on the pod template.
pub fn deployments_of(items: &[Node<'_>], llsd: &Llsd<'_, '_>) -> Vec<usize> {
    let owned_by = |item: &Node<'_>| {
        item.at(&["metadata", "ownerReferences"])
            .and_then(Node::as_seq)
            .is_some_and(|refs| {
                refs.iter().any(|r| {
                    r.str_at(&["kind"]) == Some(LLSD_KIND)
                        && r.str_at(&["name"]) == Some(llsd.name.as_str())
                })
            })
    };
    let labelled = |item: &Node<'_>| {
        item.str_at(&["spec", "template", "metadata", "labels", INSTANCE_LABEL])
            == Some(llsd.name.as_str())
    };
    items
        .iter()
        .enumerate()
        .filter(|(_, item)| is_kind(item, "apps/v1", "Deployment") && !is_local_config(item))
        .filter(|(_, item)| namespace(item) == llsd.namespace.as_deref())
        .filter(|(_, item)| {
            name(item) == Some(llsd.name.as_str()) || owned_by(item) || labelled(item)
        })
        .map(|(i, _)| i)
        .collect()
}

/// The index of the container to inject into, and an info result when it was chosen because it
/// is the pod's only container rather than by name.
pub fn pick_container(
    deployment: &Node<'_>,
    llsd: &Llsd<'_, '_>,
) -> Result<(usize, Option<KrmResult>), KrmResult> {
    let containers = deployment
        .at(&CONTAINERS_PATH)
        .and_then(Node::as_seq)
        .unwrap_or_default();
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
