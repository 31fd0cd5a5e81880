//! The failure story: under an INVALID verdict, one short paragraph saying
//! which node served the offending operation, its role and term then, the
//! leader then, the faults active then, and the write it missed; followed by
//! the `shrink` and `replay` commands of the run directory. `chaos` prints
//! it, `results.json` keeps it (`story`) and `report.html` shows it on top.
//!
//! It is told from the run's own records only (history, trace, nemesis log
//! and the checkers' verdicts), once, after the checks: it judges nothing, and
//! the same records always tell the same story. What the records do not say
//! is said to be unknown rather than guessed.
mod cluster;
mod reads;
#[cfg(test)]
mod tests;

use crate::nemesis::FaultRecord;
use crate::results::{CheckerResult, Results, Verdict};
use cluster::{faults_text, leader, secs, state_text, states};
use reads::{missed_write, Op};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::Path;
use sut::trace::TraceEvent;
use sut::trace::TraceRecord;
use workloads::history::Event;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Story {
    /// The failing checker it is about: the one `snapstorm shrink` keeps failing.
    pub checker: String,
    /// The offending operation (its invocation's index in history.jsonl).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub op: Option<u64>,
    /// The node that served it, or that the checker names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<u64>,
    /// When (simulated ns): the operation's completion, or the checker's time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<u64>,
    /// The write a stale read missed (its invocation's index).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missed_write: Option<u64>,
    /// The paragraph.
    pub text: String,
    /// `snapstorm shrink DIR` and `snapstorm replay DIR` for the run
    /// directory, filled in when the run is written there
    /// ([`crate::run::write`]): the run itself does not know where it goes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub commands: Vec<String>,
}

/// The story of a run, None unless its verdict is INVALID. `results` must
/// carry the run's config (the mutants decide which failing checker it tells).
pub fn build(
    results: &Results,
    history: &[Event],
    trace: &[TraceRecord],
    faults: &[FaultRecord],
) -> Option<Story> {
    if results.verdict != Verdict::Invalid {
        return None;
    }
    let checker = crate::shrink::target_checker(results, None).ok()?;
    let result = results.checkers.get(&checker)?;
    let run = Run {
        history,
        trace,
        faults,
    };
    let mut story = if checker == "linearizability" {
        run.linearizability(result)
    } else if checker == "halts" && result.data.is_none() {
        run.halt(result)
    } else {
        run.violation(&checker, result)
    };
    story.checker = checker;
    let others: Vec<&str> = (results.checkers.iter())
        .filter(|(k, c)| c.verdict == Verdict::Invalid && **k != story.checker)
        .map(|(k, _)| k.as_str())
        .collect();
    if !others.is_empty() {
        story
            .text
            .push_str(&format!(" Also failing: {}.", others.join(", ")));
    }
    Some(story)
}

/// The commands that shrink and replay the run in `dir`, ready to paste.
pub fn commands(dir: &Path) -> Vec<String> {
    let dir = shell_word(&dir.display().to_string());
    vec![
        format!("snapstorm shrink {dir}"),
        format!("snapstorm replay {dir}"),
    ]
}

/// The text broken at spaces into lines of at most `width` characters (a
/// longer word stays whole), the lines after the first indented by `indent`.
pub fn wrap(text: &str, width: usize, indent: &str) -> String {
    let mut out = String::new();
    let mut line = 0;
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let len = word.chars().count();
        if line > 0 && line + 1 + len > width {
            out.push('\n');
            out.push_str(indent);
            line = indent.len();
        } else if line > 0 {
            out.push(' ');
            line += 1;
        }
        out.push_str(word);
        line += len;
    }
    out
}

/// A checker's message fit for one paragraph: past 200 characters, cut
/// after its last "; " before them (its list goes on in results.json), and
/// without a final full stop (the story adds its own).
fn short_message(m: &str) -> String {
    let m = m.trim().trim_end_matches('.');
    if m.chars().count() <= 200 {
        return m.to_string();
    }
    let head: String = m.chars().take(200).collect();
    match head.rfind("; ") {
        Some(cut) => format!("{}; … (the rest in results.json)", &head[..cut]),
        None => format!("{head}… (the rest in results.json)"),
    }
}

