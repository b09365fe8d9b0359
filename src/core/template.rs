//! Url templates: `{id}` in `fileUrl`, `projectUrl` and `eventsUrl` is where
//! a job's id goes. Searched as bytes: std's substring search (`contains`,
//! `replacen`, its two-way searcher) cost 1.1 KB gzipped of the `.wasm`.

const ID: &[u8] = b"{id}";

/// Where the first `{id}` starts (a char boundary: `{` is ASCII).
fn find(template: &str) -> Option<usize> {
    template.as_bytes().windows(ID.len()).position(|w| w == ID)
}

/// Whether `template` has an `{id}` to fill.
pub fn has_id(template: &str) -> bool {
    find(template).is_some()
}

/// `template` with its first `{id}` replaced by `id`, as
/// `template.replacen("{id}", id, 1)`: one without `{id}` comes back as it
/// is.
pub fn fill(template: &str, id: &str) -> String {
    let parts =
        find(template).and_then(|at| Some((template.get(..at)?, template.get(at + ID.len()..)?)));
    match parts {
        Some((head, tail)) => [head, id, tail].concat(),
        None => template.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_the_first_id_only() {
        assert_eq!(fill("/api/file/{id}", "42"), "/api/file/42");
        assert_eq!(fill("{id}", "a"), "a");
        assert_eq!(fill("/{id}/x/{id}", "a"), "/a/x/{id}");
        assert_eq!(fill("/{id}", "{id}"), "/{id}", "the id is not searched");
        assert_eq!(fill("/é{id}ü", "ß"), "/éßü");
        assert_eq!(fill("/api/{i}d", "a"), "/api/{i}d", "nothing to fill");
        assert_eq!(fill("", "a"), "");
        for (t, id) in [
            ("{{id}}", "x"),
            ("a{id", "x"),
            ("{id}{id}", "yz"),
            ("😀{id}😀", "ä"),
        ] {
            assert_eq!(fill(t, id), t.replacen("{id}", id, 1), "{t}");
        }
    }

    #[test]
    fn finds_an_id() {
        assert!(has_id("/api/events/file.{id}"));
        assert!(has_id("{id}"));
        assert!(has_id("é{id}"));
        assert!(!has_id(""));
        assert!(!has_id("{id"));
        assert!(!has_id("{ id}"));
        assert!(!has_id("/api/file/ID"));
    }
}
