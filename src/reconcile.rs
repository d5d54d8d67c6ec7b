//! For every LLSD, works out what the output holds: its Deployments injected (or cleaned up when it
//! no longer names a CA bundle) and its managed ConfigMap, with a result for each thing done.

use crate::bundle::{self, BlockRef, CaBundle};
use crate::config::FnConfig;
use crate::index::Index;
use crate::llsd::{self, CaRef, Llsd};
use crate::managed::{self, Plan, TakenPaths};
use crate::meta::{is_local_config, qualified, whereabouts};
use crate::names::{
    INSTANCE_LABEL, LLSD_KIND, LOCAL_CONFIG_ANNOTATION, MAX_LABEL_VALUE, managed_config_map_name,
};
use crate::resolve;
use crate::results::KrmResult;
use crate::rewrite::{self, Injection};
use crate::target::{deployments_of, local_config_deployments_of, pick_container};
use crate::write::Out;
use crate::yaml::Node;
use std::collections::{BTreeMap, BTreeSet};

/// The output items and the results of one run.
pub struct Changes<'a> {
    replaced: BTreeMap<usize, Node<'a>>,
    added_after: BTreeMap<usize, Vec<Node<'a>>>,
    removed: BTreeSet<usize>,
    /// Which LLSD each Deployment was injected for, so that a second claimant is an error.
    claimed: BTreeMap<usize, String>,
    /// Everything worth telling, errors included.
    pub results: Vec<KrmResult>,
}

impl<'a> Changes<'a> {
    /// Replace input item `at` by `node`, with the info result that says what changed.
    fn replace(&mut self, at: usize, node: Node<'a>, info: KrmResult) {
        self.results.push(info);
        self.replaced.insert(at, node);
    }

    /// The output list: input order, with replacements in place and new items after their LLSD.
    pub fn into_outs(mut self, count: usize) -> (Vec<Out<'a>>, Vec<KrmResult>) {
        let mut outs = Vec::with_capacity(count + self.added_after.len());
        for i in 0..count {
            if !self.removed.contains(&i) {
                outs.push(match self.replaced.remove(&i) {
                    Some(node) => Out::Replace(i, Box::new(node)),
                    None => Out::Keep(i),
                });
            }
            outs.extend(
                self.added_after
                    .remove(&i)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|node| Out::Add(Box::new(node))),
            );
        }
        (outs, self.results)
    }
}

/// Reconcile every LLSD in `items`. `now` is Unix seconds, for certificate validity.
pub fn reconcile<'a>(items: &[Node<'a>], config: &FnConfig, now: i64) -> Changes<'a> {
    let mut changes = Changes {
        replaced: BTreeMap::new(),
        added_after: BTreeMap::new(),
        removed: BTreeSet::new(),
        claimed: BTreeMap::new(),
        results: Vec::new(),
    };
    let index = Index::new(items);
    let mut taken = TakenPaths::of(items);
    let llsds = llsd::find(items);
    let twice = appearing_twice(&llsds, &mut changes.results);
    for llsd in llsds {
        if twice.contains(&llsd.index) {
            continue;
        }
        if let Some(error) = duplicate_key(llsd.item) {
            changes.results.push(error);
            continue;
        }
        if let Some(problem) = unusable_name(&llsd.name) {
            changes
                .results
                .push(KrmResult::error(problem).on(llsd.item).at("metadata.name"));
            continue;
        }
        match &llsd.ca {
            None => remove_injection(&index, &llsd, config, &mut changes),
            Some(Err(e)) => changes.results.push(
                KrmResult::error(e.message.clone())
                    .on(llsd.item)
                    .at(e.field.clone()),
            ),
            Some(Ok(ca)) => {
                let injected =
                    inject_llsd(&index, &llsd, ca, config, now, &mut taken, &mut changes);
                if let Err(result) = injected {
                    changes.results.push(result);
                }
            }
        }
    }
    changes
}

