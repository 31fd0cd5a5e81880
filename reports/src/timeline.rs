//! The timeline: nemesis faults, each node's role (who led which term) and
//! down time, and one lane per client process with every operation as a bar
//! from invocation to completion. Fault windows are shaded across all lanes.
//! The page's script zooms it by rescaling x (see `report.js`).
use crate::load::Fault;
use crate::nodes::NodeLife;
use crate::ops::{Keys, Op, Outcome};
use crate::svg::{
    esc, fault_bands, fault_color, fault_end, fault_legend, fault_title, fmt_time, node_color, px,
    time_axis, Scale, RIGHT, WIDTH,
};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

const AXIS: f64 = 22.0;
const FAULT_ROW: f64 = 16.0;
const NODE_ROW: f64 = 16.0;
const OP_ROW: f64 = 16.0;
const GAP: f64 = 8.0;

/// Operations to emphasise: position in the ops list to CSS class, and the
/// operation the "jump to first error" link goes to.
#[derive(Default)]
pub struct Marks {
    pub classes: BTreeMap<usize, &'static str>,
    pub first_error: Option<usize>,
}

pub struct Timeline<'a> {
    pub ops: &'a [Op],
    pub faults: &'a [Fault],
    pub lives: &'a BTreeMap<u64, NodeLife>,
    pub end: u64,
    pub marks: &'a Marks,
    pub keys: &'a Keys,
    /// The final reads' process, whose lane is named for what it is.
    pub final_reads: Option<u64>,
}

/// Greedy interval packing: the row of each fault.
fn fault_rows(faults: &[Fault], end: u64) -> (Vec<usize>, usize) {
    let mut row_end: Vec<u64> = Vec::new();
    let mut rows = Vec::with_capacity(faults.len());
    for f in faults {
        let e = fault_end(f, end);
        let r = match row_end.iter().position(|&re| re <= f.start) {
            Some(r) => r,
            None => {
                row_end.push(0);
                row_end.len() - 1
            }
        };
        row_end[r] = e.max(f.start.saturating_add(1));
        rows.push(r);
    }
    (rows, row_end.len().max(1))
}

/// A label inside a bar, hidden while the bar is narrower than the text.
fn label(out: &mut String, x: f64, width: f64, y: f64, text: &str) {
    let need = 6.5 * text.chars().count() as f64 + 4.0;
    let _ = write!(
        out,
        r#"<text class="lbl{}" x="{}" y="{}" data-s="{}" data-w="{}">{}</text>"#,
        if width >= need { "" } else { " hid" },
        px(x + 3.0),
        px(y),
        px(width),
        px(need),
        esc(text)
    );
}

