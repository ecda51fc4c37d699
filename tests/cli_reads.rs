//! The read commands against a real gateway on loopback, run as a script runs them: the JSON
//! each prints is the API's own shape (a snapshot of its keys and types per command), tables
//! are plain when piped, and YAML carries the same value.

#![allow(clippy::unwrap_used)]

mod common;

use common::cli::{Served, opsdeck, shape, wait_for};
use opsdeck::protocol::{Alert, AppSummary, TimedSample};

fn shape_of(served: &Served, args: &[&str]) -> String {
    let mut all = args.to_vec();
    all.extend(["--url", served.url.as_str(), "-o", "json"]);
    let ran = opsdeck(&all);
    assert_eq!(ran.code, 0, "{ran:?}");
    serde_json::to_string_pretty(&shape(&ran.json())).unwrap()
}

#[test]
fn each_read_prints_the_apis_own_json_shape() {
    let served = Served::sim(
        7,
        30.0,
        Some("bad-release"),
        common::gateway::loopback_config(),
    );
    // Something for each list: an alert (the bad release fires one), metrics samples, a run.
    wait_for(60, "a firing alert", || {
        let alerts: Vec<Alert> = served.get("/v1/alerts");
        (!alerts.is_empty()).then_some(())
    });
    wait_for(20, "metric samples", || {
        let samples: Vec<TimedSample> = served.get("/v1/apps/shop-cart/metrics?window=60");
        (samples.len() >= 2).then_some(())
    });
    let dry = opsdeck(&[
        "runbook",
        "run",
        "bad-release",
        "--param",
        "app=shop-cart",
        "--dry-run",
        "--url",
        &served.url,
        "-o",
        "json",
    ]);
    assert_eq!(dry.code, 0, "{dry:?}");
    assert_eq!(dry.json()["dry_run"], true);

    insta::assert_snapshot!("apps", shape_of(&served, &["apps"]));
    insta::assert_snapshot!("app", shape_of(&served, &["app", "shop-cart"]));
    insta::assert_snapshot!("releases", shape_of(&served, &["releases", "shop-cart"]));
    insta::assert_snapshot!(
        "alerts",
        shape_of(&served, &["alerts", "--app", "shop-cart"])
    );
    insta::assert_snapshot!(
        "events",
        shape_of(&served, &["events", "--app", "shop-cart"])
    );
    insta::assert_snapshot!(
        "metrics",
        shape_of(&served, &["metrics", "shop-cart", "--window", "1m"])
    );
    insta::assert_snapshot!("runbook_list", shape_of(&served, &["runbook", "list"]));
    insta::assert_snapshot!(
        "runbook_show",
        shape_of(&served, &["runbook", "show", "bad-release"])
    );
    insta::assert_snapshot!("runbook_status", shape_of(&served, &["runbook", "status"]));
    insta::assert_snapshot!(
        "runbook_dry_run",
        serde_json::to_string_pretty(&shape(&dry.json())).unwrap()
    );
    // One log line a line (NDJSON); a line's `fields` are its own, so only their kind is kept.
    let logs = opsdeck(&["logs", "shop-cart", "--url", &served.url, "-o", "json"]);
    assert_eq!(logs.code, 0, "{logs:?}");
    let first: serde_json::Value =
        serde_json::from_str(logs.stdout.lines().next().unwrap()).unwrap();
    let mut line = shape(&first);
    line["data"]["fields"] = serde_json::json!({ "<name>": "<string>" });
    insta::assert_snapshot!("logs", serde_json::to_string_pretty(&line).unwrap());
    served.stop();
}

#[test]
fn json_is_what_the_gateway_answers_and_filters_keep_only_what_they_name() {
    let served = Served::default_sim(1.0);
    let api: Vec<AppSummary> = served.get("/v1/apps");
    let ran = opsdeck(&["apps", "--url", &served.url, "-o", "json"]);
    let printed: Vec<AppSummary> = serde_json::from_value(ran.json()).unwrap();
    let ids = |apps: &[AppSummary]| apps.iter().map(|a| a.id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&printed), ids(&api));

    // No P0 alert on a calm platform: an empty list, still valid JSON.
    let ran = opsdeck(&[
        "alerts",
        "--severity",
        "P0",
        "--url",
        &served.url,
        "-o",
        "json",
    ]);
    assert_eq!(ran.json(), serde_json::json!([]));
    served.stop();
}

