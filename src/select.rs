//! Which items a run reads. Parsing is most of what a run costs, and most items of a package are
//! none of the function's business: of a [scanned](ResourceList::scan) list, only the LLSDs and
//! the items whose text names one of them, its managed ConfigMap or its CA ConfigMap are parsed.
//! The rest are copied as the text they came in, unread.

use crate::list::ResourceList;
use crate::llsd;
use crate::names::{LLSD_KIND, managed_config_map_name};
use crate::yaml::MAX_DEPTH;
use std::collections::HashSet;

/// Parse the items the LLSDs of `list` may need. `false` when the list must be parsed whole
/// instead: an item that cannot be read on its own, or a name that is not a plain word.
pub fn read_what_matters(list: &mut ResourceList<'_>) -> bool {
    if !list.read_items(|text| text.contains(LLSD_KIND) || must_read(text)) {
        return false;
    }
    let mut wanted = HashSet::new();
    for llsd in llsd::find(list.items()) {
        wanted.insert(managed_config_map_name(&llsd.name));
        if let Some(Ok(ca)) = &llsd.ca {
            wanted.insert(ca.name.clone());
        }
        wanted.insert(llsd.name);
    }
    if !wanted.iter().all(|name| words(name).eq([name.as_str()])) {
        return false;
    }
    list.read_items(|text| must_read(text) || words(text).any(|w| wanted.contains(w)))
}

/// Items read whatever they name: those whose names may hide from [`words`], and those that may
/// nest deeper than the parser allows, which must be refused as they would be when read whole.
fn must_read(text: &str) -> bool {
    may_hide_words(text) || may_nest_deeply(text)
}

/// The words of `text`: runs of the characters Kubernetes names are made of, and `_`.
fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || "-._".contains(c)))
        .filter(|w| !w.is_empty())
}

/// Escapes in a double-quoted scalar (`\x6c`, `\u006c`, an escaped line break) can spell a name
/// that no run of its characters shows: such an item is always read.
fn may_hide_words(text: &str) -> bool {
    text.contains('\\')
}

/// Every level of nesting costs a `[` or `{`, or a column of indentation (a compact `- ` two):
/// an item with few of both cannot reach the parser's limit.
fn may_nest_deeply(text: &str) -> bool {
    let limit = MAX_DEPTH / 2;
    let flow_openers = text.bytes().filter(|b| matches!(b, b'[' | b'{')).count();
    let deepest_line = text.lines().map(|line| {
        let rest = line.trim_start_matches([' ', '-']);
        line.len() - rest.len()
    });
    flow_openers > limit || deepest_line.max().unwrap_or(0) > limit
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_found_as_whole_words() {
        let has = |text, word| words(text).any(|w| w == word);
        assert!(has("name: llama-stack\n", "llama-stack"));
        assert!(has(
            "app.kubernetes.io/instance: \"llama-stack\"",
            "llama-stack"
        ));
        assert!(has("previousNames: ca,corporate-ca\n", "corporate-ca"));
        assert!(!has("name: llama-stack-2\n", "llama-stack"));
        assert!(!has("image: x/llama-stackx:1\n", "llama-stack"));
    }

    #[test]
    fn what_may_nest_past_the_limit_is_read() {
        assert!(!must_read("- a:\n    b: [1, {c: 2}]\n"));
        assert!(must_read(&format!("- a: {}", "[".repeat(65))));
        assert!(must_read(&format!("- a:\n  {}x\n", "- ".repeat(40))));
        assert!(must_read(&format!("- a:\n{}b: 1\n", " ".repeat(70))));
        assert!(must_read("- a: \"\\x6c\"\n"));
    }
}
