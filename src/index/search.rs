//! Searching an index's package summaries: the one rule `search`, the server's API and its web
//! page share. Pure.

use super::format::PackageSummary;

/// Packages matching a search: every word of `q` must appear in the name, description or
/// keywords (case-insensitive); `category` must match exactly when given (an empty one matches
/// all). An exact name match comes first, then names containing a word, then the rest; by name
/// within each.
pub fn search<'a>(
    packages: &'a [PackageSummary],
    q: &str,
    category: Option<&str>,
) -> Vec<&'a PackageSummary> {
    let words: Vec<String> = q.split_whitespace().map(str::to_lowercase).collect();
    let mut hits: Vec<(u8, &PackageSummary)> = packages
        .iter()
        .filter(|p| category.is_none_or(|c| c.is_empty() || p.category.as_deref() == Some(c)))
        .filter_map(|p| {
            let name = p.name.to_lowercase();
            let hay = format!(
                "{name} {} {}",
                p.description.to_lowercase(),
                p.keywords.join(" ").to_lowercase()
            );
            if !words.iter().all(|w| hay.contains(w.as_str())) {
                return None;
            }
            let rank = if words.contains(&name) {
                0
            } else if words.iter().any(|w| name.contains(w.as_str())) {
                1
            } else {
                2
            };
            Some((rank, p))
        })
        .collect();
    hits.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.name.cmp(&b.1.name)));
    hits.into_iter().map(|(_, p)| p).collect()
}
