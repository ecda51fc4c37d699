//! Keymap overrides from the console file's `[keys]` table, by action name:
//!
//! ```toml
//! [keys]
//! scale = "ctrl-s"               # in every view that binds scale
//! [keys.logs]
//! toggle_wrap = ["W", "alt-w"]   # in the Logs view only
//! ```
//!
//! An action is a `run` name of the default keymap (`src/app/core/keymap-default.toml`, listed
//! in docs/keymap.md: `scale`, `rollback`, `ack`, `silence`, `logs` …), or the name it had
//! before (`open_scale`, `acknowledge`), still read; a view is one of its tables. A key is
//! written as in the keymap (`S`, `<C-s>`, `<Enter>`) or as `ctrl-s`, `alt-x`, `enter`,
//! `pagedown`. The override replaces the action's keys; a new key that another action of the
//! same view, or of `global`, already uses is an error naming both, so no key silently stops
//! doing what it did.

use std::collections::BTreeMap;

use crate::app::{Command, DEFAULT_KEYMAP, KeyInput, Keymap, Layer};

use super::{FileError, Source};

/// One override: in `view` (every view binding it, when none), `action` runs on `keys`.
#[derive(Clone, Debug, PartialEq)]
pub struct KeyOverride {
    pub view: Option<String>,
    pub action: String,
    pub keys: Vec<KeyInput>,
    /// The dotted key in the file, for errors.
    pub path: String,
}

/// The default keymap's action and view names.
struct Names {
    /// Action names each layer binds, by layer name, in file order.
    layers: BTreeMap<String, Vec<String>>,
}

impl Names {
    fn load() -> Names {
        let mut layers: BTreeMap<String, Vec<String>> = BTreeMap::new();
        // The embedded default is checked by the keymap's own tests; an unreadable one has no
        // names, and every override is then reported as unknown.
        if let Ok(table) = toml::from_str::<toml::Table>(DEFAULT_KEYMAP) {
            for (layer, bindings) in table {
                let runs = bindings.as_array().map(Vec::as_slice).unwrap_or(&[]);
                for run in runs.iter().filter_map(|b| b.get("run")?.as_str()) {
                    layers
                        .entry(layer.clone())
                        .or_default()
                        .push(run.to_string());
                }
            }
        }
        Names { layers }
    }

    fn all_actions(&self) -> Vec<&str> {
        let mut all: Vec<&str> = self.layers.values().flatten().map(String::as_str).collect();
        all.sort_unstable();
        all.dedup();
        all
    }
}

/// The action's name as the keymap writes it now, for a name it has or had (`open_scale` is
/// `scale`); none for a name that is no action's.
fn canonical(name: &str) -> Option<String> {
    command(name).ok().map(Command::name)
}

fn command(name: &str) -> Result<Command, toml::de::Error> {
    toml::Value::String(name.to_string()).try_into::<Command>()
}

fn layer(name: &str) -> Option<Layer> {
    toml::Value::String(name.to_string())
        .try_into::<Layer>()
        .ok()
}

