//! The console's configuration file and its contexts, and the settings in effect.
//!
//! The file is `$XDG_CONFIG_HOME/opsdeck/config.toml` (else `~/.config/opsdeck/config.toml`),
//! or `--config FILE` / `OPSDECK_CONFIG`. `docs/config.example.toml` is a complete example
//! (`opsdeck config init` writes it; docs/configuration.md shows it). A context is a named set
//! of settings, as in a kubeconfig: which gateway, how to get its token, whether it is
//! production. Precedence, highest first: flag, environment, the context, the file's
//! `[defaults]`, the built-in default; [`Settings`] keeps where each value came from.
//!
//! Two settings only ever add: `production` and `readonly` are on when any layer turns them
//! on, so a stray `OPSDECK_PRODUCTION=0` cannot hide that a context is production.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clap::ArgMatches;
use serde::Deserialize;

use super::keys::{self, KeyOverride};
use super::provenance::{Origin, Setting, flag_or_env};
use super::{FileError, Source, expand_path};
use crate::app::Keymap;
use crate::cli::{ConnectionArgs, ViewArgs};

/// The complete, commented example: `opsdeck config init` writes it, docs/configuration.md
/// shows it (a test keeps the two the same).
pub const EXAMPLE: &str = include_str!("../../docs/config.example.toml");

/// The view the console opens on.
#[derive(Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum StartView {
    Overview,
    Alerts,
    Events,
    Logs,
    Runbooks,
    Runs,
}

impl StartView {
    pub fn name(self) -> &'static str {
        match self {
            StartView::Overview => "overview",
            StartView::Alerts => "alerts",
            StartView::Events => "events",
            StartView::Logs => "logs",
            StartView::Runbooks => "runbooks",
            StartView::Runs => "runs",
        }
    }

    /// Where the console goes to show it.
    pub fn navigate(self) -> crate::app::Navigate {
        use crate::app::Navigate;
        match self {
            StartView::Overview => Navigate::Overview,
            StartView::Alerts => Navigate::Alerts,
            StartView::Events => Navigate::Events,
            StartView::Logs => Navigate::Logs(Vec::new()),
            StartView::Runbooks => Navigate::Runbooks,
            StartView::Runs => Navigate::Runs,
        }
    }
}

/// The settings a context (or the file's `[defaults]`) may give.
#[derive(Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Profile {
    pub url: Option<String>,
    pub ca_cert: Option<PathBuf>,
    pub token_file: Option<PathBuf>,
    pub token_env: Option<String>,
    pub token_command: Option<String>,
    /// Inline: refused unless the file is readable by its owner alone (mode 0600).
    pub token: Option<String>,
    pub production: Option<bool>,
    pub readonly: Option<bool>,
    pub mouse: Option<bool>,
    pub theme: Option<String>,
    pub view: Option<StartView>,
    pub log_buffer: Option<usize>,
}

impl Profile {
    fn token_source(&self) -> Option<TokenSource> {
        if let Some(path) = &self.token_file {
            return Some(TokenSource::File(path.clone()));
        }
        if let Some(var) = &self.token_env {
            return Some(TokenSource::Env(var.clone()));
        }
        if let Some(cmd) = &self.token_command {
            return Some(TokenSource::Command(cmd.clone()));
        }
        self.token.clone().map(TokenSource::Inline)
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawFile {
    current_context: Option<String>,
    #[serde(default)]
    defaults: Profile,
    #[serde(default)]
    contexts: BTreeMap<String, Profile>,
    #[serde(default)]
    keys: toml::Table,
}

/// A console file, read and checked.
#[derive(Clone, Debug, PartialEq)]
pub struct ConsoleFile {
    pub path: PathBuf,
    pub current_context: Option<String>,
    pub defaults: Profile,
    pub contexts: BTreeMap<String, Profile>,
    pub keys: Vec<KeyOverride>,
    /// Said on stderr before the console starts (an inline token).
    pub warnings: Vec<String>,
    text: String,
}

impl ConsoleFile {
    /// Check `text`, the content of `path`; `private` is whether only its owner may read it
    /// (mode 0600), which an inline token needs.
    pub fn parse(path: &Path, text: &str, private: bool) -> Result<ConsoleFile, FileError> {
        let src = Source { file: path, text };
        let raw: RawFile = toml::from_str(text).map_err(|e| src.toml_error(&e))?;
        if let Some(name) = &raw.current_context
            && !raw.contexts.contains_key(name)
        {
            return Err(src.at_key(
                "current-context",
                format!("no context `{name}`; {}", known(&raw.contexts)),
            ));
        }
        let base = path.parent();
        let mut warnings = Vec::new();
        let mut defaults = raw.defaults.clone();
        let mut contexts = raw.contexts.clone();
        let profiles = std::iter::once(("defaults".to_string(), &mut defaults)).chain(
            contexts
                .iter_mut()
                .map(|(name, p)| (format!("contexts.{name}"), p)),
        );
        for (table, p) in profiles {
            check_profile(&src, &table, p, private, &mut warnings)?;
            p.ca_cert = p.ca_cert.as_deref().map(|c| expand_path(c, base));
            p.token_file = p.token_file.as_deref().map(|c| expand_path(c, base));
        }
        let keys = keys::parse(&raw.keys, &src)?;
        let file = ConsoleFile {
            path: path.to_path_buf(),
            current_context: raw.current_context,
            defaults,
            contexts,
            keys,
            warnings,
            text: text.to_string(),
        };
        // Conflicts show at start, not when a key is pressed.
        file.apply_keys(&mut Keymap::builtin().map_err(|e| Source::whole(path, e.to_string()))?)?;
        Ok(file)
    }

    /// Read the file at `path`; `None` when there is none.
    pub fn load(path: &Path) -> Result<Option<ConsoleFile>, FileError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Source::whole(path, format!("cannot read it: {e}"))),
        };
        ConsoleFile::parse(path, &text, owner_only(path)).map(Some)
    }

    /// Apply the `[keys]` overrides to `keymap`.
    pub fn apply_keys(&self, keymap: &mut Keymap) -> Result<(), FileError> {
        let src = Source {
            file: &self.path,
            text: &self.text,
        };
        keys::apply(keymap, &self.keys, &src)
    }

    /// The names of the contexts, sorted.
    pub fn context_names(&self) -> Vec<String> {
        self.contexts.keys().cloned().collect()
    }
}

