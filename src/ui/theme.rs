//! Colours as roles: widgets ask for [`Role::Down`] or [`Role::Muted`], never a literal colour.
//!
//! Themes are TOML (`themes/*.toml`, the shipped ones embedded with `include_str!`):
//!
//! ```toml
//! inherits = "dark"            # optional: start from another built-in theme
//! [palette]
//! ok = "#50fa7b"               # names usable below; also "red", "lightblue", "208"
//! [roles]
//! healthy = { fg = "ok" }
//! selection = { fg = "black", bg = "cyan", modifiers = ["bold"] }
//! ```
//!
//! RGB colours are shown as the terminal can: `tui/` detects the colour depth and asks for
//! [`Theme::adapted`] (see `ui::color_depth`). With `NO_COLOR` set the console is monochrome: roles map to bold, dim, reverse and
//! underline only. With `OPSDECK_ASCII=1` charts plot with `*` instead of braille dots, for
//! terminals or fonts where braille shows as boxes or question marks.

use std::collections::BTreeMap;
use std::str::FromStr;

use std::path::Path;

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;

use super::color_depth::{ColorDepth, adapt};

/// What a piece of the screen means; a theme gives each a style.
#[derive(Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Plain text.
    Text,
    Healthy,
    /// Scaling or rolling back: changing on purpose.
    Busy,
    Degraded,
    Down,
    AlertCritical,
    AlertWarning,
    Muted,
    Accent,
    /// The top bar.
    Header,
    /// Table column titles.
    ColumnHeader,
    Selection,
    StatusBar,
    Live,
    Reconnecting,
    Stale,
    Border,
    DialogTitle,
    Error,
    Notice,
    /// The DEMO marker.
    Demo,
    /// The READ-ONLY marker.
    ReadOnly,
    /// Key names in the help overlay and hints.
    Key,
    Sparkline,
    /// Text matching the log view's `/` search.
    SearchMatch,
    /// Firing P0/P1 counts in the top bar: a badge readable on the header's background.
    HeaderAlert,
    /// Firing P2/P3 counts in the top bar.
    HeaderWarning,
    /// The top bar of a production console, and the context's name in the status bar: hard
    /// to miss.
    Production,
}

impl Role {
    pub const ALL: [Role; 28] = [
        Role::Text,
        Role::Healthy,
        Role::Busy,
        Role::Degraded,
        Role::Down,
        Role::AlertCritical,
        Role::AlertWarning,
        Role::Muted,
        Role::Accent,
        Role::Header,
        Role::ColumnHeader,
        Role::Selection,
        Role::StatusBar,
        Role::Live,
        Role::Reconnecting,
        Role::Stale,
        Role::Border,
        Role::DialogTitle,
        Role::Error,
        Role::Notice,
        Role::Demo,
        Role::ReadOnly,
        Role::Key,
        Role::Sparkline,
        Role::SearchMatch,
        Role::HeaderAlert,
        Role::HeaderWarning,
        Role::Production,
    ];

    fn index(self) -> usize {
        self as usize
    }
}

/// The built-in themes, by name.
pub const BUILTIN_THEMES: [(&str, &str); 4] = [
    ("dark", include_str!("../../themes/dark.toml")),
    ("light", include_str!("../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../themes/high-contrast.toml"),
    ),
    ("colorblind", include_str!("../../themes/colorblind.toml")),
];

