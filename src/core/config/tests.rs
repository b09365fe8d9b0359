//! Options read, checked and applied.

use super::*;

fn apply(o: Options) -> Result<Config, PollError> {
    let mut c = Config::default();
    c.apply(&o).map(|_| c)
}

#[test]
fn seed_names_and_defaults() {
    let c = Config::default();
    assert_eq!(c.initial_delay, 1000);
    assert_eq!(c.max_delay, 30_000);
    assert_eq!(c.backoff_multiplier, 2.0);
    assert_eq!(c.request_timeout, 15_000);
    assert_eq!(c.sse_connect_timeout, 10_000);
}

#[test]
fn valid_options_apply() {
    let c = apply(Options {
        intervals: Some(vec![10.0, 20.0]),
        timeout: Some(5000.0),
        max_attempts: Some(3.0),
        jitter: Some(0.0),
        backoff_multiplier: Some(1.5),
        use_stream: Some(Lenient::Valid(false)),
        ..Options::default()
    })
    .unwrap();
    assert_eq!(c.intervals.as_slice(), &[10, 20]);
    assert_eq!(c.timeout, 5000);
    assert_eq!(c.max_attempts, 3);
    assert_eq!(c.jitter, Jitter::None);
    assert_eq!(c.backoff_multiplier, 1.5);
    assert!(!c.use_stream);
}

#[test]
fn a_fraction_of_a_millisecond_is_more_than_zero() {
    // "must be a finite number of milliseconds > 0": 0.5 is, and waits 1 ms
    let c = apply(Options {
        timeout: Some(0.5),
        intervals: Some(vec![0.25, 1.5]),
        ..Options::default()
    })
    .unwrap();
    assert_eq!(c.timeout, 1);
    assert_eq!(c.intervals.as_slice(), &[1, 2]);
    for bad in [-0.5, 0.0, f64::NAN] {
        let o = Options {
            timeout: Some(bad),
            ..Options::default()
        };
        assert!(apply(o).is_err(), "{bad}");
    }
}

#[test]
fn invalid_options_say_what_is_wrong() {
    let cases = [
        (
            Options {
                timeout: Some(-1.0),
                ..Default::default()
            },
            "timeout",
        ),
        (
            Options {
                timeout: Some(f64::NAN),
                ..Default::default()
            },
            "timeout",
        ),
        (
            Options {
                timeout: Some(0.0),
                ..Default::default()
            },
            "timeout",
        ),
        (
            Options {
                max_delay: Some(f64::INFINITY),
                ..Default::default()
            },
            "maxDelay",
        ),
        (
            Options {
                backoff_multiplier: Some(0.0),
                ..Default::default()
            },
            "backoffMultiplier",
        ),
        (
            Options {
                backoff_multiplier: Some(0.5),
                ..Default::default()
            },
            "backoffMultiplier",
        ),
        (
            Options {
                intervals: Some(vec![]),
                ..Default::default()
            },
            "intervals",
        ),
        (
            Options {
                intervals: Some(vec![100.0, -5.0]),
                ..Default::default()
            },
            "intervals",
        ),
        (
            Options {
                max_attempts: Some(0.0),
                ..Default::default()
            },
            "maxAttempts",
        ),
        (
            Options {
                max_attempts: Some(2.5),
                ..Default::default()
            },
            "maxAttempts",
        ),
        (
            Options {
                jitter: Some(1.5),
                ..Default::default()
            },
            "jitter",
        ),
        (
            Options {
                initial_delay: Some(5000.0),
                max_delay: Some(100.0),
                ..Default::default()
            },
            "maxDelay must not",
        ),
    ];
    for (o, field) in cases {
        match apply(o) {
            Err(PollError::InvalidConfig(msg)) => assert!(msg.starts_with(field), "{msg}"),
            other => panic!("{field}: {other:?}"),
        }
    }
}

