//! Delta debugging (Zeller and Hildebrandt's ddmin) over a list: the search that
//! drops faults from a failing run's schedule.

/// Delta debugging (Zeller's ddmin): a 1-minimal subset of `items` for which
/// `fails` holds, given that it holds for all of them.
pub fn ddmin<T: Clone>(items: Vec<T>, mut fails: impl FnMut(&[T]) -> bool) -> Vec<T> {
    let mut items = items;
    if items.is_empty() {
        return items;
    }
    if fails(&[]) {
        return Vec::new();
    }
    let mut n = 2;
    while items.len() >= 2 {
        let chunks: Vec<Vec<T>> = split(&items, n);
        let mut reduced = false;
        for chunk in &chunks {
            if fails(chunk) {
                items = chunk.clone();
                n = 2;
                reduced = true;
                break;
            }
        }
        if !reduced && n > 2 {
            for i in 0..chunks.len() {
                let complement: Vec<T> = chunks
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| *j != i)
                    .flat_map(|(_, c)| c.iter().cloned())
                    .collect();
                if fails(&complement) {
                    items = complement;
                    n = (n - 1).max(2);
                    reduced = true;
                    break;
                }
            }
        }
        if !reduced {
            if n >= items.len() {
                break;
            }
            n = (n * 2).min(items.len());
        }
    }
    items
}

/// `items` in `n` nearly equal consecutive chunks.
fn split<T: Clone>(items: &[T], n: usize) -> Vec<Vec<T>> {
    let n = n.clamp(1, items.len().max(1));
    let (size, extra) = (items.len() / n, items.len() % n);
    let mut out = Vec::new();
    let mut at = 0;
    for i in 0..n {
        let len = size + usize::from(i < extra);
        out.push(items[at..at + len].to_vec());
        at += len;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ddmin_finds_the_two_items_that_matter() {
        let mut calls = 0;
        let kept = ddmin((0..16).collect(), |s: &[u32]| {
            calls += 1;
            s.contains(&3) && s.contains(&11)
        });
        assert_eq!(kept, vec![3, 11]);
        // Fewer tests than trying every pair of the 16 (120).
        assert!(calls < 120, "{calls} tests");
    }

    #[test]
    fn ddmin_returns_nothing_when_nothing_is_needed_and_all_when_all_are() {
        assert!(ddmin(vec![1, 2, 3], |_: &[i32]| true).is_empty());
        assert_eq!(
            ddmin(vec![1, 2, 3], |s: &[i32]| s.len() == 3),
            vec![1, 2, 3]
        );
    }

    #[test]
    fn split_covers_every_item_once() {
        let chunks = split(&(0..7).collect::<Vec<_>>(), 3);
        assert_eq!(chunks, vec![vec![0, 1, 2], vec![3, 4], vec![5, 6]]);
    }
}