impl Timeline<'_> {
    pub fn render(&self) -> String {
        let scale = Scale {
            end: self.end,
            left: 0.0,
        };
        let (rows, nrows) = fault_rows(self.faults, self.end);
        let processes: BTreeSet<u64> = self.ops.iter().map(|o| o.process).collect();
        let lane: BTreeMap<u64, usize> =
            processes.iter().enumerate().map(|(i, &p)| (p, i)).collect();
        let nodes_top = AXIS + nrows as f64 * FAULT_ROW + GAP;
        let ops_top = nodes_top + self.lives.len() as f64 * NODE_ROW + GAP;
        let height = ops_top + processes.len().max(1) as f64 * OP_ROW + GAP;
        let mut labels = String::new();
        let mut body = String::new();

        let _ = write!(
            body,
            r#"<g id="tl-axis" data-top="{AXIS}" data-bottom="{}" data-ly="14">"#,
            px(height)
        );
        time_axis(&mut body, &scale, AXIS, height, 14.0);
        body.push_str("</g>");
        fault_bands(&mut body, &scale, self.faults, AXIS, height - AXIS);

        // Nemesis lane.
        row_label(&mut labels, AXIS, FAULT_ROW, "nemesis");
        if self.faults.is_empty() {
            let _ = write!(
                body,
                r#"<text class="lbl" x="4" y="{}">no faults</text>"#,
                px(AXIS + 12.0)
            );
        }
        for (f, row) in self.faults.iter().zip(&rows) {
            let x0 = scale.x(f.start);
            let w = (scale.x(fault_end(f, self.end)) - x0).max(0.0);
            let y = AXIS + *row as f64 * FAULT_ROW + 2.0;
            let _ = write!(
                body,
                r#"<rect class="fault" x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}</title></rect>"#,
                px(x0),
                px(y),
                px(w),
                FAULT_ROW - 4.0,
                fault_color(&f.fault),
                esc(&fault_title(f, self.end))
            );
            let nodes: Vec<String> = f.nodes.iter().map(|n| format!("n{n}")).collect();
            label(
                &mut body,
                x0,
                w,
                y + 9.5,
                &format!("{} {}", f.fault, nodes.join(",")),
            );
        }

        // One lane per node: role segments, then down time on top.
        for (i, (node, life)) in self.lives.iter().enumerate() {
            let y = nodes_top + i as f64 * NODE_ROW;
            row_label(&mut labels, y, NODE_ROW, &format!("n{node}"));
            for s in &life.segments {
                let x0 = scale.x(s.from);
                let w = scale.x(s.to) - x0;
                let term = s.term.map(|t| format!(" term {t}")).unwrap_or_default();
                let fill = if s.role == "leader" {
                    format!(r#" fill="{}""#, node_color(*node))
                } else {
                    String::new()
                };
                let _ = write!(
                    body,
                    r#"<rect class="role r-{}"{fill} x="{}" y="{}" width="{}" height="{}"><title>n{node} {}{term}, {} – {}</title></rect>"#,
                    esc(&s.role),
                    px(x0),
                    px(y + 2.0),
                    px(w),
                    NODE_ROW - 4.0,
                    esc(&s.role),
                    fmt_time(s.from),
                    fmt_time(s.to)
                );
                if s.role == "leader" {
                    label(&mut body, x0, w, y + 11.5, &format!("leader{term}"));
                }
            }
            for d in &life.downs {
                let to = d.to.unwrap_or(self.end);
                let x0 = scale.x(d.from);
                let w = scale.x(to) - x0;
                let what = match (&d.halted, d.disk_lost) {
                    (Some(r), _) => format!("halted: {r}"),
                    (None, true) => "crashed, disk lost".to_string(),
                    (None, false) => "crashed".to_string(),
                };
                let _ = write!(
                    body,
                    r#"<rect class="role r-down" x="{}" y="{}" width="{}" height="{}"><title>n{node} down ({}), {} – {}</title></rect>"#,
                    px(x0),
                    px(y + 2.0),
                    px(w.max(0.5)),
                    NODE_ROW - 4.0,
                    esc(&what),
                    fmt_time(d.from),
                    d.to.map(fmt_time).unwrap_or_else(|| "end".into())
                );
                let short = match (&d.halted, d.disk_lost) {
                    (Some(_), _) => "halted",
                    (None, true) => "disk lost",
                    (None, false) => "down",
                };
                label(&mut body, x0, w, y + 11.5, short);
            }
        }

        // Client lanes.
        for (&p, &i) in &lane {
            let name = if Some(p) == self.final_reads {
                "final reads".to_string()
            } else {
                format!("p{p}")
            };
            row_label(&mut labels, ops_top + i as f64 * OP_ROW, OP_ROW, &name);
        }
        for (pos, op) in self.ops.iter().enumerate() {
            let y = ops_top + lane[&op.process] as f64 * OP_ROW + 2.0;
            let to = op.ret.unwrap_or(self.end);
            let x0 = scale.x(op.call);
            let w = scale.x(to) - x0;
            let mark = self.marks.classes.get(&pos);
            let id = if mark.is_some() {
                format!(r#" id="op-{}""#, op.index)
            } else {
                String::new()
            };
            let _ = write!(
                body,
                r#"<rect{id} class="op {}{}" data-k="{}" x="{}" y="{}" width="{}" height="{}"><title>op {} p{} {}, {} – {} ({}){}</title></rect>"#,
                op.outcome.class(),
                mark.map(|m| format!(" {m}")).unwrap_or_default(),
                self.keys.of_op(op),
                px(x0),
                px(y),
                px(w),
                OP_ROW - 5.0,
                op.index,
                op.process,
                esc(&op.text()),
                fmt_time(op.call),
                op.ret.map(fmt_time).unwrap_or_else(|| "never".into()),
                match (op.latency(), op.outcome) {
                    (Some(l), Outcome::Info) => format!("gave up after {}", fmt_time(l)),
                    (Some(l), _) => fmt_time(l),
                    (None, _) => "pending".into(),
                },
                op.node.map(|n| format!(", via n{n}")).unwrap_or_default()
            );
        }
        if let Some(op) = self.marks.first_error.and_then(|i| self.ops.get(i)) {
            let x = px(scale.x(op.call));
            let _ = write!(
                body,
                r#"<line class="errline" x1="{x}" x2="{x}" y1="{AXIS}" y2="{}"><title>first error: {}</title></line>"#,
                px(height),
                esc(&op.text())
            );
        }

        let w = WIDTH + RIGHT;
        format!(
            r##"<div class="tl-controls"><button type="button" data-zoom="out" title="zoom out">−</button><button type="button" data-zoom="in" title="zoom in">+</button><button type="button" data-zoom="fit">fit</button><span class="note" id="tl-zoom">zoom 1×</span><span class="note">Ctrl + wheel zooms at the pointer; scroll sideways to pan; hover a bar for details.</span>{}</div>
<div class="legend">{}<span class="legend-item"><span class="swatch op ok"></span>ok</span><span class="legend-item"><span class="swatch op fail"></span>fail</span><span class="legend-item"><span class="swatch op info"></span>info (indeterminate)</span><span class="legend-item"><span class="swatch op pending"></span>pending</span>{leader}<span class="legend-item"><span class="swatch r-candidate"></span>candidate</span><span class="legend-item"><span class="swatch r-follower"></span>follower</span><span class="legend-item"><span class="swatch r-down"></span>down</span>{}</div>
<div class="tl-wrap"><svg id="tl-labels" width="{g}" height="{h}" viewBox="0 0 {g} {h}">{labels}</svg><div class="tl-scroll" id="tl-scroll"><svg id="tl" width="{w}" height="{h}" viewBox="0 0 {w} {h}" data-end="{end}" data-w="{WIDTH}">{body}</svg></div></div>"##,
            self.key_filter(),
            fault_legend(self.faults),
            if self.marks.classes.is_empty() {
                ""
            } else {
                r#"<span class="legend-item"><span class="swatch op ok cxp"></span>linearizable prefix</span><span class="legend-item"><span class="swatch op cxs"></span>could not be placed</span>"#
            },
            leader = self.leader_legend(),
            g = crate::svg::GUTTER,
            h = px(height),
            end = self.end,
        )
    }

    /// The leader swatch in the colours the leader bars are drawn in: each
    /// node leads in its own colour, so the swatch shows every node's.
    fn leader_legend(&self) -> String {
        let nodes: Vec<u64> = self.lives.keys().copied().collect();
        let stops: Vec<String> = (nodes.iter().enumerate())
            .map(|(i, &n)| {
                let (a, b) = (i * 100 / nodes.len(), (i + 1) * 100 / nodes.len());
                format!("{} {a}% {b}%", node_color(n))
            })
            .collect();
        let background = match &stops[..] {
            [] => String::new(),
            stops => format!(
                r#" style="background:linear-gradient(90deg,{})""#,
                stops.join(",")
            ),
        };
        format!(
            r#"<span class="legend-item"><span class="swatch r-leader"{background}></span>leader (in its node's colour: {})</span>"#,
            (nodes.iter())
                .map(|n| format!("n{n}"))
                .collect::<Vec<_>>()
                .join(" ")
        )
    }
}

impl Timeline<'_> {
    /// The per-key filter: a choice of key that hides the other keys'
    /// operations here and their series in the latency and rate plots.
    fn key_filter(&self) -> String {
        let names = &self.keys.names;
        if names.len() < 2 {
            return String::new();
        }
        let mut out = String::from(
            r#"<label class="key-filter">key <select id="key-filter"><option value="">all keys</option>"#,
        );
        for (i, k) in names.iter().enumerate() {
            let _ = write!(out, r#"<option value="{i}">{}</option>"#, esc(k));
        }
        out.push_str("</select></label>");
        if !self.keys.plotted() {
            out.push_str(r#"<span class="note">(the plots below show all keys: too many to draw each)</span>"#);
        }
        out
    }
}

fn row_label(out: &mut String, y: f64, h: f64, text: &str) {
    let _ = write!(
        out,
        r#"<text class="rowlbl" x="{}" y="{}" text-anchor="end">{}</text>"#,
        px(crate::svg::GUTTER - 6.0),
        px(y + h / 2.0 + 4.0),
        esc(text)
    );
}
