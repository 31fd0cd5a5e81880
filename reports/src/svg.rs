//! Shared drawing helpers: escaping, number formatting, the time scale, axis
//! ticks, colours and fault shading. All output is deterministic.
use crate::load::Fault;
use std::fmt::Write;

/// Left gutter of every plot (axis labels), in pixels.
pub const GUTTER: f64 = 80.0;
/// Width of the time axis at zoom 1, in pixels.
pub const WIDTH: f64 = 1200.0;
/// Right margin of every plot.
pub const RIGHT: f64 = 20.0;

/// Escapes text for HTML and SVG, in content and in quoted attributes.
/// (Five replacements; not worth a dependency.)
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A coordinate with at most `digits` decimals, trailing zeros dropped.
pub fn num(x: f64, digits: usize) -> String {
    if !x.is_finite() {
        return "0".to_string();
    }
    let mut s = format!("{x:.digits$}");
    if s.contains('.') {
        while s.ends_with('0') {
            s.pop();
        }
        if s.ends_with('.') {
            s.pop();
        }
    }
    if s == "-0" {
        s = "0".to_string();
    }
    s
}

/// Two decimals: enough for pixels.
pub fn px(x: f64) -> String {
    num(x, 2)
}

/// Simulated nanoseconds as text: `850 ms`, `3.25 s`, `12 µs`.
pub fn fmt_time(ns: u64) -> String {
    if ns >= 1_000_000_000 {
        format!("{} s", num(ns as f64 / 1e9, 3))
    } else if ns >= 1_000_000 {
        format!("{} ms", num(ns as f64 / 1e6, 2))
    } else if ns >= 1_000 {
        format!("{} µs", num(ns as f64 / 1e3, 2))
    } else {
        format!("{ns} ns")
    }
}

/// Maps simulated time to x in pixels: `[0, end]` onto `[left, left + WIDTH]`.
#[derive(Clone, Copy, Debug)]
pub struct Scale {
    pub end: u64,
    pub left: f64,
}

impl Scale {
    pub fn x(&self, t: u64) -> f64 {
        self.left + (t.min(self.end) as f64) * WIDTH / (self.end.max(1) as f64)
    }
}

/// A 1-2-5 step giving about `target` steps over `span`.
pub fn nice_step(span: f64, target: f64) -> f64 {
    let raw = (span / target.max(1.0)).max(1e-9);
    let mag = 10f64.powf(raw.log10().floor());
    for m in [1.0, 2.0, 5.0, 10.0] {
        if m * mag >= raw {
            return m * mag;
        }
    }
    10.0 * mag
}

/// Ticks for a time axis over `[0, end]` nanoseconds.
pub fn time_ticks(end: u64) -> Vec<u64> {
    let step = nice_step(end as f64, 12.0).max(1.0) as u64;
    (0..=end / step).map(|i| i * step).collect()
}

/// Vertical grid lines from `top` to `bottom` at each tick, labelled at `label_y`.
pub fn time_axis(out: &mut String, scale: &Scale, top: f64, bottom: f64, label_y: f64) {
    for t in time_ticks(scale.end) {
        let x = px(scale.x(t));
        let _ = write!(
            out,
            r#"<line class="grid" x1="{x}" x2="{x}" y1="{}" y2="{}"/><text class="tick" x="{x}" y="{}" text-anchor="{}">{}</text>"#,
            px(top),
            px(bottom),
            px(label_y),
            if t == 0 { "start" } else { "middle" },
            esc(&axis_label(t, scale.end))
        );
    }
}

/// Seconds with as many decimals as the axis needs.
pub fn axis_label(t: u64, end: u64) -> String {
    let step = nice_step(end as f64, 12.0);
    let digits = if step >= 1e9 {
        0
    } else if step >= 1e8 {
        1
    } else if step >= 1e7 {
        2
    } else {
        3
    };
    format!("{}s", num(t as f64 / 1e9, digits))
}

/// Colour of a fault kind. Known kinds have fixed colours; others get one
/// from their name's hash, so the same kind always looks the same.
pub fn fault_color(kind: &str) -> &'static str {
    const PALETTE: [&str; 12] = [
        "#e6550d", "#3182bd", "#31a354", "#756bb1", "#d6616b", "#8c6d31", "#e7ba52", "#17becf",
        "#7b4173", "#637939", "#ad494a", "#6b6ecf",
    ];
    let known = [
        "crash",
        "isolate",
        "random-halves",
        "majorities-ring",
        "pause",
        "latency",
        "loss",
        "blackhole-until-snapshot",
        "crash-at",
        "clock-drift",
        "one-way",
        "bridge",
    ];
    match known.iter().position(|k| *k == kind) {
        Some(i) => PALETTE[i],
        None => PALETTE[(fnv(kind.as_bytes()) % PALETTE.len() as u64) as usize],
    }
}

/// Colour of a node, by id.
pub fn node_color(node: u64) -> &'static str {
    const NODES: [&str; 8] = [
        "#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#bcbd22", "#17becf",
    ];
    NODES[(node % NODES.len() as u64) as usize]
}

fn fnv(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// A fault's end, or the end of the run if it never ended.
pub fn fault_end(f: &Fault, end: u64) -> u64 {
    f.end.unwrap_or(end).max(f.start)
}

/// One line describing a fault, e.g. `crash n2 (lose_disk=true) 0.7–0.9 s`.
pub fn fault_title(f: &Fault, end: u64) -> String {
    let mut t = format!("#{} {}", f.id, f.fault);
    if !f.nodes.is_empty() {
        let nodes: Vec<String> = f.nodes.iter().map(|n| format!("n{n}")).collect();
        let _ = write!(t, " {}", nodes.join(","));
    }
    let params: Vec<String> = f
        .params
        .iter()
        .map(|(k, v)| format!("{k}={}", crate::ops::short_json(v)))
        .collect();
    if !params.is_empty() {
        let _ = write!(t, " ({})", params.join(", "));
    }
    let _ = write!(
        t,
        ", {} – {}",
        fmt_time(f.start),
        match f.end {
            Some(e) => fmt_time(e),
            None => format!("end of run ({})", fmt_time(end)),
        }
    );
    if !f.detail.is_empty() {
        let _ = write!(t, ": {}", f.detail);
    }
    t
}

/// Shaded fault windows over `[top, top + height]`.
pub fn fault_bands(out: &mut String, scale: &Scale, faults: &[Fault], top: f64, height: f64) {
    for f in faults {
        let x0 = scale.x(f.start);
        let x1 = scale.x(fault_end(f, scale.end));
        let _ = write!(
            out,
            r#"<rect class="band" x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}</title></rect>"#,
            px(x0),
            px(top),
            px((x1 - x0).max(0.5)),
            px(height),
            fault_color(&f.fault),
            esc(&fault_title(f, scale.end))
        );
    }
}

/// The legend of the fault kinds present, as HTML.
pub fn fault_legend(faults: &[Fault]) -> String {
    let mut kinds: Vec<&str> = faults.iter().map(|f| f.fault.as_str()).collect();
    kinds.sort_unstable();
    kinds.dedup();
    if kinds.is_empty() {
        return r#"<span class="legend-item">no faults injected</span>"#.to_string();
    }
    let mut out = String::new();
    for k in kinds {
        let _ = write!(
            out,
            r#"<span class="legend-item"><span class="swatch band-swatch" style="background:{}"></span>{}</span>"#,
            fault_color(k),
            esc(k)
        );
    }
    out
}
