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
    unshown_writes(ops, false)
}

/// Completed writes that may move later (see [`Model::late_writes`]): puts
/// and appends whose value no read shows, on keys with no cas; and the
/// resets, every put and delete, and every cas that matched. Why X, one of them, may swap with a
/// completed Y right after it that is no reset: Y is then an append (no
/// completed read can follow X: from X until the next reset every state
/// holds X's value, which no read shows), so both orders end in states that
/// hold X's value, as do the ones after them until the next reset (only
/// appends and indeterminate gets can come in between), and the reset sets
/// the same state either way.
///
/// [`Model::late_writes`]: super::Model::late_writes
pub(super) fn late_writes(ops: &[(&KvInput, Option<&KvOutput>)]) -> (Vec<usize>, Vec<usize>) {
    let resets = (0..ops.len())
        .filter(|&i| match (&ops[i].0.op, ops[i].1) {
            (KvOp::Put(_) | KvOp::Delete, _) => true,
            (KvOp::Cas { .. }, output) => output == Some(&KvOutput::Ok),
            _ => false,
        })
        .collect();
    (unshown_writes(ops, true), resets)
}

/// Puts and appends of a non-empty value no read shows, on keys with no cas:
/// the completed ones or the indeterminate ones.
fn unshown_writes(ops: &[(&KvInput, Option<&KvOutput>)], completed: bool) -> Vec<usize> {
    let mut dropped = Vec::new();
    for positions in by_key(ops).values() {
        if positions
            .iter()
            .any(|&i| matches!(ops[i].0.op, KvOp::Cas { .. }))
        {
            continue;
        }
        let reads: Vec<&str> = (positions.iter())
            .filter_map(|&i| match (&ops[i].0.op, ops[i].1) {
                (KvOp::Get, Some(KvOutput::Value(Some(v)))) => Some(v.as_str()),
                _ => None,
            })
            .collect();
        // With the marker form a state holds a value only as a whole piece
        // (`+1091` does not show `+109`); without it, as any substring.
        let marker = marker_of(&written(ops, positions));
        let pieces: rustc_hash::FxHashSet<&[u8]> = match marker {
            Some(m) => reads
                .iter()
                .flat_map(|r| pieces_of(r.as_bytes(), m))
                .collect(),
            None => Default::default(),
        };
        let shown = |v: &str| match marker {
            Some(_) => pieces.contains(v.as_bytes()),
            None => reads.iter().any(|r| r.contains(v)),
        };
        for &i in positions {
            let (KvOp::Put(v) | KvOp::Append(v)) = &ops[i].0.op else {
                continue;
            };
            if ops[i].1.is_some() == completed && !v.is_empty() && !shown(v) {
                dropped.push(i);
            }
        }
    }
    dropped.sort_unstable();
    dropped
}

/// Positions of `ops` by key.
fn by_key<'a>(ops: &[(&'a KvInput, Option<&KvOutput>)]) -> BTreeMap<&'a str, Vec<usize>> {
    let mut by_key: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, (input, _)) in ops.iter().enumerate() {
        by_key.entry(input.key.as_str()).or_default().push(i);
    }
    by_key
}

/// The non-empty values written to a key (by a put, append or cas), with
/// their positions.
fn written<'a>(
    ops: &[(&'a KvInput, Option<&KvOutput>)],
    positions: &[usize],
) -> Vec<(&'a [u8], usize)> {
    (positions.iter())
        .filter_map(|&i| match &ops[i].0.op {
            KvOp::Put(v) | KvOp::Append(v) | KvOp::Cas { to: v, .. } if !v.is_empty() => {
                Some((v.as_bytes(), i))
            }
            _ => None,
        })
        .collect()
}

/// The marker byte `m` of a key's written values, if every one starts with
/// `m` and holds no other `m`.
fn marker_of(values: &[(&[u8], usize)]) -> Option<u8> {
    let m = values.first()?.0[0];
    (values.iter())
        .all(|(v, _)| v[0] == m && !v[1..].contains(&m))
        .then_some(m)
}

/// A read's value split before each marker byte.
fn pieces_of(read: &[u8], marker: u8) -> impl Iterator<Item = &[u8]> {
    let starts = (0..read.len()).filter(move |&k| read[k] == marker);
    let ends = starts.clone().skip(1).chain([read.len()]);
    starts.zip(ends).map(move |(a, b)| &read[a..b])
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
/// not have the marker form gets no edges. Reads also come before the writes
/// of their epoch they do not show (see [`epoch_edges`]).
pub(super) fn revealed_order(ops: &[(&KvInput, Option<&KvOutput>)]) -> Vec<(usize, usize)> {
    use rustc_hash::FxHashSet;
    let mut edges: FxHashSet<(usize, usize)> = FxHashSet::default();
    for positions in by_key(ops).values() {
        let values = written(ops, positions);
        let Some(marker) = marker_of(&values) else {
            continue;
        };
        let identified = identified(&values);
        // Each read's pieces: the identified write, or `None`.
        let mut reads: Vec<(usize, Vec<Option<usize>>)> = Vec::new();
        for &r in positions {
            let (KvOp::Get, Some(KvOutput::Value(Some(read)))) = (&ops[r].0.op, ops[r].1) else {
                continue;
            };
            let pieces: Vec<Option<usize>> = pieces_of(read.as_bytes(), marker)
                .map(|piece| identified.get(piece).copied())
                .collect();
            let mut last = None;
            for &w in pieces.iter().flatten() {
                if let Some(prev) = last {
                    edges.insert((prev, w));
                }
                last = Some(w);
            }
            if let Some(prev) = last {
                edges.insert((prev, r));
            }
            reads.push((r, pieces));
        }
        epoch_edges(ops, &reads, &mut edges);
    }
    let mut edges: Vec<(usize, usize)> = edges.into_iter().collect();
    edges.sort_unstable();
    edges
}

/// Each value written once, with its write.
fn identified<'a>(values: &[(&'a [u8], usize)]) -> rustc_hash::FxHashMap<&'a [u8], usize> {
    let mut writers: rustc_hash::FxHashMap<&[u8], Option<usize>> = Default::default();
    for &(v, i) in values {
        writers
            .entry(v)
            .and_modify(|w| *w = None)
            .or_insert(Some(i));
    }
    (writers.into_iter())
        .filter_map(|(v, w)| Some((v, w?)))
        .collect()
}

