//! The architecture as tests: pure modules do no IO and never reach up into `ops` or `cli`, and
//! the modules do not depend on each other in cycles (docs/architecture.md).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::support::root;

/// Modules that must stay pure: data in, data out.
const PURE: &[&str] = &[
    "archive",
    "chart",
    "crd",
    "docs",
    "drift",
    "helm_release",
    "index/format",
    "index/select",
    "index/search",
    "lint",
    "model",
    "package",
    "plan",
    "policy",
    "release",
    "render",
    "status",
    "values",
    "yaml",
];

/// What a pure module may not name: IO, the clock, the network, processes, the environment,
/// and the layers above it.
const FORBIDDEN_IN_PURE: &[&str] = &[
    "std::fs",
    "std::net",
    "std::process",
    "std::env",
    "tokio",
    "reqwest",
    "SystemTime",
    "Instant::now",
    "time::now(",
    "crate::ops",
    "crate::cli",
    "crate::server",
    "crate::repo",
    "crate::targets",
];

/// A module's source files (a file module, or every file of a directory module).
fn files_of(src: &Path, module: &str) -> Vec<PathBuf> {
    let file = src.join(format!("{module}.rs"));
    if file.is_file() {
        return vec![file];
    }
    let mut out = Vec::new();
    collect(&src.join(module), &mut out);
    out
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            collect(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// The file's code without its `#[cfg(test)]` module and without comments.
fn code_of(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => &text[..i],
        None => &text[..],
    };
    text.lines()
        .filter(|l| {
            let t = l.trim_start();
            !t.starts_with("//")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every use of IO or of an upper layer in the pure modules under `src`.
fn impurities(src: &Path, pure: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for module in pure {
        let files = files_of(src, module);
        assert!(!files.is_empty(), "no source for pure module {module}");
        for f in files {
            let code = code_of(&f);
            for bad in FORBIDDEN_IN_PURE {
                if code.contains(bad) {
                    found.push(format!(
                        "{} uses `{bad}`",
                        f.strip_prefix(src).unwrap().display()
                    ));
                }
            }
        }
    }
    found
}

#[test]
fn pure_modules_do_no_io_and_do_not_reach_up() {
    let found = impurities(&root().join("src"), PURE);
    assert!(
        found.is_empty(),
        "pure modules must take data and return data:\n{}",
        found.join("\n")
    );
}

/// The unit a source file belongs to for the dependency graph: the top-level module, except
/// that each file under `ops/` and `cli/commands/` is its own unit (one verb per file).
fn unit_of(rel: &str) -> String {
    let rel = rel.trim_end_matches(".rs");
    let parts: Vec<&str> = rel.split('/').collect();
    match parts.as_slice() {
        ["ops", verb, ..] if *verb != "mod" => format!("ops::{verb}"),
        ["cli", "commands", verb, ..] if *verb != "mod" => format!("cli::commands::{verb}"),
        [top, ..] => top.to_string(),
        [] => String::new(),
    }
}

/// Which units a file refers to (`crate::x::y`, `super::y` inside `ops`/`cli::commands`).
fn references(unit: &str, code: &str, units: &BTreeSet<String>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut add = |path: &str| {
        // Longest unit that prefixes the path.
        let segs: Vec<&str> = path.split("::").collect();
        for n in (1..=segs.len().min(3)).rev() {
            let cand = segs[..n].join("::");
            if units.contains(&cand) {
                if cand != unit {
                    out.insert(cand);
                }
                return;
            }
        }
    };
    for (i, _) in code.match_indices("crate::") {
        let rest = &code[i + "crate::".len()..];
        let path: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
            .collect();
        add(path.trim_end_matches(':'));
        // `use crate::{a, b::c}` groups.
        if let Some(group) = rest.strip_prefix('{') {
            let group: String = group.chars().take_while(|c| *c != '}').collect();
            for item in group.split(',') {
                add(item.trim());
            }
        }
    }
    let parent = unit.rsplit_once("::").map(|(p, _)| p.to_string());
    if let Some(parent) = parent {
        for (i, _) in code.match_indices("super::") {
            let rest = &code[i + "super::".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            add(&format!("{parent}::{name}"));
            if let Some(group) = rest.strip_prefix('{') {
                let group: String = group.chars().take_while(|c| *c != '}').collect();
                for item in group.split(',') {
                    let name: String = item
                        .trim()
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    add(&format!("{parent}::{name}"));
                }
            }
        }
    }
    out
}

/// A dependency cycle among the modules under `src`, or a module below `cli` importing it.
fn cycle_or_upward_import(src: &Path) -> Option<String> {
    let mut files = Vec::new();
    collect(src, &mut files);
    let rel = |p: &Path| {
        p.strip_prefix(src)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/")
    };
    let units: BTreeSet<String> = files
        .iter()
        .map(|f| unit_of(&rel(f)))
        .filter(|u| !u.is_empty() && u != "lib" && u != "main")
        .collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in &files {
        let unit = unit_of(&rel(f));
        if !units.contains(&unit) {
            continue;
        }
        let refs = references(&unit, &code_of(f), &units);
        graph.entry(unit).or_default().extend(refs);
    }
    // Nothing outside `cli` may depend on `cli`; the library layers never reach the commands.
    for (unit, deps) in &graph {
        if !unit.starts_with("cli")
            && let Some(d) = deps.iter().find(|d| d.starts_with("cli"))
        {
            return Some(format!("{unit} depends on {d}: nothing imports cli"));
        }
    }
    // Find a cycle with a depth-first search.
    fn visit(
        n: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        match state.get(n) {
            Some(1) => {
                let start = stack.iter().position(|s| s == n).unwrap_or(0);
                let mut cycle = stack[start..].to_vec();
                cycle.push(n.to_string());
                return Some(cycle);
            }
            Some(_) => return None,
            None => {}
        }
        state.insert(n.to_string(), 1);
        stack.push(n.to_string());
        for d in graph.get(n).into_iter().flatten() {
            if let Some(c) = visit(d, graph, state, stack) {
                return Some(c);
            }
        }
        stack.pop();
        state.insert(n.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for n in graph.keys() {
        let mut stack = Vec::new();
        if let Some(cycle) = visit(n, &graph, &mut state, &mut stack) {
            return Some(format!("dependency cycle: {}", cycle.join(" -> ")));
        }
    }
    None
}

#[test]
fn modules_have_no_dependency_cycles() {
    if let Some(problem) = cycle_or_upward_import(&root().join("src")) {
        panic!("{problem}");
    }
}

/// The checks above can fail: a tree with a cycle, an upward import and IO in a pure module.
#[test]
fn the_architecture_checks_catch_violations() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path();
    let write = |rel: &str, text: &str| {
        let p = src.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    write("lib.rs", "pub mod a;\npub mod b;\n");
    write("a.rs", "use crate::b::thing;\n");
    write("b.rs", "pub fn thing() { crate::a::x(); }\n");
    let found = cycle_or_upward_import(src).unwrap();
    assert!(found.contains("dependency cycle"), "{found}");

    write("b.rs", "pub fn thing() {}\n");
    assert_eq!(cycle_or_upward_import(src), None);
    write("cli/mod.rs", "pub mod exit {}\n");
    write(
        "ops/deploy.rs",
        "use super::settle;\nuse crate::cli::exit;\n",
    );
    let found = cycle_or_upward_import(src).unwrap();
    assert!(found.contains("nothing imports cli"), "{found}");

    write(
        "values.rs",
        "fn read() { std::fs::read(\"x\"); }\n#[cfg(test)]\nmod tests { use std::fs; }\n",
    );
    write("plan.rs", "// std::fs in a comment is fine\nfn plan() {}\n");
    assert_eq!(
        impurities(src, &["values", "plan"]),
        ["values.rs uses `std::fs`"]
    );
}
