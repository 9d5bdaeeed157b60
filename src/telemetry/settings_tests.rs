use super::*;
use proptest::prelude::*;
use std::collections::HashMap;

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    move |name| map.get(name).cloned()
}

fn section(otlp: Option<&str>, service_name: Option<&str>, sample_percent: Option<f64>) -> TelemetrySection {
    TelemetrySection { otlp: otlp.map(String::from), service_name: service_name.map(String::from), sample_percent }
}

#[test]
fn nothing_configured_is_off() {
    assert_eq!(resolve(None, &env(&[])), Ok(Resolved::default()));
    // A service name alone sends nothing anywhere.
    assert_eq!(resolve(Some(&section(None, Some("ficus-a"), None)), &env(&[])), Ok(Resolved::default()));
}

#[test]
fn the_file_wins_key_by_key_and_the_environment_fills_in() {
    let vars = env(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://env:4318"),
        ("OTEL_SERVICE_NAME", "from-env"),
        ("OTEL_TRACES_SAMPLER", "traceidratio"),
        ("OTEL_TRACES_SAMPLER_ARG", "0.5"),
    ]);
    let s = resolve(Some(&section(Some("http://file:4318/"), None, None)), &vars).unwrap().settings.unwrap();
    assert_eq!(s.endpoint, "http://file:4318/v1/traces");
    assert_eq!(s.service_name, "from-env");
    assert_eq!(s.sampler, Sampling { ratio: 0.5, parent_based: false });
    let s = resolve(None, &vars).unwrap().settings.unwrap();
    assert_eq!(s.endpoint, "http://env:4318/v1/traces");
    let s = resolve(Some(&section(None, Some("file"), Some(10.0))), &vars).unwrap().settings.unwrap();
    assert_eq!((s.service_name.as_str(), s.sampler), ("file", Sampling { ratio: 0.1, parent_based: true }));
}

#[test]
fn the_signal_endpoint_is_taken_as_written_and_the_kill_switch_wins() {
    let vars = env(&[
        ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://c:4318/custom"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://x:1"),
    ]);
    assert_eq!(resolve(None, &vars).unwrap().settings.unwrap().endpoint, "http://c:4318/custom");
    let off = env(&[("OTEL_SDK_DISABLED", "true")]);
    assert_eq!(resolve(Some(&section(Some("http://c:4318"), None, None)), &off), Ok(Resolved::default()));
    let s = resolve(Some(&section(Some("http://c:4318/v1/traces"), None, None)), &env(&[])).unwrap().settings.unwrap();
    assert_eq!((s.endpoint.as_str(), s.service_name.as_str()), ("http://c:4318/v1/traces", "ficus"));
    assert_eq!(s.sampler, Sampling { ratio: 1.0, parent_based: true });
}

#[test]
fn bad_values_are_named_with_their_key_or_variable() {
    let bad = |s: TelemetrySection, vars: &[(&str, &str)]| resolve(Some(&s), &env(vars)).unwrap_err();
    let p = bad(section(Some("collector:4318"), None, None), &[]);
    assert_eq!(p[0].key, Some("otlp"));
    assert!(p[0].message.contains("\"collector:4318\""), "{}", p[0].message);
    assert_eq!(bad(section(Some("https://c:4318"), None, None), &[])[0].key, Some("otlp"));
    let p = bad(section(None, None, Some(150.0)), &[]);
    assert_eq!(p[0].key, Some("sample_percent"));
    assert!(p[0].message.contains("150"), "{}", p[0].message);
    assert_eq!(bad(section(None, Some(" "), None), &[])[0].key, Some("service_name"));
}

