//! Latency quantiles and throughput over simulated time, from hdrhistogram
//! per time window, with fault windows shaded (Jepsen's latency-quantiles and
//! rate plots), each also per key for the page's key filter.
use crate::load::Fault;
use crate::ops::{Keys, Op, Outcome};
use crate::svg::{esc, fault_bands, nice_step, num, px, time_axis, Scale, GUTTER, RIGHT, WIDTH};
use hdrhistogram::Histogram;
use std::collections::BTreeMap;
use std::fmt::Write;

const HEIGHT: f64 = 200.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 34.0;

/// The window of the plots: about 120 windows over the run, at least 1 ms.
pub fn window(end: u64) -> u64 {
    (nice_step(end as f64, 120.0) as u64).max(1_000_000)
}

fn histogram() -> Histogram<u64> {
    // Microseconds, 1 µs to an hour, 3 significant digits: the bounds are
    // constants that hdrhistogram accepts.
    Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid histogram bounds")
}

pub(crate) struct Series {
    pub name: String,
    /// CSS classes: colour (and dash) of the line.
    pub class: String,
    /// One value per window; `None` leaves a gap.
    pub values: Vec<Option<f64>>,
    /// The key (by number) the series is of, or `None` for all keys; the
    /// page's key filter shows one key's series at a time.
    pub key: Option<usize>,
}

/// Latency p50, p99 and max per window of the operations `pick` keeps.
fn quantiles(
    ops: &[Op],
    step: u64,
    n: usize,
    pick: impl Fn(&Op) -> bool,
    key: Option<usize>,
) -> Vec<Series> {
    let mut windows: Vec<Option<Histogram<u64>>> = (0..n).map(|_| None).collect();
    for op in ops.iter().filter(|o| pick(o)) {
        let Some(lat) = op.latency() else { continue };
        let w = ((op.call / step) as usize).min(n - 1);
        windows[w]
            .get_or_insert_with(histogram)
            .saturating_record((lat / 1000).max(1));
    }
    let q = |f: &dyn Fn(&Histogram<u64>) -> u64| -> Vec<Option<f64>> {
        windows
            .iter()
            .map(|h| h.as_ref().map(|h| f(h) as f64 / 1000.0))
            .collect()
    };
    let series = |name: &str, class: &str, values| Series {
        name: name.to_string(),
        class: class.to_string(),
        values,
        key,
    };
    vec![
        series("p50", "s-p50", q(&|h| h.value_at_quantile(0.5))),
        series("p99", "s-p99", q(&|h| h.value_at_quantile(0.99))),
        series("max", "s-max", q(&|h| h.max())),
    ]
}

/// The latency plot (p50, p99, max per window, by invocation time, log
/// scale: Jepsen's latency-quantiles), for all keys and, hidden until the
/// key filter picks one, per key.
pub fn latency(ops: &[Op], keys: &Keys, faults: &[Fault], end: u64) -> String {
    let step = window(end);
    let n = (end / step + 1) as usize;
    let mut series = quantiles(ops, step, n, |_| true, None);
    if keys.plotted() {
        for k in 0..keys.names.len() {
            series.extend(quantiles(ops, step, n, |o| keys.of_op(o) == k, Some(k)));
        }
    }
    let all: Vec<f64> = series
        .iter()
        .flat_map(|s| s.values.iter().flatten().copied())
        .collect();
    if all.is_empty() {
        return empty("latency", "no completed operations");
    }
    let (lo, hi) = log_range(&all);
    let y = move |v: f64| TOP + HEIGHT * (1.0 - (v.max(1e-3).log10() - lo) / (hi - lo));
    let ticks = log_ticks(lo, hi, &y);
    let caption = format!(
        "latency quantiles by invocation time (ms, log scale), {} windows",
        crate::svg::fmt_time(step)
    );
    chart("latency", &caption, &series, &ticks, y, step, faults, end)
}

/// Decades spanning `values` (ms), at least one.
pub(crate) fn log_range(values: &[f64]) -> (f64, f64) {
    let lo = values.iter().copied().fold(f64::MAX, f64::min).max(0.001);
    let hi = values.iter().copied().fold(0.0, f64::max).max(lo * 10.0);
    (lo.log10().floor(), hi.log10().ceil())
}

pub(crate) fn log_ticks(lo: f64, hi: f64, y: &impl Fn(f64) -> f64) -> Vec<(f64, String)> {
    (lo as i32..=hi as i32)
        .map(|e| {
            let v = 10f64.powi(e);
            (y(v), format!("{} ms", num(v, 3)))
        })
        .collect()
}

