//! The crate's layout, as issue 20 asks it to stay: no import circle
//! between modules, a core that holds no web types, and no file over 500
//! lines. Read from the sources, so a change that
//! breaks one of these fails here, not in a review.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("src is readable") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `src/core/sharing/roles.rs` → `core::sharing::roles`; `mod.rs` and
/// `lib.rs` name their folder.
fn module_of(root: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(root).expect("under src");
    let mut parts: Vec<String> = rel
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts.join("::")
}

/// The code of a file without its `#[cfg(test)]` module (tests may use
/// anything) and without comments.
fn code(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(at) => &text[..at],
        None => text,
    };
    text.lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every module a file names through `crate::` or `super::` paths.
fn deps(me: &str, text: &str, modules: &BTreeSet<String>) -> BTreeSet<String> {
    // `super::` is the module's parent, whether the module is a file or a
    // folder's `mod.rs`.
    let mut parent: Vec<&str> = me.split("::").collect();
    parent.pop();
    let mut out = BTreeSet::new();
    let bytes = text.as_bytes();
    for (root, len) in [("crate::", 7), ("super::", 7)] {
        let mut from = 0;
        while let Some(at) = text[from..].find(root) {
            let start = from + at + len;
            from = start;
            let before = text[..from - len].chars().next_back();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            let end = (start..bytes.len())
                .find(|&i| {
                    !(bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_' || bytes[i] == b':')
                })
                .unwrap_or(bytes.len());
            let path: Vec<&str> = text[start..end]
                .split("::")
                .filter(|s| !s.is_empty())
                .collect();
            let mut base: Vec<&str> = if root == "crate::" {
                vec![]
            } else {
                parent.clone()
            };
            base.extend(path);
            for k in (1..=base.len()).rev() {
                let cand = base[..k].join("::");
                if modules.contains(&cand) {
                    if cand != me {
                        out.insert(cand);
                    }
                    break;
                }
            }
        }
    }
    out
}

struct Crate {
    /// Module → (file, code).
    files: BTreeMap<String, (PathBuf, String)>,
}

fn read() -> Crate {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut list = Vec::new();
    sources(&root, &mut list);
    let files = list
        .into_iter()
        .map(|f| {
            let text = fs::read_to_string(&f).expect("readable");
            (module_of(&root, &f), (f, text))
        })
        .collect();
    Crate { files }
}

#[test]
fn no_module_imports_one_that_imports_it_back() {
    let c = read();
    let modules: BTreeSet<String> = c.files.keys().cloned().collect();
    let graph: BTreeMap<&str, BTreeSet<String>> = c
        .files
        .iter()
        .map(|(m, (_, text))| (m.as_str(), deps(m, &code(text), &modules)))
        .collect();
    // A folder's `mod.rs` re-exports its children: that edge is the
    // folder's, not a circle.
    let child_of = |a: &str, b: &str| a.starts_with(&format!("{b}::")) || b.is_empty();
    fn walk<'a>(
        g: &'a BTreeMap<&str, BTreeSet<String>>,
        at: &'a str,
        path: &mut Vec<&'a str>,
        bad: &mut Vec<String>,
        child_of: &dyn Fn(&str, &str) -> bool,
    ) {
        for next in g.get(at).into_iter().flatten() {
            if child_of(at, next) {
                continue;
            }
            if let Some(i) = path.iter().position(|p| p == next) {
                bad.push(format!("{} -> {next}", path[i..].join(" -> ")));
            } else if path.len() < 12 {
                path.push(next);
                walk(g, next, path, bad, child_of);
                path.pop();
            }
        }
    }
    let mut bad = Vec::new();
    for m in graph.keys() {
        walk(&graph, m, &mut vec![m], &mut bad, &child_of);
    }
    assert!(bad.is_empty(), "import circles:\n{}", bad.join("\n"));
    // The reader sees edges at all (a broken reader would pass vacuously).
    assert!(graph["core::table"].contains("core::gate"));
    assert!(graph["core::sharing::roles"].contains("core::sharing::words"));
    assert!(graph["web::sharing"].contains("web::manager"));
}

#[test]
fn the_core_holds_no_web_types() {
    let c = read();
    for (m, (f, text)) in &c.files {
        if !m.starts_with("core") {
            continue;
        }
        for web in [
            "wasm_bindgen",
            "js_sys",
            "web_sys",
            "gloo_timers",
            "crate::web",
        ] {
            assert!(
                !code(text).contains(web),
                "{} names {web}: the core decides, the web layer executes",
                f.display()
            );
        }
    }
}

#[test]
fn no_file_is_over_500_lines() {
    // Issue 20 asks it of the browser layer; the core keeps to it too (a
    // file past it is usually two things).
    let c = read();
    let web = c.files.keys().filter(|m| m.starts_with("web")).count();
    assert!(web > 10, "the browser layer's files are found");
    for (f, text) in c.files.values() {
        let lines = text.lines().count();
        assert!(lines <= 500, "{} has {lines} lines", f.display());
    }
}

#[test]
fn no_hooks_file_is_over_500_lines() {
    // The React hooks (`smart-polling/react`) keep to the same rule: one
    // thing per file, bundled into one module by scripts/package.mjs.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("react");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("react/") {
        let path = entry.expect("an entry of react/").path();
        if path.extension().is_some_and(|e| e == "ts") {
            let text = std::fs::read_to_string(&path).expect("readable");
            let lines = text.lines().count();
            assert!(lines <= 500, "{} has {lines} lines", path.display());
            seen += 1;
        }
    }
    assert!(seen >= 2, "the hooks' files are found in {}", dir.display());
}
