//! The config files from the shell, with the real binary: the console file's precedence and
//! `config show` provenance, `ctx` and `ctx use`, `config init`, invalid files, and `serve
//! --config`. Each test has its own HOME and XDG folders; the real user's are never read.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::pty::TempDir;

const CONSOLE_EXAMPLE: &str = include_str!("../docs/config.example.toml");
const GATEWAY_EXAMPLE: &str = include_str!("../docs/gateway.example.toml");

/// A home of its own: `$XDG_CONFIG_HOME/opsdeck/config.toml` is [`Home::config`].
struct Home {
    dir: TempDir,
}

impl Home {
    fn new(tag: &str) -> Home {
        Home {
            dir: TempDir::new(tag),
        }
    }

    fn config(&self) -> PathBuf {
        self.dir.0.join("xdg").join("opsdeck").join("config.toml")
    }

    fn write_config(&self, text: &str, mode: u32) {
        let path = self.config();
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    fn command(&self, args: &[&str], env: &[(&str, &str)]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_opsdeck"));
        cmd.args(args)
            .env("HOME", &self.dir.0)
            .env("XDG_CONFIG_HOME", self.dir.0.join("xdg"))
            .env("XDG_STATE_HOME", self.dir.0.join("state"));
        for (name, _) in std::env::vars() {
            if name.starts_with("OPSDECK_") {
                cmd.env_remove(name);
            }
        }
        for (name, value) in env {
            cmd.env(name, value);
        }
        cmd
    }

    fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        self.command(args, env).output().unwrap()
    }

