//! Cursors and scroll offsets of every list and scrolled pane, in one place: where a cursor
//! lands when moved, how a selection kept by id moves, how far a page goes, and how a cursor
//! follows its row when the list changes under it.

/// Rows a page moves when the terminal is too small to say.
pub const MIN_PAGE: usize = 5;
/// Rows page up/down move in lists whose height the core does not know exactly.
pub const PAGE: isize = 10;

/// `at` moved by `delta` rows in a list of `len` rows, kept on a row (0 when empty).
pub fn moved(at: usize, delta: isize, len: usize) -> usize {
    at.saturating_add_signed(delta).min(len.saturating_sub(1))
}

/// The id `delta` rows from `selected` in `order` (from the first row when `selected` is not
/// shown); None for an empty list.
pub fn moved_id(order: &[String], selected: Option<&String>, delta: isize) -> Option<String> {
    let current = selected
        .and_then(|id| order.iter().position(|o| o == id))
        .unwrap_or(0);
    order.get(moved(current, delta, order.len())).cloned()
}

/// Rows a page moves on a terminal `height` rows high, of which `chrome` rows are not the list.
pub fn page_rows(height: u16, chrome: usize) -> usize {
    usize::from(height).saturating_sub(chrome).max(MIN_PAGE)
}

/// Rows `text` takes when wrapped at spaces into lines `cols` terminal columns wide, a word
/// wider than a line cut across lines. The screen also breaks between two wide (CJK)
/// characters, so it never needs more: a scroll bound counted with this reaches the end.
pub fn wrapped_rows(text: &str, cols: usize) -> usize {
    use unicode_width::UnicodeWidthStr;
    let cols = cols.max(1);
    let mut rows = 1;
    let mut used = 0;
    for word in text.split([' ', '\t', '\r']).filter(|w| !w.is_empty()) {
        let w = word.width();
        if used > 0 && used + 1 + w <= cols {
            used += 1 + w;
            continue;
        }
        if used > 0 {
            rows += 1;
        }
        // A word wider than the line takes whole lines, then part of one.
        rows += w.saturating_sub(1) / cols;
        used = (w.saturating_sub(1) % cols) + 1;
    }
    rows + text.matches('\n').count()
}

/// [`page_rows`] as a signed move.
pub fn page(height: u16, chrome: usize) -> isize {
    isize::try_from(page_rows(height, chrome)).unwrap_or(isize::MAX / 4)
}

/// Where a list cursor goes when moved by `delta` shown rows, and the id of the row it lands
/// on (`None`: no row shown, keep what was remembered). With `delta == 0` the cursor follows
/// the `remembered` row to wherever it is shown now (a new release on top, a filter that
/// matches other rows), and stays within the shown rows when that row is gone.
pub fn follow(
    cursor: usize,
    remembered: Option<&str>,
    shown: &[&str],
    delta: isize,
) -> (usize, Option<String>) {
    let found = remembered
        .filter(|_| delta == 0)
        .and_then(|id| shown.iter().position(|s| *s == id));
    let cursor = match found {
        Some(i) => i,
        None => moved(cursor, delta, shown.len()),
    };
    (cursor, shown.get(cursor).map(|id| (*id).to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapped_rows_count_lines_broken_at_spaces() {
        assert_eq!(wrapped_rows("", 10), 1);
        assert_eq!(wrapped_rows("short", 10), 1);
        assert_eq!(
            wrapped_rows("now: alert_age = 5 min, want alert_age <= release_age", 20),
            3
        );
        // A word wider than the line: cut across lines.
        assert_eq!(wrapped_rows("registry/shop-cart:v2", 8), 3);
        // CJK counts two columns a character.
        assert_eq!(wrapped_rows("购物车错误率 3.4%", 7), 3);
    }

    /// Apply `follow` the way the views do: a row shown replaces the remembered id.
    fn step(cursor: &mut usize, id: &mut Option<String>, shown: &[&str], delta: isize) {
        let (c, landed) = follow(*cursor, id.as_deref(), shown, delta);
        *cursor = c;
        if landed.is_some() {
            *id = landed;
        }
    }

    #[test]
    fn the_cursor_follows_its_row_when_rows_are_added_or_hidden() {
        let (mut cursor, mut id) = (0, None);
        step(&mut cursor, &mut id, &["r3", "r2", "r1"], 1);
        assert_eq!((cursor, id.as_deref()), (1, Some("r2")));
        // A new release on top: the cursor moves with r2.
        step(&mut cursor, &mut id, &["r4", "r3", "r2", "r1"], 0);
        assert_eq!((cursor, id.as_deref()), (2, Some("r2")));
        // r2 hidden by a filter: the cursor stays within what is shown.
        step(&mut cursor, &mut id, &["r4", "r3"], 0);
        assert_eq!((cursor, id.as_deref()), (1, Some("r3")));
        step(&mut cursor, &mut id, &[], 0);
        assert_eq!(cursor, 0);
        step(&mut cursor, &mut id, &["r4", "r3"], 0);
        assert_eq!((cursor, id.as_deref()), (1, Some("r3")));
    }

    #[test]
    fn moves_stay_on_a_row_and_pages_have_a_floor() {
        assert_eq!(moved(0, -3, 5), 0);
        assert_eq!(moved(3, 10, 5), 4);
        assert_eq!(moved(2, 1, 0), 0);
        let order: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
        assert_eq!(moved_id(&order, Some(&"b".into()), 1).as_deref(), Some("c"));
        assert_eq!(moved_id(&order, Some(&"x".into()), 1).as_deref(), Some("b"));
        assert_eq!(moved_id(&[], None, 1), None);
        assert_eq!(page_rows(24, 6), 18);
        assert_eq!(page_rows(8, 6), MIN_PAGE);
    }
}
