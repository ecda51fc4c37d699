//! Keys as data: the layered keymap, parsed from TOML.
//!
//! The default table is `keymap-default.toml`, embedded at build time. The help overlay is
//! generated from the same [`Keymap`], so help and behaviour cannot drift apart.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::app::core::key::KeyInput;

/// The embedded default keymap.
pub const DEFAULT_KEYMAP: &str = include_str!("keymap-default.toml");

/// A set of bindings active in one mode of the console, searched before `global`.
#[derive(Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Layer {
    Global,
    Overview,
    Filter,
    Scale,
    ScaleName,
    Confirm,
    Help,
    Logs,
    LogSearch,
    LogFilter,
    App,
    Releases,
    Events,
    Rollback,
    RollbackName,
    Alerts,
    Silence,
    Command,
    Runbooks,
    RunbookForm,
    RunbookPlan,
    Runs,
    Run,
}

impl Layer {
    pub const ALL: [Layer; 23] = [
        Layer::Overview,
        Layer::Filter,
        Layer::Scale,
        Layer::ScaleName,
        Layer::Alerts,
        Layer::Silence,
        Layer::Confirm,
        Layer::Logs,
        Layer::LogSearch,
        Layer::LogFilter,
        Layer::App,
        Layer::Releases,
        Layer::Events,
        Layer::Rollback,
        Layer::RollbackName,
        Layer::Runbooks,
        Layer::RunbookForm,
        Layer::RunbookPlan,
        Layer::Runs,
        Layer::Run,
        Layer::Command,
        Layer::Help,
        Layer::Global,
    ];

    /// Heading in the help overlay.
    pub fn title(self) -> &'static str {
        match self {
            Layer::Global => "Everywhere",
            Layer::Overview => "Overview",
            Layer::Filter => "Filter",
            Layer::Scale => "Scale dialog",
            Layer::ScaleName => "Scale: type the app name (production)",
            Layer::Confirm => "Confirmation",
            Layer::Help => "Help",
            Layer::Logs => "Logs",
            Layer::LogSearch => "Log search",
            Layer::LogFilter => "Log filter bar",
            Layer::App => "App view",
            Layer::Releases => "Releases",
            Layer::Events => "Events",
            Layer::Rollback => "Rollback dialog",
            Layer::RollbackName => "Rollback: type the app name",
            Layer::Alerts => "Alerts",
            Layer::Silence => "Silence dialog",
            Layer::Command => "Command line (:)",
            Layer::Runbooks => "Runbooks",
            Layer::RunbookForm => "Runbook parameters",
            Layer::RunbookPlan => "Runbook dry-run plan",
            Layer::Runs => "Runs",
            Layer::Run => "Run",
        }
    }

    /// The layer's name in the keymap TOML and the config's `[keys.NAME]`.
    pub fn name(self) -> String {
        snake_case(&format!("{self:?}"))
    }

    /// Whether unbound printable keys are typed into a text field in this layer.
    pub fn takes_text(self) -> bool {
        matches!(
            self,
            Layer::Filter
                | Layer::Scale
                | Layer::ScaleName
                | Layer::LogSearch
                | Layer::LogFilter
                | Layer::RollbackName
                | Layer::Silence
                | Layer::Command
                | Layer::RunbookForm
        )
    }
}

