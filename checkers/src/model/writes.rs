//! What the written values of a kv history reveal about its indeterminate
//! writes, for both kv models: writes nothing could observe, and writes a
//! read proves took effect. Both are sound for any history; they pay off when
//! values are unique, as in every snapstorm and Jepsen workload.
use super::{KvInput, KvOp, KvOutput};
use std::collections::BTreeMap;

/// Indeterminate puts and appends whose value no read ever shows, on keys with
/// no cas. Why dropping one keeps the verdict: if it took effect at some point,
/// every read until the key is next overwritten would contain its value; none
/// does, so no read falls in that window, and the appends in it only change
/// state that the overwrite replaces (or that nothing reads). So a linearization
/// with it becomes one without it, and an indeterminate operation may always be
/// left out. A cas (even a failed one) observes the state, hence the exclusion.
pub(super) fn unobservable_writes(ops: &[(&KvInput, Option<&KvOutput>)]) -> Vec<usize> {
    let mut reads: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut has_cas: BTreeMap<&str, bool> = BTreeMap::new();
    for (input, output) in ops {
        let key = input.key.as_str();
        match (&input.op, output) {
            (KvOp::Cas { .. }, _) => {
                has_cas.insert(key, true);
            }
            (KvOp::Get, Some(KvOutput::Value(Some(v)))) => reads.entry(key).or_default().push(v),
            _ => {}
        }
    }
    ops.iter()
        .enumerate()
        .filter(|(_, (input, output))| {
            let value = match &input.op {
                KvOp::Put(v) | KvOp::Append(v) => v,
                _ => return false,
            };
            let key = input.key.as_str();
            output.is_none()
                && !value.is_empty()
                && !has_cas.get(key).copied().unwrap_or(false)
                && !reads
                    .get(key)
                    .is_some_and(|rs| rs.iter().any(|r| r.contains(value.as_str())))
        })
        .map(|(i, _)| i)
        .collect()
}

/// The order that reads reveal: `(a, b)` positions in `ops` such that in
/// every linearization `a` and `b` take effect and `a` comes first.
///
/// A key's state is always a concatenation of written values (a put or cas
/// sets one, an append adds one). Suppose every non-empty value written to the
/// key starts with the same byte `m` and holds no other `m` (as in `x 3 7 y`):
/// then a state splits at its `m`s into exactly the values it is made of, in
/// the order they took effect since the key was last set. A piece of a read
/// that equals a value written by one write only came from that write. So for each
/// read, its identified values took effect in the order shown, all before the
/// read: an edge between each consecutive pair and from the last to the read.
/// Empty values add nothing to a state and are ignored; a key whose values do
/// not have the marker form gets no edges.
pub(super) fn revealed_order(ops: &[(&KvInput, Option<&KvOutput>)]) -> Vec<(usize, usize)> {
    use rustc_hash::{FxHashMap, FxHashSet};
    let mut by_key: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, (input, _)) in ops.iter().enumerate() {
        by_key.entry(input.key.as_str()).or_default().push(i);
    }
    let mut edges: FxHashSet<(usize, usize)> = FxHashSet::default();
    for positions in by_key.values() {
        let values: Vec<(&[u8], usize)> = positions
            .iter()
            .filter_map(|&i| match &ops[i].0.op {
                KvOp::Put(v) | KvOp::Append(v) | KvOp::Cas { to: v, .. } => Some((v.as_bytes(), i)),
                _ => None,
            })
            .filter(|(v, _)| !v.is_empty())
            .collect();
        let Some(marker) = values.first().map(|(v, _)| v[0]) else {
            continue;
        };
        if !values
            .iter()
            .all(|(v, _)| v[0] == marker && !v[1..].contains(&marker))
        {
            continue;
        }
        // A value written once, by its write.
        let mut writers: FxHashMap<&[u8], Option<usize>> = FxHashMap::default();
        for &(v, i) in &values {
            writers
                .entry(v)
                .and_modify(|w| *w = None)
                .or_insert(Some(i));
        }
        let identified: FxHashMap<&[u8], usize> = (writers.into_iter())
            .filter_map(|(v, w)| Some((v, w?)))
            .collect();
        for &r in positions {
            let (KvOp::Get, Some(KvOutput::Value(Some(read)))) = (&ops[r].0.op, ops[r].1) else {
                continue;
            };
            let read = read.as_bytes();
            let starts = (0..read.len()).filter(|&k| read[k] == marker);
            let ends = starts.clone().skip(1).chain([read.len()]);
            let mut last = None;
            for (a, b) in starts.zip(ends) {
                let Some(&w) = identified.get(&read[a..b]) else {
                    continue;
                };
                if let Some(prev) = last {
                    edges.insert((prev, w));
                }
                last = Some(w);
            }
            if let Some(prev) = last {
                edges.insert((prev, r));
            }
        }
    }
    let mut edges: Vec<(usize, usize)> = edges.into_iter().collect();
    edges.sort_unstable();
    edges
}