/// Read the `[keys]` table: every action and view named must exist, every key must parse.
pub(crate) fn parse(table: &toml::Table, src: &Source) -> Result<Vec<KeyOverride>, FileError> {
    let names = Names::load();
    let mut out = Vec::new();
    for (name, value) in table {
        match value {
            toml::Value::Table(view) => {
                let path = format!("keys.{name}");
                let Some(actions) = names.layers.get(name) else {
                    let views = names.layers.keys().map(String::as_str);
                    let hint = match crate::app::suggest(name, views) {
                        Some(s) => format!("; did you mean `{s}`?"),
                        None => format!(
                            "; views: {}",
                            names.layers.keys().cloned().collect::<Vec<_>>().join(", ")
                        ),
                    };
                    return Err(src.at_key(&path, format!("no view `{name}`{hint}")));
                };
                for (written, keys) in view {
                    let path = format!("{path}.{written}");
                    let Some(action) = canonical(written).filter(|a| actions.contains(a)) else {
                        let action = written;
                        let hint =
                            match crate::app::suggest(action, actions.iter().map(|a| a.as_str())) {
                                Some(s) => format!("did you mean `{s}`?"),
                                None => format!("its actions: {}", actions.join(", ")),
                            };
                        return Err(src.at_key(
                            &path,
                            format!("the {name} view has no action `{action}`; {hint}"),
                        ));
                    };
                    out.push(KeyOverride {
                        view: Some(name.clone()),
                        action,
                        keys: key_list(keys, &path, src)?,
                        path,
                    });
                }
            }
            keys => {
                let path = format!("keys.{name}");
                let all = names.all_actions();
                let Some(action) = canonical(name).filter(|a| all.contains(&a.as_str())) else {
                    let hint = match crate::app::suggest(name, all.iter().copied()) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => "docs/keymap.md lists the actions".to_string(),
                    };
                    return Err(src.at_key(&path, format!("no action `{name}`; {hint}")));
                };
                out.push(KeyOverride {
                    view: None,
                    action,
                    keys: key_list(keys, &path, src)?,
                    path,
                });
            }
        }
    }
    Ok(out)
}

fn key_list(value: &toml::Value, path: &str, src: &Source) -> Result<Vec<KeyInput>, FileError> {
    let texts: Vec<&str> = match value {
        toml::Value::String(s) => vec![s.as_str()],
        toml::Value::Array(items) => {
            let texts: Option<Vec<&str>> = items.iter().map(toml::Value::as_str).collect();
            texts.ok_or_else(|| src.at_key(path, "a list of keys holds only strings"))?
        }
        _ => {
            return Err(src.at_key(
                path,
                "give a key (\"ctrl-s\"), a list of keys, or a table of a view's actions",
            ));
        }
    };
    if texts.is_empty() {
        return Err(src.at_key(path, "give at least one key"));
    }
    texts
        .iter()
        .map(|t| {
            parse_key(t).ok_or_else(|| {
                src.at_key(
                    path,
                    format!(
                        "{t:?} is not a key (write S, ctrl-s, alt-x, enter, <C-s>, <PageDown>)"
                    ),
                )
            })
        })
        .collect()
}

/// A key in the keymap's notation (`S`, `<C-s>`) or as `ctrl-s`, `alt-enter`, `pagedown`.
pub fn parse_key(text: &str) -> Option<KeyInput> {
    if let Some(key) = KeyInput::parse(text) {
        return Some(key);
    }
    let mut rest = text;
    let mut prefix = String::new();
    loop {
        let lower = rest.to_ascii_lowercase();
        if let Some(r) = ["ctrl-", "ctrl+", "c-"]
            .iter()
            .find(|p| lower.starts_with(**p))
        {
            prefix.push_str("C-");
            rest = &rest[r.len()..];
        } else if let Some(r) = ["alt-", "alt+", "a-", "meta-"]
            .iter()
            .find(|p| lower.starts_with(**p))
        {
            prefix.push_str("A-");
            rest = &rest[r.len()..];
        } else {
            break;
        }
    }
    let name = match rest.to_ascii_lowercase().as_str() {
        _ if rest.chars().count() == 1 => rest.to_string(),
        "enter" | "return" => "Enter".into(),
        "esc" | "escape" => "Esc".into(),
        "backspace" => "Backspace".into(),
        "tab" => "Tab".into(),
        "up" => "Up".into(),
        "down" => "Down".into(),
        "left" => "Left".into(),
        "right" => "Right".into(),
        "home" => "Home".into(),
        "end" => "End".into(),
        "pageup" | "pgup" => "PageUp".into(),
        "pagedown" | "pgdn" => "PageDown".into(),
        "delete" | "del" => "Delete".into(),
        "space" => "Space".into(),
        _ => return None,
    };
    KeyInput::parse(&format!("<{prefix}{name}>"))
}