/// What a key asks the console to do. Names match `run` in the keymap TOML and are the ones an
/// operator writes in the config's `[keys]` (`scale`, `rollback`, `ack`, `silence`, `logs`);
/// the names they had before (`open_scale`, `acknowledge`) are still read.
#[derive(Deserialize, Serialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Command {
    Quit,
    #[serde(rename = "help", alias = "toggle_help")]
    ToggleHelp,
    MoveDown,
    MoveUp,
    Top,
    Bottom,
    PageDown,
    PageUp,
    #[serde(rename = "scale", alias = "open_scale")]
    OpenScale,
    #[serde(rename = "filter", alias = "start_filter")]
    StartFilter,
    CycleSort,
    Back,
    Submit,
    DeleteChar,
    Increment,
    Decrement,
    Confirm,
    Cancel,
    #[serde(rename = "app", alias = "open_app")]
    OpenApp,
    #[serde(rename = "releases", alias = "open_releases")]
    OpenReleases,
    #[serde(rename = "rollback", alias = "open_rollback")]
    OpenRollback,
    #[serde(rename = "events", alias = "open_events")]
    OpenEvents,
    #[serde(rename = "app_events", alias = "open_app_events")]
    OpenAppEvents,
    ToggleEventsFilter,
    NextPane,
    CycleWindow,
    Window1m,
    Window5m,
    Window15m,
    Window1h,
    #[serde(rename = "alerts", alias = "open_alerts")]
    OpenAlerts,
    #[serde(rename = "command", alias = "open_command")]
    OpenCommand,
    #[serde(rename = "ack", alias = "acknowledge")]
    Acknowledge,
    #[serde(rename = "silence", alias = "open_silence")]
    OpenSilence,
    JumpToApp,
    #[serde(rename = "runbook", alias = "open_runbook")]
    OpenRunbook,
    NextField,
    Complete,
    HistoryPrev,
    HistoryNext,
    #[serde(rename = "runbooks", alias = "open_runbooks")]
    OpenRunbooks,
    #[serde(rename = "runs", alias = "open_runs")]
    OpenRuns,
    PrevField,
    #[serde(rename = "run", alias = "start_run")]
    StartRun,
    #[serde(rename = "approve", alias = "approve_run")]
    ApproveRun,
    #[serde(rename = "abort", alias = "abort_run")]
    AbortRun,
    #[serde(rename = "resume", alias = "resume_run")]
    ResumeRun,
    NextRun,
    PrevRun,
    /// The Logs view's commands, named in the TOML like the others.
    #[serde(untagged)]
    Logs(LogCommand),
}

impl Command {
    /// The command's name in the keymap TOML (`run`) and the config's `[keys]`.
    pub fn name(self) -> String {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::String(name)) => name,
            _ => snake_case(&format!("{self:?}")),
        }
    }

    /// Whether this command changes the platform (scale, roll back, acknowledge, silence,
    /// start or steer a run). A `--readonly` keymap has none of them.
    pub fn changes_platform(self) -> bool {
        matches!(
            self,
            Command::OpenScale
                | Command::OpenRollback
                | Command::Acknowledge
                | Command::OpenSilence
                | Command::StartRun
                | Command::ApproveRun
                | Command::AbortRun
                | Command::ResumeRun
        )
    }
}

/// What a key asks the Logs view to do. Names match `run` in the keymap TOML.
#[derive(Deserialize, Serialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum LogCommand {
    /// From the overview: logs of the selected app.
    #[serde(rename = "logs", alias = "open_logs")]
    OpenLogs,
    /// From the overview: logs of every app.
    #[serde(rename = "all_logs", alias = "open_all_logs")]
    OpenAllLogs,
    /// Clear the search if there is one, else back to the overview.
    CloseLogs,
    ScrollDown,
    ScrollUp,
    LogPageDown,
    LogPageUp,
    LogTop,
    Follow,
    TogglePause,
    #[serde(rename = "search", alias = "start_search")]
    StartSearch,
    NextMatch,
    PrevMatch,
    NextError,
    PrevError,
    #[serde(rename = "log_filter", alias = "open_log_filter")]
    OpenLogFilter,
    ClearLogFilter,
    CycleLevel,
    MinLevelTrace,
    MinLevelDebug,
    MinLevelInfo,
    MinLevelWarn,
    MinLevelError,
    ToggleWrap,
    CycleTimestamps,
    ToggleFields,
    SaveLogs,
    SearchSubmit,
    SearchCancel,
    SearchDeleteChar,
    FilterApply,
    FilterCancel,
    FilterDeleteChar,
    FilterNextField,
}

/// `OpenScale` as `open_scale`, as serde's `rename_all = "snake_case"` spells variants.
fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// One row of the keymap: these keys run this command.
#[derive(Clone, Debug, PartialEq)]
pub struct Binding {
    pub on: Vec<KeyInput>,
    pub run: Command,
    pub desc: String,
}