fn known(contexts: &BTreeMap<String, Profile>) -> String {
    if contexts.is_empty() {
        "the file has no [contexts.NAME] table".into()
    } else {
        format!(
            "contexts: {}",
            contexts.keys().cloned().collect::<Vec<_>>().join(", ")
        )
    }
}

fn check_profile(
    src: &Source,
    table: &str,
    p: &Profile,
    private: bool,
    warnings: &mut Vec<String>,
) -> Result<(), FileError> {
    let key = |k: &str| format!("{table}.{k}");
    let sources = [
        ("token-file", p.token_file.is_some()),
        ("token-env", p.token_env.is_some()),
        ("token-command", p.token_command.is_some()),
        ("token", p.token.is_some()),
    ];
    let set: Vec<&str> = sources.iter().filter(|s| s.1).map(|s| s.0).collect();
    if let [first, second, ..] = set.as_slice() {
        return Err(src.at_key(
            &key(second),
            format!("give one token source; {first} is given too"),
        ));
    }
    if p.token.is_some() {
        if !private {
            return Err(src.at_key(
                &key("token"),
                format!(
                    "a token written in the file needs the file readable by you alone \
                     (chmod 600 {}); better, use token-file, token-env or token-command",
                    src.file.display()
                ),
            ));
        }
        warnings.push(format!(
            "{}: `{}` holds a token in the file; token-file, token-env or token-command keep \
             it out of it",
            src.file.display(),
            key("token")
        ));
    }
    if let Some(url) = &p.url
        && !(url.starts_with("ws://") || url.starts_with("wss://"))
    {
        return Err(src.at_key(
            &key("url"),
            format!("{url:?} is not a gateway URL: give ws://host:port or wss://host:port"),
        ));
    }
    if let Some(var) = &p.token_env
        && (var.is_empty() || var.contains('='))
    {
        return Err(src.at_key(&key("token-env"), "name an environment variable"));
    }
    if p.log_buffer == Some(0) {
        return Err(src.at_key(&key("log-buffer"), "must be at least 1"));
    }
    Ok(())
}

/// Whether only the owner may read or write `path` (mode 0600 or stricter).
fn owner_only(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o077 == 0)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        false
    }
}

/// Where the console's token comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenSource {
    /// The first line of a file.
    File(PathBuf),
    /// An environment variable.
    Env(String),
    /// The first line `sh -c CMD` prints.
    Command(String),
    /// Written in the console file (mode 0600).
    Inline(String),
}

impl TokenSource {
    /// The token. Errors never quote it.
    pub fn read(&self) -> anyhow::Result<String> {
        match self {
            TokenSource::File(path) => crate::cli::token_from_file(path),
            TokenSource::Command(cmd) => crate::cli::token_from_command(cmd),
            TokenSource::Env(var) => match std::env::var(var) {
                Ok(token) if !token.trim().is_empty() => Ok(token.trim().to_string()),
                _ => anyhow::bail!("the token variable {var} is not set"),
            },
            TokenSource::Inline(token) => Ok(token.trim().to_string()),
        }
    }

    /// For `config show`: where the token comes from, never the token.
    pub fn describe(&self) -> String {
        match self {
            TokenSource::File(path) => format!("file {}", path.display()),
            TokenSource::Env(var) => {
                let set = std::env::var(var).is_ok_and(|v| !v.trim().is_empty());
                format!("env {var} ({})", if set { "set, ****" } else { "not set" })
            }
            TokenSource::Command(cmd) => format!("command {cmd:?}"),
            TokenSource::Inline(_) => "inline ****".into(),
        }
    }
}

/// What the command line and the environment gave, each with where it came from.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Given {
    pub config: Option<Setting<PathBuf>>,
    pub context: Option<Setting<String>>,
    pub url: Option<Setting<String>>,
    pub ca_cert: Option<Setting<PathBuf>>,
    pub token: Option<Setting<TokenSource>>,
    pub readonly: Option<Setting<bool>>,
    pub production: Option<Setting<bool>>,
    pub mouse: Option<Setting<bool>>,
    pub theme: Option<Setting<String>>,
    pub log_buffer: Option<Setting<usize>>,
}

