//! Latency quantiles and throughput over simulated time, from hdrhistogram
//! per time window, with fault windows shaded (Jepsen's latency-quantiles and
//! rate plots).
use crate::load::Fault;
use crate::ops::{Op, Outcome};
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

struct Series<'a> {
    name: &'a str,
    class: &'a str,
    /// One value per window; `None` leaves a gap.
    values: Vec<Option<f64>>,
}

/// The latency plot (p50, p99, max per window, by invocation time, log scale).
pub fn latency(ops: &[Op], faults: &[Fault], end: u64) -> String {
    let step = window(end);
    let n = (end / step + 1) as usize;
    let mut windows: Vec<Option<Histogram<u64>>> = (0..n).map(|_| None).collect();
    for op in ops {
        let Some(lat) = op.latency() else { continue };
        let w = ((op.call / step) as usize).min(n - 1);
        windows[w]
            .get_or_insert_with(histogram)
            .saturating_record((lat / 1000).max(1));
    }
    let q = |f: fn(&Histogram<u64>) -> u64| -> Vec<Option<f64>> {
        windows
            .iter()
            .map(|h| h.as_ref().map(|h| f(h) as f64 / 1000.0))
            .collect()
    };
    let series = [
        Series {
            name: "p50",
            class: "s-p50",
            values: q(|h| h.value_at_quantile(0.5)),
        },
        Series {
            name: "p99",
            class: "s-p99",
            values: q(|h| h.value_at_quantile(0.99)),
        },
        Series {
            name: "max",
            class: "s-max",
            values: q(|h| h.max()),
        },
    ];
    let all: Vec<f64> = series
        .iter()
        .flat_map(|s| s.values.iter().flatten().copied())
        .collect();
    if all.is_empty() {
        return empty("latency", "no completed operations");
    }
    let lo = all.iter().copied().fold(f64::MAX, f64::min).max(0.001);
    let hi = all.iter().copied().fold(0.0, f64::max).max(lo * 10.0);
    let (lo, hi) = (lo.log10().floor(), hi.log10().ceil());
    let y = move |v: f64| TOP + HEIGHT * (1.0 - (v.max(1e-3).log10() - lo) / (hi - lo));
    let mut ticks = Vec::new();
    for e in lo as i32..=hi as i32 {
        let v = 10f64.powi(e);
        ticks.push((y(v), format!("{} ms", num(v, 3))));
    }
    let caption = format!(
        "latency by invocation time (ms, log scale), {} windows",
        crate::svg::fmt_time(step)
    );
    chart("latency", &caption, &series, &ticks, y, step, faults, end)
}

/// The throughput plot: completions per second per window, by outcome.
pub fn rate(ops: &[Op], faults: &[Fault], end: u64) -> String {
    let step = window(end);
    let n = (end / step + 1) as usize;
    let mut counts: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    for op in ops {
        let (Some(ret), Outcome::Ok | Outcome::Fail | Outcome::Info) = (op.ret, op.outcome) else {
            continue;
        };
        let w = ((ret / step) as usize).min(n - 1);
        counts
            .entry(op.outcome.class())
            .or_insert_with(|| vec![0; n])[w] += 1;
    }
    if counts.is_empty() {
        return empty("rate", "no completed operations");
    }
    let per_s = 1e9 / step as f64;
    let series: Vec<Series> = [("ok", "s-ok"), ("fail", "s-fail"), ("info", "s-info")]
        .into_iter()
        .filter_map(|(name, class)| {
            counts.get(name).map(|c| Series {
                name,
                class,
                values: c.iter().map(|&v| Some(v as f64 * per_s)).collect(),
            })
        })
        .collect();
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
        "completions per second by outcome, {} windows",
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
    let w = GUTTER + WIDTH + RIGHT;
    let h = TOP + HEIGHT + BOTTOM;
    let mut out = format!(
        r#"<svg id="plot-{id}" class="plot" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" aria-label="{}">"#,
        esc(caption)
    );
    fault_bands(&mut out, &scale, faults, TOP, HEIGHT);
    time_axis(&mut out, &scale, TOP, TOP + HEIGHT, TOP + HEIGHT + 14.0);
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
        r#"<rect class="frame" x="{GUTTER}" y="{TOP}" width="{WIDTH}" height="{HEIGHT}"/>"#
    );
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
        out.push_str(&dots);
        let _ = write!(
            out,
            r#"<path class="series {}" d="{d}"><title>{}</title></path>"#,
            s.class, s.name
        );
    }
    // Legend, top right.
    let mut x = GUTTER + WIDTH - 70.0 * series.len() as f64;
    for s in series {
        let _ = write!(
            out,
            r#"<line class="series {}" x1="{}" x2="{}" y1="{}" y2="{}"/><text class="tick" x="{}" y="{}">{}</text>"#,
            s.class,
            px(x),
            px(x + 18.0),
            TOP + 10.0,
            TOP + 10.0,
            px(x + 22.0),
            TOP + 14.0,
            s.name
        );
        x += 70.0;
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
