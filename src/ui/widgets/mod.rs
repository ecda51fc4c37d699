//! Pieces of screen shared by every view: the header, the status bar, action progress and
//! notifications.

pub mod chart;
pub mod header;
pub mod hints;
pub mod progress;
pub mod status;
