//! Template functions: the `urls` family.

use super::FuncMap;

pub(crate) fn register(map: &mut FuncMap) {
    let _ = map;
}
