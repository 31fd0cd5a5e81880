//! The latency of every operation (Jepsen's latency-raw): one point per
//! completed operation at its invocation time and latency (log scale),
//! coloured by outcome, shaped by function. Points that fall on the same
//! pixel of the same series are drawn once, so the plot stays small however
//! many operations there are; each key has its own series for the key filter.
use crate::load::Fault;
use crate::ops::{Keys, Op};
use crate::plots::{frame, functions, log_range, log_ticks, OUTCOMES};
use crate::svg::{esc, num, px, Scale, GUTTER, RIGHT, WIDTH};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

const HEIGHT: f64 = 220.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 34.0;

/// Marker shapes, by function (cycled): circle, square, triangle, cross.
const SHAPES: [&str; 4] = ["circle", "square", "triangle", "cross"];
const COLOURS: [&str; 3] = ["#2e8b57", "#c62828", "#ef8f00"];

/// A series of points: key (or `None`, all keys), function, outcome.
type SeriesId = (Option<usize>, usize, usize);

/// One marker at (x, y), as path data.
fn marker(shape: &str, x: i32, y: i32) -> String {
    match shape {
        // Round and square caps of a zero-length stroke.
        "circle" | "square" => format!("M{x} {y}h0"),
        "triangle" => format!("M{x} {}l3 5h-6z", y - 3),
        _ => format!("M{} {}l4 4m0-4l-4 4", x - 2, y - 2),
    }
}

pub fn latency_raw(ops: &[Op], keys: &Keys, faults: &[Fault], end: u64) -> String {
    let w = GUTTER + WIDTH + RIGHT;
    let done: Vec<(&Op, f64)> = ops
        .iter()
        .filter_map(|o| o.latency().map(|l| (o, (l as f64 / 1e6).max(1e-3))))
        .collect();
    if done.is_empty() {
        return format!(
            r#"<svg id="plot-latency-raw" class="plot" width="{w}" height="40" viewBox="0 0 {w} 40"><text x="{GUTTER}" y="24">no completed operations</text></svg>"#
        );
    }
    let values: Vec<f64> = done.iter().map(|d| d.1).collect();
    let (lo, hi) = log_range(&values);
    let y = |v: f64| TOP + HEIGHT * (1.0 - (v.max(1e-3).log10() - lo) / (hi - lo));
    let scale = Scale { end, left: GUTTER };
    let fs = functions(ops);
    let split = keys.plotted();
    // Each series' distinct pixels.
    let mut series: BTreeMap<SeriesId, BTreeSet<(i32, i32)>> = BTreeMap::new();
    for (op, lat) in &done {
        let Some(o) = OUTCOMES.iter().position(|x| *x == op.outcome) else {
            continue;
        };
        let f = fs.iter().position(|f| *f == op.f).unwrap_or(0);
        let key = split.then(|| keys.of_op(op));
        let at = (scale.x(op.call).round() as i32, y(*lat).round() as i32);
        series.entry((key, f, o)).or_default().insert(at);
    }
    let caption = "latency of every operation by invocation time (ms, log scale): colour by outcome, shape by function";
    let mut out = frame(
        "latency-raw",
        caption,
        &log_ticks(lo, hi, &y),
        &scale,
        faults,
        HEIGHT,
    );
    let h = TOP + HEIGHT + BOTTOM;
    for ((key, f, o), points) in &series {
        let shape = SHAPES[f % SHAPES.len()];
        let mut d = String::with_capacity(points.len() * 12);
        for &(x, yy) in points {
            d.push_str(&marker(shape, x, yy));
        }
        let key = key.map_or("*".to_string(), |k| k.to_string());
        let name = format!("{} {}", fs[*f], OUTCOMES[*o].class());
        let _ = write!(
            out,
            r#"<path class="pt pt-{shape}" data-key="{key}" style="--c:{}" d="{d}"><title>{}</title></path>"#,
            COLOURS[*o],
            esc(&name)
        );
    }
    let _ = write!(
        out,
        r#"<text class="caption" x="{GUTTER}" y="{}">{caption}</text></svg>"#,
        px(h - 4.0)
    );
    // Legend: colours, then one shape per function.
    out.push_str(r#"<div class="legend">"#);
    for (o, c) in OUTCOMES.iter().zip(COLOURS) {
        let _ = write!(
            out,
            r#"<span class="legend-item"><span class="swatch" style="background:{c}"></span>{}</span>"#,
            o.class()
        );
    }
    for (i, f) in fs.iter().enumerate() {
        let shape = SHAPES[i % SHAPES.len()];
        let _ = write!(
            out,
            r#"<span class="legend-item"><svg class="icon" width="12" height="12" viewBox="0 0 12 12"><path class="pt pt-{shape}" style="--c:#555" d="{}"/></svg>{}</span>"#,
            marker(shape, 6, 6),
            esc(f)
        );
    }
    let _ = write!(
        out,
        r#"<span class="legend-item note">{} operations; points on one pixel drawn once</span></div>"#,
        num(done.len() as f64, 0)
    );
    out
}