fn inject_llsd<'a>(
    index: &Index<'_, 'a>,
    llsd: &Llsd<'_, 'a>,
    ca: &CaRef,
    config: &FnConfig,
    now: i64,
    taken: &mut TakenPaths,
    changes: &mut Changes<'a>,
) -> Result<(), KrmResult> {
    let items = index.items();
    let found = resolve::resolve(index, llsd, ca)?;
    changes.results.extend(found.renamed);
    let sources: Vec<(&str, &[u8])> = found
        .sources
        .iter()
        .map(|(k, b)| (k.as_str(), b.as_slice()))
        .collect();
    let bundle = match bundle::build(&sources, now, config.use_default_cas) {
        Ok(bundle) => bundle,
        Err(errors) => {
            let (last, rest) = errors
                .split_last()
                .expect("build reports at least one error");
            let on_cm = |e: &bundle::BundleError| {
                at_block(KrmResult::error(e.to_string()), found.item, e.block())
            };
            changes.results.extend(rest.iter().map(on_cm));
            return Err(on_cm(last));
        }
    };
    changes.results.extend(
        bundle
            .warnings
            .iter()
            .map(|w| at_block(KrmResult::warning(w.to_string()), found.item, w.block())),
    );

    let deployments = deployments_of(index, llsd);
    if deployments.is_empty() {
        if let Some(&at) = local_config_deployments_of(index, llsd).first() {
            return Err(KrmResult::warning(format!(
                "the Deployment of {LLSD_KIND} {} is marked {LOCAL_CONFIG_ANNOTATION}: \"true\", \
                 and local-config objects are never changed or deployed; nothing was injected",
                qualified(&llsd.namespace, &llsd.name),
            ))
            .on(&items[at]));
        }
        return Err(KrmResult::warning(format!(
            "no Deployment of {LLSD_KIND} {} found in the input (same namespace, and its name, an ownerReference \
             or the pod label app.kubernetes.io/instance: {}); nothing was injected",
            qualified(&llsd.namespace, &llsd.name),
            llsd.name
        ))
        .on(llsd.item));
    }
    let plan = Injection {
        llsd: qualified(&llsd.namespace, &llsd.name),
        config_map: managed_config_map_name(&llsd.name),
        config,
        hash: bundle.sha256.clone(),
        user_env: user_env(llsd, config),
    };
    for &at in deployments {
        let deployment = &items[at];
        if let Some(first) = changes.claimed.insert(at, llsd.name.clone()) {
            return Err(KrmResult::error(format!(
                "this Deployment belongs to two {LLSD_KIND}s, {first} and {}; give each its own \
                 Deployment, or a CA bundle to only one of them",
                llsd.name
            ))
            .on(deployment));
        }
        check_plain(deployment)?;
        let (container, chosen) = pick_container(deployment, llsd)?;
        changes.results.extend(chosen);
        let (edited, notes) = rewrite::inject(deployment, container, &plan)?;
        changes.results.extend(notes);
        if !edited.same_as(deployment) {
            let info = injected_info(deployment, container, &plan, &bundle);
            changes.replace(at, edited, info);
        }
    }
    if let Some(at) = managed::find(index, llsd) {
        check_plain(&items[at])?;
    }
    match managed::plan(index, llsd, &bundle.pem, taken)? {
        Plan::Add(node) => changes
            .added_after
            .entry(llsd.index)
            .or_default()
            .push(node),
        Plan::Replace(at, node) => {
            let info = KrmResult::info(format!(
                "updated ConfigMap {} to the current CA bundle",
                plan.config_map
            ));
            changes.replace(at, node, info.on(&items[at]));
        }
        Plan::Keep => {}
    }
    Ok(())
}

/// An LLSD without a CA bundle: take back what an earlier run injected for it, and only that.
fn remove_injection<'a>(
    index: &Index<'_, 'a>,
    llsd: &Llsd<'_, 'a>,
    config: &FnConfig,
    changes: &mut Changes<'a>,
) {
    let items = index.items();
    let config_map = managed_config_map_name(&llsd.name);
    for &at in deployments_of(index, llsd) {
        if let Err(error) = check_plain(&items[at]) {
            changes.results.push(error);
            continue;
        }
        match rewrite::remove(&items[at], &config_map, config) {
            Ok(None) => {}
            Err(error) => changes.results.push(error),
            Ok(Some(edited)) => {
                let info = KrmResult::info(format!(
                    "removed the CA bundle injection: {} no longer names a CA bundle",
                    llsd.name
                ));
                changes.replace(at, edited, info.on(&items[at]));
            }
        }
    }
    let removable = |at: &usize| managed::is_ours(&items[*at]) && !is_local_config(&items[*at]);
    if let Some(at) = managed::find(index, llsd).filter(removable) {
        changes.results.push(
            KrmResult::info(format!(
                "removed ConfigMap {config_map}: {} no longer names a CA bundle",
                llsd.name
            ))
            .on(&items[at]),
        );
        changes.removed.insert(at);
    }
}

