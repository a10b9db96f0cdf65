//! Byte offsets to 1-based line and column, for errors in the host's TOML files.

use std::fmt;

/// A position in a text file: 1-based line and column (columns count characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct LineCol {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
}

impl LineCol {
    /// The position of byte `offset` in `text` (clamped to the end of the text).
    pub fn of(text: &str, offset: usize) -> LineCol {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = text[line_start..offset].chars().count() + 1;
        LineCol { line, column }
    }
}

impl fmt::Display for LineCol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_lines_and_columns_from_one() {
        let text = "ab\ncdé\nf";
        assert_eq!(LineCol::of(text, 0), LineCol { line: 1, column: 1 });
        assert_eq!(LineCol::of(text, 1), LineCol { line: 1, column: 2 });
        assert_eq!(LineCol::of(text, 3), LineCol { line: 2, column: 1 });
        // `é` is two bytes: the byte after it is column 4.
        assert_eq!(LineCol::of(text, 7), LineCol { line: 2, column: 4 });
        assert_eq!(LineCol::of(text, 8), LineCol { line: 3, column: 1 });
        assert_eq!(LineCol::of(text, 999), LineCol { line: 3, column: 2 });
    }

    #[test]
    fn inside_a_multibyte_char_rounds_down() {
        assert_eq!(LineCol::of("é", 1), LineCol { line: 1, column: 1 });
    }
}