/// Why a theme could not be loaded.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ThemeError {
    #[error("theme is not valid TOML for a theme: {0}")]
    Syntax(String),
    #[error("theme role `{role:?}`: unknown colour {colour:?}")]
    UnknownColour { role: Role, colour: String },
    #[error("theme role `{role:?}`: unknown modifier {modifier:?}")]
    UnknownModifier { role: Role, modifier: String },
    #[error("no built-in theme {0:?} (built-in: dark, light, high-contrast, colorblind)")]
    UnknownTheme(String),
    #[error("theme inherits itself or loops: {0:?}")]
    InheritLoop(String),
    #[error("cannot read theme file {path}: {message}")]
    Read { path: String, message: String },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTheme {
    #[serde(default)]
    inherits: Option<String>,
    #[serde(default)]
    palette: BTreeMap<String, String>,
    #[serde(default)]
    roles: BTreeMap<Role, RawStyle>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStyle {
    fg: Option<String>,
    bg: Option<String>,
    #[serde(default)]
    modifiers: Vec<String>,
}

/// A style for every role.
#[derive(Clone, Debug, PartialEq)]
pub struct Theme {
    styles: [Style; Role::ALL.len()],
    /// Plot charts with an ASCII marker instead of braille.
    ascii: bool,
}

impl Default for Theme {
    /// The dark theme; falls back to monochrome should the embedded file ever fail to parse.
    fn default() -> Self {
        Theme::builtin("dark").unwrap_or_else(|_| Theme::monochrome())
    }
}

impl Theme {
    /// The style for a role.
    pub fn style(&self, role: Role) -> Style {
        self.styles[role.index()]
    }

    /// The style for a table cell of `role`. On the selected row every cell takes the
    /// selection's colours: a role's own colour on the selection background is often unreadable
    /// (muted grey, a blue sparkline or red on blue), and the row still says what it means in
    /// its text and marks (`✖`, `P1`, `FIRING`).
    pub fn cell(&self, role: Role, selected: bool) -> Style {
        if selected {
            self.style(Role::Selection)
        } else {
            self.style(role)
        }
    }

    /// The same theme with every colour as a terminal at `depth` can show it (RGB to the
    /// nearest palette entry or ANSI colour).
    pub fn adapted(mut self, depth: ColorDepth) -> Self {
        for style in &mut self.styles {
            style.fg = style.fg.map(|c| adapt(c, depth));
            style.bg = style.bg.map(|c| adapt(c, depth));
        }
        self
    }

    /// The same theme, plotting charts in ASCII when `ascii` is set.
    pub fn with_ascii(mut self, ascii: bool) -> Self {
        self.ascii = ascii;
        self
    }

    /// Whether charts should avoid braille.
    pub fn ascii(&self) -> bool {
        self.ascii
    }

    /// A built-in theme by name.
    pub fn builtin(name: &str) -> Result<Theme, ThemeError> {
        Self::builtin_depth(name, 0)
    }

    fn builtin_depth(name: &str, depth: u8) -> Result<Theme, ThemeError> {
        let text = BUILTIN_THEMES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, t)| *t)
            .ok_or_else(|| ThemeError::UnknownTheme(name.to_string()))?;
        Self::parse(text, depth)
    }

    /// A theme from TOML text.
    pub fn from_toml(text: &str) -> Result<Theme, ThemeError> {
        Self::parse(text, 0)
    }

    fn parse(text: &str, depth: u8) -> Result<Theme, ThemeError> {
        let raw: RawTheme =
            toml::from_str(text).map_err(|e| ThemeError::Syntax(e.message().to_string()))?;
        let mut theme = match &raw.inherits {
            Some(base) if depth >= 4 => return Err(ThemeError::InheritLoop(base.clone())),
            Some(base) => Self::builtin_depth(base, depth + 1)?,
            None => Theme {
                styles: [Style::default(); Role::ALL.len()],
                ascii: false,
            },
        };
        for (role, raw_style) in &raw.roles {
            theme.styles[role.index()] = build_style(*role, raw_style, &raw.palette)?;
        }
        Ok(theme)
    }

    /// Pick the theme for a session: `NO_COLOR` wins; then `spec`, a built-in name or a path
    /// to a `.toml` file; then the dark default.
    pub fn resolve(spec: Option<&str>, no_color: bool) -> Result<Theme, ThemeError> {
        Theme::resolve_in(spec, no_color, None)
    }

    /// Like [`Theme::resolve`], and a name that is not built in is looked up as `NAME.toml` in
    /// the user's theme folder `user_dir` (see `tui::user_theme_dir`).
    pub fn resolve_in(
        spec: Option<&str>,
        no_color: bool,
        user_dir: Option<&Path>,
    ) -> Result<Theme, ThemeError> {
        if no_color {
            return Ok(Theme::monochrome());
        }
        match spec {
            None => Theme::builtin("dark"),
            Some(s) if s.ends_with(".toml") || s.contains('/') => Theme::from_file(Path::new(s)),
            Some(name) => match Theme::builtin(name) {
                Err(ThemeError::UnknownTheme(_)) if user_dir.is_some() => {
                    let path = user_dir
                        .map(|dir| dir.join(format!("{name}.toml")))
                        .filter(|p| p.is_file())
                        .ok_or_else(|| ThemeError::UnknownTheme(name.to_string()))?;
                    Theme::from_file(&path)
                }
                other => other,
            },
        }
    }

    fn from_file(path: &Path) -> Result<Theme, ThemeError> {
        let text = std::fs::read_to_string(path).map_err(|e| ThemeError::Read {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        Theme::from_toml(&text)
    }

    /// Names of the themes in a user theme folder (`NAME.toml`), sorted; none if it is missing.
    pub fn user_theme_names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|entry| {
                let path = entry.path();
                let stem = path.file_stem()?.to_str()?.to_string();
                (path.extension()? == "toml" && BUILTIN_THEMES.iter().all(|(n, _)| *n != stem))
                    .then_some(stem)
            })
            .collect();
        names.sort();
        names
    }

    /// No colours at all: meaning carried by bold, dim, reverse and underline.
    pub fn monochrome() -> Theme {
        let mut styles = [Style::default(); Role::ALL.len()];
        let bold = Style::default().add_modifier(Modifier::BOLD);
        let reverse = Style::default().add_modifier(Modifier::REVERSED);
        let dim = Style::default().add_modifier(Modifier::DIM);
        for role in Role::ALL {
            styles[role.index()] = match role {
                Role::Text | Role::Healthy | Role::Sparkline | Role::Border => Style::default(),
                Role::Busy | Role::Accent | Role::Key | Role::DialogTitle => bold,
                Role::Degraded | Role::AlertWarning | Role::Notice => {
                    Style::default().add_modifier(Modifier::UNDERLINED)
                }
                Role::Down | Role::AlertCritical | Role::Error | Role::Stale => {
                    bold.add_modifier(Modifier::REVERSED)
                }
                Role::Muted => dim,
                Role::Header | Role::StatusBar | Role::Selection => reverse,
                Role::SearchMatch => reverse.add_modifier(Modifier::UNDERLINED),
                Role::ColumnHeader | Role::Live | Role::Reconnecting => bold,
                Role::Demo | Role::ReadOnly | Role::Production => {
                    bold.add_modifier(Modifier::REVERSED)
                }
                // The header is reversed already: a count shows as bold, underlined text on it.
                Role::HeaderAlert => bold.add_modifier(Modifier::UNDERLINED),
                Role::HeaderWarning => Style::default().add_modifier(Modifier::UNDERLINED),
            };
        }
        Theme {
            styles,
            ascii: false,
        }
    }
}