#[test]
fn a_piped_table_is_plain_with_a_header_and_one_row_per_app() {
    let served = Served::default_sim(1.0);
    let api: Vec<AppSummary> = served.get("/v1/apps");
    let ran = opsdeck(&["apps", "--url", &served.url]);
    assert_eq!(ran.code, 0, "{ran:?}");
    assert!(!ran.stdout.contains('\x1b'), "no escape codes when piped");
    let lines: Vec<&str> = ran.stdout.lines().collect();
    assert!(
        lines[0].starts_with("APP") && lines[0].contains("STATUS"),
        "{}",
        lines[0]
    );
    assert_eq!(lines.len(), api.len() + 1);
    for (line, app) in lines[1..].iter().zip(&api) {
        let cells: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(cells[0], app.id);
        // Every cell whole: the display name (last column) is not cut.
        assert!(line.ends_with(&app.name), "{line}");
    }
    // Composes with the usual tools: the first column is the ids.
    let releases = opsdeck(&["releases", "shop-cart", "--url", &served.url]);
    assert!(
        releases
            .stdout
            .lines()
            .nth(1)
            .is_some_and(|l| l.contains("active"))
    );
    served.stop();
}

#[test]
fn on_a_terminal_the_table_fits_its_width() {
    let served = Served::default_sim(1.0);
    let mut console = common::pty::Console::spawn(&["apps", "--url", &served.url], 24, 60);
    assert!(console.wait_exit(10).success());
    // Waits until every byte written has been read.
    console.assert_terminal_restored();
    let text = console.text();
    assert!(text.contains("img-origin"), "the ids stay whole:\n{text}");
    assert!(
        text.lines()
            .all(|l| unicode_width::UnicodeWidthStr::width(l) <= 60),
        "{text}"
    );
    assert!(
        !text.contains("NAME"),
        "the columns that do not fit are left out:\n{text}"
    );
    assert!(
        text.lines().next().is_some_and(|l| l.starts_with("APP")),
        "{text}"
    );
    served.stop();
}

#[test]
fn yaml_carries_the_same_value_as_json() {
    let served = Served::default_sim(1.0);
    let json = opsdeck(&["releases", "shop-cart", "--url", &served.url, "-o", "json"]).json();
    let yaml = opsdeck(&["releases", "shop-cart", "--url", &served.url, "-o", "yaml"]);
    assert_eq!(yaml.code, 0);
    let first = &json[0];
    assert!(yaml.stdout.starts_with("- "), "{}", yaml.stdout);
    assert!(
        yaml.stdout
            .contains(&format!("id: {}", first["id"].as_str().unwrap()))
    );
    assert!(yaml.stdout.contains("status: active"));
    served.stop();
}

#[test]
fn logs_print_the_held_lines_of_the_named_app_at_the_level_asked_and_stop() {
    let served = Served::default_sim(5.0);
    wait_for(20, "log lines held", || {
        (common::gateway::held(&served.gw, opsdeck::protocol::Topic::Logs) > 50).then_some(())
    });
    let ran = opsdeck(&[
        "logs",
        "shop-cart",
        "--level",
        "info",
        "--url",
        &served.url,
        "-o",
        "json",
    ]);
    assert_eq!(ran.code, 0, "{ran:?}");
    let lines: Vec<serde_json::Value> = ran
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(!lines.is_empty());
    let mut last = 0;
    for line in &lines {
        assert_eq!(line["app"], "shop-cart");
        assert_eq!(line["topic"], "logs");
        assert_ne!(line["data"]["level"], "debug");
        let seq = line["seq"].as_u64().unwrap();
        assert!(seq > last, "in stream order");
        last = seq;
    }
    let grep = opsdeck(&["logs", "shop-cart", "--grep", "^GET ", "--url", &served.url]);
    assert_eq!(grep.code, 0, "{grep:?}");
    assert!(
        grep.stdout.lines().all(|l| l.contains(" GET ")),
        "{}",
        grep.stdout
    );
    let bad = opsdeck(&["logs", "shop-cart", "--grep", "(", "--url", &served.url]);
    assert_eq!(bad.code, 2);
    served.stop();
}

