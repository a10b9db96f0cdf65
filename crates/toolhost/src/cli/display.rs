//! Strings from plugins and clients on a terminal: shown, never obeyed.
//!
//! A tool name, a description, a result, an MCP client's name or an error message may carry
//! bytes a terminal acts on (ESC starts a control sequence that can recolour, hide or move
//! text; a newline starts a line that looks like the CLI's own; U+202E reverses what follows).
//! Every such string passes through here on its way to the terminal, so one printed field
//! stays on its line and reads as what it is. No crate fits: `escape_debug` also escapes
//! quotes and backslashes (noise in JSON and Windows paths), and ANSI strippers delete rather
//! than show, hiding that something was there.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Characters a terminal interprets or that change how the text around them reads.
fn is_unsafe(c: char) -> bool {
    // Cc: C0 (including ESC, newline, tab), DEL and C1 (including CSI U+009B and NEL U+0085).
    c.is_control()
        || matches!(c,
            // Bidi marks, embeddings, overrides and isolates: they reorder the text after them.
            '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
            // Line and paragraph separators: some terminals and viewers break the line there.
            | '\u{2028}' | '\u{2029}'
            // Invisible joiners and spaces: they make two different names look the same.
            | '\u{200b}'..='\u{200d}' | '\u{2060}'..='\u{2064}' | '\u{feff}')
}

/// `text` with every character a terminal would obey shown as an escape: `\n`, `\x1b`,
/// `\u{202e}`. Borrowed when there is nothing to escape (the common case).
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if is_unsafe(c) && c.is_ascii() => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if is_unsafe(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// JSON text safe on a terminal and still the same JSON: serde escapes C0 inside strings but
/// writes DEL, C1 and the bidi and invisible characters raw; they become `\uXXXX` escapes.
/// Outside strings JSON text is ASCII punctuation, digits and whitespace (the indentation's
/// line breaks, kept), so nothing else changes.
pub fn json_text(json: &str) -> Cow<'_, str> {
    let unsafe_in_json = |c: char| is_unsafe(c) && !matches!(c, '\n' | '\r' | '\t');
    if !json.chars().any(unsafe_in_json) {
        return Cow::Borrowed(json);
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if unsafe_in_json(c) {
            for unit in c.encode_utf16(&mut [0; 2]) {
                let _ = write!(out, "\\u{unit:04x}");
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// `value` as indented JSON, safe on a terminal.
pub fn pretty_json(value: &impl serde::Serialize) -> String {
    match serde_json::to_string_pretty(value) {
        Ok(text) => json_text(&text).into_owned(),
        Err(err) => format!("(cannot render JSON: {})", escape(&err.to_string())),
    }
}

/// Stored JSON arguments in full, indented, safe on a terminal: what an approver decides on
/// is never cut. Text that is not JSON is shown escaped, as it is.
pub fn arguments(text: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(value) => pretty_json(&value),
        Err(_) => escape(text).into_owned(),
    }
}

/// The first line of `text`, escaped and shortened to `width` characters: only for table
/// cells nobody decides on (a tool's description), never for what an approver reads.
pub fn clip(text: &str, width: usize) -> String {
    let first_line = escape(text.lines().next().unwrap_or_default()).into_owned();
    if first_line.chars().count() <= width {
        first_line
    } else {
        let cut: String = first_line.chars().take(width.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}

/// `text` indented by `indent` after every line break (for multi-line blocks under a heading).
pub fn indent_lines(text: &str, indent: &str) -> String {
    text.replace('\n', &format!("\n{indent}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FORGED: &str = "x\n    arguments: {\"summary\":\"benign\"}\n\x1b[8m";

    #[test]
    fn control_characters_are_shown_not_obeyed() {
        assert_eq!(
            escape(FORGED),
            r#"x\n    arguments: {"summary":"benign"}\n\x1b[8m"#
        );
        assert_eq!(escape("a\r\tb\0\x7f"), r"a\r\tb\x00\x7f");
        // C1: CSI, NEL; bidi override and isolates; separators; invisible joiners.
        assert_eq!(escape("\u{9b}31m\u{85}"), r"\u{9b}31m\u{85}");
        assert_eq!(
            escape("evil\u{202e}txt.exe\u{2066}\u{2069}\u{061c}"),
            r"evil\u{202e}txt.exe\u{2066}\u{2069}\u{61c}"
        );
        assert_eq!(
            escape("a\u{2028}b\u{200b}c\u{feff}"),
            r"a\u{2028}b\u{200b}c\u{feff}"
        );
    }

    #[test]
    fn ordinary_text_is_untouched_and_borrowed() {
        for text in [
            "connectwise_rmm:cw-rmm-run-task",
            "C:\\Windows \"quoted\" — Ünïcödé 日本 🙂",
            "",
        ] {
            assert!(matches!(escape(text), Cow::Borrowed(t) if t == text));
        }
    }

    #[test]
    fn no_escaped_text_holds_a_line_break_or_a_control_character() {
        let every: String = (0u32..0x3000).filter_map(char::from_u32).collect();
        let shown = escape(&every);
        assert!(!shown.chars().any(is_unsafe), "{shown}");
        assert_eq!(shown.lines().count(), 1);
    }

    #[test]
    fn json_stays_the_same_json_without_raw_controls() {
        let value = serde_json::json!({
            "name": FORGED, "rtl": "a\u{202e}b", "csi": "\u{9b}2J", "del": "\u{7f}", "plain": "ü 🙂"
        });
        let text = pretty_json(&value);
        // Only the indentation's own line breaks remain.
        assert!(
            !text.chars().filter(|c| *c != '\n').any(is_unsafe),
            "{text}"
        );
        assert!(
            text.contains(r"a\u202eb") && text.contains(r"\u009b2J"),
            "{text}"
        );
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, value);
    }

    #[test]
    fn arguments_are_shown_in_full() {
        let long = "n".repeat(500);
        let text = serde_json::json!({"name": long, "templateId": "t-1", "targetType": "COMPANY"})
            .to_string();
        let shown = arguments(&text);
        for part in [long.as_str(), "t-1", "COMPANY"] {
            assert!(shown.contains(part), "{shown}");
        }
        assert_eq!(arguments("not json\x1b[2J"), r"not json\x1b[2J");
    }

    #[test]
    fn clipped_cells_are_escaped_first_then_cut() {
        assert_eq!(clip("short", 80), "short");
        assert_eq!(clip("first\nsecond", 80), "first");
        assert_eq!(clip("red\x1b[31m", 80), r"red\x1b[31m");
        assert_eq!(clip(&"d".repeat(100), 10), format!("{}…", "d".repeat(9)));
    }
}
