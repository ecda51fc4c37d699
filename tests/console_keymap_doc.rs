//! docs/keymap.md is generated from the keymap table, so the docs cannot drift from the keys.
//! After changing `src/app/keymap-default.toml`, regenerate it with
//! `OPSDECK_BLESS=1 cargo test --test console_keymap_doc`.
#![allow(clippy::unwrap_used)]

use opsdeck::app::{Keymap, keymap_markdown};

#[test]
fn docs_keymap_md_matches_the_keymap_table() {
    let generated = keymap_markdown(&Keymap::builtin().unwrap());
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/keymap.md");
    if std::env::var_os("OPSDECK_BLESS").is_some() {
        std::fs::create_dir_all(concat!(env!("CARGO_MANIFEST_DIR"), "/docs")).unwrap();
        std::fs::write(path, &generated).unwrap();
    }
    let on_disk = std::fs::read_to_string(path).unwrap_or_default();
    assert_eq!(
        on_disk, generated,
        "docs/keymap.md is out of date: OPSDECK_BLESS=1 cargo test --test console_keymap_doc"
    );
}