#[test]
fn a_bad_variable_is_ignored_with_its_name_never_refused() {
    let endpoint = ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://env:4318");
    for (vars, traces_on) in [
        (&[endpoint, ("OTEL_TRACES_SAMPLER", "sometimes")][..], true),
        (&[endpoint, ("OTEL_TRACES_SAMPLER", "traceidratio"), ("OTEL_TRACES_SAMPLER_ARG", "2")][..], true),
        (&[endpoint, ("OTEL_TRACES_SAMPLER_ARG", "0.5")][..], true),
        (&[endpoint, ("OTEL_SDK_DISABLED", "yes")][..], true),
        (&[("OTEL_EXPORTER_OTLP_ENDPOINT", "not a url")][..], false),
        // A gRPC collector's port cannot take OTLP/HTTP: an endpoint from the environment is not used.
        (&[endpoint, ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")][..], false),
    ] {
        let r = resolve(Some(&TelemetrySection::default()), &env(vars)).unwrap_or_else(|p| panic!("{vars:?}: {p:?}"));
        assert_eq!(r.ignored.len(), 1, "{vars:?}: {r:?}");
        assert_eq!(r.ignored[0].key, None);
        assert!(r.ignored[0].message.contains(vars[vars.len() - 1].0), "{}", r.ignored[0].message);
        assert_eq!(r.settings.is_some(), traces_on, "{vars:?}: {r:?}");
        if let Some(s) = r.settings {
            assert_eq!(s.sampler, Sampling { ratio: 1.0, parent_based: true }, "the default sampler");
        }
    }
    // The file's collector is used whatever protocol the environment names.
    let grpc = env(&[("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")]);
    let r = resolve(Some(&section(Some("http://file:4318"), None, None)), &grpc).unwrap();
    assert_eq!((r.settings.map(|s| s.endpoint), r.ignored.len()), (Some("http://file:4318/v1/traces".into()), 1));
    // A bad TRACES endpoint falls back to the general one.
    let both = env(&[("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "https://x"), endpoint]);
    assert_eq!(resolve(None, &both).unwrap().settings.unwrap().endpoint, "http://env:4318/v1/traces");
}

const VARIABLES: [&str; 9] = [
    "OTEL_SDK_DISABLED",
    "OTEL_EXPORTER_OTLP_PROTOCOL",
    "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_SERVICE_NAME",
    "OTEL_TRACES_SAMPLER",
    "OTEL_TRACES_SAMPLER_ARG",
    "OTEL_BSP_SCHEDULE_DELAY",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, rng_algorithm: proptest::test_runner::RngAlgorithm::ChaCha, ..ProptestConfig::default() })]

    /// Any percentage is accepted exactly when it is within 0–100, and becomes that ratio.
    #[test]
    fn sample_percent_is_checked_over_its_whole_range(p in -1000.0f64..1000.0) {
        let r = resolve(Some(&section(Some("http://c:4318"), None, Some(p))), &env(&[]));
        if (0.0..=100.0).contains(&p) {
            let s = r.unwrap().settings.unwrap();
            prop_assert!((s.sampler.ratio - p / 100.0).abs() < 1e-12);
        } else {
            prop_assert_eq!(r.unwrap_err()[0].key, Some("sample_percent"));
        }
    }

    /// Whatever the environment holds, a valid file is never refused; the kill switch turns
    /// traces off and reads nothing else; every ignored variable is named.
    #[test]
    fn no_environment_refuses_a_valid_file(
        values in proptest::collection::vec(proptest::option::of("(true|false|http://c:4318|grpc|http/protobuf|0.5|2|[a-z:/ ]{0,8})"), 9),
        disabled in any::<bool>(),
    ) {
        let mut pairs: Vec<(&str, &str)> = VARIABLES.iter().zip(&values)
            .filter_map(|(k, v)| v.as_deref().map(|v| (*k, v))).collect();
        if disabled {
            pairs.retain(|(k, _)| *k != "OTEL_SDK_DISABLED");
            pairs.push(("OTEL_SDK_DISABLED", "TRUE"));
        }
        let r = resolve(Some(&section(None, Some("svc"), Some(50.0))), &env(&pairs));
        let r = r.map_err(|p| TestCaseError::fail(format!("{pairs:?}: {p:?}")))?;
        if disabled {
            prop_assert_eq!(r, Resolved::default());
        } else {
            for p in &r.ignored {
                prop_assert!(VARIABLES.iter().any(|v| p.message.starts_with(v)), "{}", p.message);
            }
            if let Some(s) = &r.settings {
                prop_assert_eq!((s.service_name.as_str(), s.sampler.ratio), ("svc", 0.5));
            }
        }
    }

    /// Whatever the file's URL, resolving never panics and an accepted one ends in /v1/traces once.
    #[test]
    fn any_url_resolves_or_is_refused_with_its_key(url in "[a-z:/.0-9?#@ ]{0,30}") {
        match resolve(Some(&section(Some(&url), None, None)), &env(&[])) {
            Ok(Resolved { settings: Some(s), .. }) => prop_assert!(s.endpoint.ends_with(TRACES_PATH) && s.endpoint.matches(TRACES_PATH).count() == 1),
            Ok(_) => prop_assert!(false, "a written otlp never means off"),
            Err(p) => prop_assert_eq!(p[0].key, Some("otlp")),
        }
    }
}

#[test]
fn values_are_case_insensitive_and_urls_are_whole_and_never_show_a_secret() {
    let vars = env(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://env:4318"),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "HTTP/PROTOBUF"),
        ("OTEL_TRACES_SAMPLER", "ALWAYS_OFF"),
    ]);
    let r = resolve(None, &vars).unwrap();
    assert!(r.ignored.is_empty(), "{r:?}");
    assert_eq!(r.settings.unwrap().sampler, Sampling { ratio: 0.0, parent_based: false });
    for (url, why) in [
        ("http://c:99999", "port"),
        ("http://c:4318#frag", "fragment"),
        ("http://user:s3cret@c:4318", "user information"),
    ] {
        let p = resolve(Some(&section(Some(url), None, None)), &env(&[])).unwrap_err();
        assert!(p[0].message.contains(why), "{url}: {p:?}");
        assert!(!p[0].message.contains("s3cret"), "{url}: {p:?}");
        let r = resolve(None, &env(&[("OTEL_EXPORTER_OTLP_ENDPOINT", url)])).unwrap();
        assert_eq!(r.settings, None, "{url}");
        assert!(r.ignored[0].message.contains(why) && !r.ignored[0].message.contains("s3cret"), "{r:?}");
    }
    assert_eq!(shown("http://u:pw@c:4318/v1"), "http://***@c:4318/v1");
    assert_eq!(shown("http://[::1]:4318"), "http://[::1]:4318");
    assert!(resolve(Some(&section(Some("http://[::1]:4318"), None, None)), &env(&[])).is_ok());
}
