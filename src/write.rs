//! Writes the output `ResourceList`: untouched items as the text they came in, changed and new
//! items as block YAML, then the results.

use crate::list::ResourceList;
use crate::results::{self, KrmResult};
use crate::yaml::{Node, Value, emit_block};

/// One item of the output list.
pub enum Out<'a> {
    /// Input item `i`, unchanged.
    Keep(usize),
    /// Input item `i`, replaced by this node.
    Replace(usize, Node<'a>),
    /// A new item.
    Add(Node<'a>),
}

/// The output text. Block-style input is copied and only changed items are re-written; other
/// input (JSON, flow style) is re-written as a whole in block style.
pub fn write(list: &ResourceList<'_>, outs: &[Out<'_>], results: &[KrmResult]) -> String {
    let mut out = String::with_capacity(list.text.len() + 4096);
    match &list.layout {
        Some(layout) => {
            let text = list.text;
            out.push_str(&text[..layout.keys[0].1]);
            for (i, (key, _)) in layout.keys.iter().enumerate() {
                let span = layout.key_span(i);
                match key.as_str() {
                    "results" => {}
                    "items" => {
                        out.push_str(&text[span.start..layout.entries[0].line]);
                        for item in outs {
                            match item {
                                Out::Keep(i) => out.push_str(&text[layout.entry_span(*i)]),
                                Out::Replace(i, node) => {
                                    let entry = layout.entries[*i];
                                    out.push_str(&text[entry.line..entry.body]);
                                    emit_block(&mut out, node, entry.column);
                                    let span = layout.entry_span(*i);
                                    out.push_str(trailing_comments(
                                        text,
                                        &list.items()[*i],
                                        span.end,
                                    ));
                                }
                                Out::Add(node) => {
                                    out.extend(std::iter::repeat_n(' ', layout.dash_column));
                                    out.push_str("- ");
                                    emit_block(&mut out, node, layout.dash_column + 2);
                                }
                            }
                        }
                    }
                    _ => out.push_str(&text[span]),
                }
            }
            if !out.ends_with('\n') {
                out.push('\n');
            }
            write_results(&mut out, results);
            out.push_str(&text[layout.end..]);
        }
        None => {
            let mut root = list.root.clone();
            if let Some(entries) = root.as_map_mut() {
                entries.retain(|(k, _)| k.as_str() != Some("results"));
            }
            let items = outs
                .iter()
                .map(|item| match item {
                    Out::Keep(i) => list.items()[*i].clone(),
                    Out::Replace(_, node) | Out::Add(node) => node.clone(),
                })
                .collect();
            root.set("items", Node::seq(items));
            root.forget_quoting();
            emit_block(&mut out, &root, 0);
            write_results(&mut out, results);
        }
    }
    out
}

/// The comment and blank lines between an item's last value and the next item. They belong to no
/// item, so a rewritten item must not take them away.
fn trailing_comments<'t>(text: &'t str, item: &Node<'_>, span_end: usize) -> &'t str {
    let after_value = text[content_end(item)..span_end]
        .find('\n')
        .map_or(span_end, |n| content_end(item) + n + 1);
    let mut start = span_end;
    for line in text[after_value..span_end].split_inclusive('\n').rev() {
        let trimmed = line.trim_start();
        if !(trimmed.is_empty() || trimmed.starts_with('#')) {
            break;
        }
        start -= line.len();
    }
    &text[start..span_end]
}

/// Where the last value of a node ends. A block collection's own end lies at the next token,
/// past any comments that follow it, so it is found through its last child.
fn content_end(node: &Node<'_>) -> usize {
    let last_child = match &node.value {
        Value::Seq(items) if !node.flow => items.last(),
        Value::Map(entries) if !node.flow => entries.last().map(|(_, v)| v),
        _ => None,
    };
    last_child.map_or(node.end, content_end)
}

fn write_results(out: &mut String, results: &[KrmResult]) {
    if results.is_empty() {
        return;
    }
    out.push_str("results:\n");
    emit_block(out, &results::to_node(results), 0);
}
