//! The console paced by its terminal (issue #24): each frame ends with a question the terminal
//! answers in order (primary device attributes), and the next frame waits for the answer. The
//! test plays the terminal (`common::pty`): it answers when it chooses, and counts.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use common::pty::{Answers, Console};

/// The header row of the screen (the view's name is there).
fn header(screen: &str) -> &str {
    screen.lines().next().unwrap_or("")
}

/// Play a terminal that answers each question `late` after it arrives, until the screen
/// satisfies `pred`, failing after `secs`.
fn serve_until(
    console: &mut Console,
    secs: u64,
    late: Duration,
    what: &str,
    pred: impl Fn(&str) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if pred(&console.text()) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "waited {secs} s for {what}; screen:\n{}",
            console.text()
        );
        if console.questions().waiting() > 0 {
            std::thread::sleep(late);
            console.answer();
        } else {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// Wait until a question is waiting for its answer: a frame is in flight.
fn wait_for_question(console: &mut Console, secs: u64) {
    console.wait_until(secs, "a frame's question", |c| c.questions().waiting() > 0);
}

#[test]
fn a_key_pressed_while_a_frame_is_in_flight_is_in_the_next_frame() {
    let mut console = Console::spawn_answering(&["demo", "--speed", "10"], 30, 120, Answers::Held);
    serve_until(
        &mut console,
        30,
        Duration::ZERO,
        "the overview to go live",
        |s| s.contains("live"),
    );
    // A frame is on its way and its answer held: data waits for the answer, a key does not.
    wait_for_question(&mut console, 10);
    let asked = console.questions().asked();
    console.keys("a");
    console.wait_until(10, "the key's frame, the answer still held", |c| {
        c.questions().asked() > asked
    });
    let next = console.questions().screens[asked].clone();
    assert!(
        header(&next).contains("Alerts"),
        "the next frame shows the key's effect:\n{next}"
    );
    // Two in flight now (the pacer's tests hold that a key gets one more, never two more).
    console.answer();
    console.answer();
    console.wait_until(10, "the frame after the answers", |c| {
        c.questions().asked() > asked + 1
    });
    let questions = console.questions();
    assert_eq!(
        questions.most_waiting, 2,
        "a frame of data and a key's frame in flight at most"
    );
    drop(questions);
    // Quit with a frame in flight: the console waits for its answer, then gives the terminal back.
    wait_for_question(&mut console, 10);
    console.keys("\x03");
    console.answer();
    let status = console.wait_exit(10);
    assert!(status.success(), "exit status {status:?}");
    console.assert_terminal_restored();
}

#[test]
fn frames_of_data_in_flight_never_exceed_the_limit_against_a_terminal_that_answers_late() {
    for limit in [1, 2] {
        let mut cmd = portable_pty::CommandBuilder::new(env!("CARGO_BIN_EXE_opsdeck"));
        cmd.args(["demo", "--speed", "10"]);
        cmd.env("OPSDECK_FRAMES_IN_FLIGHT", limit.to_string());
        let mut console = Console::spawn_command_answering(cmd, 30, 120, Answers::Held);
        serve_until(
            &mut console,
            30,
            Duration::ZERO,
            "the overview to go live",
            |s| s.contains("live"),
        );
        // Every app's logs, following: the screen changes all the time, so a frame is always
        // ready to go.
        console.keys("L");
        serve_until(&mut console, 20, Duration::ZERO, "the Logs view", |s| {
            header(s).contains("Logs")
        });
        // The key's frame may have gone with one more in flight (a key goes ahead of data);
        // from here on no key is pressed, so frames of data alone are counted.
        while console.questions().waiting() > limit {
            console.answer();
        }
        {
            let mut questions = console.questions();
            questions.most_waiting = questions.waiting();
        }
        let start = console.questions().asked();
        // Answer late: each answer 300 ms after its question, far longer than a frame takes.
        while console.questions().asked() < start + 10 {
            wait_for_question(&mut console, 10);
            std::thread::sleep(Duration::from_millis(300));
            let waiting = console.questions().waiting();
            assert!(
                waiting <= limit,
                "{waiting} frames in flight, limit {limit}"
            );
            console.answer();
        }
        let most = console.questions().most_waiting;
        assert_eq!(
            most, limit,
            "the console keeps {limit} frame(s) in flight, never more"
        );
        console.keys("\x03");
        // Whatever is still in flight is answered, as a terminal would.
        while console.child.try_wait().unwrap().is_none() {
            if console.questions().waiting() > 0 {
                console.answer();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        console.assert_terminal_restored();
    }
}

#[test]
fn a_terminal_that_never_answers_still_gets_frames_and_is_asked_once() {
    let mut console = Console::spawn_answering(&["demo", "--speed", "10"], 30, 120, Answers::Never);
    console.wait_for(30, "the overview to go live", |s| s.contains("live"));
    console.keys("a");
    console.wait_for(10, "the Alerts view", |s| header(s).contains("Alerts"));
    console.keys("\x1b");
    console.wait_for(10, "the overview again", |s| header(s).contains("Overview"));
    // Three views drawn since: the first frame's question was the only one.
    assert_eq!(console.questions().asked(), 1);
    console.quit();
    console.assert_terminal_restored();
}