#[derive(Deserialize)]
struct RawBinding {
    on: Vec<String>,
    run: Command,
    #[serde(default)]
    desc: String,
}

/// Why a keymap could not be loaded.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum KeymapError {
    #[error("keymap is not valid TOML for a keymap: {0}")]
    Syntax(String),
    #[error("keymap layer `{layer:?}`: unknown key {key:?} (use a character or <Name>)")]
    UnknownKey { layer: Layer, key: String },
}

/// Every layer's bindings.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Keymap {
    layers: BTreeMap<Layer, Vec<Binding>>,
    /// Bindings removed by [`Keymap::without_actions`], kept only to tell the operator why a
    /// key does nothing.
    withheld: BTreeMap<Layer, Vec<Binding>>,
}

impl Keymap {
    /// Parse a keymap in the TOML layout of `keymap-default.toml`.
    pub fn from_toml(text: &str) -> Result<Keymap, KeymapError> {
        let raw: BTreeMap<Layer, Vec<RawBinding>> =
            toml::from_str(text).map_err(|e| KeymapError::Syntax(e.message().to_string()))?;
        let mut layers = BTreeMap::new();
        for (layer, bindings) in raw {
            let mut parsed = Vec::with_capacity(bindings.len());
            for b in bindings {
                let mut on = Vec::with_capacity(b.on.len());
                for key in &b.on {
                    let k = KeyInput::parse(key).ok_or_else(|| KeymapError::UnknownKey {
                        layer,
                        key: key.clone(),
                    })?;
                    on.push(k);
                }
                parsed.push(Binding {
                    on,
                    run: b.run,
                    desc: b.desc,
                });
            }
            layers.insert(layer, parsed);
        }
        Ok(Keymap {
            layers,
            withheld: BTreeMap::new(),
        })
    }

    /// This keymap with every command that changes the platform removed (`--readonly`), so
    /// that neither the keys nor the help and hints built from the keymap offer them.
    pub fn without_actions(&self) -> Keymap {
        let mut kept = BTreeMap::new();
        let mut withheld = self.withheld.clone();
        for (layer, bindings) in &self.layers {
            let (actions, rest): (Vec<Binding>, Vec<Binding>) = bindings
                .iter()
                .cloned()
                .partition(|b| b.run.changes_platform());
            kept.insert(*layer, rest);
            if !actions.is_empty() {
                withheld.entry(*layer).or_default().extend(actions);
            }
        }
        Keymap {
            layers: kept,
            withheld,
        }
    }

    /// The binding of `key` in `layer` that [`Keymap::without_actions`] removed, if any.
    pub fn withheld(&self, layer: Layer, key: &KeyInput) -> Option<&Binding> {
        self.withheld
            .get(&layer)?
            .iter()
            .find(|b| b.on.contains(key))
    }

    /// Whether `layer` binds some key to `cmd`.
    pub fn binds(&self, layer: Layer, cmd: Command) -> bool {
        self.bindings(layer).iter().any(|b| b.run == cmd)
    }

    /// The keys bound to `cmd` in `layer`, else in `global`, in file order; empty when neither
    /// binds it (a `--readonly` keymap has no actions). Hints are built from this, so a user's
    /// override shows in them.
    pub fn keys_for(&self, layer: Layer, cmd: Command) -> &[KeyInput] {
        [layer, Layer::Global]
            .into_iter()
            .find_map(|l| self.bindings(l).iter().find(|b| b.run == cmd))
            .map(|b| b.on.as_slice())
            .unwrap_or(&[])
    }

    /// Bind `cmd` in `layer` to `keys` instead of its keys now (a user's override); false
    /// when `layer` does not bind `cmd`, and then nothing changes.
    pub fn rebind(&mut self, layer: Layer, cmd: Command, keys: Vec<KeyInput>) -> bool {
        let found = self
            .layers
            .get_mut(&layer)
            .and_then(|bindings| bindings.iter_mut().find(|b| b.run == cmd));
        match found {
            Some(binding) => {
                binding.on = keys;
                true
            }
            None => false,
        }
    }