    /// stdout of a command that must succeed.
    fn ok(&self, args: &[&str], env: &[(&str, &str)]) -> String {
        let out = self.run(args, env);
        assert!(
            out.status.success(),
            "opsdeck {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// stderr of a command that must fail.
    fn fails(&self, args: &[&str], env: &[(&str, &str)]) -> String {
        let out = self.run(args, env);
        assert!(!out.status.success(), "opsdeck {args:?} succeeded");
        String::from_utf8(out.stderr).unwrap()
    }
}

/// The value and origin `config show` prints for `name`.
fn shown(show: &str, name: &str) -> (String, String) {
    let line = show
        .lines()
        .find(|l| l.split_whitespace().next() == Some(name))
        .unwrap_or_else(|| panic!("no {name} in:\n{show}"));
    let rest = line[name.len()..].trim();
    let (value, origin) = rest.split_once("  ").unwrap();
    (value.trim().to_string(), origin.trim().to_string())
}

const FILE: &str = "# my contexts\n\
current-context = \"staging\" # the usual one\n\
\n\
[defaults]\n\
theme = \"light\"\n\
mouse = true\n\
log-buffer = 500\n\
\n\
# staging first\n\
[contexts.staging]\n\
url = \"ws://staging.test:7070\"\n\
theme = \"high-contrast\"\n\
\n\
[contexts.prod]\n\
url = \"wss://li:pw@prod.test:7443\"\n\
token-env = \"PROD_TOKEN\"\n\
production = true\n";

#[test]
fn precedence_is_flag_then_env_then_context_then_file_and_show_says_where_from() {
    let home = Home::new("cfg-precedence");
    home.write_config(FILE, 0o644);
    let show = home.ok(&["config", "show"], &[]);
    let path = home.config().display().to_string();
    assert_eq!(shown(&show, "config"), (path, "default".into()));
    assert_eq!(shown(&show, "context"), ("staging".into(), "file".into()));
    assert_eq!(
        shown(&show, "url"),
        ("ws://staging.test:7070".into(), "context staging".into())
    );
    assert_eq!(
        shown(&show, "theme"),
        ("high-contrast".into(), "context staging".into())
    );
    assert_eq!(shown(&show, "log-buffer"), ("500".into(), "file".into()));
    assert_eq!(shown(&show, "mouse"), ("true".into(), "file".into()));
    assert_eq!(
        shown(&show, "production"),
        ("false".into(), "default".into())
    );

    // The environment beats the context; a flag beats the environment.
    let env = [("OPSDECK_THEME", "colorblind"), ("OPSDECK_LOG_BUFFER", "9")];
    let show = home.ok(&["config", "show"], &env);
    assert_eq!(
        shown(&show, "theme"),
        ("colorblind".into(), "env OPSDECK_THEME".into())
    );
    assert_eq!(
        shown(&show, "log-buffer"),
        ("9".into(), "env OPSDECK_LOG_BUFFER".into())
    );
    let show = home.ok(&["config", "show", "--theme", "dark"], &env);
    assert_eq!(
        shown(&show, "theme"),
        ("dark".into(), "flag --theme".into())
    );

    // The context: OPSDECK_CONTEXT over current-context, --context over both.
    let show = home.ok(&["config", "show"], &[("OPSDECK_CONTEXT", "prod")]);
    assert_eq!(
        shown(&show, "context"),
        ("prod".into(), "env OPSDECK_CONTEXT".into())
    );
    assert_eq!(
        shown(&show, "url"),
        ("wss://****@prod.test:7443".into(), "context prod".into()),
        "credentials in a URL are masked"
    );
    assert_eq!(
        shown(&show, "production"),
        ("true".into(), "context prod".into())
    );
    assert_eq!(shown(&show, "theme"), ("light".into(), "file".into()));
    let show = home.ok(
        &[
            "--context",
            "staging",
            "config",
            "show",
            "--url",
            "ws://x:1",
        ],
        &[("OPSDECK_CONTEXT", "prod"), ("OPSDECK_URL", "ws://y:2")],
    );
    assert_eq!(
        shown(&show, "context"),
        ("staging".into(), "flag --context".into())
    );
    assert_eq!(
        shown(&show, "url"),
        ("ws://x:1".into(), "flag --url".into())
    );
    // A flag before the command, its variable set too: the flag gave the value, and show
    // says so (the command's own copy of --url read the variable).
    let show = home.ok(
        &[
            "--url",
            "ws://x:1",
            "--theme",
            "dark",
            "--log-buffer",
            "7",
            "config",
            "show",
        ],
        &[
            ("OPSDECK_URL", "ws://y:2"),
            ("OPSDECK_THEME", "light"),
            ("OPSDECK_LOG_BUFFER", "9"),
        ],
    );
    assert_eq!(
        shown(&show, "log-buffer"),
        ("7".into(), "flag --log-buffer".into())
    );
    assert_eq!(
        shown(&show, "url"),
        ("ws://x:1".into(), "flag --url".into())
    );
    assert_eq!(
        shown(&show, "theme"),
        ("dark".into(), "flag --theme".into())
    );
}

#[test]
fn config_show_never_prints_a_token() {
    let home = Home::new("cfg-secrets");
    home.write_config(FILE, 0o644);
    let show = home.ok(
        &["config", "show", "--context", "prod"],
        &[("PROD_TOKEN", "odk_prod_secret")],
    );
    assert_eq!(
        shown(&show, "token"),
        ("env PROD_TOKEN (set, ****)".into(), "context prod".into())
    );
    let show = home.ok(&["config", "show"], &[("OPSDECK_TOKEN", "odk_env_secret")]);
    assert_eq!(
        shown(&show, "token"),
        (
            "env OPSDECK_TOKEN (set, ****)".into(),
            "env OPSDECK_TOKEN".into()
        )
    );
    let inline = "[contexts.a]\nurl = \"ws://a:1\"\ntoken = \"odk_inline_secret\"\n";
    home.write_config(inline, 0o600);
    let out = home.run(&["config", "show", "--context", "a"], &[]);
    assert!(out.status.success());
    let show = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        shown(&show, "token"),
        ("inline ****".into(), "context a".into())
    );
    assert!(!show.contains("odk_inline_secret"));

    // Readable by others: refused, and the token is not quoted.
    home.write_config(inline, 0o644);
    let err = home.fails(&["config", "show", "--context", "a"], &[]);
    assert!(
        err.contains(":3: key `contexts.a.token`: a token written in the file needs the file readable by you alone"),
        "{err}"
    );
    assert!(!err.contains("odk_inline_secret"));
}

#[test]
fn ctx_lists_the_contexts_and_ctx_use_switches_keeping_the_file_as_it_was() {
    let home = Home::new("cfg-ctx");
    home.write_config(FILE, 0o600);
    let list = home.ok(&["ctx"], &[]);
    assert_eq!(
        list,
        "  prod     wss://****@prod.test:7443  production\n* staging  ws://staging.test:7070\n"
    );
    let list = home.ok(&["ctx"], &[("OPSDECK_CONTEXT", "prod")]);
    assert!(list.starts_with("* prod "), "{list}");

    assert_eq!(
        home.ok(&["ctx", "use", "prod"], &[]),
        "current context: prod\n"
    );
    let after = std::fs::read_to_string(home.config()).unwrap();
    assert_eq!(
        after,
        FILE.replace(
            "current-context = \"staging\" # the usual one",
            "current-context = \"prod\""
        ),
        "only the current-context line changes"
    );
    let mode = std::fs::metadata(home.config())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "the file keeps its mode");
    assert!(home.ok(&["ctx"], &[]).starts_with("* prod "));

