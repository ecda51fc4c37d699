//! Colour depth fallbacks: a theme may name RGB colours (`#d0e0ff`); a terminal that cannot
//! show them gets the nearest colour it can. [`ColorDepth::detect`] reads the capability from
//! `COLORTERM` and `TERM` values that `tui/` passes in (ui code reads no environment), and
//! [`adapt`] maps one colour. Named ANSI colours and `Reset` are left alone at every depth.

use ratatui::style::Color;

/// How many colours the terminal shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColorDepth {
    /// 24-bit RGB (`COLORTERM=truecolor` or `24bit`).
    TrueColor,
    /// The xterm 256-colour palette (`TERM` containing `256color`).
    Indexed256,
    /// The 16 ANSI colours, whatever else.
    Ansi16,
}

impl ColorDepth {
    /// The depth a terminal advertises through `COLORTERM` and `TERM`.
    pub fn detect(colorterm: Option<&str>, term: Option<&str>) -> ColorDepth {
        let colorterm = colorterm.unwrap_or_default().to_ascii_lowercase();
        if colorterm == "truecolor" || colorterm == "24bit" {
            ColorDepth::TrueColor
        } else if term.unwrap_or_default().contains("256color") {
            ColorDepth::Indexed256
        } else {
            ColorDepth::Ansi16
        }
    }
}

/// The 16 ANSI colours with xterm's default RGB values, in index order.
const ANSI16: [(Color, (u8, u8, u8)); 16] = [
    (Color::Black, (0x00, 0x00, 0x00)),
    (Color::Red, (0xcd, 0x00, 0x00)),
    (Color::Green, (0x00, 0xcd, 0x00)),
    (Color::Yellow, (0xcd, 0xcd, 0x00)),
    (Color::Blue, (0x00, 0x00, 0xee)),
    (Color::Magenta, (0xcd, 0x00, 0xcd)),
    (Color::Cyan, (0x00, 0xcd, 0xcd)),
    (Color::Gray, (0xe5, 0xe5, 0xe5)),
    (Color::DarkGray, (0x7f, 0x7f, 0x7f)),
    (Color::LightRed, (0xff, 0x00, 0x00)),
    (Color::LightGreen, (0x00, 0xff, 0x00)),
    (Color::LightYellow, (0xff, 0xff, 0x00)),
    (Color::LightBlue, (0x5c, 0x5c, 0xff)),
    (Color::LightMagenta, (0xff, 0x00, 0xff)),
    (Color::LightCyan, (0x00, 0xff, 0xff)),
    (Color::White, (0xff, 0xff, 0xff)),
];

/// Channel values of the 6x6x6 colour cube (indexes 16-231).
const CUBE: [u8; 6] = [0, 95, 135, 175, 215, 255];

/// `color` as the terminal at `depth` can show it.
pub fn adapt(color: Color, depth: ColorDepth) -> Color {
    match (color, depth) {
        (_, ColorDepth::TrueColor) => color,
        (Color::Rgb(r, g, b), ColorDepth::Indexed256) => Color::Indexed(nearest_256((r, g, b))),
        (Color::Rgb(r, g, b), ColorDepth::Ansi16) => nearest_16((r, g, b)),
        (Color::Indexed(i), ColorDepth::Ansi16) => nearest_16(indexed_rgb(i)),
        _ => color,
    }
}

fn distance(a: (u8, u8, u8), b: (u8, u8, u8)) -> u32 {
    let d = |x: u8, y: u8| u32::from(x.abs_diff(y)).pow(2);
    d(a.0, b.0) + d(a.1, b.1) + d(a.2, b.2)
}

fn nearest_16(rgb: (u8, u8, u8)) -> Color {
    ANSI16
        .iter()
        .min_by_key(|(_, c)| distance(rgb, *c))
        .map_or(Color::Reset, |(name, _)| *name)
}