impl Given {
    /// Read the flags and variables clap parsed (`matches`, a subcommand's before the top
    /// level's, tell a flag from its variable),
    /// and OPSDECK_CONFIG, OPSDECK_CONTEXT and OPSDECK_TOKEN, which have no flag of the same
    /// name or are read here.
    pub fn from_cli(conn: &ConnectionArgs, view: &ViewArgs, matches: &[&ArgMatches]) -> Given {
        Given::build(conn, view, &|id, long, var| {
            flag_or_env(matches, id, long, var)
        })
    }

    /// The same without clap's matches, for a scripting command whose options were merged from
    /// before and after it: a value whose option is in `conn.flags` came from a flag, else from
    /// its variable when that is set, else (options made in code) from a flag.
    pub fn from_args(conn: &ConnectionArgs, view: &ViewArgs) -> Given {
        Given::from_args_in(conn, view, &|var| std::env::var_os(var).is_some())
    }

    /// [`Given::from_args`] with `is_set` telling which variables are set.
    fn from_args_in(
        conn: &ConnectionArgs,
        view: &ViewArgs,
        is_set: &dyn Fn(&str) -> bool,
    ) -> Given {
        Given::build(conn, view, &|id, long, var| {
            Some(if !conn.flags.iter().any(|f| f == id) && is_set(var) {
                Origin::Env(var.to_string())
            } else {
                Origin::Flag(format!("--{long}"))
            })
        })
    }

    /// `origin(id, long, var)` says where a value that is there (an option given, a switch
    /// on, a size not the default) came from.
    fn build(
        conn: &ConnectionArgs,
        view: &ViewArgs,
        origin: &dyn Fn(&str, &str, &str) -> Option<Origin>,
    ) -> Given {
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let pick = |id: &str, long: &str, var: &str| origin(id, long, var);
        let switch = |on: bool, id: &str, long: &str, var: &str| {
            if on {
                with(pick(id, long, var), true)
            } else {
                None
            }
        };
        let config = match &conn.config {
            Some(path) => Some(Setting::new(path.clone(), Origin::Flag("--config".into()))),
            None => env("OPSDECK_CONFIG")
                .map(|p| Setting::new(PathBuf::from(p), Origin::Env("OPSDECK_CONFIG".into()))),
        };
        let context = match &conn.context {
            Some(name) => Some(Setting::new(name.clone(), Origin::Flag("--context".into()))),
            None => env("OPSDECK_CONTEXT")
                .map(|n| Setting::new(n, Origin::Env("OPSDECK_CONTEXT".into()))),
        };
        // A flag beats a variable; among flags (clap lets only one be given) and variables,
        // a file before a command before OPSDECK_TOKEN itself.
        let file = conn.token_file.as_ref().and_then(|p| {
            pick("token_file", "token-file", "OPSDECK_TOKEN_FILE")
                .map(|o| Setting::new(TokenSource::File(p.clone()), o))
        });
        let command = conn.token_command.as_ref().and_then(|c| {
            pick("token_command", "token-command", "OPSDECK_TOKEN_COMMAND")
                .map(|o| Setting::new(TokenSource::Command(c.clone()), o))
        });
        let is_flag = |s: &Option<Setting<TokenSource>>| {
            s.as_ref()
                .is_some_and(|s| matches!(s.origin, Origin::Flag(_)))
        };
        let token = if is_flag(&file) {
            file
        } else if is_flag(&command) {
            command
        } else {
            file.or(command).or_else(|| {
                env("OPSDECK_TOKEN").map(|_| {
                    Setting::new(
                        TokenSource::Env("OPSDECK_TOKEN".into()),
                        Origin::Env("OPSDECK_TOKEN".into()),
                    )
                })
            })
        };
        Given {
            config,
            context,
            url: conn
                .url
                .clone()
                .and_then(|u| with(pick("url", "url", "OPSDECK_URL"), u)),
            ca_cert: conn
                .ca_cert
                .clone()
                .and_then(|c| with(pick("ca_cert", "ca-cert", "OPSDECK_CA_CERT"), c)),
            token,
            readonly: switch(view.readonly, "readonly", "readonly", "OPSDECK_READONLY"),
            production: switch(
                conn.production,
                "production",
                "production",
                "OPSDECK_PRODUCTION",
            ),
            mouse: switch(view.mouse, "mouse", "mouse", "OPSDECK_MOUSE"),
            theme: view
                .theme
                .clone()
                .and_then(|t| with(pick("theme", "theme", "OPSDECK_THEME"), t)),
            log_buffer: (view.log_buffer != crate::app::logs::DEFAULT_CAPACITY)
                .then(|| {
                    with(
                        pick("log_buffer", "log-buffer", "OPSDECK_LOG_BUFFER"),
                        view.log_buffer,
                    )
                })
                .flatten(),
        }
    }
}