    let err = home.fails(&["ctx", "use", "qa"], &[]);
    assert!(
        err.contains("no context `qa`") && err.contains("contexts: prod, staging"),
        "{err}"
    );

    // A file without current-context gets one above its first table.
    home.write_config("# mine\n[contexts.a]\nurl = \"ws://a:1\"\n", 0o600);
    home.ok(&["ctx", "use", "a"], &[]);
    assert_eq!(
        std::fs::read_to_string(home.config()).unwrap(),
        "# mine\ncurrent-context = \"a\"\n\n[contexts.a]\nurl = \"ws://a:1\"\n"
    );
}

#[test]
fn an_unknown_context_names_the_ones_there_are() {
    let home = Home::new("cfg-unknown");
    home.write_config(FILE, 0o644);
    let err = home.fails(&["config", "show", "--context", "qa"], &[]);
    assert!(
        err.contains("no context `qa` (flag --context): contexts: prod, staging in"),
        "{err}"
    );
    // `ctx` still lists and switches, with a word about the unknown one.
    let out = home.run(&["ctx"], &[("OPSDECK_CONTEXT", "qa")]);
    assert!(out.status.success());
    assert!(String::from_utf8(out.stdout).unwrap().contains("* staging"));
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .contains("warning: no context `qa`")
    );
    home.ok(&["ctx", "use", "prod"], &[("OPSDECK_CONTEXT", "qa")]);
    assert!(home.ok(&["ctx"], &[]).starts_with("* prod "));

    let empty = Home::new("cfg-none");
    let err = empty.fails(&["ctx", "use", "prod"], &[]);
    assert!(err.contains("`opsdeck config init` writes one"), "{err}");
    let err = empty.fails(&["config", "show"], &[("OPSDECK_CONTEXT", "prod")]);
    assert!(
        err.contains("no context `prod` (env OPSDECK_CONTEXT)"),
        "{err}"
    );
}

#[test]
fn config_init_writes_the_documented_example_once() {
    let home = Home::new("cfg-init");
    let out = home.ok(&["config", "init"], &[]);
    assert_eq!(out, format!("wrote {}\n", home.config().display()));
    assert_eq!(
        std::fs::read_to_string(home.config()).unwrap(),
        CONSOLE_EXAMPLE
    );
    let mode = std::fs::metadata(home.config())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let err = home.fails(&["config", "init"], &[]);
    assert!(err.contains("exists already"), "{err}");
    home.ok(&["config", "init", "--force"], &[]);
    // The example works as it is: its contexts are listed.
    let list = home.ok(&["ctx"], &[]);
    assert!(list.contains("* staging"), "{list}");

    // --config and OPSDECK_CONFIG name another file.
    let other = home.dir.0.join("other.toml");
    let other_s = other.to_str().unwrap();
    home.ok(&["config", "init", "--config", other_s], &[]);
    assert!(other.exists());
    let show = home.ok(&["config", "show"], &[("OPSDECK_CONFIG", other_s)]);
    assert_eq!(
        shown(&show, "config"),
        (other_s.to_string(), "env OPSDECK_CONFIG".into())
    );
}