fn build_style(
    role: Role,
    raw: &RawStyle,
    palette: &BTreeMap<String, String>,
) -> Result<Style, ThemeError> {
    let colour = |name: &str| -> Result<Color, ThemeError> {
        let resolved = palette.get(name).map(String::as_str).unwrap_or(name);
        Color::from_str(resolved).map_err(|_| ThemeError::UnknownColour {
            role,
            colour: name.to_string(),
        })
    };
    let mut style = Style::default();
    if let Some(fg) = &raw.fg {
        style = style.fg(colour(fg)?);
    }
    if let Some(bg) = &raw.bg {
        style = style.bg(colour(bg)?);
    }
    for m in &raw.modifiers {
        let modifier = match m.as_str() {
            "bold" => Modifier::BOLD,
            "dim" => Modifier::DIM,
            "italic" => Modifier::ITALIC,
            "underlined" => Modifier::UNDERLINED,
            "reversed" => Modifier::REVERSED,
            "crossed_out" => Modifier::CROSSED_OUT,
            _ => {
                return Err(ThemeError::UnknownModifier {
                    role,
                    modifier: m.clone(),
                });
            }
        };
        style = style.add_modifier(modifier);
    }
    Ok(style)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::unwrap_used)]
    fn every_builtin_theme_parses_and_styles_the_health_roles() {
        for (name, _) in BUILTIN_THEMES {
            let theme = Theme::builtin(name).unwrap();
            for role in [Role::Healthy, Role::Down, Role::Selection, Role::Header] {
                assert_ne!(theme.style(role), Style::default(), "{name} {role:?}");
            }
            assert_ne!(
                theme.style(Role::Healthy).fg,
                theme.style(Role::Down).fg,
                "{name}: healthy and down look alike"
            );
        }
    }

    #[test]
    #[allow(clippy::unwrap_used)]
    fn adapted_themes_use_only_colours_the_terminal_has() {
        for (name, _) in BUILTIN_THEMES {
            let ansi = Theme::builtin(name).unwrap().adapted(ColorDepth::Ansi16);
            let indexed = Theme::builtin(name)
                .unwrap()
                .adapted(ColorDepth::Indexed256);
            for role in Role::ALL {
                for c in [ansi.style(role).fg, ansi.style(role).bg]
                    .into_iter()
                    .flatten()
                {
                    assert!(
                        !matches!(c, Color::Rgb(..) | Color::Indexed(_)),
                        "{name} {role:?}: {c:?} at 16 colours"
                    );
                }
                for c in [indexed.style(role).fg, indexed.style(role).bg]
                    .into_iter()
                    .flatten()
                {
                    assert!(
                        !matches!(c, Color::Rgb(..)),
                        "{name} {role:?}: {c:?} at 256"
                    );
                }
            }
        }
        let light = Theme::builtin("light").unwrap();
        assert_eq!(light.clone().adapted(ColorDepth::TrueColor), light);
        assert_eq!(
            light.adapted(ColorDepth::Ansi16).style(Role::Selection).bg,
            Some(Color::Gray)
        );
    }

    #[test]
    fn monochrome_has_no_colour() {
        let theme = Theme::resolve(Some("light"), true).unwrap_or_default();
        for role in Role::ALL {
            let s = theme.style(role);
            assert_eq!((s.fg, s.bg), (None, None), "{role:?}");
        }
        assert!(
            theme
                .style(Role::Down)
                .add_modifier
                .contains(Modifier::BOLD)
        );
    }

    #[test]
    fn bad_themes_say_what_is_wrong() {
        assert_eq!(
            Theme::from_toml("[roles]\ndown = { fg = \"blurple\" }"),
            Err(ThemeError::UnknownColour {
                role: Role::Down,
                colour: "blurple".into()
            })
        );
        assert!(matches!(
            Theme::from_toml("[roles]\nnot_a_role = { fg = \"red\" }"),
            Err(ThemeError::Syntax(_))
        ));
        assert_eq!(
            Theme::from_toml("inherits = \"neon\""),
            Err(ThemeError::UnknownTheme("neon".into()))
        );
        assert!(matches!(
            Theme::from_toml("[roles]\ndown = { modifiers = [\"blink\"] }"),
            Err(ThemeError::UnknownModifier { .. })
        ));
    }

    #[test]
    #[allow(clippy::unwrap_used)]
    fn user_themes_are_found_by_name_in_the_user_folder() {
        let dir = std::env::temp_dir().join(format!("opsdeck-themes-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let light = BUILTIN_THEMES
            .iter()
            .find(|(n, _)| *n == "light")
            .unwrap()
            .1;
        std::fs::write(dir.join("ocean.toml"), light).unwrap();
        std::fs::write(dir.join("notes.txt"), "not a theme").unwrap();
        assert_eq!(Theme::user_theme_names(&dir), vec!["ocean".to_string()]);
        let ocean = Theme::resolve_in(Some("ocean"), false, Some(&dir)).unwrap();
        assert_eq!(ocean, Theme::builtin("light").unwrap());
        assert!(matches!(
            Theme::resolve_in(Some("neon"), false, Some(&dir)),
            Err(ThemeError::UnknownTheme(_))
        ));
        assert!(
            Theme::resolve(Some("ocean"), false).is_err(),
            "no folder, no user theme"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