/// The console's settings in effect, each with where it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    pub config: Setting<PathBuf>,
    /// The config file, when there is one.
    pub file: Option<ConsoleFile>,
    pub context: Setting<Option<String>>,
    pub url: Setting<Option<String>>,
    pub ca_cert: Setting<Option<PathBuf>>,
    pub token: Setting<Option<TokenSource>>,
    pub readonly: Setting<bool>,
    pub production: Setting<bool>,
    pub mouse: Setting<bool>,
    pub theme: Setting<Option<String>>,
    pub view: Setting<Option<StartView>>,
    pub log_buffer: Setting<usize>,
}

/// The default file: `$XDG_CONFIG_HOME/opsdeck/config.toml`, else
/// `~/.config/opsdeck/config.toml`.
pub fn default_path() -> Option<PathBuf> {
    use etcetera::BaseStrategy;
    let dirs = etcetera::choose_base_strategy().ok()?;
    Some(dirs.config_dir().join("opsdeck").join("config.toml"))
}

/// Why the settings could not be made.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error(transparent)]
    File(#[from] FileError),
    #[error("no home folder to find the config file in: give --config FILE")]
    NoHome,
    #[error("no context `{name}` ({origin}): {hint}")]
    UnknownContext {
        name: String,
        origin: Origin,
        hint: String,
    },
}

impl Settings {
    /// Read the config file `given` names (or the default one) and work out every setting.
    pub fn resolve(given: &Given) -> Result<Settings, SettingsError> {
        let config = match &given.config {
            Some(path) => path.clone(),
            None => Setting::default(default_path().ok_or(SettingsError::NoHome)?),
        };
        let file = ConsoleFile::load(&config.value)?;
        // A file named on purpose must exist.
        if file.is_none() && config.origin != Origin::Default {
            return Err(Source::whole(&config.value, "no such file").into());
        }
        Settings::with_file(given, config, file)
    }

    /// Work out every setting from `given` and the `file` already read.
    pub fn with_file(
        given: &Given,
        config: Setting<PathBuf>,
        file: Option<ConsoleFile>,
    ) -> Result<Settings, SettingsError> {
        let context = match (&given.context, &file) {
            (Some(c), _) => Setting::new(Some(c.value.clone()), c.origin.clone()),
            (None, Some(f)) => match &f.current_context {
                Some(name) => Setting::new(Some(name.clone()), Origin::File),
                None => Setting::default(None),
            },
            (None, None) => Setting::default(None),
        };
        let chosen: Option<&Profile> = match (&context.value, &file) {
            (None, _) => None,
            (Some(name), Some(f)) => match f.contexts.get(name) {
                Some(p) => Some(p),
                None => {
                    return Err(SettingsError::UnknownContext {
                        name: name.clone(),
                        origin: context.origin.clone(),
                        hint: format!("{} in {}", known(&f.contexts), f.path.display()),
                    });
                }
            },
            (Some(name), None) => {
                return Err(SettingsError::UnknownContext {
                    name: name.clone(),
                    origin: context.origin.clone(),
                    hint: format!(
                        "there is no config file at {}; `opsdeck config init` writes one",
                        config.value.display()
                    ),
                });
            }
        };
        let ctx_name = context.value.clone().unwrap_or_default();
        let defaults = file.as_ref().map(|f| &f.defaults);
        let layers = Layers {
            context: chosen.map(|p| (p, ctx_name.as_str())),
            defaults,
        };
        let some =
            |s: &Option<Setting<String>>| s.clone().map(|s| Setting::new(Some(s.value), s.origin));
        let url = layers.pick(some(&given.url), &|p| p.url.clone());
        let theme = layers.pick(some(&given.theme), &|p| p.theme.clone());
        let ca_cert = layers.pick(
            given
                .ca_cert
                .clone()
                .map(|s| Setting::new(Some(s.value), s.origin)),
            &|p| p.ca_cert.clone(),
        );
        let token = layers.pick(
            given
                .token
                .clone()
                .map(|s| Setting::new(Some(s.value), s.origin)),
            &|p| p.token_source(),
        );
        let view = layers.pick(None, &|p| p.view);
        let flag = |given: &Option<Setting<bool>>, get: &dyn Fn(&Profile) -> Option<bool>| {
            let g = given.clone().map(|s| Setting::new(Some(s.value), s.origin));
            let s = layers.pick(g, get);
            Setting::new(s.value.unwrap_or(false), s.origin)
        };
        // Only ever turned on: the highest layer that turns it on says where from.
        let sticky = |given: &Option<Setting<bool>>, get: &dyn Fn(&Profile) -> Option<bool>| {
            let on = given.clone().filter(|s| s.value);
            let s = layers.pick(on.map(|s| Setting::new(Some(true), s.origin)), &|p| {
                get(p).filter(|v| *v)
            });
            Setting::new(s.value.unwrap_or(false), s.origin)
        };
        let log_buffer = layers.pick(
            given
                .log_buffer
                .clone()
                .map(|s| Setting::new(Some(s.value), s.origin)),
            &|p| p.log_buffer,
        );
        Ok(Settings {
            readonly: sticky(&given.readonly, &|p| p.readonly),
            production: sticky(&given.production, &|p| p.production),
            mouse: flag(&given.mouse, &|p| p.mouse),
            log_buffer: Setting::new(
                log_buffer
                    .value
                    .unwrap_or(crate::app::logs::DEFAULT_CAPACITY),
                log_buffer.origin,
            ),
            config,
            file,
            context,
            url,
            ca_cert,
            token,
            theme,
            view,
        })
    }

