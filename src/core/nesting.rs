//! How deep a JSON text nests, counted on its bytes before it is parsed.
//! serde-wasm-bindgen formats a value of an unexpected type with the glue's
//! `debugString`, which recurses through arrays and objects with no bound:
//! an answer, a stream message or a stored entry nested a hundred thousand
//! deep would overflow the stack through the module. No record is nested
//! anywhere near [`MAX_NESTING`].

/// The deepest nesting read; deeper text is unreadable.
pub const MAX_NESTING: usize = 256;

/// Whether `raw` nests at most `max` arrays and objects deep (brackets
/// inside strings do not count).
pub fn within(raw: &str, max: usize) -> bool {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &b in raw.as_bytes() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return false;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_brackets_outside_strings() {
        let within = |raw: &str| within(raw, MAX_NESTING);
        assert!(within(r#"{"url":"x","tasks":[{"status":"done"}]}"#));
        let deep = |n: usize| "[".repeat(n) + &"]".repeat(n);
        assert!(within(&deep(MAX_NESTING)));
        assert!(!within(&deep(MAX_NESTING + 1)));
        assert!(!within(&deep(200_000)));
        // In a string, with escaped quotes, brackets are text.
        let text = format!(r#"{{"a":"\"{}"}}"#, "[".repeat(10_000));
        assert!(within(&text));
        assert!(within("not json at all"));
    }
}
