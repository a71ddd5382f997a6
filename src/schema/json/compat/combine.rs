//! Combined schemas (`allOf`, `anyOf`, `oneOf`, lists of types): the criteria compared and
//! the branches of the two sides paired, each original branch with an update branch that
//! accepts it.

use super::reference::Node;
use super::shape::{Criterion, Part};
use super::{Diff, Kind};

impl<'a> Diff<'a> {
    pub(super) fn combined(
        &mut self,
        path: &str,
        (co, po, o): (Criterion, Vec<Part<'a>>, Node<'a>),
        (cu, pu, u): (Criterion, Vec<Part<'a>>, Node<'a>),
        depth: usize,
    ) {
        if co != cu {
            let extended = cu == Criterion::Any || po.len() == 1;
            self.add(if extended { Kind::COMBINED_TYPE_EXTENDED } else { Kind::COMBINED_TYPE_CHANGED }, path);
        }
        let all = co == Criterion::All && cu == Criterion::All;
        if po.len() < pu.len() {
            self.add(if all { Kind::PRODUCT_TYPE_EXTENDED } else { Kind::SUM_TYPE_EXTENDED }, path);
        } else if po.len() > pu.len() {
            self.add(if all { Kind::PRODUCT_TYPE_NARROWED } else { Kind::SUM_TYPE_NARROWED }, path);
        }
        // Pair branches: each original branch (any/one) must be read by an update branch;
        // with all-of, each update branch must cover an original one.
        let mut ok = vec![vec![false; pu.len()]; po.len()];
        for (i, p) in po.iter().enumerate() {
            for (j, q) in pu.iter().enumerate() {
                let (on, ot) = part_node(o, p);
                let (un, ut) = part_node(u, q);
                ok[i][j] = self.part_compatible(on, ot, un, ut, depth + 1);
            }
        }
        let matched = max_matching(&ok, po.len(), pu.len());
        if matched < po.len().min(pu.len()) {
            self.add(Kind::COMBINED_TYPE_SUBSCHEMAS_CHANGED, path);
        }
    }
}

pub(super) fn part_node<'a>(n: Node<'a>, p: &Part<'a>) -> (Node<'a>, Option<&'a str>) {
    match p {
        Part::Schema(v) => (Node { v, doc: n.doc }, None),
        Part::Typed(v, t) => (Node { v, doc: n.doc }, Some(t)),
    }
}

/// Size of a maximum bipartite matching over `ok[i][j]` (Kuhn's algorithm).
fn max_matching(ok: &[Vec<bool>], n: usize, m: usize) -> usize {
    fn augment(i: usize, ok: &[Vec<bool>], seen: &mut [bool], owner: &mut [Option<usize>]) -> bool {
        for j in 0..owner.len() {
            if ok[i][j] && !seen[j] {
                seen[j] = true;
                if owner[j].is_none_or(|k| augment(k, ok, seen, owner)) {
                    owner[j] = Some(i);
                    return true;
                }
            }
        }
        false
    }
    let mut owner = vec![None; m];
    (0..n).filter(|&i| augment(i, ok, &mut vec![false; m], &mut owner)).count()
}