#[test]
fn completions_and_the_manual_come_from_the_command_line_definition() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let ran = opsdeck(&["completions", shell]);
        assert_eq!(ran.code, 0, "{shell}: {ran:?}");
        assert!(
            ran.stdout.contains("rollback"),
            "{shell} completes the commands"
        );
    }
    let man = opsdeck(&["man"]);
    assert_eq!(man.code, 0);
    assert!(
        man.stdout.contains(".TH opsdeck"),
        "{}",
        &man.stdout[..200.min(man.stdout.len())]
    );
}

#[test]
fn bash_completes_app_and_runbook_ids_from_the_gateway_and_commands_from_clap() {
    let served = Served::default_sim(1.0);
    let script = opsdeck(&["completions", "bash"]).stdout;
    let dir = common::pty::TempDir::new("completion");
    let path = dir.0.join("opsdeck.bash");
    std::fs::write(&path, script).unwrap();
    let bin_dir = std::path::Path::new(env!("CARGO_BIN_EXE_opsdeck"))
        .parent()
        .unwrap();
    // What bash does on TAB: COMP_WORDS and COMP_CWORD set, then the completion function.
    let complete = |words: &str, cword: usize| {
        let program = format!(
            "source {}; COMP_WORDS=({words}); COMP_CWORD={cword}; \
             _opsdeck_ids opsdeck \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"; \
             printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            path.display()
        );
        let out = std::process::Command::new("bash")
            .args(["--norc", "-c", &program])
            .env("PATH", format!("{}:/usr/bin:/bin", bin_dir.display()))
            .env_remove("OPSDECK_URL")
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let url = served.url.as_str();
    let apps = complete(&format!("opsdeck --url {url} scale shop-c"), 4);
    assert_eq!(apps.trim(), "shop-cart");
    let runbooks = complete(&format!("opsdeck runbook run bad --url {url}"), 3);
    assert_eq!(
        runbooks.trim(),
        "bad-release",
        "the --url after the id is read too"
    );
    let commands = complete("opsdeck rollb", 1);
    assert_eq!(commands.trim(), "rollback");
    let hidden = complete("opsdeck __c", 1);
    assert_eq!(hidden.trim(), "", "the hidden __complete is not offered");
    // A gateway that does not answer completes nothing, quietly.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let none = opsdeck(&["__complete", "apps", "--url", &format!("ws://{closed}")]);
    assert_eq!(
        (none.code, none.stdout.as_str(), none.stderr.as_str()),
        (0, "", "")
    );
    served.stop();
}

/// The words of a screen line, without the prompt's trailing blanks.
fn screen_has_line(screen: &str, line: &str) -> bool {
    screen.lines().any(|l| l.trim_end() == line)
}

#[test]
fn zsh_completes_app_and_runbook_ids_from_the_gateway_and_commands_from_clap() {
    let Some(zsh) = common::real::binary("zsh") else {
        return;
    };
    let served = Served::default_sim(1.0);
    let dir = common::pty::TempDir::new("zsh-completion");
    let script = dir.0.join("opsdeck.zsh");
    std::fs::write(&script, opsdeck(&["completions", "zsh"]).stdout).unwrap();
    let bin_dir = std::path::Path::new(env!("CARGO_BIN_EXE_opsdeck"))
        .parent()
        .unwrap();
    // An interactive zsh without rc files, in a pty: TAB as an operator presses it.
    let mut cmd = portable_pty::CommandBuilder::new(zsh);
    cmd.arg("-f");
    cmd.env("PATH", format!("{}:/usr/bin:/bin", bin_dir.display()));
    cmd.env("HOME", &dir.0);
    cmd.env("ZDOTDIR", &dir.0);
    let mut sh = common::pty::Console::spawn_command(cmd, 24, 200);
    sh.keys(&format!(
        "PROMPT='$ '; autoload -Uz compinit && compinit -u -D && source {} && print -r re''ady\r",
        script.display()
    ));
    sh.wait_for(20, "zsh with the completion loaded", |s| {
        screen_has_line(s, "ready")
    });
    let url = served.url.as_str();
    sh.keys(&format!("opsdeck --url {url} scale shop-c\t"));
    sh.wait_for(20, "the app id completed", |s| {
        s.contains(&format!("$ opsdeck --url {url} scale shop-cart "))
    });
    // The cursor before a --url written after it: the --url is read all the same.
    sh.keys("\x15");
    let tail = format!(" --url {url}");
    sh.keys(&format!("opsdeck runbook run bad{tail}"));
    sh.keys(&"\x02".repeat(tail.chars().count()));
    sh.keys("\t");
    sh.wait_for(20, "the runbook id completed", |s| {
        s.contains(&format!("$ opsdeck runbook run bad-release {tail}"))
            || s.contains(&format!("$ opsdeck runbook run bad-release{tail}"))
    });
    // Commands come from clap's own completion.
    sh.keys("\x15opsdeck rollb\t");
    sh.wait_for(20, "the command completed", |s| {
        s.contains("$ opsdeck rollback ")
    });
    sh.keys("\x15exit\r");
    sh.wait_exit(10);
    served.stop();
}

#[test]
fn fish_completes_app_and_runbook_ids_from_the_gateway_and_commands_from_clap() {
    let Some(fish) = common::real::binary("fish") else {
        return;
    };
    let served = Served::default_sim(1.0);
    let dir = common::pty::TempDir::new("fish-completion");
    let script = dir.0.join("opsdeck.fish");
    std::fs::write(&script, opsdeck(&["completions", "fish"]).stdout).unwrap();
    let bin_dir = std::path::Path::new(env!("CARGO_BIN_EXE_opsdeck"))
        .parent()
        .unwrap();
    // `complete -C LINE` is what fish runs on TAB with the cursor at the end of LINE.
    let complete = |line: &str| {
        let program = format!("source {}; complete -C '{line}'", script.display());
        let out = std::process::Command::new(&fish)
            .args(["--no-config", "-c", &program])
            .env("PATH", format!("{}:/usr/bin:/bin", bin_dir.display()))
            .env("HOME", &dir.0)
            .env_remove("OPSDECK_URL")
            .current_dir(&dir.0)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let url = served.url.as_str();
    let apps = complete(&format!("opsdeck --url {url} scale shop-c"));
    assert_eq!(apps.trim(), "shop-cart");
    let runbooks = complete(&format!("opsdeck runbook run --url {url} bad"));
    assert_eq!(runbooks.trim(), "bad-release");
    let commands = complete("opsdeck rollb");
    assert!(commands.starts_with("rollback\t"), "{commands}");
    served.stop();
}

#[test]
fn powershell_script_asks_the_gateway_for_the_ids_at_the_cursor() {
    let served = Served::default_sim(1.0);
    let script = opsdeck(&["completions", "powershell"]).stdout;
    // The hook: the line's words but the one being completed, how many come before it.
    let hook = "$ids = @(& $line[0] __complete line --before $before.Count '--' @line 2>$null)";
    assert!(script.contains(hook), "no dynamic hook in:\n{script}");
    assert!(
        script.find(hook) < script.find("$completions.Where{"),
        "the ids are offered before clap's completions are filtered"
    );
    // What the hook runs, for `opsdeck --url URL scale shop-c<TAB>` and for
    // `opsdeck runbook run b<TAB> --url URL`.
    let url = served.url.as_str();
    let apps = opsdeck(&[
        "__complete",
        "line",
        "--before",
        "4",
        "--",
        "opsdeck",
        "--url",
        url,
        "scale",
    ]);
    assert_eq!(apps.code, 0, "{apps:?}");
    assert!(apps.stdout.lines().any(|l| l == "shop-cart"), "{apps:?}");
    let runbooks = opsdeck(&[
        "__complete",
        "line",
        "--before",
        "3",
        "--",
        "opsdeck",
        "runbook",
        "run",
        "--url",
        url,
    ]);
    assert!(
        runbooks.stdout.lines().any(|l| l == "bad-release"),
        "{runbooks:?}"
    );
    // Where no id goes (the replica count), nothing, and clap's completions stay.
    let count = opsdeck(&[
        "__complete",
        "line",
        "--before",
        "3",
        "--",
        "opsdeck",
        "scale",
        "shop-cart",
        "--url",
        url,
    ]);
    assert_eq!((count.code, count.stdout.as_str()), (0, ""));
    served.stop();
}

#[test]
fn serve_help_lists_only_the_gateways_options() {
    let ran = opsdeck(&["serve", "--help"]);
    assert_eq!(ran.code, 0);
    for console_only in ["--mouse", "--theme", "--readonly", "--url", "--token-file"] {
        assert!(
            !ran.stdout.contains(console_only),
            "serve --help lists {console_only}"
        );
    }
    assert!(ran.stdout.contains("--listen"));
    let console = opsdeck(&["--help"]);
    assert!(console.stdout.contains("--mouse") && console.stdout.contains("--url"));
}

#[test]
fn events_follow_prints_the_recent_events_then_each_new_one_once() {
    use std::io::BufRead;
    let served = Served::default_sim(5.0);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_opsdeck"))
        .args([
            "events",
            "-f",
            "--app",
            "shop-cart",
            "-o",
            "json",
            "--url",
            &served.url,
        ])
        .env_remove("OPSDECK_URL")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let sink = lines.clone();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            sink.lock().unwrap().push(line);
        }
    });
    // Whether the change lands before the list is read or after, it is printed exactly once.
    let scaled = opsdeck(&["scale", "shop-cart", "6", "--yes", "--url", &served.url]);
    assert_eq!(scaled.code, 0, "{scaled:?}");
    let said = |l: &String| l.contains("scale 4 -> 6") && l.contains("cli.test");
    wait_for(20, "the scale event", || {
        lines.lock().unwrap().iter().any(said).then_some(())
    });
    let _ = child.kill();
    let _ = child.wait();
    let lines = lines.lock().unwrap();
    assert_eq!(lines.iter().filter(|l| said(l)).count(), 1, "{lines:#?}");
    for line in lines.iter() {
        let event: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(event["app"], "shop-cart");
    }
    served.stop();
}

