//! Snapshot lifecycle per node: log index and log length over time, snapshots
//! taken, sent (chunks), received, installed, rejected, restored, and boots,
//! crashes and disk losses. Dense events are merged per pixel column so the
//! drawing stays small however long the run.
use crate::lifecycle::{self, Counts, Lifecycle, Point, ROWS};
use crate::load::{Fault, TraceLine};
use crate::nodes::NodeLife;
use crate::svg::{
    esc, fault_bands, fmt_time, node_color, px, time_axis, Scale, GUTTER, RIGHT, WIDTH,
};
use std::collections::BTreeMap;
use std::fmt::Write;

const TOP: f64 = 8.0;
const INDEX_H: f64 = 44.0;
const LOG_H: f64 = 22.0;
const ROW: f64 = 13.0;
const PANEL_GAP: f64 = 14.0;

fn panel_height() -> f64 {
    INDEX_H + 4.0 + LOG_H + 4.0 + ROW * ROWS.len() as f64
}

/// A marker that a checker's data points at: node, time, a short label
/// drawn beside it and the whole text on hover.
pub struct Pin {
    pub node: u64,
    pub time: u64,
    pub label: String,
    pub text: String,
}

pub fn render(
    trace: &[TraceLine],
    faults: &[Fault],
    lives: &BTreeMap<u64, NodeLife>,
    end: u64,
    pins: &[Pin],
) -> String {
    if lives.is_empty() {
        return "<p class=\"note\">No node trace (trace.jsonl absent or empty).</p>".to_string();
    }
    let scale = Scale { end, left: GUTTER };
    let nodes: Vec<u64> = lives.keys().copied().collect();
    let panel = |node: u64| nodes.iter().position(|&n| n == node);
    let Lifecycle {
        series,
        marks,
        counts,
        xfers,
    } = lifecycle::collect(trace, lives, &scale);
    let max_index = series
        .values()
        .flat_map(|s| s.iter().map(|v| v.last.max(v.snap)))
        .max()
        .unwrap_or(0)
        .max(1);
    let max_log = counts.values().map(|c| c.max_log).max().unwrap_or(0).max(1);
    let ph = panel_height();
    let height = TOP + nodes.len() as f64 * (ph + PANEL_GAP) + 24.0;
    let w = GUTTER + WIDTH + RIGHT;
    let mut out = format!(
        r#"<svg id="plot-snapshots" class="plot" width="{w}" height="{h}" viewBox="0 0 {w} {h}">"#,
        h = px(height)
    );
    let bottom = TOP + nodes.len() as f64 * (ph + PANEL_GAP) - PANEL_GAP;
    fault_bands(&mut out, &scale, faults, TOP, bottom - TOP);
    time_axis(&mut out, &scale, TOP, bottom, bottom + 14.0);
    for (p, node) in nodes.iter().enumerate() {
        let top = TOP + p as f64 * (ph + PANEL_GAP);
        let color = node_color(*node);
        let _ = write!(
            out,
            r#"<text class="panel" x="4" y="{}" fill="{color}">n{node}</text>"#,
            px(top + 14.0)
        );
        // Down time, shaded across the panel.
        for d in &lives[node].downs {
            let x0 = scale.x(d.from);
            let x1 = scale.x(d.to.unwrap_or(end));
            let _ = write!(
                out,
                r#"<rect class="downband" x="{}" y="{}" width="{}" height="{}"/>"#,
                px(x0),
                px(top),
                px((x1 - x0).max(0.5)),
                px(ph)
            );
        }
        let s = series.get(node).map(Vec::as_slice).unwrap_or(&[]);
        // Index strip: last log index (solid) and snapshot index (dashed).
        let yi = |v: u64| top + INDEX_H * (1.0 - v as f64 / max_index as f64);
        frame(&mut out, top, INDEX_H, "index", &max_index.to_string());
        step_path(
            &mut out,
            &scale,
            s,
            end,
            |v| yi(v.last),
            "idx",
            color,
            "last log index",
        );
        step_path(
            &mut out,
            &scale,
            s,
            end,
            |v| yi(v.snap),
            "snapidx",
            color,
            "snapshot index",
        );
        // Log length strip, as an area.
        let ltop = top + INDEX_H + 4.0;
        let yl = |v: u64| ltop + LOG_H * (1.0 - v as f64 / max_log as f64);
        frame(&mut out, ltop, LOG_H, "log len", &max_log.to_string());
        area_path(&mut out, &scale, s, end, |v| yl(v.len), ltop + LOG_H, color);
        let rtop = ltop + LOG_H + 4.0;
        for (i, name) in ROWS.iter().enumerate() {
            let _ = write!(
                out,
                r#"<text class="rowname" x="{}" y="{}" text-anchor="end">{name}</text><line class="rowline" x1="{GUTTER}" x2="{}" y1="{y}" y2="{y}"/>"#,
                px(GUTTER - 6.0),
                px(rtop + i as f64 * ROW + 9.0),
                GUTTER + WIDTH,
                y = px(rtop + i as f64 * ROW + ROW / 2.0)
            );
        }
    }
    let row_y = |key: usize| {
        let p = key / 100;
        TOP + p as f64 * (ph + PANEL_GAP)
            + INDEX_H
            + LOG_H
            + 8.0
            + (key % 100) as f64 * ROW
            + ROW / 2.0
    };
    for (from, t0, to, t1) in &xfers {
        let (Some(pf), Some(pt)) = (panel(*from), panel(*to)) else {
            continue;
        };
        let _ = write!(
            out,
            r#"<line class="xfer" x1="{}" y1="{}" x2="{}" y2="{}"><title>snapshot n{from} → n{to}, {} – {}</title></line>"#,
            px(scale.x(*t0)),
            px(row_y(pf * 100 + 1)),
            px(scale.x(*t1)),
            px(row_y(pt * 100 + 2)),
            fmt_time(*t0),
            fmt_time(*t1)
        );
    }
    // Snapshots are taken often: one path of ticks per node, not one element each.
    let mut ticks: BTreeMap<usize, (u64, String)> = BTreeMap::new();
    for ((row, shape, _), m) in &marks.at {
        if *shape == "tick" {
            let t = ticks.entry(*row).or_default();
            t.0 += m.count;
            let _ = write!(t.1, "M{} {}v10", px(m.x), px(row_y(*row) - 5.0));
            continue;
        }
        let title = if m.count > 1 {
            format!("{} events here; first: {}", m.count, m.title)
        } else {
            m.title.clone()
        };
        shape_svg(&mut out, shape, m.x, row_y(*row), m.class, &title);
    }
    for (row, (count, d)) in &ticks {
        let _ = write!(
            out,
            r#"<path class="m-taken" d="{d}"><title>n{}: {count} snapshots taken</title></path>"#,
            nodes.get(row / 100).copied().unwrap_or(0)
        );
    }
    for (i, pin) in pins.iter().enumerate() {
        let Some(p) = panel(pin.node) else { continue };
        let top = TOP + p as f64 * (ph + PANEL_GAP);
        let x = px(scale.x(pin.time));
        let _ = write!(
            out,
            r#"<g id="pin-{i}" class="pin"><line x1="{x}" x2="{x}" y1="{}" y2="{}"/><text x="{x}" y="{}" dx="4">{}</text><title>{}</title></g>"#,
            px(top),
            px(top + ph),
            // Staggered, so that pins close together keep readable labels.
            px(top + 10.0 + (i % 4) as f64 * 11.0),
            esc(&pin.label),
            esc(&pin.text)
        );
    }
    out.push_str("</svg>");
    out.push_str(&legend());
    out.push_str(&table(&counts, lives));
    out
}

