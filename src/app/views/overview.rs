//! The Overview view: every app in one table, sorted by a column and narrowed by the `/`
//! filter, with the selected app as the target of the keys that act on "this app". It owns
//! its fields and reads the shared [`Core`]; it imports no other view.

use std::cmp::Ordering;

use crate::app::core::keymap::Command;
use crate::app::core::list;
use crate::app::core::{AppEntry, Core, FilterInput};

/// Columns the overview can be sorted by, in the order `s` cycles through them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SortColumn {
    /// Worst health first, then name.
    #[default]
    Health,
    Name,
    Rps,
    P99,
    Errors,
    Cpu,
    Alerts,
}

impl SortColumn {
    pub fn next(self) -> SortColumn {
        match self {
            SortColumn::Health => SortColumn::Name,
            SortColumn::Name => SortColumn::Rps,
            SortColumn::Rps => SortColumn::P99,
            SortColumn::P99 => SortColumn::Errors,
            SortColumn::Errors => SortColumn::Cpu,
            SortColumn::Cpu => SortColumn::Alerts,
            SortColumn::Alerts => SortColumn::Health,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SortColumn::Health => "health",
            SortColumn::Name => "name",
            SortColumn::Rps => "rps",
            SortColumn::P99 => "p99",
            SortColumn::Errors => "errors",
            SortColumn::Cpu => "cpu",
            SortColumn::Alerts => "alerts",
        }
    }
}

/// The Overview's own state.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Overview {
    /// App ids in display order (sorted and filtered); kept current by `update()`.
    pub order: Vec<String>,
    /// Id of the selected app.
    pub selected: Option<String>,
    pub sort: SortColumn,
    pub filter: FilterInput,
    /// The first shown app as last drawn (see `Action::OverviewScrolled`).
    pub top: usize,
    /// The operator has picked an app (moved the cursor, clicked, opened one). Until then the
    /// cursor stays on the first row however the rows re-sort, so a fresh console points at
    /// the worst app; after, it follows the app it is on.
    pub chosen: bool,
}

impl Overview {
    /// Position of the selected app in [`Overview::order`].
    pub fn selected_index(&self) -> Option<usize> {
        let id = self.selected.as_ref()?;
        self.order.iter().position(|o| o == id)
    }

    /// Put the cursor on `app` and keep it there as rows re-sort.
    pub fn choose(&mut self, app: String) {
        self.selected = Some(app);
        self.chosen = true;
    }

    /// The selected app, as the core knows it.
    pub fn selected_app<'a>(&self, core: &'a Core) -> Option<&'a AppEntry> {
        core.apps.get(self.selected.as_ref()?)
    }

    /// Recompute the display order and keep the selection on a visible app.
    pub fn refresh(&mut self, core: &Core) {
        let needle = self.filter.text.to_lowercase();
        let mut rows: Vec<&AppEntry> = core
            .apps
            .values()
            .filter(|a| needle.is_empty() || matches_filter(a, &needle))
            .collect();
        let sort = self.sort;
        rows.sort_by(|a, b| compare(sort, a, b));
        self.order.clear();
        self.order.extend(rows.iter().map(|a| a.summary.id.clone()));
        let visible = self
            .selected
            .as_ref()
            .is_some_and(|id| self.order.contains(id));
        if !visible || !self.chosen {
            self.selected = self.order.first().cloned();
        }
    }

    /// The overview's own commands (moving the selection, sorting); false for any other.
    pub(crate) fn run(&mut self, core: &Core, cmd: Command) -> bool {
        // Header, table header, progress and status lines take about six rows.
        let page = || list::page(core.size.1, 6);
        match cmd {
            Command::MoveDown => self.move_selection(1),
            Command::MoveUp => self.move_selection(-1),
            Command::Top => self.move_selection(isize::MIN / 2),
            Command::Bottom => self.move_selection(isize::MAX / 2),
            Command::PageDown => self.move_selection(page()),
            Command::PageUp => self.move_selection(-page()),
            Command::CycleSort => self.sort = self.sort.next(),
            _ => return false,
        }
        true
    }

    /// A click on the row of `app`, drawn with `top` as the first shown row: true when it was
    /// the selected app already (so it opens), else it becomes selected.
    pub(crate) fn click(&mut self, app: String, top: usize) -> bool {
        if !self.order.contains(&app) {
            return false;
        }
        if self.selected.as_ref() == Some(&app) {
            return true;
        }
        self.choose(app);
        // Keep the list where it was drawn: the next click there hits the same app.
        self.top = top;
        false
    }

    fn move_selection(&mut self, delta: isize) {
        if let Some(id) = list::moved_id(&self.order, self.selected.as_ref(), delta) {
            self.choose(id);
        }
    }
}

fn matches_filter(app: &AppEntry, needle: &str) -> bool {
    let s = &app.summary;
    [&s.id, &s.name, &s.region]
        .iter()
        .any(|field| field.to_lowercase().contains(needle))
}

fn metric(app: &AppEntry, pick: impl Fn(&crate::protocol::MetricSample) -> f64) -> f64 {
    app.latest.as_ref().map(pick).unwrap_or(-1.0)
}

/// Worst or busiest first; name breaks ties so the order is stable.
fn compare(sort: SortColumn, a: &AppEntry, b: &AppEntry) -> Ordering {
    let desc = |x: f64, y: f64| y.total_cmp(&x);
    let primary = match sort {
        SortColumn::Health => b.health().cmp(&a.health()),
        SortColumn::Name => Ordering::Equal,
        SortColumn::Rps => desc(metric(a, |m| m.rps), metric(b, |m| m.rps)),
        SortColumn::P99 => desc(
            metric(a, |m| m.latency_ms.p99),
            metric(b, |m| m.latency_ms.p99),
        ),
        SortColumn::Errors => desc(metric(a, |m| m.error_ratio), metric(b, |m| m.error_ratio)),
        SortColumn::Cpu => desc(metric(a, |m| m.cpu), metric(b, |m| m.cpu)),
        SortColumn::Alerts => b.firing_alerts.cmp(&a.firing_alerts),
    };
    primary
        .then_with(|| a.summary.name.cmp(&b.summary.name))
        .then_with(|| a.summary.id.cmp(&b.summary.id))
}