#[test]
fn each_read_prints_a_plain_table_when_piped() {
    let served = Served::sim(
        7,
        30.0,
        Some("bad-release"),
        common::gateway::loopback_config(),
    );
    wait_for(60, "a firing alert", || {
        let alerts: Vec<Alert> = served.get("/v1/alerts");
        (!alerts.is_empty()).then_some(())
    });
    // The first word of the header, or of the first line, each command prints.
    for (args, first) in [
        (vec!["apps"], "APP"),
        (vec!["app", "shop-cart"], "app:"),
        (vec!["alerts"], "ALERT"),
        (vec!["releases", "shop-cart"], "RELEASE"),
        (vec!["metrics", "shop-cart", "--window", "1m"], "TIME"),
        (vec!["runbook", "list"], "RUNBOOK"),
        (vec!["runbook", "show", "bad-release"], "runbook:"),
        (vec!["runbook", "status"], "RUN"),
        (
            vec![
                "runbook",
                "run",
                "bad-release",
                "-p",
                "app=shop-cart",
                "--dry-run",
            ],
            "",
        ),
        (vec!["logs", "shop-cart"], ""),
        (vec!["events"], ""),
    ] {
        let mut all = args.clone();
        all.extend(["--url", served.url.as_str()]);
        let ran = opsdeck(&all);
        assert_eq!(ran.code, 0, "{args:?}: {ran:?}");
        assert!(!ran.stdout.trim().is_empty(), "{args:?} printed nothing");
        assert!(!ran.stdout.contains('\x1b'), "{args:?}: {:?}", ran.stdout);
        assert!(
            ran.stdout.starts_with(first),
            "{args:?} starts with {first}:\n{}",
            ran.stdout
        );
        assert!(
            ran.stdout.lines().all(|l| l == l.trim_end()),
            "{args:?}: no padding after the last cell:\n{}",
            ran.stdout
        );
    }
    served.stop();
}