fn frame(out: &mut String, top: f64, h: f64, name: &str, max: &str) {
    let _ = write!(
        out,
        r#"<rect class="frame" x="{GUTTER}" y="{}" width="{WIDTH}" height="{h}"/><text class="rowname" x="{}" y="{}" text-anchor="end">{name}</text><text class="tick" x="{}" y="{}" text-anchor="end">{}</text>"#,
        px(top),
        px(GUTTER - 6.0),
        px(top + h - 2.0),
        px(GUTTER - 6.0),
        px(top + 9.0),
        esc(max)
    );
}

/// Merges points falling on one pixel column into the last of them, keeping
/// the largest log length seen in the column.
fn columns(scale: &Scale, s: &[Point]) -> Vec<(f64, Point)> {
    let mut sorted = s.to_vec();
    // Traces are in time order; sort anyway so any input draws left to right.
    sorted.sort_by_key(|p| p.time);
    let mut out: Vec<(f64, Point)> = Vec::new();
    for v in &sorted {
        let x = scale.x(v.time);
        match out.last_mut() {
            Some(last) if last.0.floor() == x.floor() => {
                let len = last.1.len.max(v.len);
                last.1 = Point { len, ..*v };
            }
            _ => out.push((x, *v)),
        }
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn step_path(
    out: &mut String,
    scale: &Scale,
    s: &[Point],
    end: u64,
    y: impl Fn(&Point) -> f64,
    class: &str,
    color: &str,
    title: &str,
) {
    let cols = columns(scale, s);
    let Some(first) = cols.first() else { return };
    let mut d = format!("M{} {}", px(first.0), px(y(&first.1)));
    for (x, v) in &cols[1..] {
        let _ = write!(d, "H{}V{}", px(*x), px(y(v)));
    }
    let _ = write!(d, "H{}", px(scale.x(end)));
    let _ = write!(
        out,
        r#"<path class="{class}" stroke="{color}" d="{d}"><title>{title}</title></path>"#
    );
}

fn area_path(
    out: &mut String,
    scale: &Scale,
    s: &[Point],
    end: u64,
    y: impl Fn(&Point) -> f64,
    base: f64,
    color: &str,
) {
    let cols = columns(scale, s);
    let Some(first) = cols.first() else { return };
    let mut d = format!("M{} {}", px(first.0), px(base));
    for (x, v) in &cols {
        let _ = write!(d, "H{}V{}", px(*x), px(y(v)));
    }
    let _ = write!(d, "H{}V{}Z", px(scale.x(end)), px(base));
    let _ = write!(
        out,
        r#"<path class="loglen" fill="{color}" d="{d}"><title>log length (entries kept after the snapshot)</title></path>"#
    );
}

fn shape_svg(out: &mut String, shape: &str, x: f64, y: f64, class: &str, title: &str) {
    let (x, y) = (px(x), px(y));
    let t = esc(title);
    let _ = match shape {
        "tick" => write!(
            out,
            r#"<path class="{class}" d="M{x} {y}m0 -5v10"><title>{t}</title></path>"#
        ),
        "tri" => write!(
            out,
            r#"<path class="{class}" d="M{x} {y}m-3 -5l8 5l-8 5z"><title>{t}</title></path>"#
        ),
        "dia" => write!(
            out,
            r#"<path class="{class}" d="M{x} {y}m0 -6l5 6l-5 6l-5 -6z"><title>{t}</title></path>"#
        ),
        "cross" => write!(
            out,
            r#"<path class="{class} stroke" d="M{x} {y}m-4 -4l8 8m0 -8l-8 8"><title>{t}</title></path>"#
        ),
        "ff" => write!(
            out,
            r#"<path class="{class} stroke" d="M{x} {y}m-4 -4l4 4l-4 4m4 -8l4 4l-4 4"><title>{t}</title></path>"#
        ),
        "boot" => write!(
            out,
            r#"<path class="{class}" d="M{x} {y}m-5 5l5 -10l5 10z"><title>{t}</title></path>"#
        ),
        "square" => write!(
            out,
            r#"<rect class="{class}" x="{x}" y="{y}" width="8" height="8" transform="translate(-4 -4)"><title>{t}</title></rect>"#
        ),
        "ring" => write!(
            out,
            r#"<circle class="{class} hollow" cx="{x}" cy="{y}" r="4"><title>{t}</title></circle>"#
        ),
        "circ" => write!(
            out,
            r#"<circle class="{class}" cx="{x}" cy="{y}" r="4"><title>{t}</title></circle>"#
        ),
        _ => write!(
            out,
            r#"<circle class="{class}" cx="{x}" cy="{y}" r="2"><title>{t}</title></circle>"#
        ),
    };
}

fn legend() -> String {
    let icon = |shape: &str, class: &str, text: &str| {
        let mut svg = String::new();
        shape_svg(&mut svg, shape, 8.0, 8.0, class, text);
        format!(
            r#"<span class="legend-item"><svg class="icon" width="16" height="16" viewBox="0 0 16 16">{svg}</svg>{}</span>"#,
            esc(text)
        )
    };
    let items = [
        icon("tick", "m-taken", "snapshot taken"),
        icon("tri", "m-sent", "snapshot send started"),
        icon("dot", "m-chunk", "chunk sent / received"),
        icon("dia", "m-installed", "installed"),
        icon("cross", "m-bad", "rejected / refused chunk"),
        icon("ff", "m-ff", "fast-forward"),
        icon("circ", "m-restored", "restored on boot"),
        icon("ring", "m-restored", "restored after install"),
        icon("boot", "m-boot", "boot"),
        icon("cross", "m-crash", "crash"),
        icon("cross", "m-disk", "crash with disk loss"),
        icon("square", "m-bad", "halted"),
        r#"<span class="legend-item"><span class="swatch downband"></span>down</span><span class="legend-item"><span class="swatch line-solid"></span>last log index</span><span class="legend-item"><span class="swatch line-dash"></span>snapshot index</span>"#.to_string(),
    ];
    format!("<div class=\"legend\">{}</div>", items.concat())
}

fn table(counts: &BTreeMap<u64, Counts>, lives: &BTreeMap<u64, NodeLife>) -> String {
    let mut out = String::from("<table class=\"nodes\"><tr><th>node</th><th>taken</th><th>sends started</th><th>chunks sent</th><th>chunks received</th><th>installed</th><th>rejected</th><th>fast-forwards</th><th>restored</th><th>crashes</th><th>disk losses</th><th>halts</th><th>max log length</th></tr>");
    for (node, c) in counts {
        let downs = lives.get(node).map(|l| l.downs.as_slice()).unwrap_or(&[]);
        let halts = downs.iter().filter(|d| d.halted.is_some()).count();
        let disk = downs.iter().filter(|d| d.disk_lost).count();
        let _ = write!(
            out,
            "<tr><td>n{node}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{disk}</td><td>{halts}</td><td>{}</td></tr>",
            c.taken,
            c.sent,
            c.chunks_sent,
            c.chunks_received,
            c.installed,
            c.rejected,
            c.fast_forward,
            c.restored,
            downs.len() - halts,
            c.max_log
        );
    }
    out.push_str("</table>");
    out
}