/// The nearest entry of the cube (16-231) or the grey ramp (232-255).
fn nearest_256(rgb: (u8, u8, u8)) -> u8 {
    let level = |v: u8| -> u8 {
        (0u8..6)
            .min_by_key(|&i| CUBE[usize::from(i)].abs_diff(v))
            .unwrap_or(0)
    };
    let (r, g, b) = (level(rgb.0), level(rgb.1), level(rgb.2));
    let cube = 16 + 36 * r + 6 * g + b;
    let grey = (0u8..24)
        .map(|i| 232 + i)
        .min_by_key(|&i| distance(rgb, indexed_rgb(i)))
        .unwrap_or(232);
    if distance(rgb, indexed_rgb(grey)) < distance(rgb, indexed_rgb(cube)) {
        grey
    } else {
        cube
    }
}

/// The RGB value xterm gives palette entry `i`.
fn indexed_rgb(i: u8) -> (u8, u8, u8) {
    match i {
        0..=15 => ANSI16[usize::from(i)].1,
        16..=231 => {
            let n = i - 16;
            let c = |k: u8| CUBE[usize::from(k)];
            (c(n / 36), c(n / 6 % 6), c(n % 6))
        }
        _ => {
            let v = 8 + 10 * (i - 232);
            (v, v, v)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_depth_from_colorterm_then_term() {
        use ColorDepth::*;
        assert_eq!(
            ColorDepth::detect(Some("truecolor"), Some("xterm")),
            TrueColor
        );
        assert_eq!(ColorDepth::detect(Some("24bit"), None), TrueColor);
        assert_eq!(ColorDepth::detect(None, Some("xterm-256color")), Indexed256);
        assert_eq!(
            ColorDepth::detect(Some(""), Some("screen-256color")),
            Indexed256
        );
        assert_eq!(ColorDepth::detect(None, Some("xterm")), Ansi16);
        assert_eq!(ColorDepth::detect(None, Some("linux")), Ansi16);
        assert_eq!(ColorDepth::detect(None, None), Ansi16);
    }

    #[test]
    fn truecolor_keeps_every_colour() {
        for c in [
            Color::Rgb(1, 2, 3),
            Color::Indexed(200),
            Color::Cyan,
            Color::Reset,
        ] {
            assert_eq!(adapt(c, ColorDepth::TrueColor), c);
        }
    }

    #[test]
    fn rgb_maps_to_the_nearest_256_colour_cube_or_grey() {
        let d = ColorDepth::Indexed256;
        assert_eq!(adapt(Color::Rgb(255, 0, 0), d), Color::Indexed(196));
        assert_eq!(adapt(Color::Rgb(0, 0, 0), d), Color::Indexed(16));
        // The light theme's selection: cube (215, 215, 255).
        assert_eq!(adapt(Color::Rgb(0xd0, 0xe0, 0xff), d), Color::Indexed(189));
        // Mid grey sits on the grey ramp exactly.
        assert_eq!(adapt(Color::Rgb(128, 128, 128), d), Color::Indexed(244));
        // Palette and named colours need no mapping.
        assert_eq!(adapt(Color::Indexed(208), d), Color::Indexed(208));
        assert_eq!(adapt(Color::Blue, d), Color::Blue);
    }

    #[test]
    fn rgb_and_palette_colours_map_to_the_nearest_ansi_colour() {
        let d = ColorDepth::Ansi16;
        assert_eq!(adapt(Color::Rgb(255, 10, 10), d), Color::LightRed);
        assert_eq!(adapt(Color::Rgb(0xb5, 0x89, 0x00), d), Color::Yellow);
        assert_eq!(adapt(Color::Rgb(0xd0, 0xe0, 0xff), d), Color::Gray);
        assert_eq!(adapt(Color::Rgb(10, 10, 10), d), Color::Black);
        assert_eq!(adapt(Color::Indexed(196), d), Color::LightRed);
        assert_eq!(adapt(Color::Indexed(4), d), Color::Blue);
        assert_eq!(adapt(Color::Indexed(244), d), Color::DarkGray);
        assert_eq!(adapt(Color::Green, d), Color::Green);
        assert_eq!(adapt(Color::Reset, d), Color::Reset);
    }

    #[test]
    fn every_palette_entry_round_trips_at_256() {
        for i in 16..=255u8 {
            let (r, g, b) = indexed_rgb(i);
            let back = adapt(Color::Rgb(r, g, b), ColorDepth::Indexed256);
            assert_eq!(
                indexed_rgb(match back {
                    Color::Indexed(n) => n,
                    _ => 0,
                }),
                (r, g, b),
                "{i}"
            );
        }
    }
}
