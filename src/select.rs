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
    list.read_items(|text| {
        words(text).any(|w| wanted.contains(w) || names_managed_file(w, &wanted))
    })
}

/// True for a word that starts with a wanted managed ConfigMap's name, as the file names the
/// function may give that ConfigMap do (`<name>.yaml`, `<name>-<namespace>.yaml`): the item in
/// such a file must be read, so that the new ConfigMap is not put in the same file.
fn names_managed_file(word: &str, wanted: &HashSet<String>) -> bool {
    let suffix = managed_config_map_name("");
    word.match_indices(&suffix)
        .any(|(at, _)| wanted.contains(&word[..at + suffix.len()]))
}

/// Items read whatever they name, in one pass over their text:
/// - a backslash: escapes in a double-quoted scalar (`\x6c`, `\u006c`, an escaped line break)
///   can spell a name that no run of its characters shows;
/// - many `[` or `{`, or a deep indentation (a compact `- ` counts two columns): every level of
///   nesting costs one of those, so only such an item can nest past the parser's limit, and it
///   must be refused as it would be when the list is parsed whole.
fn must_read(text: &str) -> bool {
    let limit = MAX_DEPTH / 2;
    let (mut openers, mut indent, mut at_line_start) = (0, 0, true);
    for byte in text.bytes() {
        match byte {
            b'\\' => return true,
            b'[' | b'{' => openers += 1,
            b'\n' => {
                (indent, at_line_start) = (0, true);
                continue;
            }
            b' ' | b'-' if at_line_start => {
                indent += 1;
                continue;
            }
            _ => {}
        }
        if openers > limit || indent > limit {
            return true;
        }
        at_line_start = false;
    }
    openers > limit || indent > limit
}

/// The words of `text`: runs of the characters Kubernetes names are made of, and `_`.
fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_')))
        .filter(|w| !w.is_empty())
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
    fn files_named_after_a_managed_configmap_are_found() {
        let wanted = HashSet::from(["llama-stack-ca-bundle".to_string()]);
        let names = |word| names_managed_file(word, &wanted);
        assert!(names("llama-stack-ca-bundle.yaml"));
        assert!(names("llama-stack-ca-bundle-team-b-2.yaml"));
        assert!(!names("other-ca-bundle.yaml"));
        assert!(!names("llama-stack.yaml"));
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
