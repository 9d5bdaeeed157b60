//! One ratio over benchmark rounds: its median and its spread (min–max), as the reports print
//! them. On a shared 2-core machine a single run's ratio moves a lot; the median of several
//! rounds (fresh processes each) is the figure to compare with a target.

/// `- {what}: **m×** median, spread a–b× (every value)`, or `None` without values.
pub fn median_line(what: &str, values: &[f64]) -> Option<String> {
    let mut values = values.to_vec();
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    let median = if n % 2 == 1 { values[n / 2] } else { (values[n / 2 - 1] + values[n / 2]) / 2.0 };
    let all = values.iter().map(|v| format!("{v:.2}")).collect::<Vec<_>>().join(", ");
    Some(format!("- {what}: **{median:.2}×** median, spread {:.2}–{:.2}× ({all})\n", values[0], values[n - 1]))
}
