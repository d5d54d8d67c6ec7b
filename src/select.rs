//! Which items a run reads. Parsing is most of what a run costs, and most items of a package are
//! none of the function's business: of a [scanned](ResourceList::scan) list, only the LLSDs, the
//! items whose text names one of them, its managed ConfigMap or its CA ConfigMap, those that
//! name a file the managed ConfigMap may be given, and those that must be read whatever they
//! name ([`must_read`]) are parsed. The rest are copied as the text they came in, unread.

use crate::list::ResourceList;
use crate::llsd;
use crate::names::{LLSD_KIND, MANAGED_SUFFIX, managed_config_map_name};
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
    // Compared as `managed::TakenPaths` compares paths: in ASCII lower case.
    let managed: HashSet<String> = wanted
        .iter()
        .filter(|name| name.ends_with(MANAGED_SUFFIX))
        .map(|name| name.to_ascii_lowercase())
        .collect();
    let wanted = Names::new(wanted);
    list.read_items(|text| {
        words(text).any(|w| wanted.contains(w) || names_managed_file(w, &managed))
    })
}

/// A set of names that turns most words away without hashing them: by their length. An item
/// holds dozens of words, and a run looks them all up.
struct Names {
    names: HashSet<String>,
    /// `lengths[n]`: some name is `n` bytes long.
    lengths: Vec<bool>,
}

impl Names {
    fn new(names: HashSet<String>) -> Self {
        let mut lengths = vec![false; names.iter().map(String::len).max().map_or(0, |n| n + 1)];
        for name in &names {
            lengths[name.len()] = true;
        }
        Names { names, lengths }
    }

    fn contains(&self, word: &str) -> bool {
        self.lengths.get(word.len()) == Some(&true) && self.names.contains(word)
    }
}

/// True for a YAML file name that starts with one of the `managed` ConfigMap names (in lower
/// case), as the file names the function may give that ConfigMap do (`<name>.yaml`,
/// `<name>-<namespace>.yaml`): the item in such a file must be read, so that the new ConfigMap
/// is not put in the same file. Words are ASCII (see [`words`]); the extension test comes first,
/// since it rules out nearly every word at the cost of a comparison.
fn names_managed_file(word: &str, managed: &HashSet<String>) -> bool {
    let is_yaml = [".yaml", ".yml"].iter().any(|ext| {
        word.len() > ext.len() && word[word.len() - ext.len()..].eq_ignore_ascii_case(ext)
    });
    if !is_yaml {
        return false;
    }
    let word = word.to_ascii_lowercase();
    word.match_indices(MANAGED_SUFFIX)
        .any(|(at, _)| managed.contains(&word[..at + MANAGED_SUFFIX.len()]))
}

/// Items read whatever they name, in one pass over their text:
/// - a backslash: escapes in a double-quoted scalar (`\x6c`, `\u006c`, an escaped line break)
///   can spell a name that no run of its characters shows;
/// - a line whose indentation (compact `- `, `? ` and `: ` indicators included) and the `[` and
///   `{` of the item so far exceed half the parser's nesting limit: every level of nesting
///   costs at least one of those, so only such an item can nest past the limit, and it must be
///   refused as it would be when the list is parsed whole;
/// - a line that opens a quoted scalar or a flow collection and does not close it
///   ([`leaves_open`]): the scan cuts items by their lines, so the lines that follow may have been
///   taken for items or keys of their own, `- kind: LlamaStackDistribution` inside a string. Such
///   an item, read, either parses, and then it was cut where the whole parse cuts it, or ends
///   inside its scalar and fails to, and the list is parsed whole.
fn must_read(text: &str) -> bool {
    const MAY_OPEN: [bool; 256] = byte_set(b"\\[{\"'");
    let limit = MAX_DEPTH / 2;
    let mut openers = 0;
    for line in text.split('\n').map(str::as_bytes) {
        let indent = line
            .iter()
            .take_while(|b| matches!(b, b' ' | b'-' | b'?' | b':'))
            .count();
        // Most lines hold no quote, bracket or backslash: one table lookup a byte tells.
        let mut may_open = false;
        for &byte in line[indent..].iter().filter(|b| MAY_OPEN[usize::from(**b)]) {
            match byte {
                b'\\' => return true,
                b'[' | b'{' => openers += 1,
                _ => {}
            }
            may_open = true;
        }
        if indent + openers > limit || (may_open && leaves_open(line)) {
            return true;
        }
    }
    false
}