/// Apply `overrides` to `keymap`. A new key that another action already uses in the same view
/// (or, for a view, in `global`; for `global`, in any view) is an error naming both.
pub(crate) fn apply(
    keymap: &mut Keymap,
    overrides: &[KeyOverride],
    src: &Source,
) -> Result<(), FileError> {
    // (layer, command, keys it did not have before)
    let mut changed: Vec<(Layer, Command, Vec<KeyInput>, &KeyOverride)> = Vec::new();
    for o in overrides {
        let cmd = command(&o.action)
            .map_err(|_| src.at_key(&o.path, format!("no action `{}`", o.action)))?;
        let layers: Vec<Layer> = match &o.view {
            Some(view) => layer(view).into_iter().collect(),
            None => Layer::ALL
                .into_iter()
                .filter(|l| keymap.binds(*l, cmd))
                .collect(),
        };
        for l in layers {
            let before: Vec<KeyInput> = keymap
                .bindings(l)
                .iter()
                .find(|b| b.run == cmd)
                .map(|b| b.on.clone())
                .unwrap_or_default();
            if keymap.rebind(l, cmd, o.keys.clone()) {
                let new: Vec<KeyInput> = o
                    .keys
                    .iter()
                    .filter(|k| !before.contains(k))
                    .copied()
                    .collect();
                changed.push((l, cmd, new, o));
            }
        }
    }
    for (l, cmd, new, o) in &changed {
        for key in new {
            let clash = |other: Layer| {
                keymap
                    .bindings(other)
                    .iter()
                    .find(|b| b.run != *cmd && b.on.contains(key))
                    .map(|b| (other, b.run))
            };
            let found = if *l == Layer::Global {
                Layer::ALL.into_iter().find_map(clash)
            } else {
                clash(*l).or_else(|| clash(Layer::Global))
            };
            if let Some((other, other_cmd)) = found {
                let where_ = if other == *l {
                    format!("in {}", layer_label(other))
                } else {
                    format!("{} and {}", layer_label(*l), layer_label(other))
                };
                return Err(src.at_key(
                    &o.path,
                    format!(
                        "{key} is bound to both `{}` and `{}` ({where_}): give one of them another key",
                        o.action,
                        other_cmd.name(),
                    ),
                ));
            }
        }
    }
    Ok(())
}