/// The item indices of LLSDs that share a namespace and name with another: which one the output
/// is for is unclear, so none of them is processed. Each later copy gets an error.
fn appearing_twice(llsds: &[Llsd<'_, '_>], results: &mut Vec<KrmResult>) -> BTreeSet<usize> {
    let mut first: BTreeMap<(Option<&str>, &str), &Llsd<'_, '_>> = BTreeMap::new();
    let mut twice = BTreeSet::new();
    // A missing name is an error of its own (see `unusable_name`).
    for llsd in llsds.iter().filter(|l| !l.name.is_empty()) {
        let Some(earlier) = first.get(&(llsd.namespace.as_deref(), llsd.name.as_str())) else {
            first.insert((llsd.namespace.as_deref(), &llsd.name), llsd);
            continue;
        };
        results.push(
            KrmResult::error(format!(
                "{LLSD_KIND} {} appears twice in the input (the other is in {}); keep one",
                qualified(&llsd.namespace, &llsd.name),
                whereabouts(earlier.item, earlier.index)
            ))
            .on(llsd.item),
        );
        twice.extend([earlier.index, llsd.index]);
    }
    twice
}

/// Why the LLSD's name cannot name what the function writes for it, if it cannot.
fn unusable_name(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some(format!(
            "this {LLSD_KIND} has no metadata.name, so its Deployment and its managed ConfigMap cannot be named"
        ));
    }
    (name.len() > MAX_LABEL_VALUE).then(|| {
        format!(
            "the name is {} characters long; the managed ConfigMap carries it as its {INSTANCE_LABEL} \
             label, which Kubernetes limits to {MAX_LABEL_VALUE}",
            name.len()
        )
    })
}

/// A result about the CA ConfigMap, pointing at the key that holds the block when there is one.
fn at_block(result: KrmResult, config_map: &Node<'_>, block: Option<&BlockRef>) -> KrmResult {
    let result = result.on(config_map);
    match block {
        Some(block) => {
            let field = if config_map.at(&["data", &block.key]).is_some() {
                "data"
            } else {
                "binaryData"
            };
            result.at(format!("{field}.{}", block.key))
        }
        None => result,
    }
}

/// A key written twice in one mapping: YAML readers disagree on which wins, so neither is guessed.
fn duplicate_key(item: &Node<'_>) -> Option<KrmResult> {
    let key = item.find_duplicate_key()?;
    Some(
        KrmResult::error(format!(
            "the key {key} appears twice; which one is meant is unclear"
        ))
        .on(item)
        .at(key),
    )
}

/// The function edits only what it can read exactly: no anchors, aliases, tags or duplicate keys.
fn check_plain(item: &Node<'_>) -> Result<(), KrmResult> {
    if let Some(error) = duplicate_key(item) {
        return Err(error);
    }
    if !item.is_plain_data() {
        return Err(KrmResult::error("uses YAML anchors, aliases, tags, merge keys (<<) or keys that are collections, which this function does not rewrite; write it out in full").on(item));
    }
    Ok(())
}

/// Values the LLSD's own `spec.server.containerSpec.env` gives the configured variables.
fn user_env(llsd: &Llsd<'_, '_>, config: &FnConfig) -> Vec<(String, String)> {
    let env = llsd
        .item
        .at(&["spec", "server", "containerSpec", "env"])
        .and_then(Node::as_seq)
        .unwrap_or_default();
    env.iter()
        .filter_map(|e| {
            Some((
                e.str_at(&["name"])?.to_string(),
                e.str_at(&["value"])?.to_string(),
            ))
        })
        .filter(|(name, _)| config.env_vars.contains(name))
        .collect()
}

fn injected_info(
    deployment: &Node<'_>,
    container: usize,
    plan: &Injection<'_>,
    bundle: &CaBundle,
) -> KrmResult {
    let container_name = deployment
        .at(&crate::target::CONTAINERS_PATH)
        .and_then(Node::as_seq)
        .and_then(|c| c.get(container))
        .and_then(|c| c.str_at(&["name"]))
        .unwrap_or_default();
    KrmResult::info(format!(
        "mounted ConfigMap {} ({} certificate{}) read-only at {} in container {container_name}, set {}, {}: {}",
        plan.config_map,
        bundle.count,
        if bundle.count == 1 { "" } else { "s" },
        plan.config.mount_path,
        plan.config.env_vars.join(", "),
        plan.config.hash_annotation,
        plan.hash
    ))
    .on(deployment)
}