    /// The settings for another context (`:ctx NAME`). The connection — url, token, CA file,
    /// production, readonly, the view to open — is the context's: the flags and variables
    /// given at start named the gateway the console started on, not this one. The console's
    /// own settings (theme, mouse, log buffer) keep their precedence: flag, variable, context,
    /// `[defaults]`.
    pub fn for_context(&self, given: &Given, name: &str) -> Result<Settings, SettingsError> {
        let given = Given {
            context: Some(Setting::new(name.to_string(), Origin::Flag(":ctx".into()))),
            url: None,
            ca_cert: None,
            token: None,
            production: None,
            readonly: None,
            ..given.clone()
        };
        Settings::with_file(&given, self.config.clone(), self.file.clone())
    }

    /// For `opsdeck demo`: the file's `current-context` names a real gateway, and its
    /// settings (production above all) do not belong on the simulator, so it is not used; a
    /// context picked with `--context` or `OPSDECK_CONTEXT` is.
    pub fn for_demo(self, given: &Given) -> Result<Settings, SettingsError> {
        if self.context.origin != Origin::File {
            return Ok(self);
        }
        let file = self.file.clone().map(|f| ConsoleFile {
            current_context: None,
            ..f
        });
        Settings::with_file(given, self.config.clone(), file)
    }

    /// The builtin keymap with the file's overrides.
    pub fn keymap(&self) -> Result<Keymap, anyhow::Error> {
        let mut keymap = Keymap::builtin()?;
        if let Some(file) = &self.file {
            file.apply_keys(&mut keymap)?;
        }
        Ok(keymap)
    }

    /// The context names, sorted; none without a file.
    pub fn context_names(&self) -> Vec<String> {
        self.file
            .as_ref()
            .map(ConsoleFile::context_names)
            .unwrap_or_default()
    }

    /// `opsdeck config show`: each setting, its value (secrets masked) and where it came from.
    pub fn show(&self) -> String {
        let none = || "-".to_string();
        let path = |p: &Option<PathBuf>| p.as_ref().map_or_else(none, |p| p.display().to_string());
        let config = if self.file.is_some() {
            self.config.value.display().to_string()
        } else {
            format!("{} (none there)", self.config.value.display())
        };
        let rows: Vec<(&str, String, &Origin)> = vec![
            ("config", config, &self.config.origin),
            (
                "context",
                self.context.value.clone().unwrap_or_else(none),
                &self.context.origin,
            ),
            (
                "url",
                self.url
                    .value
                    .as_deref()
                    .map_or_else(|| "- (embedded simulator)".into(), mask_url),
                &self.url.origin,
            ),
            ("ca-cert", path(&self.ca_cert.value), &self.ca_cert.origin),
            (
                "token",
                self.token
                    .value
                    .as_ref()
                    .map_or_else(none, TokenSource::describe),
                &self.token.origin,
            ),
            (
                "production",
                self.production.value.to_string(),
                &self.production.origin,
            ),
            (
                "readonly",
                self.readonly.value.to_string(),
                &self.readonly.origin,
            ),
            ("mouse", self.mouse.value.to_string(), &self.mouse.origin),
            (
                "theme",
                self.theme.value.clone().unwrap_or_else(|| "dark".into()),
                &self.theme.origin,
            ),
            (
                "view",
                self.view.value.map_or("overview", StartView::name).into(),
                &self.view.origin,
            ),
            (
                "log-buffer",
                self.log_buffer.value.to_string(),
                &self.log_buffer.origin,
            ),
        ];
        let width = rows.iter().map(|r| r.1.chars().count()).max().unwrap_or(0);
        let mut out = String::new();
        for (name, value, origin) in rows {
            out.push_str(&format!("{name:<11} {value:<width$}  {origin}\n"));
        }
        if let Some(file) = &self.file
            && !file.keys.is_empty()
        {
            out.push_str("keys:\n");
            for o in &file.keys {
                let keys: Vec<String> = o.keys.iter().map(ToString::to_string).collect();
                out.push_str(&format!("  {} = {}\n", o.path, keys.join(", ")));
            }
        }
        out
    }

