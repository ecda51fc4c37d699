//! `opsdeck screenshots` is deterministic: the same seed draws the same pictures, so the files in
//! screenshots/ change only when a view does.
#![allow(clippy::unwrap_used)]

use opsdeck::cli::run_screenshots;

#[test]
fn screenshots_are_deterministic_and_show_the_simulated_apps() {
    let base = std::env::temp_dir().join(format!("opsdeck-shots-{}", std::process::id()));
    let (a, b) = (base.join("a"), base.join("b"));
    let files = run_screenshots(&a, 42).unwrap();
    assert_eq!(run_screenshots(&b, 42).unwrap(), files);
    // One per view and dialog.
    for want in [
        "overview.svg",
        "incident-bad-release.svg",
        "app.svg",
        "logs.svg",
        "alerts.svg",
        "releases.svg",
        "events.svg",
        "rollback-dialog.svg",
        "scale-dialog.svg",
        "help.svg",
        "command-line.svg",
    ] {
        assert!(files.iter().any(|f| f == want), "no {want} in {files:?}");
    }
    for file in &files {
        let first = std::fs::read_to_string(a.join(file)).unwrap();
        let second = std::fs::read_to_string(b.join(file)).unwrap();
        assert_eq!(
            first, second,
            "{file} differs between two runs with one seed"
        );
        assert!(first.starts_with("<svg"));
    }
    let overview = std::fs::read_to_string(a.join("overview.svg")).unwrap();
    assert!(overview.contains(">购<"), "CJK app names are drawn");
    let incident = std::fs::read_to_string(a.join("incident-bad-release.svg")).unwrap();
    assert_ne!(overview, incident);
    // Every shot shows something different (a key that missed would leave the overview).
    let svgs: Vec<String> = files
        .iter()
        .map(|f| std::fs::read_to_string(a.join(f)).unwrap())
        .collect();
    for (i, first) in svgs.iter().enumerate() {
        for (j, second) in svgs.iter().enumerate().skip(i + 1) {
            assert_ne!(first, second, "{} and {} are the same", files[i], files[j]);
        }
    }
    let index = std::fs::read_to_string(a.join("README.md")).unwrap();
    assert!(files.iter().all(|f| index.contains(f.as_str())));
    let _ = std::fs::remove_dir_all(&base);
}