    /// The embedded default keymap.
    pub fn builtin() -> Result<Keymap, KeymapError> {
        Self::from_toml(DEFAULT_KEYMAP)
    }

    /// The command `key` runs in `layer`, looking in `layer` only.
    pub fn lookup(&self, layer: Layer, key: &KeyInput) -> Option<Command> {
        self.layers
            .get(&layer)?
            .iter()
            .find(|b| b.on.contains(key))
            .map(|b| b.run)
    }

    /// The bindings of one layer, in file order.
    pub fn bindings(&self, layer: Layer) -> &[Binding] {
        self.layers.get(&layer).map(Vec::as_slice).unwrap_or(&[])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::core::key::KeyCode;

    #[test]
    #[allow(clippy::unwrap_used)]
    fn default_keymap_parses_and_binds_the_documented_keys() {
        let km = Keymap::builtin().unwrap();
        let ov = Layer::Overview;
        assert_eq!(km.lookup(ov, &KeyInput::char('j')), Some(Command::MoveDown));
        assert_eq!(
            km.lookup(ov, &KeyInput::plain(KeyCode::Up)),
            Some(Command::MoveUp)
        );
        assert_eq!(km.lookup(ov, &KeyInput::char('G')), Some(Command::Bottom));
        assert_eq!(
            km.lookup(ov, &KeyInput::plain(KeyCode::Enter)),
            Some(Command::OpenApp)
        );
        assert_eq!(
            km.lookup(Layer::Global, &KeyInput::ctrl('c')),
            Some(Command::Quit)
        );
        assert_eq!(
            km.lookup(Layer::Confirm, &KeyInput::char('y')),
            Some(Command::Confirm)
        );
        assert!(!km.bindings(Layer::Help).is_empty());
    }

    #[test]
    #[allow(clippy::unwrap_used)]
    fn names_are_the_names_in_the_toml() {
        let table: toml::Table = toml::from_str(DEFAULT_KEYMAP).unwrap();
        let km = Keymap::builtin().unwrap();
        for (layer_name, bindings) in &table {
            let layer = Layer::ALL
                .into_iter()
                .find(|l| l.name() == *layer_name)
                .unwrap_or_else(|| panic!("no layer named {layer_name}"));
            for (b, raw) in km.bindings(layer).iter().zip(bindings.as_array().unwrap()) {
                assert_eq!(Some(b.run.name().as_str()), raw["run"].as_str());
            }
        }
    }

    #[test]
    #[allow(clippy::unwrap_used)]
    fn actions_have_the_names_an_operator_writes_and_keep_their_old_ones() {
        let read = |name: &str| {
            toml::Value::String(name.into())
                .try_into::<Command>()
                .unwrap()
        };
        for (name, old, cmd) in [
            ("scale", "open_scale", Command::OpenScale),
            ("rollback", "open_rollback", Command::OpenRollback),
            ("ack", "acknowledge", Command::Acknowledge),
            ("silence", "open_silence", Command::OpenSilence),
            ("logs", "open_logs", Command::Logs(LogCommand::OpenLogs)),
            ("help", "toggle_help", Command::ToggleHelp),
        ] {
            assert_eq!(cmd.name(), name);
            assert_eq!(read(name), cmd);
            assert_eq!(read(old), cmd);
        }
        // Every binding's name reads back as its command.
        let km = Keymap::builtin().unwrap();
        for layer in Layer::ALL {
            for b in km.bindings(layer) {
                assert_eq!(read(&b.run.name()), b.run, "{}", b.run.name());
            }
        }
    }

    #[test]
    fn rejects_unknown_keys_and_commands() {
        let bad_key = "[[overview]]\non = [\"<Hyper-x>\"]\nrun = \"quit\"\n";
        assert!(matches!(
            Keymap::from_toml(bad_key),
            Err(KeymapError::UnknownKey { .. })
        ));
        let bad_cmd = "[[overview]]\non = [\"x\"]\nrun = \"explode\"\n";
        assert!(matches!(
            Keymap::from_toml(bad_cmd),
            Err(KeymapError::Syntax(_))
        ));
    }
}
