//! "Quit anyway?" — asked before the console quits while a run the operator started waits for
//! an approval: the run would keep waiting on the gateway with nobody watching it.

/// A run that waits for the operator, as the quit question names it.
#[derive(Clone, Debug, PartialEq)]
pub struct WaitingRun {
    pub id: String,
    pub runbook: String,
    pub app: Option<String>,
    /// The step that waits.
    pub step: Option<String>,
}

/// The question, with the runs that wait.
#[derive(Clone, Debug, PartialEq)]
pub struct QuitDialog {
    pub waiting: Vec<WaitingRun>,
}
