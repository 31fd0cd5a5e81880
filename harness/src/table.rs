//! Plain-text tables whose columns line up whatever their contents' lengths
//! (`snapstorm scenarios`, the detection bench).

/// The width of each column: its longest cell, in characters.
pub fn widths<S: AsRef<str>>(rows: &[Vec<S>]) -> Vec<usize> {
    let mut w = Vec::new();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            let n = cell.as_ref().chars().count();
            if i == w.len() {
                w.push(n);
            } else {
                w[i] = w[i].max(n);
            }
        }
    }
    w
}

/// One row: cells padded to `widths` (right-aligned where `right[i]`), two
/// spaces apart, no trailing spaces.
pub fn row<S: AsRef<str>>(cells: &[S], widths: &[usize], right: &[bool]) -> String {
    let mut line = String::new();
    for (i, cell) in cells.iter().enumerate() {
        let cell = cell.as_ref();
        let w = widths.get(i).copied().unwrap_or(0);
        let pad = " ".repeat(w.saturating_sub(cell.chars().count()));
        if i > 0 {
            line.push_str("  ");
        }
        if right.get(i).copied().unwrap_or(false) {
            line.push_str(&pad);
            line.push_str(cell);
        } else {
            line.push_str(cell);
            line.push_str(&pad);
        }
    }
    line.truncate(line.trim_end().len());
    line
}

/// The whole table, one line a row.
pub fn render<S: AsRef<str>>(rows: &[Vec<S>], right: &[bool]) -> String {
    let w = widths(rows);
    rows.iter().map(|r| row(r, &w, right) + "\n").collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_line_up_past_the_longest_cell() {
        let rows = vec![
            vec!["mutant", "scenario", "seeds"],
            vec![
                "install-keeps-conflicting-suffix",
                "stale-leader-rejoin",
                "1",
            ],
            vec!["restore-merges", "install-snapshot-unreliable", "12"],
        ];
        let text = render(&rows, &[false, false, true]);
        let lines: Vec<&str> = text.lines().collect();
        // Every column starts, and every right-aligned column ends, at one place.
        let second: Vec<usize> = lines
            .iter()
            .zip(&rows)
            .map(|(l, r)| l.find(r[1]).unwrap())
            .collect();
        assert!(second.iter().all(|&s| s == 32 + 2), "{text}");
        let ends: Vec<usize> = lines.iter().map(|l| l.len()).collect();
        assert!(ends.iter().all(|&e| e == ends[0]), "{text}");
        assert!(lines.iter().all(|l| !l.ends_with(' ')));
    }
}
