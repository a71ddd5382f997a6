//! String keywords: `pattern` (the length limits are the shared `bound` rule).

use serde_json::Value;

use super::{Diff, Kind};

impl<'a> Diff<'a> {
    pub(super) fn pattern(&mut self, path: &str, o: &Value, u: &Value) {
        match (o.get("pattern"), u.get("pattern")) {
            (None, Some(_)) => self.add(Kind::PATTERN_ADDED, path),
            (Some(_), None) => self.add(Kind::PATTERN_REMOVED, path),
            (Some(a), Some(b)) if a != b => self.add(Kind::PATTERN_CHANGED, path),
            _ => {}
        }
    }
}
