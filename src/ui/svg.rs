//! Turn a rendered screen (a ratatui [`Buffer`]) into an SVG picture: the screenshots in
//! screenshots/ and the README are made this way, from the same cells the terminal would get.

use std::fmt::Write;

use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier};
use unicode_width::UnicodeWidthStr;

const CELL_W: f64 = 8.4;
const CELL_H: f64 = 18.0;
const FONT_SIZE: f64 = 14.0;
const DEFAULT_FG: &str = "#d0d0d0";
const DEFAULT_BG: &str = "#1c1c1c";

/// The SVG document for `buffer`, one monospace cell per terminal cell; wide (CJK) characters
/// are stretched over their two cells.
pub fn buffer_to_svg(buffer: &Buffer) -> String {
    let area = buffer.area;
    let (w, h) = (
        f64::from(area.width) * CELL_W,
        f64::from(area.height) * CELL_H,
    );
    let mut out = String::with_capacity(64 * 1024);
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w:.0}" height="{h:.0}" viewBox="0 0 {w:.1} {h:.1}" font-family="'DejaVu Sans Mono','Noto Sans Mono CJK SC','Sarasa Mono SC',monospace" font-size="{FONT_SIZE}"><rect width="100%" height="100%" fill="{DEFAULT_BG}"/>"#
    );
    for y in 0..area.height {
        let mut x = 0;
        while x < area.width {
            let Some(cell) = buffer.cell((area.x + x, area.y + y)) else {
                break;
            };
            let reversed = cell.modifier.contains(Modifier::REVERSED);
            let (fg, bg) = if reversed {
                (colour(cell.bg, DEFAULT_BG), colour(cell.fg, DEFAULT_FG))
            } else {
                (colour(cell.fg, DEFAULT_FG), colour(cell.bg, DEFAULT_BG))
            };
            let symbol = cell.symbol();
            let cells = symbol.width().max(1) as u16;
            let (px, py) = (f64::from(x) * CELL_W, f64::from(y) * CELL_H);
            let span = f64::from(cells) * CELL_W;
            if bg != DEFAULT_BG {
                let _ = write!(
                    out,
                    r#"<rect x="{px:.1}" y="{py:.1}" width="{span:.1}" height="{CELL_H}" fill="{bg}"/>"#
                );
            }
            if !symbol.trim().is_empty() {
                let weight = if cell.modifier.contains(Modifier::BOLD) {
                    r#" font-weight="bold""#
                } else {
                    ""
                };
                let dim = if cell.modifier.contains(Modifier::DIM) {
                    r#" opacity="0.6""#
                } else {
                    ""
                };
                let underline = if cell.modifier.contains(Modifier::UNDERLINED) {
                    r#" text-decoration="underline""#
                } else {
                    ""
                };
                let _ = write!(
                    out,
                    r#"<text x="{px:.1}" y="{:.1}" fill="{fg}" textLength="{span:.1}" lengthAdjust="spacingAndGlyphs"{weight}{dim}{underline}>{}</text>"#,
                    py + CELL_H * 0.75,
                    escape(symbol)
                );
            }
            x += cells;
        }
    }
    out.push_str("</svg>\n");
    out
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A terminal colour as the hex a typical dark xterm palette shows.
fn colour(color: Color, default: &str) -> String {
    const ANSI: [&str; 16] = [
        "#000000", "#cd3131", "#0dbc79", "#e5e510", "#2472c8", "#bc3fbc", "#11a8cd", "#e5e5e5",
        "#666666", "#f14c4c", "#23d18b", "#f5f543", "#3b8eea", "#d670d6", "#29b8db", "#ffffff",
    ];
    match color {
        Color::Reset => default.to_string(),
        Color::Black => ANSI[0].into(),
        Color::Red => ANSI[1].into(),
        Color::Green => ANSI[2].into(),
        Color::Yellow => ANSI[3].into(),
        Color::Blue => ANSI[4].into(),
        Color::Magenta => ANSI[5].into(),
        Color::Cyan => ANSI[6].into(),
        Color::Gray => ANSI[7].into(),
        Color::DarkGray => ANSI[8].into(),
        Color::LightRed => ANSI[9].into(),
        Color::LightGreen => ANSI[10].into(),
        Color::LightYellow => ANSI[11].into(),
        Color::LightBlue => ANSI[12].into(),
        Color::LightMagenta => ANSI[13].into(),
        Color::LightCyan => ANSI[14].into(),
        Color::White => ANSI[15].into(),
        Color::Rgb(r, g, b) => format!("#{r:02x}{g:02x}{b:02x}"),
        Color::Indexed(i) => indexed(i),
    }
}

/// The xterm 256-colour palette.
fn indexed(i: u8) -> String {
    match i {
        0..=15 => colour(
            [
                Color::Black,
                Color::Red,
                Color::Green,
                Color::Yellow,
                Color::Blue,
                Color::Magenta,
                Color::Cyan,
                Color::Gray,
                Color::DarkGray,
                Color::LightRed,
                Color::LightGreen,
                Color::LightYellow,
                Color::LightBlue,
                Color::LightMagenta,
                Color::LightCyan,
                Color::White,
            ][usize::from(i)],
            DEFAULT_FG,
        ),
        16..=231 => {
            let n = i - 16;
            let level = |v: u8| if v == 0 { 0 } else { 55 + v * 40 };
            format!(
                "#{:02x}{:02x}{:02x}",
                level(n / 36),
                level((n / 6) % 6),
                level(n % 6)
            )
        }
        232..=255 => {
            let v = 8 + (i - 232) * 10;
            format!("#{v:02x}{v:02x}{v:02x}")
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use ratatui::layout::Rect;
    use ratatui::style::Style;

    #[test]
    fn cells_become_text_with_colours_and_wide_characters_span_two_cells() {
        let mut buffer = Buffer::empty(Rect::new(0, 0, 10, 1));
        buffer.set_string(
            0,
            0,
            "购物车<ok>",
            Style::default().fg(Color::Rgb(255, 0, 0)),
        );
        let svg = buffer_to_svg(&buffer);
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains(r##"fill="#ff0000""##));
        // "购" takes two cells: 16.8 px wide, and the next glyph starts at x = 16.8.
        assert!(
            svg.contains(r##"x="0.0" y="13.5" fill="#ff0000" textLength="16.8""##),
            "{svg}"
        );
        assert!(svg.contains(r#"<text x="16.8""#));
        assert!(svg.contains("&lt;"), "markup is escaped");
    }

    #[test]
    fn palette_indices_map_to_xterm_colours() {
        assert_eq!(indexed(196), "#ff0000");
        assert_eq!(indexed(232), "#080808");
        assert_eq!(colour(Color::Reset, DEFAULT_FG), DEFAULT_FG);
    }
}
