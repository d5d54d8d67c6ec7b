//! Writes the output `ResourceList`: untouched items as the text they came in, changed and new
//! items as block YAML, then the results.

use crate::list::{Layout, ResourceList};
use crate::results::{self, KrmResult};
use crate::yaml::{Node, Value, emit_block};
use std::io::{self, Write};

/// One item of the output list. Nodes are boxed: most entries are `Keep`, and a list of
/// thousands should not carry a tree's size for each.
pub enum Out<'a> {
    /// Input item `i`, unchanged.
    Keep(usize),
    /// Input item `i`, replaced by this node.
    Replace(usize, Box<Node<'a>>),
    /// A new item.
    Add(Box<Node<'a>>),
}

/// Write the output list to `sink`. Block-style input is copied and only changed items are
/// re-written; other input (JSON, flow style) is re-written as a whole in block style. Copied text
/// goes straight to the sink, so the output is never held in memory beside the input.
pub fn write(
    list: &ResourceList<'_>,
    outs: &[Out<'_>],
    results: &[KrmResult],
    sink: &mut impl Write,
) -> io::Result<()> {
    let mut out = Sink::new(sink);
    match &list.layout {
        Some(layout) => {
            let text = list.text;
            out.text(&text[..layout.keys[0].1])?;
            for (i, (key, _)) in layout.keys.iter().enumerate() {
                let span = layout.key_span(i);
                match key.as_str() {
                    "results" => {}
                    "items" => {
                        out.text(&text[span.start..layout.entries[0].line])?;
                        write_items(&mut out, list, layout, outs)?;
                    }
                    _ => out.text(&text[span])?,
                }
            }
            out.end_line()?;
            write_results(&mut out, results)?;
            out.text(&text[layout.end..])?;
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
                    Out::Replace(_, node) | Out::Add(node) => (**node).clone(),
                })
                .collect();
            root.set("items", Node::seq(items));
            root.forget_quoting();
            out.node(&root, 0)?;
            write_results(&mut out, results)?;
        }
    }
    out.sink.flush()
}

/// The entries of `items`, from block-style input: kept items as their text, the rest emitted.
fn write_items(
    out: &mut Sink<'_, impl Write>,
    list: &ResourceList<'_>,
    layout: &Layout,
    outs: &[Out<'_>],
) -> io::Result<()> {
    let text = list.text;
    // Kept items that follow each other in the input are one slice of it, written at once: most
    // of a package is such runs, and a `BufWriter` sink passes a write larger than its buffer
    // straight through.
    let mut kept = 0..0;
    for item in outs {
        match item {
            Out::Keep(i) => {
                let span = layout.entry_span(*i);
                if kept.end != span.start {
                    out.text(&text[kept])?;
                    kept = span.start..span.start;
                }
                kept.end = span.end;
            }
            Out::Replace(i, node) => {
                out.text(&text[std::mem::take(&mut kept)])?;
                let entry = layout.entries[*i];
                out.text(&text[entry.line..entry.body])?;
                out.node(node, entry.column)?;
                let span = layout.entry_span(*i);
                out.text(trailing_comments(text, &list.items()[*i], span.end))?;
            }
            Out::Add(node) => {
                out.text(&text[std::mem::take(&mut kept)])?;
                // After the input's last item, the input may end without a line break.
                out.end_line()?;
                out.text(&" ".repeat(layout.dash_column))?;
                out.text("- ")?;
                out.node(node, layout.dash_column + 2)?;
            }
        }
    }
    out.text(&text[kept])
}

/// The sink, and a buffer that emitted nodes are built in before they go to it.
struct Sink<'w, W: Write> {
    sink: &'w mut W,
    scratch: String,
    /// Whether what was written last ends a line (or nothing was written yet).
    at_line_start: bool,
}

impl<'w, W: Write> Sink<'w, W> {
    fn new(sink: &'w mut W) -> Self {
        Sink {
            sink,
            scratch: String::new(),
            at_line_start: true,
        }
    }

    fn text(&mut self, text: &str) -> io::Result<()> {
        if let Some(last) = text.bytes().last() {
            self.at_line_start = last == b'\n';
        }
        self.sink.write_all(text.as_bytes())
    }

    /// End the line written last, unless it is ended.
    fn end_line(&mut self) -> io::Result<()> {
        if self.at_line_start {
            return Ok(());
        }
        self.text("\n")
    }

    /// Emit `node` as block YAML at column `indent` (see [`emit_block`]).
    fn node(&mut self, node: &Node<'_>, indent: usize) -> io::Result<()> {
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        emit_block(&mut scratch, node, indent);
        let written = self.text(&scratch);
        self.scratch = scratch;
        written
    }
}

/// The comment and blank lines between an item's last value and the next item. They belong to no
/// item, so a rewritten item must not take them away.
fn trailing_comments<'t>(text: &'t str, item: &Node<'_>, span_end: usize) -> &'t str {
    // A block scalar that ends an item can be reported as ending inside the next item's first
    // line (past the spaces of a list indented under `items:`); the item ends where its span does.
    let end = content_end(item).min(span_end);
    // A block scalar ends at the start of the line after its last one; other values mid-line.
    let after_value = if text[..end].ends_with('\n') {
        end
    } else {
        text[end..span_end]
            .find('\n')
            .map_or(span_end, |n| end + n + 1)
    };
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

fn write_results(out: &mut Sink<'_, impl Write>, results: &[KrmResult]) -> io::Result<()> {
    if results.is_empty() {
        return Ok(());
    }
    out.text("results:\n")?;
    for result in results::to_nodes(results) {
        out.text("- ")?;
        out.node(&result, 2)?;
    }
    Ok(())
}
