//! The help overlay's content and scrolling. The overlay lists what the operator is doing
//! first, then `global`, then every other layer; at small sizes it scrolls (`j`/`k`, PgUp/PgDn,
//! `g`/`G`) so no binding is out of reach. The renderer draws the same lines in the same order.

use crate::app::command::COMMANDS;
use crate::app::core::keymap::{Command, Keymap, Layer};
use crate::app::core::list::wrapped_rows;
use crate::app::state::State;

/// Borders above and below the help lines.
const FRAME_ROWS: usize = 2;

/// Keys of the terminal itself, the same in every view and dialog and not in the keymap (the
/// event loop takes them before the core sees a key): shown at the end of the help overlay and
/// of docs/keymap.md.
pub const TERMINAL_KEYS: [(&str, &str); 1] = [(
    "Ctrl-z",
    "Suspend to the shell; `fg` brings the console back",
)];

/// The heading of the terminal's keys in help.
pub const TERMINAL_TITLE: &str = "Terminal";

/// The layers the overlay shows, in order: the context layer, `global`, then the rest.
pub fn help_layers(context: Layer) -> Vec<Layer> {
    let mut order = vec![context, Layer::Global];
    for layer in Layer::ALL {
        if !order.contains(&layer) && layer != Layer::Help {
            order.push(layer);
        }
    }
    order
}

/// The box's layout, which the renderer draws and the scrolling counts by: the keys' column,
/// then the description wrapped under itself, and on a terminal [`HELP_WIDE_FROM`] columns or
/// wider the action's name (the one the config's `[keys]` takes) at the right.
pub const HELP_KEYS_WIDTH: usize = 16;
/// The box's width on a narrow terminal.
pub const HELP_WIDTH: u16 = 64;
/// From this terminal width the box is [`HELP_WIDE`] columns and names each line's action.
pub const HELP_WIDE_FROM: u16 = 104;
pub const HELP_WIDE: u16 = 100;
/// The action names' column in a wide box.
pub const HELP_NAME_WIDTH: usize = 20;

/// Whether the box names actions on a terminal `width` columns wide, and how wide its
/// descriptions' column is.
pub fn help_desc_width(width: u16) -> (bool, usize) {
    // Inside the borders: two blanks, the keys, then the description (and two blanks and the
    // name when wide).
    if width >= HELP_WIDE_FROM {
        let inner = usize::from(HELP_WIDE) - 2 - 2 - HELP_KEYS_WIDTH;
        (true, inner - 2 - HELP_NAME_WIDTH)
    } else {
        (false, usize::from(HELP_WIDTH) - 2 - 2 - HELP_KEYS_WIDTH)
    }
}

/// How many lines the overlay holds on a terminal `width` columns wide: per layer a heading
/// and each binding's description wrapped, with a blank line between layers.
pub fn help_line_count(keymap: &Keymap, context: Layer, width: u16) -> usize {
    let (_, desc_width) = help_desc_width(width);
    let layers = help_layers(context);
    let gaps = layers.len().saturating_sub(1);
    let terminal = 2 + TERMINAL_KEYS.len();
    layers
        .iter()
        .map(|l| {
            1 + keymap
                .bindings(*l)
                .iter()
                .map(|b| wrapped_rows(&b.desc, desc_width))
                .sum::<usize>()
        })
        .sum::<usize>()
        + gaps
        + terminal
}

/// Help lines visible at once in a terminal `height` rows tall.
pub fn help_rows_visible(height: u16) -> usize {
    usize::from(height).saturating_sub(FRAME_ROWS).max(1)
}

/// The furthest the overlay scrolls: the last line at the bottom of the box.
pub fn help_max_scroll(state: &State) -> usize {
    let context = crate::app::keys::context_layer(state);
    let total = help_line_count(&state.core.keymap, context, state.core.size.0);
    total.saturating_sub(help_rows_visible(state.core.size.1))
}

/// Scroll the open overlay; false for commands that are not about scrolling.
pub(super) fn scroll(state: &mut State, cmd: Command) -> bool {
    let page = help_rows_visible(state.core.size.1)
        .saturating_sub(1)
        .max(1);
    let max = help_max_scroll(state);
    let at = state.help_scroll.min(max);
    state.help_scroll = match cmd {
        Command::MoveDown => at.saturating_add(1),
        Command::MoveUp => at.saturating_sub(1),
        Command::PageDown => at.saturating_add(page),
        Command::PageUp => at.saturating_sub(page),
        Command::Top => 0,
        Command::Bottom => max,
        _ => return false,
    }
    .min(max);
    true
}

/// The keymap as a Markdown reference (docs/keymap.md is this, checked by a test).
pub fn keymap_markdown(keymap: &Keymap) -> String {
    let mut out = String::from(
        "# Console keys\n\nGenerated from `src/app/core/keymap-default.toml`; \
         the help overlay (`?`) shows the same table.\n\n\
         Any key can be changed by its action's name in the console's config file, in every \
         view (`[keys]`, e.g. `scale = \"ctrl-s\"`) or in one (`[keys.logs]`, the name \
         under each heading); help then shows the new keys (and, on a wide terminal, the action \
         names). See \
         [configuration.md](configuration.md#keymap-overrides).\n",
    );
    for layer in Layer::ALL {
        let bindings = keymap.bindings(layer);
        if bindings.is_empty() {
            continue;
        }
        out.push_str(&format!(
            "\n## {} (`{}`)\n\n| keys | action | does |\n|---|---|---|\n",
            layer.title(),
            layer.name()
        ));
        for b in bindings {
            let keys: Vec<String> = b.on.iter().map(|k| format!("`{k}`")).collect();
            out.push_str(&format!(
                "| {} | `{}` | {} |\n",
                keys.join(", "),
                b.run.name(),
                b.desc
            ));
        }
    }
    out.push_str(
        "\n## Commands (`:`)\n\nTab completes command names and app ids; ↑/↓ recall \
         earlier commands.\n\n| command | does |\n|---|---|\n",
    );
    for c in COMMANDS {
        let aliases: Vec<String> = c.aliases.iter().map(|a| format!("`:{a}`")).collect();
        let also = if aliases.is_empty() {
            String::new()
        } else {
            format!(" (also {})", aliases.join(", "))
        };
        out.push_str(&format!("| `{}`{also} | {} |\n", c.usage, c.desc));
    }
    out.push_str(
        "\n## Mouse (`--mouse`)\n\nOff by default, so the terminal's own text selection \
         works.\n\n| mouse | does |\n|---|---|\n\
         | wheel | three rows down or up in the view (nothing while a dialog is open) |\n\
         | click an overview row | select the app; click the selected app to open it |\n",
    );
    out.push_str(&format!(
        "\n## {TERMINAL_TITLE}\n\nThe terminal's own keys, the same in every view and dialog; \
         not in the keymap.\n\n| keys | does |\n|---|---|\n"
    ));
    for (keys, does) in TERMINAL_KEYS {
        out.push_str(&format!("| `{keys}` | {does} |\n"));
    }
    out
}
