//! Ctrl-Z suspends the console as it suspends any full-screen terminal program: the terminal
//! is given back (main screen, cursor shown, cooked mode) and the process stops; when it is
//! continued it takes the terminal over again and repaints the whole screen.
//!
//! A job stops on SIGTSTP only if a job-control parent could continue it: the kernel discards
//! SIGTSTP in an orphaned process group, and the pty harness starts its child as a session
//! leader, which is one. So the test runs this same test binary in the pty as a small
//! job-control parent (only the parent test below does anything in that run:
//! `OPSDECK_JOB_PARENT` is read by this test file alone, not by the console). Like a shell, it
//! starts the console in a process group of its own, gives it the terminal, and waits for it.
#![allow(clippy::unwrap_used)]

mod common;

use std::os::unix::process::CommandExt;

use common::pty::Console;
use portable_pty::CommandBuilder;

const PARENT: &str = "OPSDECK_JOB_PARENT";

/// In the parent run: start `opsdeck demo` as a foreground job and exit as it exits. Does
/// nothing in a normal `cargo test` run.
#[test]
fn job_control_parent() {
    if std::env::var_os(PARENT).is_none() {
        return;
    }
    let mut console = std::process::Command::new(env!("CARGO_BIN_EXE_opsdeck"));
    console.args(["demo", "--speed", "10"]);
    // Never the user's console config.
    console.env("OPSDECK_CONFIG", "/dev/null");
    // SAFETY: only async-signal-safe calls between fork and exec. The new process group takes
    // the terminal with SIGTTOU ignored (a background group asking for the terminal is sent
    // SIGTTOU), and the default action is back before exec.
    unsafe {
        console.pre_exec(|| {
            if libc::setpgid(0, 0) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            libc::signal(libc::SIGTTOU, libc::SIG_IGN);
            let taken = libc::tcsetpgrp(libc::STDIN_FILENO, libc::getpid());
            libc::signal(libc::SIGTTOU, libc::SIG_DFL);
            if taken != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    // `wait` does not return for a stopped child, only when it exits.
    let status = console.spawn().unwrap().wait().unwrap();
    assert!(status.success(), "the console exited with {status:?}");
}

/// The pid of the console the parent started: its only child.
fn console_pid(parent: u32) -> Option<u32> {
    std::fs::read_dir("/proc").ok()?.find_map(|entry| {
        let pid: u32 = entry.ok()?.file_name().to_str()?.parse().ok()?;
        let (_, ppid) = process_state(pid)?;
        (ppid == parent).then_some(pid)
    })
}

/// `(state, ppid)` of a process from `/proc/PID/stat`, e.g. `('T', 42)` for a stopped child
/// of 42. The name in parentheses may hold spaces, so the fields are read after the last ')'.
fn process_state(pid: u32) -> Option<(char, u32)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let mut fields = stat[stat.rfind(')')? + 1..].split_whitespace();
    let state = fields.next()?.chars().next()?;
    let ppid = fields.next()?.parse().ok()?;
    Some((state, ppid))
}

fn stopped(pid: u32) -> bool {
    process_state(pid).is_some_and(|(state, _)| state == 'T')
}

fn signal(pid: u32, signal: libc::c_int) {
    // SAFETY: kill with a valid signal number, to a process this test started.
    assert_eq!(unsafe { libc::kill(pid as libc::pid_t, signal) }, 0);
}

#[test]
fn ctrl_z_or_sigtstp_gives_the_terminal_back_and_sigcont_brings_the_console_back_whole() {
    if std::env::var_os(PARENT).is_some() {
        return;
    }
    let mut cmd = CommandBuilder::new(std::env::current_exe().unwrap());
    cmd.args([
        "job_control_parent",
        "--exact",
        "--nocapture",
        "--test-threads=1",
    ]);
    cmd.env(PARENT, "1");
    let mut console = Console::spawn_command(cmd, 24, 80);
    let overview = |s: &str| s.contains("Overview") && s.contains("APP") && s.contains("live");
    console.wait_for(30, "the overview", overview);
    assert!(console.raw_mode(), "the console runs in raw mode");
    let parent = console.child.process_id().unwrap();
    let pid = console_pid(parent).expect("the console process");

    // Ctrl-Z from the keyboard, then SIGTSTP from outside (`kill -TSTP`): the same way out.
    let stop_by_key = |c: &mut Console| c.keys("\x1a");
    let stop_by_signal = |_: &mut Console| signal(pid, libc::SIGTSTP);
    for stop in [&stop_by_key as &dyn Fn(&mut Console), &stop_by_signal] {
        stop(&mut console);
        console.wait_until(10, "the console to stop", |_| stopped(pid));
        console.wait_until(10, "the terminal to be given back", |c| {
            c.cooked_mode() && !c.on_alternate_screen()
        });
        console.assert_terminal_given_back();

        // What `fg` does once it has given the terminal back to the job.
        signal(pid, libc::SIGCONT);
        console.wait_until(10, "the console to take the terminal again", |c| {
            !stopped(pid) && c.raw_mode() && c.on_alternate_screen()
        });
        // The alternate screen starts blank: the overview on it is a full repaint.
        console.wait_for(10, "the overview redrawn", overview);
    }
    console.quit();
}