/// Which write each read observes: `(w, r)` positions in `ops` such that in
/// every linearization `w` is the last operation before `r` that changes the
/// key's state (so the state stays the one `w` made from `w` to `r`).
///
/// With the marker form (see [`revealed_order`]), a non-empty state ends with
/// the piece its last change wrote: a put, append or cas of a value `v` leaves
/// a state ending in `v` (a failed cas or an empty append changes nothing, a
/// delete leaves no value). So when a read's last piece is a value written
/// once, by `w`, the last change before the read is `w`.
pub(super) fn reads_from(ops: &[(&KvInput, Option<&KvOutput>)]) -> Vec<(usize, usize)> {
    let mut pairs = Vec::new();
    for positions in by_key(ops).values() {
        let values = written(ops, positions);
        let Some(marker) = marker_of(&values) else {
            continue;
        };
        let identified = identified(&values);
        for &r in positions {
            let (KvOp::Get, Some(KvOutput::Value(Some(read)))) = (&ops[r].0.op, ops[r].1) else {
                continue;
            };
            let last = pieces_of(read.as_bytes(), marker).last();
            if let Some(&w) = last.and_then(|piece| identified.get(piece)) {
                pairs.push((w, r));
            }
        }
    }
    pairs.sort_unstable();
    pairs
}

/// Each read's epoch: `(p, r)` positions in `ops` where read `r`'s first
/// piece is a value written once, by a put or cas `p`. In every
/// linearization no put or delete comes between them: after one, the key
/// holds that put's value or nothing, and only `p` writes the piece that
/// `r`'s state starts with.
pub(super) fn epochs(ops: &[(&KvInput, Option<&KvOutput>)]) -> Vec<(usize, usize)> {
    let mut pairs = Vec::new();
    for positions in by_key(ops).values() {
        let values = written(ops, positions);
        let Some(marker) = marker_of(&values) else {
            continue;
        };
        let identified = identified(&values);
        for &r in positions {
            let (KvOp::Get, Some(KvOutput::Value(Some(read)))) = (&ops[r].0.op, ops[r].1) else {
                continue;
            };
            let first = pieces_of(read.as_bytes(), marker).next();
            let root = first.and_then(|piece| identified.get(piece)).copied();
            if let Some(p) =
                root.filter(|&p| matches!(ops[p].0.op, KvOp::Put(_) | KvOp::Cas { .. }))
            {
                pairs.push((p, r));
            }
        }
    }
    pairs.sort_unstable();
    pairs
}

/// Reads against the writes of their *epoch*: a read whose first piece is
/// an identified put or cas `P` shows a state last set by `P`. Take the
/// read of the epoch that shows the most pieces, `P W1 … Wm`: each `Wi` took
/// effect after `P` with no set between. A read of the epoch that does not
/// show some `Wi` therefore came before it (had `Wi` come first, the read,
/// being after `P` with no set between either, would show it): an edge from
/// the read to the first such `Wi` (the later ones follow it already).
fn epoch_edges(
    ops: &[(&KvInput, Option<&KvOutput>)],
    reads: &[(usize, Vec<Option<usize>>)],
    edges: &mut rustc_hash::FxHashSet<(usize, usize)>,
) {
    let root = |pieces: &[Option<usize>]| {
        let p = (*pieces.first()?)?;
        matches!(ops[p].0.op, KvOp::Put(_) | KvOp::Cas { .. }).then_some(p)
    };
    let mut longest: rustc_hash::FxHashMap<usize, &[Option<usize>]> = Default::default();
    for (_, pieces) in reads {
        if let Some(p) = root(pieces) {
            let best = longest.entry(p).or_insert(pieces);
            if pieces.len() > best.len() {
                *best = pieces;
            }
        }
    }
    for (r, pieces) in reads {
        let Some(p) = root(pieces) else { continue };
        let shown: rustc_hash::FxHashSet<usize> = pieces.iter().flatten().copied().collect();
        let later = longest[&p].iter().flatten().find(|w| !shown.contains(w));
        if let Some(&w) = later {
            edges.insert((*r, w));
        }
    }
}
