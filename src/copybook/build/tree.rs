//! Flat entries → one tree per record, by level number; 88s and 66s attached where they belong.

use super::err;
use crate::copybook::parse::{Clause, Entry};
use crate::copybook::{Condition, ConditionValue, CopybookError};

/// An entry with its children and level-88 conditions, before layout.
pub struct Node {
    /// The entry itself.
    pub entry: Entry,
    /// Subordinate entries, in source order.
    pub children: Vec<Node>,
    /// Level-88 conditions on this entry.
    pub conditions: Vec<Condition>,
}

impl Node {
    fn new(entry: Entry) -> Self {
        Node { entry, children: Vec::new(), conditions: Vec::new() }
    }
}

/// A record's tree and its level-66 entries.
pub type RecordTree = (Node, Vec<Entry>);

/// Nests entries. Items before any 01 go into one record: the single top item if there is
/// one, else a level-01 group named `stem` (the file name without extension).
pub fn nest(entries: Vec<Entry>, stem: &str) -> Result<Vec<RecordTree>, CopybookError> {
    let mut out = Vec::new();
    let mut stack: Vec<Node> = Vec::new();
    let mut renames = Vec::new();
    for e in entries {
        match e.level {
            88 => {
                let Some(top) = stack.last_mut().filter(|n| n.entry.level != 0) else {
                    return Err(err(&e, "a level-88 condition must follow a data item"));
                };
                top.conditions.push(condition(e)?);
            }
            66 => {
                if stack.is_empty() {
                    return Err(err(&e, "a level-66 RENAMES must follow a record's items"));
                }
                renames.push(e);
            }
            1 | 77 => {
                finish(&mut stack, &mut renames, &mut out);
                stack.push(Node::new(e));
            }
            level => {
                if stack.first().is_some_and(|r| r.entry.level == 77) {
                    finish(&mut stack, &mut renames, &mut out);
                }
                if stack.is_empty() {
                    let synthetic = Entry {
                        level: 0,
                        name: Some(stem.to_string()),
                        pos: e.pos,
                        file: e.file.clone(),
                        clauses: Vec::new(),
                    };
                    stack.push(Node::new(synthetic));
                }
                while stack.len() > 1 && stack.last().is_some_and(|n| n.entry.level >= level) {
                    close_top(&mut stack);
                }
                stack.push(Node::new(e));
            }
        }
    }
    finish(&mut stack, &mut renames, &mut out);
    Ok(out)
}

fn close_top(stack: &mut Vec<Node>) {
    if let Some(child) = stack.pop() {
        if let Some(parent) = stack.last_mut() {
            parent.children.push(child);
        }
    }
}

fn finish(stack: &mut Vec<Node>, renames: &mut Vec<Entry>, out: &mut Vec<RecordTree>) {
    while stack.len() > 1 {
        close_top(stack);
    }
    let Some(mut root) = stack.pop() else { return };
    if root.entry.level == 0 {
        if root.children.len() == 1 {
            if let Some(only) = root.children.pop() {
                root = only;
            }
        } else {
            root.entry.level = 1;
        }
    }
    out.push((root, std::mem::take(renames)));
}

fn condition(e: Entry) -> Result<Condition, CopybookError> {
    let name = e.name.clone().ok_or_else(|| err(&e, "a level-88 condition needs a name"))?;
    let values: Vec<ConditionValue> = e
        .clauses
        .iter()
        .filter_map(|c| if let Clause::Values(v) = c { Some(v.clone()) } else { None })
        .flatten()
        .collect();
    if values.is_empty() {
        return Err(err(&e, format!("level-88 {name} needs a VALUE clause")));
    }
    Ok(Condition { name, values })
}