/// `opsdeck ARGS` running on, its stdout lines collected as they come.
fn spawn_lines(
    args: &[&str],
) -> (
    std::process::Child,
    std::sync::Arc<std::sync::Mutex<Vec<String>>>,
) {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_opsdeck"))
        .args(args)
        .env_remove("OPSDECK_URL")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let sink = lines.clone();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            sink.lock().unwrap().push(line);
        }
    });
    (child, lines)
}

#[test]
fn logs_follow_and_metrics_watch_go_on_printing_what_comes_next() {
    let served = Served::default_sim(5.0);
    wait_for(20, "log lines held", || {
        (common::gateway::held(&served.gw, opsdeck::protocol::Topic::Logs) > 10).then_some(())
    });
    // Without -f the held lines, then the end: the last seq printed is where it stopped.
    let held = opsdeck(&["logs", "shop-cart", "--url", &served.url, "-o", "json"]);
    assert_eq!(held.code, 0, "{held:?}");
    let seq = |line: &str| {
        serde_json::from_str::<serde_json::Value>(line).unwrap()["seq"]
            .as_u64()
            .unwrap()
    };
    let head = held.stdout.lines().map(seq).max().unwrap();

    let (mut logs, lines) = spawn_lines(&[
        "logs",
        "shop-cart",
        "-f",
        "--url",
        &served.url,
        "-o",
        "json",
    ]);
    wait_for(30, "a line logged after the command started", || {
        let lines = lines.lock().unwrap();
        lines.iter().any(|l| seq(l) > head).then_some(())
    });
    for line in lines.lock().unwrap().iter() {
        let value: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(value["app"], "shop-cart", "{line}");
    }
    let _ = logs.kill();
    let _ = logs.wait();

    // --watch: the recent samples, then each new one of that app from the stream, every line
    // in the shape `metrics` lists them in.
    let ts = |line: &str| {
        let value: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(value["sample"]["rps"].is_number(), "{line}");
        chrono::DateTime::parse_from_rfc3339(value["ts"].as_str().unwrap()).unwrap()
    };
    let listed = opsdeck(&[
        "metrics",
        "shop-cart",
        "--window",
        "30s",
        "--url",
        &served.url,
        "-o",
        "json",
    ]);
    let listed: Vec<serde_json::Value> = serde_json::from_str(&listed.stdout).unwrap();
    let newest = listed
        .iter()
        .filter_map(|s| chrono::DateTime::parse_from_rfc3339(s["ts"].as_str()?).ok())
        .max()
        .unwrap();
    let (mut metrics, lines) = spawn_lines(&[
        "metrics",
        "shop-cart",
        "--watch",
        "--window",
        "30s",
        "--url",
        &served.url,
        "-o",
        "json",
    ]);
    // 10 platform seconds after the newest listed sample: 2 s at speed 5, well after the
    // command fetched its own list.
    wait_for(30, "a sample from the stream", || {
        let lines = lines.lock().unwrap();
        lines
            .iter()
            .any(|l| ts(l) > newest + chrono::Duration::seconds(10))
            .then_some(())
    });
    let _ = metrics.kill();
    let _ = metrics.wait();
    served.stop();
}