/// Line dash of the n-th function (`f`), as the rate plot draws them.
pub(crate) const DASHES: [&str; 4] = ["d0", "d1", "d2", "d3"];

/// Completions per second per window of each function × outcome that
/// `pick` keeps.
fn rates(
    ops: &[Op],
    fs: &[&str],
    step: u64,
    n: usize,
    pick: impl Fn(&Op) -> bool,
    key: Option<usize>,
) -> Vec<Series> {
    let mut counts: BTreeMap<(usize, usize), Vec<u64>> = BTreeMap::new();
    for op in ops.iter().filter(|o| pick(o)) {
        let Some(ret) = op.ret else { continue };
        let Some(outcome) = OUTCOMES.iter().position(|o| *o == op.outcome) else {
            continue;
        };
        let f = fs.iter().position(|f| *f == op.f).unwrap_or(0);
        let w = ((ret / step) as usize).min(n - 1);
        counts.entry((f, outcome)).or_insert_with(|| vec![0; n])[w] += 1;
    }
    let per_s = 1e9 / step as f64;
    counts
        .into_iter()
        .map(|((f, o), c)| Series {
            name: format!("{} {}", fs[f], OUTCOMES[o].class()),
            class: format!("s-{} {}", OUTCOMES[o].class(), DASHES[f % DASHES.len()]),
            values: c.iter().map(|&v| Some(v as f64 * per_s)).collect(),
            key,
        })
        .collect()
}

/// The outcomes of completed operations, in the order plots list them.
pub(crate) const OUTCOMES: [Outcome; 3] = [Outcome::Ok, Outcome::Fail, Outcome::Info];

/// The functions of the operations, sorted.
pub(crate) fn functions(ops: &[Op]) -> Vec<&str> {
    let mut fs: Vec<&str> = ops.iter().map(|o| o.f.as_str()).collect();
    fs.sort_unstable();
    fs.dedup();
    fs
}

/// The throughput plot: completions per second per window, one line per
/// function × outcome (Jepsen's rate): colour by outcome, dash by function.
pub fn rate(ops: &[Op], keys: &Keys, faults: &[Fault], end: u64) -> String {
    let step = window(end);
    let n = (end / step + 1) as usize;
    let fs = functions(ops);
    let mut series = rates(ops, &fs, step, n, |_| true, None);
    if series.is_empty() {
        return empty("rate", "no completed operations");
    }
    if keys.plotted() {
        for k in 0..keys.names.len() {
            series.extend(rates(ops, &fs, step, n, |o| keys.of_op(o) == k, Some(k)));
        }
    }
    let max = series
        .iter()
        .flat_map(|s| s.values.iter().flatten().copied())
        .fold(1.0, f64::max);
    let tick = nice_step(max, 5.0);
    let top = (max / tick).ceil() * tick;
    let y = move |v: f64| TOP + HEIGHT * (1.0 - v / top);
    let ticks: Vec<(f64, String)> = (0..=(top / tick).round() as u64)
        .map(|i| (y(i as f64 * tick), num(i as f64 * tick, 2)))
        .collect();
    let caption = format!(
        "completions per second by function and outcome, {} windows",
        crate::svg::fmt_time(step)
    );
    chart("rate", &caption, &series, &ticks, y, step, faults, end)
}

fn empty(id: &str, why: &str) -> String {
    format!(
        r#"<svg id="plot-{id}" class="plot" width="{w}" height="40" viewBox="0 0 {w} 40"><text x="{GUTTER}" y="24">{}</text></svg>"#,
        esc(why),
        w = GUTTER + WIDTH + RIGHT
    )
}

/// A time plot's opening, for a plot area `height` px tall: the
/// `<svg id="plot-{id}">`, fault shading, the time axis, the y grid with its
/// labels and the frame; the caller draws its data and closes the svg.
pub(crate) fn frame(
    id: &str,
    caption: &str,
    yticks: &[(f64, String)],
    scale: &Scale,
    faults: &[Fault],
    height: f64,
) -> String {
    let w = GUTTER + WIDTH + RIGHT;
    let h = TOP + height + BOTTOM;
    let mut out = format!(
        r#"<svg id="plot-{id}" class="plot" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" aria-label="{}">"#,
        esc(caption)
    );
    fault_bands(&mut out, scale, faults, TOP, height);
    time_axis(&mut out, scale, TOP, TOP + height, TOP + height + 14.0);
    for (yy, label) in yticks {
        let _ = write!(
            out,
            r#"<line class="grid" x1="{GUTTER}" x2="{}" y1="{y}" y2="{y}"/><text class="tick" x="{}" y="{}" text-anchor="end">{}</text>"#,
            GUTTER + WIDTH,
            px(GUTTER - 6.0),
            px(yy + 4.0),
            esc(label),
            y = px(*yy)
        );
    }
    let _ = write!(
        out,
        r#"<rect class="frame" x="{GUTTER}" y="{TOP}" width="{WIDTH}" height="{height}"/>"#
    );
    out
}

