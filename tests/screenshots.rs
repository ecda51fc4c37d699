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
    assert!(files.len() >= 4);
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
    let index = std::fs::read_to_string(a.join("README.md")).unwrap();
    assert!(files.iter().all(|f| index.contains(f.as_str())));
    let _ = std::fs::remove_dir_all(&base);
}
