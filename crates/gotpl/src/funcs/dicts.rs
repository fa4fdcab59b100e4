//! Template functions: the `dicts` family.

use super::FuncMap;

pub(crate) fn register(map: &mut FuncMap) {
    let _ = map;
}