/// Whether `line`, read from its start as a line of block-style YAML, opens a quoted scalar or a
/// flow collection that goes on past its end. Whatever it cannot tell counts as open: the cost of
/// a wrong "open" is one item parsed, of a wrong "closed" an item made from inside a string.
///
/// A quote or a bracket opens something only where a node starts: after the indentation, a `- `,
/// `? ` or `: ` indicator, an anchor or a tag. Inside a plain scalar (`it's`, `say "hi"`), they are
/// plain characters, and a plain scalar ends only at `: ` or ` #`.
fn leaves_open(b: &[u8]) -> bool {
    // A verbatim tag (`!<…>`) may hold any of the characters the rest of this reads as syntax;
    // real manifests never carry one, so a line with one counts as open.
    if b.windows(2).any(|w| w == b"!<") {
        return true;
    }
    let mut i = 0;
    loop {
        i = node_start(b, i);
        let Some(&first) = b.get(i) else {
            return false;
        };
        let end = match first {
            b'"' | b'\'' => quoted_end(b, i),
            b'[' | b'{' => flow_end(b, i),
            b'#' => return false,
            _ => match plain_end(b, i) {
                Some(value) => {
                    i = value;
                    continue;
                }
                None => return false,
            },
        };
        let Some(end) = end else {
            return true;
        };
        // After a quoted or flow node: a comment, the end, or the `:` that makes it a key.
        i = skip_blanks(b, end);
        match b.get(i) {
            None | Some(b'#') => return false,
            Some(b':') => i += 1,
            Some(_) => return true,
        }
    }
}

/// Where the node that may start at `i` starts, past blanks, block indicators and properties.
fn node_start(b: &[u8], mut i: usize) -> usize {
    loop {
        i = skip_blanks(b, i);
        match b.get(i) {
            Some(b'-' | b'?' | b':') if b.get(i + 1).is_none_or(|c| is_blank(*c)) => i += 1,
            Some(b'&' | b'!') => {
                while b.get(i).is_some_and(|c| !is_blank(*c)) {
                    i += 1;
                }
            }
            _ => return i,
        }
    }
}

/// The end of the block-context plain scalar starting at `i`: `Some` of the position after its
/// `:` when it is a key, `None` when it runs to a comment or the line's end.
fn plain_end(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i;
    while j < b.len() {
        match b[j] {
            b':' if b.get(j + 1).is_none_or(|c| is_blank(*c)) => return Some(j + 1),
            b'#' if j > i && is_blank(b[j - 1]) => return None,
            _ => j += 1,
        }
    }
    None
}

/// The position after the quoted scalar that starts at `i`, if it closes on this line.
fn quoted_end(b: &[u8], i: usize) -> Option<usize> {
    let quote = b[i];
    let mut j = i + 1;
    while j < b.len() {
        match b[j] {
            b'\\' if quote == b'"' => j += 2,
            c if c == quote => {
                if quote == b'\'' && b.get(j + 1) == Some(&b'\'') {
                    j += 2;
                } else {
                    return Some(j + 1);
                }
            }
            _ => j += 1,
        }
    }
    None
}

/// The position after the flow collection that starts at `i`, if it closes on this line. In flow
/// context a plain scalar cannot hold `,[]{}`, so brackets are counted outside quoted scalars,
/// which start where a node does: after `[`, `{`, `,`, a `:` indicator, or a quoted key's `:`.
fn flow_end(b: &[u8], i: usize) -> Option<usize> {
    let (mut depth, mut j) = (0usize, i);
    // Whether a node may start here, and whether a plain scalar is under way.
    let (mut at_node, mut in_plain) = (true, false);
    while j < b.len() {
        let c = b[j];
        match c {
            b'[' | b'{' => {
                depth += 1;
                (at_node, in_plain) = (true, false);
            }
            b']' | b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(j + 1);
                }
                (at_node, in_plain) = (false, false);
            }
            b',' => (at_node, in_plain) = (true, false),
            b'"' | b'\'' if !in_plain => {
                j = quoted_end(b, j)?;
                (at_node, in_plain) = (false, false);
                continue;
            }
            b':' if !in_plain
                || b.get(j + 1)
                    .is_none_or(|c| is_blank(*c) || b",[]{}".contains(c)) =>
            {
                (at_node, in_plain) = (true, false);
            }
            b'#' if j > 0 && is_blank(b[j - 1]) => return None,
            b'?' | b'-' if at_node && b.get(j + 1).is_none_or(|c| is_blank(*c)) => {}
            b'&' | b'!' if at_node => {
                while b
                    .get(j + 1)
                    .is_some_and(|c| !is_blank(*c) && !b",[]{}".contains(c))
                {
                    j += 1;
                }
            }
            _ if is_blank(c) => {}
            _ => (at_node, in_plain) = (false, true),
        }
        j += 1;
    }
    None
}

