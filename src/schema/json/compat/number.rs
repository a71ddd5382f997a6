//! Numeric keywords: the lower and upper limits (inclusive or exclusive, in either draft's
//! spelling) and `multipleOf`.

use serde_json::Value;

use super::{Diff, Kind};

impl<'a> Diff<'a> {
    /// Lower and upper limits, each taken as (value, exclusive) whichever way it is
    /// written: `minimum` + boolean `exclusiveMinimum` (draft 4) or numeric `exclusiveMinimum`.
    pub(super) fn numbers(&mut self, path: &str, o: &Value, u: &Value) {
        use Kind::*;
        for upper in [false, true] {
            let (a, b) = (limit(o, upper), limit(u, upper));
            let plain = if upper {
                [MAXIMUM_ADDED, MAXIMUM_REMOVED, MAXIMUM_INCREASED, MAXIMUM_DECREASED]
            } else {
                [MINIMUM_ADDED, MINIMUM_REMOVED, MINIMUM_INCREASED, MINIMUM_DECREASED]
            };
            let exclusive = if upper {
                [
                    EXCLUSIVE_MAXIMUM_ADDED,
                    EXCLUSIVE_MAXIMUM_REMOVED,
                    EXCLUSIVE_MAXIMUM_INCREASED,
                    EXCLUSIVE_MAXIMUM_DECREASED,
                ]
            } else {
                [
                    EXCLUSIVE_MINIMUM_ADDED,
                    EXCLUSIVE_MINIMUM_REMOVED,
                    EXCLUSIVE_MINIMUM_INCREASED,
                    EXCLUSIVE_MINIMUM_DECREASED,
                ]
            };
            let kinds = |ex: bool| if ex { exclusive } else { plain };
            let kind = match (a, b) {
                (None, None) => continue,
                (None, Some((_, ex))) => kinds(ex)[0],
                (Some((_, ex)), None) => kinds(ex)[1],
                (Some((x, ex)), Some((y, ey))) => {
                    if x == y && ex == ey {
                        continue;
                    }
                    // Relaxed: the limit moves outwards, or stays and stops being exclusive.
                    let outwards = if upper { y > x } else { y < x };
                    let relaxed = outwards || (x == y && ex && !ey);
                    let grew = if relaxed == upper { 2 } else { 3 };
                    kinds(ey)[grew]
                }
            };
            self.add(kind, path);
        }
        let (a, b) = (o.get("multipleOf").and_then(Value::as_f64), u.get("multipleOf").and_then(Value::as_f64));
        let kind = match (a, b) {
            (None, Some(_)) => Kind::MULTIPLE_OF_ADDED,
            (Some(_), None) => Kind::MULTIPLE_OF_REMOVED,
            (Some(x), Some(y)) if x != y => {
                if y != 0.0 && (x / y).fract() == 0.0 {
                    Kind::MULTIPLE_OF_REDUCED
                } else if x != 0.0 && (y / x).fract() == 0.0 {
                    Kind::MULTIPLE_OF_EXPANDED
                } else {
                    Kind::MULTIPLE_OF_CHANGED
                }
            }
            _ => return,
        };
        self.add(kind, path);
    }
}

/// A numeric schema's lower (or upper) limit as (value, exclusive), the stricter one when
/// both `minimum` and a numeric `exclusiveMinimum` are given.
fn limit(v: &Value, upper: bool) -> Option<(f64, bool)> {
    let (inclusive, exclusive) = if upper { ("maximum", "exclusiveMaximum") } else { ("minimum", "exclusiveMinimum") };
    let plain = v.get(inclusive).and_then(Value::as_f64);
    match v.get(exclusive) {
        Some(Value::Bool(true)) => plain.map(|x| (x, true)),
        Some(e) => match (plain, e.as_f64()) {
            (Some(p), Some(x)) => {
                let stricter = if upper { x <= p } else { x >= p };
                Some(if stricter { (x, true) } else { (p, false) })
            }
            (None, Some(x)) => Some((x, true)),
            (p, None) => p.map(|x| (x, false)),
        },
        None => plain.map(|x| (x, false)),
    }
}