#[test]
fn options_read_from_json_by_their_js_names() {
    let o: Options = serde_json::from_value(serde_json::json!({
        "preset": "video", "intervals": [10, 20], "maxAttempts": 3,
        "useStream": false, "media": "image", "timeout": "5s", "jitter": [1],
        "seed": null,
    }))
    .unwrap();
    assert_eq!(o.preset, Some(Lenient::Valid(Preset::Video)));
    assert_eq!(o.intervals, Some(vec![10.0, 20.0]));
    assert_eq!(o.max_attempts, Some(3.0));
    assert_eq!(o.use_stream, Some(Lenient::Valid(false)));
    assert_eq!(o.media, Some(Lenient::Valid(Media::Image)));
    assert!(
        o.timeout.is_some_and(f64::is_nan),
        "wrong type: NaN, named later"
    );
    assert!(o.jitter.is_some_and(f64::is_nan));
    assert_eq!(o.initial_delay, None);
    assert_eq!(o.seed, None, "null is not given");
    let err = o.config(&Options::default()).unwrap_err();
    assert!(err.message().starts_with("timeout"), "{}", err.message());
    let bad: Options = serde_json::from_value(serde_json::json!({ "preset": "audio" })).unwrap();
    let err = bad.config(&Options::default()).unwrap_err();
    assert!(err.message().starts_with("preset"));
}

#[test]
fn field_names_come_from_serde() {
    let names = field_names::<Options>();
    assert!(names.contains(&"maxAttempts") && names.contains(&"preset"));
    assert!(!names.contains(&"max_attempts"));
    assert_eq!(names.len(), 25);
}

#[test]
fn the_old_modules_names() {
    let c = apply(Options {
        max_duration: Some(10_000.0),
        initial_interval: Some(500.0),
        max_interval: Some(4000.0),
        max_consecutive_errors: Some(5.0),
        ..Options::default()
    })
    .unwrap();
    assert_eq!(c.timeout, 10_000);
    assert_eq!(c.intervals.as_slice(), &[500, 2000, 4000]);
    assert_eq!((c.max_delay, c.initial_delay), (4000, 1000));
    assert_eq!(c.max_consecutive_errors, Some(5));
    assert_eq!(
        c.max_attempts,
        u32::MAX,
        "polls until maxDuration, as the old module"
    );
    // Defaults of the old module: 1 s -> 2 s -> 5 s -> 10 s.
    let c = apply(Options {
        max_interval: Some(10_000.0),
        ..Options::default()
    })
    .unwrap();
    assert_eq!(c.intervals.as_slice(), &[1000, 2000, 5000, 10_000]);
    // This package's names win over the old ones.
    let c = apply(Options {
        max_duration: Some(10_000.0),
        timeout: Some(3000.0),
        ..Options::default()
    })
    .unwrap();
    assert_eq!(c.timeout, 3000);
    // A manager's `maxAttempts` holds for a call in the old names.
    let manager = Options {
        max_attempts: Some(10.0),
        ..Options::default()
    };
    let call = Options {
        max_duration: Some(10_000.0),
        ..Options::default()
    };
    assert_eq!(call.config(&manager).unwrap().max_attempts, 10);
    assert_eq!(
        call.config(&Options::default()).unwrap().max_attempts,
        u32::MAX
    );
    for (o, name) in [
        (
            Options {
                max_duration: Some(-1.0),
                ..Options::default()
            },
            "maxDuration",
        ),
        (
            Options {
                max_interval: Some(f64::NAN),
                ..Options::default()
            },
            "maxInterval",
        ),
        (
            Options {
                max_consecutive_errors: Some(0.0),
                ..Options::default()
            },
            "maxConsecutiveErrors",
        ),
    ] {
        let e = apply(o).unwrap_err();
        assert!(e.message().starts_with(name), "{}", e.message());
    }
}

#[test]
fn presets() {
    let i = Config::image();
    assert_eq!(i.media, Media::Image);
    assert_eq!((i.intervals.wait(0), i.intervals.wait(14)), (2000, 2000));
    assert_eq!(
        (i.intervals.wait(15), i.intervals.wait(100)),
        (3000, 10_000)
    );
    let v = Config::video();
    assert_eq!(v.media, Media::Video);
    assert_eq!(v.intervals.wait(0), 3000);
}