fn skip_blanks(b: &[u8], mut i: usize) -> usize {
    while b.get(i).is_some_and(|c| is_blank(*c)) {
        i += 1;
    }
    i
}

fn is_blank(c: u8) -> bool {
    c == b' ' || c == b'\t'
}

/// The words of `text`: runs of the characters Kubernetes names are made of, and `_`. All of
/// them are ASCII, so the text is cut byte by byte, and never inside a character.
fn words(text: &str) -> impl Iterator<Item = &str> {
    const WORD: [bool; 256] =
        byte_set(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._");
    let bytes = text.as_bytes();
    let mut at = 0;
    std::iter::from_fn(move || {
        let start = at + bytes[at..].iter().position(|b| WORD[usize::from(*b)])?;
        at = bytes[start..]
            .iter()
            .position(|b| !WORD[usize::from(*b)])
            .map_or(bytes.len(), |len| start + len);
        Some(&text[start..at])
    })
}

/// A table that says which bytes are in `members`.
const fn byte_set(members: &[u8]) -> [bool; 256] {
    let mut set = [false; 256];
    let mut i = 0;
    while i < members.len() {
        set[members[i] as usize] = true;
        i += 1;
    }
    set
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
        assert_eq!(
            words("ünï: x-1.é_2,llama-stack").collect::<Vec<_>>(),
            ["n", "x-1.", "_2", "llama-stack"]
        );
    }

    #[test]
    fn names_match_whole_words_of_any_length() {
        let names = Names::new(HashSet::from(["ca".to_string(), "llama-stack".to_string()]));
        assert!(names.contains("ca") && names.contains("llama-stack"));
        assert!(!names.contains("cb") && !names.contains("llama-stacK"));
        assert!(!names.contains("") && !names.contains(&"a".repeat(300)));
        assert!(!Names::new(HashSet::new()).contains("ca"));
    }

    #[test]
    fn files_named_after_a_managed_configmap_are_found() {
        let wanted = HashSet::from(["llama-stack-ca-bundle".to_string()]);
        let names = |word| names_managed_file(word, &wanted);
        assert!(names("llama-stack-ca-bundle.yaml"));
        assert!(names("llama-stack-ca-bundle-team-b-2.yaml"));
        assert!(names("Llama-Stack-CA-Bundle.YML"));
        assert!(!names("llama-stack-ca-bundle"));
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
        // Lines of indicators alone, at the end or not, and `? ` keys.
        let dashes = format!("{}-", "- ".repeat(40));
        assert!(must_read(&format!("- a:\n  {dashes}")));
        assert!(must_read(&format!("- a:\n  {dashes}\n")));
        assert!(must_read(&format!("- a:\n  {}x\n", "? ".repeat(40))));
        // Indentation and brackets that only together reach the limit.
        assert!(must_read(&format!(
            "- a:\n{}b: {}\n",
            " ".repeat(40),
            "[".repeat(30)
        )));
    }

    #[test]
    fn lines_that_open_a_string_or_collection_and_leave_it_open_are_found() {
        let open = [
            "    note: \"hello",
            "    note: 'it''s",
            "    note: [a,",
            "    note: {a: [1, 2], b:",
            "    note: &x !!str \"hello",
            "- \"hello",
            "- - 'hello",
            "  \"key\": \"value",
            "  'key':'value",
            "  [a, b]: \"value",
            "  note: [a, \"b]\"",
            "  note: [a, 'b',",
            "  note: [a b \"c\", \"d]",
            "  note: [a, # c]",
            "  note: \"a\" b",
            "  text: [!<a,b> \"see]",
            "  text: !<a b> \"see",
        ];
        let closed = [
            "  name: llama-stack",
            "    config.kubernetes.io/index: '0'",
            "  note: \"a\" # \"b",
            "  note: it's",
            "  note: say \"hi",
            "  note: a [b",
            "  note: a {b",
            "  note: [it's, a\"b]",
            "  note: {a: \"x]\", 'b': [1, {c: d}]} # [",
            "  note: |",
            "  \"key\": [a]",
            "  url: http://x/a'b",
            "  # \"hello",
        ];
        for line in open {
            assert!(
                leaves_open(line.as_bytes()),
                "{line:?} leaves something open"
            );
        }
        for line in closed {
            assert!(
                !leaves_open(line.as_bytes()),
                "{line:?} closes all it opens"
            );
        }
        assert!(must_read(
            "- a: 1\n  b: \"x\n- kind: LlamaStackDistribution\n"
        ));
        assert!(!must_read("- a: 1\n  b: \"x\"\n  c: [d]\n"));
    }
}