#[test]
fn alerts_filters_by_severity_app_and_state_keep_only_what_they_name() {
    let served = Served::sim(
        7,
        30.0,
        Some("bad-release"),
        common::gateway::loopback_config(),
    );
    let alert = wait_for(60, "the bad release's alert", || {
        let alerts: Vec<Alert> = served.get("/v1/alerts");
        alerts.into_iter().find(|a| a.app == "shop-cart")
    });
    let listed = |filters: &[&str]| -> Vec<String> {
        let mut all = vec!["alerts", "--url", served.url.as_str(), "-o", "json"];
        all.extend(filters);
        let ran = opsdeck(&all);
        assert_eq!(ran.code, 0, "{filters:?}: {ran:?}");
        let alerts: Vec<Alert> = serde_json::from_value(ran.json()).unwrap();
        alerts.into_iter().map(|a| a.id).collect()
    };
    let severity = serde_json::to_value(alert.severity).unwrap();
    let severity = severity.as_str().unwrap();
    let state = serde_json::to_value(alert.state).unwrap();
    let state = state.as_str().unwrap();
    let found = listed(&[
        "--severity",
        severity,
        "--app",
        "shop-cart",
        "--state",
        state,
    ]);
    assert!(found.contains(&alert.id), "{found:?}");
    let other = if severity == "P3" { "P0" } else { "P3" };
    assert!(!listed(&["--severity", other]).contains(&alert.id));
    assert!(!listed(&["--app", "crm"]).contains(&alert.id));
    let other_state = if state == "resolved" {
        "firing"
    } else {
        "resolved"
    };
    assert!(!listed(&["--state", other_state]).contains(&alert.id));
    served.stop();
}
