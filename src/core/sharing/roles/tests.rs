//! `Roles` driven by hand: claims, grants, leads, ends, a page away and back.

use super::*;
use crate::core::sharing::{Said, VERSION};

fn drain(r: &mut Roles) -> Vec<Do> {
    std::iter::from_fn(|| r.poll()).collect()
}

#[test]
fn a_tab_that_goes_away_lets_go_of_its_locks_and_asks_again_when_back() {
    let mut r = Roles::default();
    let (a, b, c) = (JobId(1), JobId(2), JobId(3));
    for job in [a, b, c] {
        r.start(job, job.0.to_string().into());
    }
    r.on_timer(0);
    drain(&mut r);
    for job in [a, b, c] {
        r.asked(job, true);
    }
    assert!(r.granted(Some(a)) && r.granted(Some(b)));
    r.on_timer(0);
    drain(&mut r);
    assert!(r.leads(a) && r.leads(b));
    // b ends here and holds its lock a moment; c waits for its lock.
    assert!(r.ended(0, b, true).hold);

    r.away();
    assert_eq!(
        drain(&mut r),
        vec![Do::StepDown(a), Do::Feed(a, Input::Follow), Do::Release(b)]
    );
    assert!(!r.leads(a));
    assert!(!r.granted(Some(c)), "no lock is taken while away");
    assert!(!r.on_timer(5000));
    assert_eq!(r.next_wake(5000), None);
    assert!(drain(&mut r).is_empty(), "nothing is asked for while away");

    r.back();
    assert_eq!(r.next_wake(6000), Some(6000));
    r.on_timer(6000);
    assert_eq!(drain(&mut r), vec![Do::Claim(a), Do::Claim(c)]);
    r.asked(a, true);
    r.asked(c, true);
    assert!(r.granted(Some(a)));
    r.on_timer(6000);
    assert_eq!(drain(&mut r), vec![Do::Feed(a, Input::Lead)]);
    // Back twice, or without having gone: nothing more.
    r.back();
    assert!(!r.on_timer(7000));
}

#[test]
fn a_job_without_a_lock_manager_leads_alone_and_shares_nothing() {
    let mut r = Roles::default();
    let job = JobId(1);
    r.start(job, job.0.to_string().into());
    assert_eq!(drain(&mut r), vec![Do::Feed(job, Input::Follow)]);
    assert!(r.on_timer(0) || r.next_wake(0).is_none());
    assert_eq!(drain(&mut r), vec![Do::Claim(job)]);
    r.asked(job, false);
    assert_eq!(drain(&mut r), vec![Do::Feed(job, Input::Lead)]);
    assert_eq!(r.role_name(job), None);
    assert!(!r.granted(Some(job)), "a late grant is let go of");
    assert_eq!(
        r.ended(5, job, true),
        End {
            tell: false,
            hold: false,
            seen_here: true
        }
    );
}

#[test]
fn only_messages_of_this_version_make_peers() {
    let mut r = Roles::default();
    let job = JobId(1);
    r.start(job, job.0.to_string().into());
    r.on_timer(0);
    r.asked(job, true);
    assert!(r.granted(Some(job)));
    r.on_timer(1);
    assert!(r.leads(job));
    assert!(!r.tells(job), "nobody to tell yet");
    let mut hello = Said::hello(1000).words(None);
    hello.v = Some(VERSION + 1);
    assert_eq!(r.hear(&hello, Some((job, false))), Heard::Nothing);
    assert!(!r.keeps_records() && !r.tells(job));
    hello.v = Some(VERSION);
    // A message about another job still says another tab is there.
    assert_eq!(r.hear(&hello, None), Heard::Nothing);
    assert!(r.keeps_records() && r.tells(job));
    assert_eq!(
        r.hear(&hello, Some((job, false))),
        Heard::Hello { within: Some(1000) }
    );
}

#[test]
fn a_job_is_named_a_follower_only_when_another_tab_is_there() {
    let mut r = Roles::default();
    let (a, b) = (JobId(1), JobId(2));
    r.start(a, a.0.to_string().into());
    r.on_timer(0);
    r.asked(a, true);
    assert_eq!(r.role_name(a), None, "alone: not known yet");
    assert!(r.granted(Some(a)));
    assert_eq!(r.role_name(a), None, "it leads from the next turn");
    r.on_timer(1);
    assert_eq!(r.role_name(a), Some("leader"));
    r.hear(&Said::hello(1000).words(None), None);
    r.start(b, b.0.to_string().into());
    r.on_timer(1);
    r.asked(b, true);
    assert_eq!(r.role_name(b), Some("follower"), "another tab spoke");
}

#[test]
fn grants_go_only_to_jobs_that_wait_for_them() {
    let mut r = Roles::default();
    let (a, b) = (JobId(1), JobId(2));
    r.start(a, a.0.to_string().into());
    r.start(b, b.0.to_string().into());
    r.on_timer(0);
    r.asked(a, true);
    r.asked(b, true);
    assert!(!r.stopped(0, b));
    assert!(!r.granted(Some(b)), "stopped");
    assert!(!r.granted(None), "no job of that name");
    assert!(r.granted(Some(a)));
    assert!(!r.granted(Some(a)), "it holds one already");
    assert_eq!(r.next_wake(7), Some(7), "it leads from the next turn");
}