/// A path as one shell word: as it is when that is safe, else single-quoted.
fn shell_word(s: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_./-+:=,@%".contains(c);
    if !s.is_empty() && s.chars().all(plain) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

struct Run<'a> {
    history: &'a [Event],
    trace: &'a [TraceRecord],
    faults: &'a [FaultRecord],
}

fn story(text: String) -> Story {
    Story {
        checker: String::new(),
        op: None,
        node: None,
        time: None,
        missed_write: None,
        text,
        commands: Vec::new(),
    }
}

impl Run<'_> {
    /// "n5, at 8.850 s a follower in term 1, while n6 was the leader of term 2".
    fn who(&self, node: u64, time: u64) -> String {
        format!("n{node}, at {} {}", secs(time), self.then(node, time))
    }

    /// The node's role and term at `time`, and the leader then.
    fn then(&self, node: u64, time: u64) -> String {
        let states = states(self.trace, self.faults, time);
        let mut s = state_text(states.get(&node));
        match leader(&states) {
            Some((n, _)) if n == node => s.push_str(", the newest leader then"),
            Some((n, term)) => s.push_str(&format!(", while n{n} was the leader of term {term}")),
            None => s.push_str(", while no node was leading"),
        }
        s
    }

    fn leader_at(&self, time: u64) -> String {
        match leader(&states(self.trace, self.faults, time)) {
            Some((n, term)) => format!("the leader at {} was n{n} (term {term})", secs(time)),
            None => format!("no node was leading at {}", secs(time)),
        }
    }

    /// The stuck operation of the counterexample: a stale read if one is
    /// stuck (that is the operation whose answer is wrong), else the first.
    fn linearizability(&self, result: &CheckerResult) -> Story {
        let data = result.data.as_ref();
        let stuck: Vec<(Op<'_>, String)> = (data.and_then(|d| d.get("stuck")))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|s| {
                let op = Op::find(self.history, s.get("op")?.as_u64()?)?;
                let reason = s.get("reason").and_then(Value::as_str).unwrap_or("");
                Some((op, reason.to_string()))
            })
            .collect();
        let Some((op, reason)) = (stuck.iter())
            .find(|(op, _)| op.is_read() && op.ok())
            .or(stuck.first())
        else {
            return story(format!(
                "linearizability failed ({}), but its counterexample names no operation \
                 of history.jsonl: which node served it, the leader and the faults then \
                 are unknown.",
                short_message(&result.detail)
            ));
        };
        let key = (data.and_then(|d| d.get("partition")))
            .and_then(Value::as_str)
            .map_or(String::new(), |k| format!(" on key {k}"));
        let index = op.invoke.index;
        let start = op.invoke.time;
        let time = op.done.map_or(start, |d| d.time);
        let node = op.done.and_then(|d| d.node);
        let mut text = format!("linearizability failed{key}: op {index} ({})", op.text());
        match node {
            Some(n) => text.push_str(&format!(" was served by {}.", self.who(n, time))),
            None => text.push_str(&format!(
                " names no node that served it, so its role and term are unknown; {}.",
                self.leader_at(time)
            )),
        }
        text.push_str(&format!(
            " Faults active during it ({}–{}): {}.",
            secs(start).trim_end_matches(" s"),
            secs(time),
            faults_text(self.faults, start, time)
        ));
        let missed = if op.is_read() && op.ok() {
            missed_write(self.history, op)
        } else {
            None
        };
        match (&missed, op.is_read() && op.ok()) {
            (Some(w), _) => {
                let done = w.done.expect("an acknowledged write has a completion");
                let by = done.node.map_or(String::new(), |n| format!(" by n{n}"));
                text.push_str(&format!(
                    " It missed {} (op {}), acknowledged{by} at {}, before the read began at {}.",
                    w.text(),
                    w.invoke.index,
                    secs(done.time),
                    secs(start)
                ));
            }
            (None, true) => text.push_str(&format!(
                " No write acknowledged before it began is missing from what it returned; \
                 the checker says: {reason}."
            )),
            (None, false) => text.push_str(&format!(
                " It is not a completed read, so it missed no write; the checker says: {reason}."
            )),
        }
        Story {
            op: Some(index),
            node,
            time: Some(time),
            missed_write: missed.map(|w| w.invoke.index),
            ..story(text)
        }
    }

    /// The halts checker lists no data: its first unexplained halt is the
    /// trace's first halt with no injected disk fault.
    fn halt(&self, result: &CheckerResult) -> Story {
        let unexplained: Vec<(&TraceRecord, &str)> = (self.trace.iter())
            .filter_map(|r| match &r.event {
                TraceEvent::Halt {
                    reason,
                    injected_faults: 0,
                } => Some((r, reason.as_str())),
                _ => None,
            })
            .collect();
        let Some((first, reason)) = unexplained.first() else {
            return story(format!(
                "halts failed: {}. The trace shows no such halt, so the node, the leader \
                 and the faults then are unknown.",
                short_message(&result.detail)
            ));
        };
        let (node, time) = (first.node, first.time);
        let mut text = format!(
            "halts failed: n{node} halted at {} with no injected disk fault to explain it \
             ({}). Until then it was {}.",
            secs(time),
            short_message(reason),
            self.then(node, time.saturating_sub(1)),
        );
        text.push_str(&format!(
            " Faults active then: {}.",
            faults_text(self.faults, time, time)
        ));
        if unexplained.len() > 1 {
            text.push_str(&format!(" {} more such halts.", unexplained.len() - 1));
        }
        text.push_str(" It names no stale read, so no missed write is known.");
        Story {
            node: Some(node),
            time: Some(time),
            ..story(text)
        }
    }

    /// A checker whose data lists violations (node, index, term, time,
    /// message): the first one with a time, else the first.
    fn violation(&self, checker: &str, result: &CheckerResult) -> Story {
        let list = result.data.as_ref().and_then(Value::as_array);
        let first = list.and_then(|l| {
            (l.iter())
                .find(|v| v.get("time").is_some_and(Value::is_u64))
                .or(l.first())
        });
        let field = |k: &str| first.and_then(|v| v.get(k)).and_then(Value::as_u64);
        let message = (first.and_then(|v| v.get("message")))
            .and_then(Value::as_str)
            .unwrap_or(&result.detail);
        let (node, time, index) = (field("node"), field("time"), field("index"));
        let mut text = format!("{checker} failed: {}.", short_message(message));
        match (node, time) {
            (Some(n), Some(t)) => text.push_str(&format!(" It shows on {}.", self.who(n, t))),
            (None, Some(t)) => text.push_str(&format!(" It names no node; {}.", self.leader_at(t))),
            (Some(n), None) => text.push_str(&format!(
                " It shows on n{n} but gives no time, so its role and term, the leader \
                 and the faults then are unknown."
            )),
            (None, None) => text.push_str(
                " It names no node and no time, so the node, the leader and the faults \
                 then are unknown.",
            ),
        }
        if let Some(t) = time {
            text.push_str(&format!(
                " Faults active then: {}.",
                faults_text(self.faults, t, t)
            ));
        }
        if let Some(i) = index {
            text.push_str(&format!(" The log index it names: {i}."));
        }
        // Durability's message names the acknowledged write that was lost;
        // the other checkers judge logs, snapshots and roles, not a read.
        text.push_str(if checker == "durability" {
            " The write missed is the acknowledged one it names."
        } else {
            " It names no stale read, so no missed write is known."
        });
        Story {
            node,
            time,
            ..story(text)
        }
    }
}
