//! "Did you mean …?": the known name nearest to a misspelt one.

/// The name of `known` nearest to `name` (case-insensitive edit distance,
/// a swap of two neighbours counting once), if it is near enough to be a
/// typo: at most 2 edits, and fewer than a third of the name's length.
pub fn nearest<'a>(name: &str, known: &[&'a str]) -> Option<&'a str> {
    let limit = (name.len() / 3).clamp(1, 2);
    known
        .iter()
        .map(|k| (distance(name, k), *k))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// Whether an own property of a callbacks object names a callback that is
/// not one of `known`: `on` and a capital (`onCompleted`), or a known
/// callback in another case or with `_` (`onerror`, as on XHR and
/// EventSource; `OnComplete`; `on_complete`). Other properties are left alone.
pub fn misnamed_callback(key: &str, known: &[&str]) -> bool {
    if known.contains(&key) {
        return false;
    }
    let b = key.as_bytes();
    if b.len() > 2 && key.starts_with("on") && b[2].is_ascii_uppercase() {
        return true;
    }
    let plain = |s: &'_ str| {
        s.bytes()
            .filter(|c| *c != b'_')
            .map(|c| c.to_ascii_lowercase())
            .collect::<Vec<u8>>()
    };
    let key = plain(key);
    known.iter().any(|k| plain(k) == key)
}

/// Optimal string alignment distance over ASCII-lowercased bytes.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<u8> = a.bytes().map(|c| c.to_ascii_lowercase()).collect();
    let b: Vec<u8> = b.bytes().map(|c| c.to_ascii_lowercase()).collect();
    // Three rows: two back (for swaps), one back, this one.
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut last: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut row = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (last[j] + 1).min(row[j - 1] + 1).min(last[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(before[j - 2] + 1);
            }
            row[j] = d;
        }
        before = std::mem::replace(&mut last, row);
    }
    last[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPTIONS: &[&str] = &[
        "maxDuration",
        "maxDelay",
        "timeout",
        "intervals",
        "maxAttempts",
    ];

    const CALLBACKS: &[&str] = &["onUpdate", "onProgress", "onComplete", "onError", "onRetry"];

    #[test]
    fn callbacks_in_another_case_or_with_underscores_are_misnamed() {
        for key in [
            "onerror",
            "oncomplete",
            "OnComplete",
            "on_complete",
            "ONERROR",
            "onCompleted",
        ] {
            assert!(misnamed_callback(key, CALLBACKS), "{key}");
        }
        // the suggestion then names the callback
        assert_eq!(nearest("onerror", CALLBACKS), Some("onError"));
        assert_eq!(nearest("on_complete", CALLBACKS), Some("onComplete"));
        for key in [
            "onError",
            "onComplete",
            "complete",
            "data",
            "one",
            "on",
            "signal",
        ] {
            assert!(!misnamed_callback(key, CALLBACKS), "{key}");
        }
    }

    #[test]
    fn typos_find_their_option() {
        assert_eq!(nearest("maxDurration", OPTIONS), Some("maxDuration"));
        assert_eq!(nearest("timeOut", OPTIONS), Some("timeout"));
        assert_eq!(nearest("maxAtempts", OPTIONS), Some("maxAttempts"));
        assert_eq!(
            nearest("intevrals", OPTIONS),
            Some("intervals"),
            "a swap is one edit"
        );
        let callbacks = ["onUpdate", "onProgress", "onComplete", "onError", "onRetry"];
        assert_eq!(nearest("onCompleted", &callbacks), Some("onComplete"));
        assert_eq!(nearest("onerror", &callbacks), Some("onError"));
    }

    #[test]
    fn strangers_find_nothing() {
        assert_eq!(nearest("color", OPTIONS), None);
        assert_eq!(nearest("", OPTIONS), None);
        assert_eq!(nearest("ab", &["cd"]), None, "short names allow one edit");
        assert_eq!(nearest("maxDuration", &[]), None);
    }

    #[test]
    fn distances() {
        assert_eq!(distance("abc", "abc"), 0);
        assert_eq!(distance("abc", "acb"), 1);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("kitten", "sitting"), 3);
    }
}