#[allow(clippy::too_many_arguments)]
fn chart(
    id: &str,
    caption: &str,
    series: &[Series],
    yticks: &[(f64, String)],
    y: impl Fn(f64) -> f64,
    step: u64,
    faults: &[Fault],
    end: u64,
) -> String {
    let scale = Scale { end, left: GUTTER };
    let h = TOP + HEIGHT + BOTTOM;
    let mut out = frame(id, caption, yticks, &scale, faults, HEIGHT);
    for s in series {
        let mut d = String::new();
        let mut dots = String::new();
        let v = &s.values;
        for i in 0..v.len() {
            let Some(value) = v[i] else { continue };
            let t = (i as u64).saturating_mul(step).saturating_add(step / 2);
            let (x, yy) = (px(scale.x(t)), px(y(value)));
            let before = i > 0 && v[i - 1].is_some();
            let after = v.get(i + 1).is_some_and(Option::is_some);
            if !before && !after {
                // A window alone between gaps: a dot, as a line needs two.
                let _ = write!(
                    dots,
                    r#"<circle class="dot {}" cx="{x}" cy="{yy}" r="2.5"/>"#,
                    s.class
                );
            }
            let _ = write!(d, "{}{x} {yy}", if before { "L" } else { "M" });
        }
        // Per-key series start hidden; the key filter swaps them in.
        let (key, hidden) = match s.key {
            Some(k) => (k.to_string(), " hid"),
            None => ("*".to_string(), ""),
        };
        let _ = write!(
            out,
            r#"<g class="kser{hidden}" data-key="{key}">{dots}<path class="series {}" d="{d}"><title>{}</title></path></g>"#,
            s.class,
            esc(&s.name)
        );
    }
    // Legend, top right, in rows of four.
    let shown: Vec<&Series> = series.iter().filter(|s| s.key.is_none()).collect();
    let per_row = shown.len().min(4);
    for (i, s) in shown.iter().enumerate() {
        let x = GUTTER + WIDTH - 100.0 * (per_row - i % 4) as f64;
        let yy = TOP + 10.0 + 13.0 * (i / 4) as f64;
        let _ = write!(
            out,
            r#"<line class="series {}" x1="{}" x2="{}" y1="{yy}" y2="{yy}"/><text class="tick" x="{}" y="{}">{}</text>"#,
            s.class,
            px(x),
            px(x + 18.0),
            px(x + 22.0),
            px(yy + 4.0),
            esc(&s.name)
        );
    }
    let _ = write!(
        out,
        r#"<text class="caption" x="{GUTTER}" y="{}">{}</text></svg>"#,
        px(h - 4.0),
        esc(caption)
    );
    out
}

/// Latency quantiles per function and overall, as an HTML table (ms).
pub fn latency_table(ops: &[Op]) -> String {
    let mut by_f: BTreeMap<String, Histogram<u64>> = BTreeMap::new();
    let mut all = histogram();
    for op in ops {
        if let (Some(lat), Outcome::Ok) = (op.latency(), op.outcome) {
            let us = (lat / 1000).max(1);
            by_f.entry(op.f.clone())
                .or_insert_with(histogram)
                .saturating_record(us);
            all.saturating_record(us);
        }
    }
    let mut out = String::from(
        "<table class=\"lat\"><tr><th>ok ops</th><th>count</th><th>p50</th><th>p90</th><th>p99</th><th>p99.9</th><th>max</th></tr>",
    );
    let ms = |v: u64| num(v as f64 / 1000.0, 2);
    let mut row = |name: &str, h: &Histogram<u64>| {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(name),
            h.len(),
            ms(h.value_at_quantile(0.5)),
            ms(h.value_at_quantile(0.9)),
            ms(h.value_at_quantile(0.99)),
            ms(h.value_at_quantile(0.999)),
            ms(h.max())
        );
    };
    for (f, h) in &by_f {
        row(f, h);
    }
    row("all", &all);
    out.push_str("</table><p class=\"note\">milliseconds of simulated time, from invocation to completion</p>");
    out
}