#[test]
fn old_module_limits_only() {
    let none = Options::default();
    let mut c = none.config(&none).unwrap();
    c.old_module_limits(&none, &none);
    assert_eq!(c.max_consecutive_errors, Some(OLD_MAX_CONSECUTIVE_ERRORS));
    assert_eq!(
        c.max_attempts,
        u32::MAX,
        "the old module had no attempt limit"
    );
    assert_eq!(c.max_not_found, u32::MAX, "nor a limit of 404s");
    assert_eq!(c.timeout, 420_000, "its maxDuration stays");

    // A call's own limits hold.
    let call = Options {
        max_attempts: Some(4.0),
        max_not_found: Some(2.0),
        max_consecutive_errors: Some(9.0),
        ..Options::default()
    };
    let mut c = call.config(&none).unwrap();
    c.old_module_limits(&call, &none);
    assert_eq!(
        (c.max_attempts, c.max_not_found, c.max_consecutive_errors),
        (4, 2, Some(9))
    );

    // So do a manager's, under a call that sets none.
    let manager = Options {
        max_attempts: Some(7.0),
        max_not_found: Some(3.0),
        max_consecutive_errors: Some(2.0),
        ..Options::default()
    };
    let mut c = none.config(&manager).unwrap();
    c.old_module_limits(&none, &manager);
    assert_eq!(
        (c.max_attempts, c.max_not_found, c.max_consecutive_errors),
        (7, 3, Some(2))
    );
}

#[test]
fn the_promise_form_caps_waits_at_the_old_max_interval_unless_a_layer_sets_a_cap() {
    let none = Options::default();
    let mut c = none.config(&none).unwrap();
    assert_eq!(c.max_delay, 30_000, "the package's own default");
    c.old_module_limits(&none, &none);
    assert_eq!(c.max_delay, OLD_MAX_INTERVAL, "error waits stop at 10 s");

    for set in [
        Options {
            max_interval: Some(4000.0),
            ..Options::default()
        },
        Options {
            max_delay: Some(20_000.0),
            ..Options::default()
        },
    ] {
        let want = set.config(&none).unwrap().max_delay;
        // In the call, or in the manager's defaults.
        let mut c = set.config(&none).unwrap();
        c.old_module_limits(&set, &none);
        assert_eq!(c.max_delay, want);
        let mut c = none.config(&set).unwrap();
        c.old_module_limits(&none, &set);
        assert_eq!(c.max_delay, want);
    }

    // Never below the first error wait.
    let slow = Options {
        initial_delay: Some(15_000.0),
        ..Options::default()
    };
    let mut c = slow.config(&none).unwrap();
    c.old_module_limits(&slow, &none);
    assert_eq!(c.max_delay, 15_000);

    // Waits the caller chose are not cut.
    let own = Options {
        intervals: Some(vec![15_000.0]),
        ..Options::default()
    };
    let mut c = own.config(&none).unwrap();
    c.old_module_limits(&own, &none);
    assert_eq!(c.max_delay, 30_000);
}

#[test]
fn the_promise_form_backs_off_on_a_429_that_names_no_wait_unless_a_layer_sets_rate_limit_delay() {
    let none = Options::default();
    let mut c = none.config(&none).unwrap();
    assert_eq!(c.rate_limit_delay, 60_000, "the package's own default");
    c.old_module_limits(&none, &none);
    assert_eq!(
        c.rate_limit_delay, c.initial_delay,
        "the backoff from its first wait"
    );
    let set = Options {
        rate_limit_delay: Some(20_000.0),
        ..Options::default()
    };
    for (call, manager) in [(&set, &none), (&none, &set)] {
        let mut c = call.config(manager).unwrap();
        c.old_module_limits(call, manager);
        assert_eq!(c.rate_limit_delay, 20_000);
    }
}