    /// `opsdeck ctx`: the contexts, the one in use marked with `*`.
    pub fn list_contexts(&self) -> String {
        let Some(file) = &self.file else {
            return format!(
                "no config file at {}: `opsdeck config init` writes one\n",
                self.config.value.display()
            );
        };
        if file.contexts.is_empty() {
            return format!("no contexts in {}\n", file.path.display());
        }
        let width = file
            .contexts
            .keys()
            .map(|n| n.chars().count())
            .max()
            .unwrap_or(0);
        let mut out = String::new();
        for (name, p) in &file.contexts {
            let mark = if self.context.value.as_deref() == Some(name) {
                '*'
            } else {
                ' '
            };
            let mut marks = Vec::new();
            if p.production == Some(true) {
                marks.push("production");
            }
            if p.readonly == Some(true) {
                marks.push("readonly");
            }
            let url = p.url.as_deref().map_or_else(|| "-".to_string(), mask_url);
            let line = format!("{mark} {name:<width$}  {url}  {}", marks.join(" "));
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

/// The file's layers under the flags and the environment: the context in use (with its name),
/// then `[defaults]`.
struct Layers<'a> {
    context: Option<(&'a Profile, &'a str)>,
    defaults: Option<&'a Profile>,
}

impl Layers<'_> {
    /// `given` (a flag or variable) if there is one, else the context's value, else the
    /// defaults', else none, with where it came from.
    fn pick<T>(
        &self,
        given: Option<Setting<Option<T>>>,
        get: &dyn Fn(&Profile) -> Option<T>,
    ) -> Setting<Option<T>> {
        if let Some(g) = given {
            return g;
        }
        if let Some((profile, name)) = self.context
            && let Some(v) = get(profile)
        {
            return Setting::new(Some(v), Origin::Context(name.to_string()));
        }
        if let Some(v) = self.defaults.and_then(get) {
            return Setting::new(Some(v), Origin::File);
        }
        Setting::default(None)
    }
}

/// `value` with where it came from, when a flag or variable gave it.
fn with<T>(origin: Option<Origin>, value: T) -> Option<Setting<T>> {
    origin.map(|o| Setting::new(value, o))
}

/// A URL with any `user:password@` masked.
fn mask_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority = &rest[..rest.find('/').unwrap_or(rest.len())];
    match authority.rfind('@') {
        Some(at) => format!("{scheme}://****@{}", &rest[at + 1..]),
        None => url.to_string(),
    }
}

/// `opsdeck ctx use NAME`: make `name` the file's `current-context`, keeping everything else
/// in the file as it is, comments included. Only the one top-level line is written (added
/// above the first table when there is none); the result is read back and must differ from the
/// file in `current-context` alone, so a file this cannot edit safely is left untouched.
pub fn use_context(path: &Path, name: &str) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    let private = owner_only(path);
    let before = ConsoleFile::parse(path, &text, private)?;
    if !before.contexts.contains_key(name) {
        anyhow::bail!(
            "no context `{name}` in {}: {}",
            path.display(),
            known(&before.contexts)
        );
    }
    let line = format!("current-context = {}", toml_string(name));
    let mut lines: Vec<&str> = text.lines().collect();
    let first_table = lines.iter().position(is_header);
    let existing = lines[..first_table.unwrap_or(lines.len())]
        .iter()
        .position(|l| super::assigned(l).as_deref() == Some("current-context"));
    match (existing, first_table) {
        (Some(at), _) => lines[at] = &line,
        (None, Some(at)) => {
            lines.insert(at, "");
            lines.insert(at, &line);
        }
        (None, None) => lines.push(&line),
    }
    let mut edited = lines.join("\n");
    edited.push('\n');
    let after = ConsoleFile::parse(path, &edited, private)?;
    let same_rest = ConsoleFile {
        current_context: before.current_context.clone(),
        text: before.text.clone(),
        ..after.clone()
    } == before;
    if after.current_context.as_deref() != Some(name) || !same_rest {
        anyhow::bail!(
            "cannot change current-context in {} without touching the rest: set \
             `current-context = {}` there by hand",
            path.display(),
            toml_string(name)
        );
    }
    write_keeping_mode(path, &edited)
}

fn is_header(line: &&str) -> bool {
    super::header(line).is_some()
}

fn toml_string(s: &str) -> String {
    let mut out = String::from('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Write `text` to `path` through a temporary file and a rename, keeping the file's mode.
fn write_keeping_mode(path: &Path, text: &str) -> anyhow::Result<()> {
    let tmp = path.with_extension("toml.tmp");
    std::fs::write(&tmp, text)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", tmp.display()))?;
    if let Ok(meta) = std::fs::metadata(path) {
        let _ = std::fs::set_permissions(&tmp, meta.permissions());
    }
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        anyhow::anyhow!("cannot replace {}: {e}", path.display())
    })
}