#[test]
fn a_leaders_lock_outlives_its_end_by_the_grace_and_a_stop_all_lets_go() {
    let mut r = Roles::default();
    let (a, b) = (JobId(1), JobId(2));
    for job in [a, b] {
        r.start(job, job.0.to_string().into());
    }
    r.on_timer(0);
    for job in [a, b] {
        r.asked(job, true);
        r.granted(Some(job));
    }
    r.on_timer(0);
    drain(&mut r);
    let end = r.ended(100, a, true);
    assert!(end.hold && end.seen_here && !end.tell);
    // A stop (no outcome) lets go at once.
    assert!(!r.ended(100, b, false).hold);
    assert_eq!(r.next_wake(100), Some(100 + END_GRACE_MS));
    r.on_timer(100 + END_GRACE_MS - 1);
    assert_eq!(drain(&mut r), vec![]);
    r.on_timer(100 + END_GRACE_MS);
    assert_eq!(drain(&mut r), vec![Do::Release(a)]);

    let c = JobId(3);
    r.start(c, c.0.to_string().into());
    r.on_timer(0);
    r.asked(c, true);
    r.granted(Some(c));
    r.on_timer(0);
    r.ended(200, c, true);
    drain(&mut r);
    r.stop_all();
    assert_eq!(drain(&mut r), vec![Do::Release(c)]);
    assert_eq!(r.next_wake(300), None);
}

/// Roles where `job`, of the lock named `key`, led and ended at 100 ms,
/// keeping its lock for the grace.
fn ended_at_100_holding(job: JobId, key: &str) -> Roles {
    let mut r = Roles::default();
    r.start(job, key.into());
    r.on_timer(0);
    drain(&mut r);
    r.asked(job, true);
    assert!(r.granted(Some(job)));
    r.on_timer(0);
    drain(&mut r);
    assert!(r.ended(100, job, true).hold);
    r
}

#[test]
fn a_job_started_where_an_ended_job_of_its_name_holds_the_lock_takes_it() {
    let mut r = Roles::default();
    let (a, b, other) = (JobId(1), JobId(2), JobId(3));
    r.start(a, "7".into());
    r.on_timer(0);
    drain(&mut r);
    r.asked(a, true);
    assert!(r.granted(Some(a)));
    r.on_timer(0);
    drain(&mut r);
    assert!(r.ended(100, a, true).hold);
    // Another name waits for its own lock; the same name takes a's.
    r.start(other, "8".into());
    assert_eq!(drain(&mut r), vec![Do::Feed(other, Input::Follow)]);
    r.start(b, "7".into());
    assert_eq!(
        drain(&mut r),
        vec![Do::Hand { ended: a, to: b }, Do::Feed(b, Input::Follow)]
    );
    r.on_timer(200);
    assert_eq!(
        drain(&mut r),
        vec![Do::Claim(other), Do::Feed(b, Input::Lead)]
    );
    assert!(r.leads(b));
    // The grace passes: a's lock went on with b, nothing is let go of.
    r.on_timer(100 + END_GRACE_MS);
    assert!(drain(&mut r).is_empty());

    // Stopped (or ending silently) within a's grace, the new job keeps the
    // lock until that grace is over, as a would have.
    let mut r = ended_at_100_holding(a, "7");
    r.start(b, "7".into());
    drain(&mut r);
    assert!(r.stopped(300, b), "kept for a's grace");
    r.on_timer(100 + END_GRACE_MS - 1);
    assert!(drain(&mut r).is_empty());
    r.on_timer(100 + END_GRACE_MS);
    assert_eq!(drain(&mut r), vec![Do::Release(b)]);
    // After the grace, a stop lets go at once.
    r.start(other, "9".into());
    assert!(!r.stopped(5000, other));

    // Handed a lock, then away and back with a lock of its own: a stop in
    // the old grace lets that lock go at once (the grace went with the
    // handed lock).
    let mut r = ended_at_100_holding(a, "7");
    r.start(b, "7".into());
    r.away();
    r.back();
    r.on_timer(200);
    drain(&mut r);
    r.asked(b, true);
    assert!(r.granted(Some(b)));
    assert!(!r.stopped(300, b));

    // A page away hands nothing: the lock went as it left.
    let mut r = ended_at_100_holding(a, "7");
    r.away();
    assert_eq!(drain(&mut r), vec![Do::Release(a)]);
    r.start(b, "7".into());
    assert_eq!(drain(&mut r), vec![Do::Feed(b, Input::Follow)]);
}

#[test]
fn jobs_waiting_for_locks_the_browser_refuses_lead_alone_and_a_leader_keeps_its_lead() {
    let mut r = Roles::default();
    let (a, b, c) = (JobId(1), JobId(2), JobId(3));
    for job in [a, b, c] {
        r.start(job, job.0.to_string().into());
    }
    r.on_timer(0);
    drain(&mut r);
    r.asked(a, true);
    r.asked(b, true);
    assert!(r.granted(Some(a)));
    r.on_timer(0);
    drain(&mut r);
    assert!(r.leads(a));
    // b's request is out, c's still to go: both lead alone, a keeps its lock.
    assert_eq!(r.refused(), vec![b, c]);
    assert_eq!(
        drain(&mut r),
        vec![Do::Feed(b, Input::Lead), Do::Feed(c, Input::Lead)]
    );
    assert!(r.leads(a));
    assert!(!r.granted(Some(b)), "a late grant is let go of");
    assert!(
        r.ended(0, b, true)
            == End {
                tell: false,
                hold: false,
                seen_here: true
            }
    );
    // Nothing left to refuse, nor to claim.
    assert!(r.refused().is_empty());
    r.on_timer(0);
    assert!(drain(&mut r).is_empty());
}