#[test]
fn docs_show_both_examples_as_they_are() {
    let docs = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/configuration.md"
    ))
    .unwrap();
    for (name, example) in [
        ("docs/config.example.toml", CONSOLE_EXAMPLE),
        ("docs/gateway.example.toml", GATEWAY_EXAMPLE),
    ] {
        assert!(
            docs.contains(&format!("```toml\n{example}```")),
            "docs/configuration.md does not show {name} as it is"
        );
    }
}

#[test]
fn an_invalid_console_file_stops_with_file_line_key_and_problem() {
    let home = Home::new("cfg-invalid");
    home.write_config("[defaults]\ntheme = \"dark\"\nmosue = true\n", 0o644);
    let err = home.fails(&["config", "show"], &[]);
    assert_eq!(
        err,
        format!(
            "opsdeck: {}:3: key `defaults.mosue`: unknown key `mosue`; did you mean `mouse`?\n",
            home.config().display()
        )
    );
    // The console does not start on it either.
    let err = home.fails(&[], &[]);
    assert!(err.contains(":3: key `defaults.mosue`"), "{err}");
    // A key conflict is found at start, naming both actions.
    home.write_config("[keys]\nscale = \"r\"\n", 0o644);
    let err = home.fails(&["config", "show"], &[]);
    assert!(
        err.contains(":2: key `keys.scale`: r is bound to both `scale` and `releases`"),
        "{err}"
    );
    // A file named on purpose must be there.
    let err = home.fails(
        &["config", "show", "--config", "/nonexistent/opsdeck.toml"],
        &[],
    );
    assert_eq!(err, "opsdeck: /nonexistent/opsdeck.toml: no such file\n");
}

fn gateway_file(home: &Home, text: &str) -> PathBuf {
    let path = home.dir.0.join("gateway.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn serve_stops_on_an_invalid_gateway_file_before_listening() {
    let home = Home::new("gw-invalid");
    let path = gateway_file(&home, "listen = \"127.0.0.1:0\"\nmax-clients = \"many\"\n");
    let err = home.fails(&["serve", "--config", path.to_str().unwrap()], &[]);
    assert!(
        err.contains(&format!(
            "{}:2: key `max-clients`: invalid type: string \"many\", expected usize",
            path.display()
        )),
        "{err}"
    );
    let err = home.fails(&["serve", "--config", "/nonexistent/gateway.toml"], &[]);
    assert!(
        err.contains("/nonexistent/gateway.toml: cannot read it"),
        "{err}"
    );
}

#[test]
fn serve_listens_where_the_gateway_file_says() {
    let home = Home::new("gw-ok");
    let path = gateway_file(
        &home,
        "listen = \"127.0.0.1:0\"\nno-journal = true\nseed = 7\nheartbeat-secs = 5\n",
    );
    let mut child = home
        .command(&["serve", "--config", path.to_str().unwrap()], &[])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let line = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .find(|l| l.starts_with("opsdeck gateway listening on"));
    let _ = child.kill();
    let _ = child.wait();
    let line = line.expect("the gateway never said where it listens");
    assert!(
        line.starts_with("opsdeck gateway listening on http://127.0.0.1:"),
        "{line}"
    );
    assert!(
        !Path::new(&home.dir.0.join("state").join("opsdeck"))
            .join("runs.jsonl")
            .exists()
    );
}
