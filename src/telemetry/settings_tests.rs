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
    assert_eq!(resolve(None, &env(&[])), Ok(None));
    // A service name alone sends nothing anywhere.
    assert_eq!(resolve(Some(&section(None, Some("ficus-a"), None)), &env(&[])), Ok(None));
}

#[test]
fn the_file_wins_key_by_key_and_the_environment_fills_in() {
    let vars = env(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://env:4318"),
        ("OTEL_SERVICE_NAME", "from-env"),
        ("OTEL_TRACES_SAMPLER", "traceidratio"),
        ("OTEL_TRACES_SAMPLER_ARG", "0.5"),
    ]);
    let s = resolve(Some(&section(Some("http://file:4318/"), None, None)), &vars).unwrap().unwrap();
    assert_eq!(s.endpoint, "http://file:4318/v1/traces");
    assert_eq!(s.service_name, "from-env");
    assert_eq!(s.sampler, Sampling { ratio: 0.5, parent_based: false });
    let s = resolve(None, &vars).unwrap().unwrap();
    assert_eq!(s.endpoint, "http://env:4318/v1/traces");
    let s = resolve(Some(&section(None, Some("file"), Some(10.0))), &vars).unwrap().unwrap();
    assert_eq!((s.service_name.as_str(), s.sampler), ("file", Sampling { ratio: 0.1, parent_based: true }));
}

#[test]
fn the_signal_endpoint_is_taken_as_written_and_the_kill_switch_wins() {
    let vars = env(&[
        ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://c:4318/custom"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://x:1"),
    ]);
    assert_eq!(resolve(None, &vars).unwrap().unwrap().endpoint, "http://c:4318/custom");
    let off = env(&[("OTEL_SDK_DISABLED", "true")]);
    assert_eq!(resolve(Some(&section(Some("http://c:4318"), None, None)), &off), Ok(None));
    let s = resolve(Some(&section(Some("http://c:4318/v1/traces"), None, None)), &env(&[])).unwrap().unwrap();
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
    for vars in [
        &[("OTEL_TRACES_SAMPLER", "sometimes")][..],
        &[("OTEL_TRACES_SAMPLER", "traceidratio"), ("OTEL_TRACES_SAMPLER_ARG", "2")][..],
        &[("OTEL_TRACES_SAMPLER_ARG", "0.5")][..],
        &[("OTEL_EXPORTER_OTLP_ENDPOINT", "not a url")][..],
        &[("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")][..],
        &[("OTEL_SDK_DISABLED", "yes")][..],
    ] {
        let p = bad(TelemetrySection::default(), vars);
        assert_eq!(p.len(), 1, "{vars:?}: {p:?}");
        assert_eq!(p[0].key, None);
        assert!(p[0].message.contains(vars[vars.len() - 1].0), "{}", p[0].message);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, rng_algorithm: proptest::test_runner::RngAlgorithm::ChaCha, ..ProptestConfig::default() })]

    /// Any percentage is accepted exactly when it is within 0–100, and becomes that ratio.
    #[test]
    fn sample_percent_is_checked_over_its_whole_range(p in -1000.0f64..1000.0) {
        let r = resolve(Some(&section(Some("http://c:4318"), None, Some(p))), &env(&[]));
        if (0.0..=100.0).contains(&p) {
            let s = r.unwrap().unwrap();
            prop_assert!((s.sampler.ratio - p / 100.0).abs() < 1e-12);
        } else {
            prop_assert_eq!(r.unwrap_err()[0].key, Some("sample_percent"));
        }
    }

    /// Whatever the file's URL, resolving never panics and an accepted one ends in /v1/traces once.
    #[test]
    fn any_url_resolves_or_is_refused_with_its_key(url in "[a-z:/.0-9?#@ ]{0,30}") {
        match resolve(Some(&section(Some(&url), None, None)), &env(&[])) {
            Ok(Some(s)) => prop_assert!(s.endpoint.ends_with(TRACES_PATH) && s.endpoint.matches(TRACES_PATH).count() == 1),
            Ok(None) => prop_assert!(false, "a written otlp never means off"),
            Err(p) => prop_assert_eq!(p[0].key, Some("otlp")),
        }
    }
}