fn layer_label(layer: Layer) -> String {
    if layer == Layer::Global {
        "everywhere".into()
    } else {
        layer.title().to_string()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::app::KeyCode;

    fn overrides(text: &str) -> Result<Keymap, String> {
        let src = Source {
            file: Path::new("config.toml"),
            text,
        };
        let table: toml::Table = toml::from_str(text).unwrap();
        let keys = table["keys"].as_table().unwrap();
        let mut keymap = Keymap::builtin().unwrap();
        parse(keys, &src)
            .and_then(|o| apply(&mut keymap, &o, &src))
            .map(|()| keymap)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn keys_are_read_in_both_notations() {
        assert_eq!(parse_key("ctrl-s"), Some(KeyInput::ctrl('s')));
        assert_eq!(parse_key("<C-s>"), Some(KeyInput::ctrl('s')));
        assert_eq!(parse_key("S"), Some(KeyInput::char('S')));
        assert_eq!(
            parse_key("pagedown"),
            Some(KeyInput::plain(KeyCode::PageDown))
        );
        let alt_enter = parse_key("alt-enter").unwrap();
        assert!(alt_enter.alt && alt_enter.code == KeyCode::Enter);
        assert_eq!(parse_key("hyper-x"), None);
    }

    #[test]
    fn an_action_override_applies_in_every_view_that_binds_it() {
        let km = overrides("[keys]\nscale = \"ctrl-s\"\n").unwrap();
        for layer in [Layer::Overview, Layer::App, Layer::Alerts] {
            if km.binds(layer, Command::OpenScale) {
                assert_eq!(
                    km.lookup(layer, &KeyInput::ctrl('s')),
                    Some(Command::OpenScale)
                );
                assert_eq!(km.lookup(layer, &KeyInput::char('S')), None);
            }
        }
    }

    #[test]
    fn the_names_the_actions_had_before_are_still_read() {
        let km = overrides("[keys]\nopen_scale = \"ctrl-s\"\n[keys.alerts]\nacknowledge = \"x\"\n")
            .unwrap();
        assert_eq!(
            km.lookup(Layer::Overview, &KeyInput::ctrl('s')),
            Some(Command::OpenScale)
        );
        assert_eq!(
            km.lookup(Layer::Alerts, &KeyInput::char('x')),
            Some(Command::Acknowledge)
        );
    }

    #[test]
    fn a_view_override_applies_in_that_view_only() {
        let km = overrides("[keys.overview]\nscale = [\"x\", \"ctrl-s\"]\n").unwrap();
        assert_eq!(
            km.lookup(Layer::Overview, &KeyInput::char('x')),
            Some(Command::OpenScale)
        );
        assert_eq!(
            km.lookup(Layer::App, &KeyInput::char('S')),
            Some(Command::OpenScale)
        );
    }

    /// One test per rule: a `[keys]` table, and the start of the message it must give.
    macro_rules! invalid {
        ($($rule:ident: $text:expr => $want:expr;)*) => {$(
            #[test]
            fn $rule() {
                let err = overrides($text).unwrap_err();
                assert!(err.starts_with($want), "got:    {err}\nwanted: {}", $want);
            }
        )*};
    }

    invalid! {
        unknown_action: "[keys]\nscael = \"x\"\n" =>
            "config.toml:2: key `keys.scael`: no action `scael`; did you mean `scale`?";
        unknown_view: "[keys.overveiw]\nscale = \"x\"\n" =>
            "config.toml:1: key `keys.overveiw`: no view `overveiw`; did you mean `overview`?";
        action_the_view_does_not_have: "[keys.logs]\nscale = \"x\"\n" =>
            "config.toml:2: key `keys.logs.scale`: the logs view has no action `scale`";
        not_a_key: "[keys]\nscale = \"hyper-x\"\n" =>
            "config.toml:2: key `keys.scale`: \"hyper-x\" is not a key (write S, ctrl-s, \
             alt-x, enter, <C-s>, <PageDown>)";
        a_list_of_keys_holds_only_strings: "[keys]\nscale = [\"x\", 1]\n" =>
            "config.toml:2: key `keys.scale`: a list of keys holds only strings";
        no_keys: "[keys]\nscale = []\n" =>
            "config.toml:2: key `keys.scale`: give at least one key";
        not_a_key_or_table: "[keys]\nscale = 3\n" =>
            "config.toml:2: key `keys.scale`: give a key (\"ctrl-s\"), a list of keys, or a \
             table of a view's actions";
    }

    #[test]
    fn a_conflict_names_both_actions() {
        // `r` is the overview's Releases key.
        assert_eq!(
            overrides("[keys]\nscale = \"r\"\n").unwrap_err(),
            "config.toml:2: key `keys.scale`: r is bound to both `scale` and \
             `releases` (in Overview): give one of them another key"
        );
        // `?` is help everywhere: a view's key would hide it.
        assert_eq!(
            overrides("[keys.overview]\nscale = \"?\"\n").unwrap_err(),
            "config.toml:2: key `keys.overview.scale`: ? is bound to both `scale` and \
             `help` (Overview and everywhere): give one of them another key"
        );
        // Swapping two keys in one go is fine.
        let km = overrides("[keys.overview]\nscale = \"r\"\nreleases = \"S\"\n").unwrap();
        assert_eq!(
            km.lookup(Layer::Overview, &KeyInput::char('r')),
            Some(Command::OpenScale)
        );
    }
}