/// `opsdeck config init`: write [`EXAMPLE`] to `path` (mode 0600: it may come to hold a
/// token), unless a file is there already and `force` is not given.
pub fn init(path: &Path, force: bool) -> anyhow::Result<()> {
    if path.exists() && !force {
        anyhow::bail!(
            "{} exists already: edit it, or give --force to replace it with the example",
            path.display()
        );
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| anyhow::anyhow!("cannot make {}: {e}", dir.display()))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    use std::io::Write;
    options
        .open(path)
        .and_then(|mut f| f.write_all(EXAMPLE.as_bytes()))
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ConsoleFile, String> {
        ConsoleFile::parse(Path::new("/c/config.toml"), text, false).map_err(|e| e.to_string())
    }

    fn settings(given: Given, text: &str) -> Settings {
        let file = ConsoleFile::parse(Path::new("/c/config.toml"), text, false).unwrap();
        let config = Setting::default(PathBuf::from("/c/config.toml"));
        Settings::with_file(&given, config, Some(file)).unwrap()
    }

    const TWO: &str = "current-context = \"staging\"\n\
        [defaults]\ntheme = \"light\"\nmouse = true\n\
        [contexts.staging]\nurl = \"ws://staging:7070\"\ntoken-env = \"STAGING_TOKEN\"\n\
        [contexts.prod]\nurl = \"wss://prod:7070\"\nproduction = true\ntheme = \"high-contrast\"\n\
        ca-cert = \"ca.pem\"\nview = \"alerts\"\n";

    #[test]
    fn the_example_is_a_valid_file() {
        let file = parse(EXAMPLE).unwrap();
        assert!(!file.contexts.is_empty());
        assert!(file.current_context.is_some());
    }

    #[test]
    fn precedence_is_flag_then_env_then_context_then_file() {
        let s = settings(Given::default(), TWO);
        assert_eq!(s.context.value.as_deref(), Some("staging"));
        assert_eq!(s.context.origin, Origin::File);
        assert_eq!(s.url.value.as_deref(), Some("ws://staging:7070"));
        assert_eq!(s.url.origin, Origin::Context("staging".into()));
        assert_eq!(s.theme.value.as_deref(), Some("light"));
        assert_eq!(s.theme.origin, Origin::File);
        assert_eq!(s.log_buffer.origin, Origin::Default);

        let prod = Given {
            context: Some(Setting::new(
                "prod".into(),
                Origin::Env("OPSDECK_CONTEXT".into()),
            )),
            theme: Some(Setting::new("dark".into(), Origin::Flag("--theme".into()))),
            ..Given::default()
        };
        let s = settings(prod, TWO);
        assert_eq!(s.url.value.as_deref(), Some("wss://prod:7070"));
        assert_eq!(s.theme.value.as_deref(), Some("dark"));
        assert_eq!(s.theme.origin, Origin::Flag("--theme".into()));
        assert!(s.production.value);
        assert_eq!(s.ca_cert.value.as_deref(), Some(Path::new("/c/ca.pem")));
        assert_eq!(s.view.value, Some(StartView::Alerts));
        assert!(s.mouse.value, "[defaults] under the context");
    }

    #[test]
    fn ctx_takes_the_connection_from_the_context_and_keeps_the_consoles_own_settings() {
        let flag = |name: &str| Origin::Flag(name.into());
        let started = Given {
            url: Some(Setting::new("ws://started:1".into(), flag("--url"))),
            token: Some(Setting::new(
                TokenSource::Env("OPSDECK_TOKEN".into()),
                Origin::Env("OPSDECK_TOKEN".into()),
            )),
            readonly: Some(Setting::new(true, flag("--readonly"))),
            theme: Some(Setting::new("colorblind".into(), flag("--theme"))),
            ..Given::default()
        };
        let s = settings(started.clone(), TWO);
        assert_eq!(s.url.value.as_deref(), Some("ws://started:1"));
        let prod = s.for_context(&started, "prod").unwrap();
        assert_eq!(prod.url.value.as_deref(), Some("wss://prod:7070"));
        assert_eq!(prod.url.origin, Origin::Context("prod".into()));
        assert_eq!(prod.token.value, None, "prod names no token source");
        assert!(!prod.readonly.value);
        assert!(prod.production.value);
        assert_eq!(prod.theme.value.as_deref(), Some("colorblind"));
        assert!(prod.mouse.value, "[defaults] mouse");
    }

    #[test]
    fn the_demo_does_not_take_the_files_current_context() {
        let prod_current = TWO.replace(
            "current-context = \"staging\"",
            "current-context = \"prod\"",
        );
        let s = settings(Given::default(), &prod_current);
        assert!(s.production.value);
        let demo = s.for_demo(&Given::default()).unwrap();
        assert_eq!(demo.context.value, None);
        assert!(!demo.production.value);
        assert_eq!(
            demo.theme.value.as_deref(),
            Some("light"),
            "[defaults] still apply"
        );
    }

    #[test]
    fn production_and_readonly_only_ever_turn_on() {
        let off = Given {
            context: Some(Setting::new(
                "prod".into(),
                Origin::Flag("--context".into()),
            )),
            production: Some(Setting::new(
                false,
                Origin::Env("OPSDECK_PRODUCTION".into()),
            )),
            ..Given::default()
        };
        let s = settings(off, TWO);
        assert!(s.production.value);
        assert_eq!(s.production.origin, Origin::Context("prod".into()));
    }

    #[test]
    fn an_unknown_context_names_the_ones_there_are() {
        let file = ConsoleFile::parse(Path::new("/c/config.toml"), TWO, false).unwrap();
        let given = Given {
            context: Some(Setting::new("qa".into(), Origin::Flag("--context".into()))),
            ..Given::default()
        };
        let err = Settings::with_file(
            &given,
            Setting::default("/c/config.toml".into()),
            Some(file),
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            err,
            "no context `qa` (flag --context): contexts: prod, staging in /c/config.toml"
        );
    }

    /// One test per rule: a file's text, and the start of the message it must give (the
    /// rest, where there is any, is toml's own wording).
    macro_rules! invalid {
        ($($rule:ident: $text:expr => $want:expr;)*) => {$(
            #[test]
            fn $rule() {
                let err = parse($text).unwrap_err();
                assert!(err.starts_with($want), "got:    {err}\nwanted: {}", $want);
            }
        )*};
    }

    invalid! {
        not_toml: "[contexts.a\nurl = 1\n" => "/c/config.toml:1: unclosed table, expected `]`";
        unknown_key_names_the_closest: "[defaults]\ntheme = \"dark\"\nmosue = true\n" =>
            "/c/config.toml:3: key `defaults.mosue`: unknown key `mosue`; did you mean `mouse`?";
        unknown_key_lists_the_keys: "colour = 1\n" =>
            "/c/config.toml:1: key `colour`: unknown key `colour`; expected one of \
             current-context, defaults, contexts, keys";
        wrong_type: "[contexts.a]\nproduction = \"yes\"\n" =>
            "/c/config.toml:2: key `contexts.a.production`: invalid type: string \"yes\", \
             expected a boolean";
        current_context_names_no_context: "current-context = \"qa\"\n[contexts.a]\n" =>
            "/c/config.toml:1: key `current-context`: no context `qa`; contexts: a";
        url_not_a_gateway_url: "[contexts.a]\nurl = \"http://gw:7070\"\n" =>
            "/c/config.toml:2: key `contexts.a.url`: \"http://gw:7070\" is not a gateway URL: \
             give ws://host:port or wss://host:port";
        two_token_sources: "[contexts.a]\ntoken-file = \"t\"\ntoken-command = \"pass x\"\n" =>
            "/c/config.toml:3: key `contexts.a.token-command`: give one token source; \
             token-file is given too";
        inline_token_in_a_file_others_can_read: "[contexts.a]\ntoken = \"odk_secret\"\n" =>
            "/c/config.toml:2: key `contexts.a.token`: a token written in the file needs the \
             file readable by you alone (chmod 600 /c/config.toml); better, use token-file, \
             token-env or token-command";
        token_env_names_no_variable: "[contexts.a]\ntoken-env = \"\"\n" =>
            "/c/config.toml:2: key `contexts.a.token-env`: name an environment variable";
        token_env_is_no_variable_name: "[contexts.a]\ntoken-env = \"A=b\"\n" =>
            "/c/config.toml:2: key `contexts.a.token-env`: name an environment variable";
        unknown_view: "[contexts.a]\nview = \"graphs\"\n" =>
            "/c/config.toml:2: key `contexts.a.view`: unknown value `graphs`; expected one of \
             overview, alerts, events, logs, runbooks, runs";
        log_buffer_of_zero: "[defaults]\nlog-buffer = 0\n" =>
            "/c/config.toml:2: key `defaults.log-buffer`: must be at least 1";
        key_override_conflict: "[keys]\nscale = \"r\"\n" =>
            "/c/config.toml:2: key `keys.scale`: r is bound to both `scale` and \
             `releases` (in Overview): give one of them another key";
    }

    #[test]
    fn an_inline_token_in_a_private_file_is_taken_with_a_warning() {
        let text = "[contexts.a]\ntoken = \"odk_secret\"\n";
        let file = ConsoleFile::parse(Path::new("/c/config.toml"), text, true).unwrap();
        assert_eq!(file.warnings.len(), 1);
        assert!(!file.warnings[0].contains("odk_secret"));
        let given = Given {
            context: Some(Setting::new("a".into(), Origin::Flag("--context".into()))),
            ..Given::default()
        };
        let s = Settings::with_file(
            &given,
            Setting::default("/c/config.toml".into()),
            Some(file),
        )
        .unwrap();
        assert!(!s.show().contains("odk_secret"), "{}", s.show());
        assert!(s.show().contains("inline ****"));
    }

    #[test]
    fn config_show_lists_the_key_overrides() {
        let s = settings(Given::default(), "[keys]\nscale = [\"ctrl-s\", \"x\"]\n");
        assert!(
            s.show().ends_with("keys:\n  keys.scale = Ctrl-s, x\n"),
            "{}",
            s.show()
        );
    }

    #[test]
    fn a_flag_is_named_as_the_origin_even_when_its_variable_is_set() {
        let conn = ConnectionArgs {
            url: Some("ws://flag:1".into()),
            ca_cert: Some(PathBuf::from("ca.pem")),
            flags: vec!["url".into()],
            ..ConnectionArgs::default()
        };
        let all_set = |_: &str| true;
        let given = Given::from_args_in(&conn, &ViewArgs::default(), &all_set);
        let url = given.url.unwrap();
        assert_eq!(url.origin, Origin::Flag("--url".into()));
        let ca = given.ca_cert.unwrap();
        assert_eq!(ca.origin, Origin::Env("OPSDECK_CA_CERT".into()));
        let none_set = |_: &str| false;
        let given = Given::from_args_in(&conn, &ViewArgs::default(), &none_set);
        assert_eq!(
            given.ca_cert.unwrap().origin,
            Origin::Flag("--ca-cert".into())
        );
    }

    #[test]
    fn urls_with_credentials_are_masked() {
        assert_eq!(mask_url("wss://li:pw@gw:7070"), "wss://****@gw:7070");
        assert_eq!(mask_url("ws://gw:7070"), "ws://gw:7070");
    }
}
