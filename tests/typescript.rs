//! The hand-written TypeScript types (the custom section in src/web/types.rs)
//! against the serde types of the boundary, so the two cannot drift: every
//! option serde reads is declared in `PollingConfig` and nothing else is,
//! and the objects the page receives have exactly the declared keys.

use std::collections::BTreeSet;

use smart_polling::core::config::{field_names, Media, Options};
use smart_polling::core::error::PollError;
use smart_polling::core::metrics::{Channel, Metrics, Outcome, Progress};

const API: &str = include_str!("../src/web/types.rs");

/// The member names of `export interface NAME ... { ... }` (one per line).
fn members(name: &str) -> BTreeSet<String> {
    let start = API
        .find(&format!("export interface {name}"))
        .unwrap_or_else(|| panic!("interface {name} in types.rs"));
    let body = &API[start..];
    let body = &body[body.find('{').unwrap() + 1..body.find("\n}").unwrap()];
    body.lines()
        .map(str::trim)
        .filter(|l| !l.starts_with("/**") && !l.starts_with('*') && !l.starts_with("//"))
        .filter_map(|l| l.split(['?', ':', '(']).next())
        .filter(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric()))
        .map(str::to_owned)
        .collect()
}

fn keys(v: serde_json::Value) -> BTreeSet<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

#[test]
fn polling_config_declares_exactly_the_options_serde_reads() {
    let serde: BTreeSet<String> = field_names::<Options>()
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(members("PollingConfig"), serde);
}

#[test]
fn progress_metrics_and_errors_have_the_declared_keys() {
    let p = Progress {
        waiting_for_network: true,
        attempt: 1,
        max_attempts: 2,
        next_poll_in: Some(3),
        elapsed_time: 4,
        estimated_time_remaining: Some(5),
        channel: Channel::Stream,
        progress: Some(6),
    };
    let mut declared = members("PollingProgress");
    let mut shared = p.report(Some("f"), None);
    shared.tab = Some("leader");
    assert_eq!(
        keys(serde_json::to_value(shared).unwrap()),
        &declared - &BTreeSet::from(["projectId".to_owned()])
    );
    declared.remove("tab");
    declared.remove("fileId");
    assert_eq!(
        keys(serde_json::to_value(p.report(None, Some("p"))).unwrap()),
        declared
    );

    let mut m = Metrics::default();
    m.record(
        &Outcome {
            error: None,
            duration: 1,
            attempts: 1,
            channel: Channel::Polling,
        },
        Media::Image,
    );
    assert_eq!(
        keys(serde_json::to_value(m.report()).unwrap()),
        members("PollingMetrics")
    );

    let e = serde_json::to_value(PollError::Server(503).report(2)).unwrap();
    assert_eq!(keys(e), members("PollingError"));
}
