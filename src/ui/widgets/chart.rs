//! A small time-series chart of one or two metric series over the App view's window.
//!
//! The window's points are bucketed to the plot's resolution (two per cell across, as braille
//! has) taking each bucket's maximum, so a one-second spike stays visible in the 1h window and
//! at most a few hundred points are built per chart and frame. The right edge is the newest
//! sample's time, not the console's clock, so a skewed gateway clock never pushes data off the
//! chart. Braille by default; `*` when the theme asks for ASCII (`OPSDECK_ASCII=1`).

use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Block, Borders, Chart, Dataset, GraphType, Paragraph};

use crate::app::{ChartWindow, MetricHistory, Series};
use crate::ui::theme::{Role, Theme};

/// What one chart shows.
pub struct ChartSpec<'a> {
    pub title: &'a str,
    /// Series drawn, the first in `Role::Sparkline`, a second in `Role::Accent`.
    pub series: &'a [Series],
    /// How values read on screen.
    pub format: fn(f64) -> String,
    /// The y axis reaches at least this high (1.0 for CPU, so 40% looks like 40%).
    pub min_top: f64,
}

/// Draw one chart into `area`: a title line (name, latest values, window max) and the plot.
pub fn render(
    history: &MetricHistory,
    window: ChartWindow,
    spec: &ChartSpec,
    theme: &Theme,
    frame: &mut Frame,
    area: Rect,
) {
    if area.height == 0 || area.width < 4 {
        return;
    }
    let roles = [Role::Sparkline, Role::Accent];
    let newest = history.newest();
    let mut title = vec![Span::styled(
        format!(" {} ", spec.title),
        theme.style(Role::ColumnHeader),
    )];
    for (i, s) in spec.series.iter().enumerate() {
        let value = newest
            .map(|p| s.value(p))
            .filter(|v| v.is_finite())
            .map_or_else(|| "—".to_string(), spec.format);
        title.push(Span::styled(
            format!("{value} "),
            theme.style(roles[i.min(1)]),
        ));
    }
    let title_width: usize = title.iter().map(Span::width).sum();
    let block = Block::new()
        .borders(Borders::TOP)
        .border_style(theme.style(Role::Border))
        .title(Line::from(title));
    let Some(newest) = newest else {
        let msg = Paragraph::new("no samples yet")
            .style(theme.style(Role::Muted))
            .alignment(Alignment::Center)
            .block(block);
        frame.render_widget(msg, area);
        return;
    };

    let span = window.secs();
    let right = newest.at;
    let from = right - span + 1;
    let inner_width = usize::from(area.width.max(1));
    let buckets = (inner_width * 2).clamp(1, usize::try_from(span).unwrap_or(1));
    let mut data: Vec<Vec<(f64, f64)>> = Vec::with_capacity(spec.series.len());
    let mut data_max = 0.0_f64;
    for s in spec.series {
        let mut maxes: Vec<Option<f64>> = vec![None; buckets];
        for p in history.since(from) {
            let offset = usize::try_from(p.at - from).unwrap_or(0);
            let b = (offset * buckets / usize::try_from(span).unwrap_or(1)).min(buckets - 1);
            let v = s.value(p);
            if !v.is_finite() {
                // No series at that second (it went stale): a gap, not a value.
                continue;
            }
            let slot = &mut maxes[b];
            *slot = Some(slot.map_or(v, |m: f64| m.max(v)));
        }
        let points: Vec<(f64, f64)> = maxes
            .iter()
            .enumerate()
            .filter_map(|(b, v)| {
                let x = (b as f64 + 0.5) * span as f64 / buckets as f64 - span as f64;
                v.map(|v| (x, v))
            })
            .collect();
        data_max = points.iter().map(|p| p.1).fold(data_max, f64::max);
        data.push(points);
    }
    let top = data_max.max(spec.min_top);
    let top = if top > 0.0 { top * 1.1 } else { 1.0 };
    let marker = if theme.ascii() {
        Marker::Custom('*')
    } else {
        Marker::Braille
    };
    let datasets: Vec<Dataset> = data
        .iter()
        .enumerate()
        .map(|(i, points)| {
            Dataset::default()
                .marker(marker)
                .graph_type(GraphType::Line)
                .style(theme.style(roles[i.min(1)]))
                .data(points)
        })
        .collect();
    // The latest values come first: the window's max only where it fits beside them, never
    // drawn over them ("p99 10.10s 10. max 10.89s" at 80 columns).
    let max_text = format!(" max {} ", (spec.format)(data_max));
    let left: usize = title_width;
    let block = if left + crate::ui::format::width(&max_text) <= usize::from(area.width) {
        block.title(Line::from(Span::styled(max_text, theme.style(Role::Muted))).right_aligned())
    } else {
        block
    };
    let chart = Chart::new(datasets)
        .block(block)
        .x_axis(Axis::default().bounds([-(span as f64), 0.0]))
        .y_axis(Axis::default().bounds([0.0, top]));
    frame.render_widget(chart, area);
}
