//! The organisation: workplaces in a 部 > 課 > 係 hierarchy, imported from HR's CSV.
//!
//! Parsing and hierarchy checks are pure (`parse_csv`, `check_hierarchy`); `import` applies a
//! checked file in one transaction, so a rejected file writes nothing.

mod store;
mod units;
mod version;

pub use store::{import, load_all, Workplace};
pub use units::{add_unit, check_units, load_units, remove_unit, ReportingUnit, UnitError};
pub use version::{bump_version, version};

use std::collections::{HashMap, HashSet};
use std::fmt;

/// One data line of an organisation CSV.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgRow {
    /// 1-based line number in the file, for error messages.
    pub line: u64,
    pub code: String,
    pub name: String,
    pub parent_code: Option<String>,
    pub headcount: Option<u32>,
}

/// Why an import was rejected; `line` is the 1-based line of the file when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportError {
    pub line: Option<u64>,
    pub message: String,
}

impl ImportError {
    fn at(line: u64, message: impl Into<String>) -> Self {
        ImportError {
            line: Some(line),
            message: message.into(),
        }
    }
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for ImportError {}

const MAX_NAME_CHARS: usize = 200;
const MAX_CODE_CHARS: usize = 64;
const MAX_HEADCOUNT: u32 = 1_000_000;

/// Parses `code,name,parent_code[,headcount]` lines (UTF-8, optional BOM, optional header row).
pub fn parse_csv(bytes: &[u8]) -> Result<Vec<OrgRow>, ImportError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut rows = Vec::new();
    let mut seen_codes: HashMap<String, u64> = HashMap::new();
    for (index, record) in reader.byte_records().enumerate() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(index as u64 + 1, |p| p.line());
            ImportError::at(line, format!("not valid CSV: {e}"))
        })?;
        let line = record.position().map_or(index as u64 + 1, |p| p.line());
        let fields = record
            .iter()
            .map(|field| std::str::from_utf8(field).map(str::trim))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| ImportError::at(line, "not valid UTF-8 (save the file as UTF-8)"))?;
        if index == 0 && fields.first() == Some(&"code") {
            continue;
        }
        if fields.iter().all(|f| f.is_empty()) {
            continue;
        }
        if !(3..=4).contains(&fields.len()) {
            return Err(ImportError::at(
                line,
                format!(
                    "expected 3 or 4 fields (code,name,parent_code[,headcount]), found {}",
                    fields.len()
                ),
            ));
        }
        let code = fields[0];
        let name = fields[1];
        if code.is_empty() {
            return Err(ImportError::at(line, "empty code"));
        }
        if code.chars().count() > MAX_CODE_CHARS || code.chars().any(char::is_control) {
            return Err(ImportError::at(
                line,
                format!("code {code:?} is too long or contains control characters"),
            ));
        }
        if name.is_empty() {
            return Err(ImportError::at(
                line,
                format!("empty name for code {code:?}"),
            ));
        }
        if name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
            return Err(ImportError::at(
                line,
                format!("name of {code:?} is too long or contains control characters"),
            ));
        }
        if let Some(first_line) = seen_codes.insert(code.to_string(), line) {
            return Err(ImportError::at(
                line,
                format!("duplicate code {code:?} (first on line {first_line})"),
            ));
        }
        let parent_code = Some(fields[2])
            .filter(|p| !p.is_empty())
            .map(str::to_string);
        if parent_code.as_deref() == Some(code) {
            return Err(ImportError::at(
                line,
                format!("{code:?} names itself as its parent"),
            ));
        }
        let headcount = match fields.get(3).filter(|h| !h.is_empty()) {
            None => None,
            Some(text) => Some(text.parse::<u32>().ok().filter(|h| *h <= MAX_HEADCOUNT).ok_or_else(|| {
                ImportError::at(line, format!("headcount {text:?} of {code:?} is not a whole number from 0 to {MAX_HEADCOUNT}"))
            })?),
        };
        rows.push(OrgRow {
            line,
            code: code.to_string(),
            name: name.to_string(),
            parent_code,
            headcount,
        });
    }
    if rows.is_empty() {
        return Err(ImportError {
            line: None,
            message: "the file has no workplaces".to_string(),
        });
    }
    Ok(rows)
}

/// Checks the hierarchy that results from applying `rows` on top of the existing workplaces
/// (`existing_parents`: code → parent code): every parent must exist and no cycle may form.
pub fn check_hierarchy(
    rows: &[OrgRow],
    existing_parents: &HashMap<String, Option<String>>,
) -> Result<(), ImportError> {
    let mut parents: HashMap<&str, Option<&str>> = existing_parents
        .iter()
        .map(|(code, parent)| (code.as_str(), parent.as_deref()))
        .collect();
    for row in rows {
        parents.insert(&row.code, row.parent_code.as_deref());
    }
    for row in rows {
        if let Some(parent) = &row.parent_code {
            if !parents.contains_key(parent.as_str()) {
                return Err(ImportError::at(
                    row.line,
                    format!("unknown parent {parent:?} of {:?}", row.code),
                ));
            }
        }
    }
    for row in rows {
        let mut visited = HashSet::new();
        let mut current = Some(row.code.as_str());
        while let Some(code) = current {
            if !visited.insert(code) {
                return Err(ImportError::at(
                    row.line,
                    format!(
                        "{:?} is its own ancestor (a cycle through {code:?})",
                        row.code
                    ),
                ));
            }
            current = parents.get(code).copied().flatten();
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<OrgRow>, ImportError> {
        parse_csv(text.as_bytes())
    }

    #[test]
    fn accepts_header_bom_and_optional_headcount() {
        let rows = parse("\u{feff}code,name,parent_code,headcount\nD1,総務部,,\nS1,人事課,D1,12\n")
            .expect("valid");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].parent_code, None);
        assert_eq!(rows[1].parent_code.as_deref(), Some("D1"));
        assert_eq!(rows[1].headcount, Some(12));
        assert_eq!(rows[1].line, 3);
    }

    #[test]
    fn rejections_name_the_line() {
        let cases = [
            ("D1,総務部,\n,人事課,D1\n", 2, "empty code"),
            ("D1,,\n", 1, "empty name"),
            ("D1,総務部,\nD1,人事課,\n", 2, "duplicate code"),
            ("D1,総務部,,x\n", 1, "headcount"),
            ("D1,総務部\n", 1, "expected 3 or 4 fields"),
            ("D1,総務部,D1\n", 1, "itself"),
        ];
        for (text, line, needle) in cases {
            let error = parse(text).expect_err(text);
            assert_eq!(error.line, Some(line), "{text}");
            assert!(error.message.contains(needle), "{text}: {error}");
        }
    }

    #[test]
    fn invalid_utf8_is_reported_with_its_line() {
        let error = parse_csv(b"D1,ok,\nD2,\xff\xfe,D1\n").expect_err("invalid");
        assert_eq!(error.line, Some(2));
        assert!(error.message.contains("UTF-8"));
    }

    #[test]
    fn unknown_parents_and_cycles_are_rejected() {
        let rows = parse("A,a,\nB,b,Z\n").expect("parses");
        let error = check_hierarchy(&rows, &HashMap::new()).expect_err("unknown parent");
        assert_eq!(error.line, Some(2));
        assert!(error.message.contains("unknown parent \"Z\""));

        let rows = parse("A,a,B\nB,b,C\nC,c,A\n").expect("parses");
        let error = check_hierarchy(&rows, &HashMap::new()).expect_err("cycle");
        assert!(error.message.contains("cycle"), "{error}");

        // A cycle through a workplace that already exists in the database.
        let existing = HashMap::from([("X".to_string(), Some("A".to_string()))]);
        let rows = parse("A,a,X\n").expect("parses");
        assert!(check_hierarchy(&rows, &existing).is_err());
    }

    #[test]
    fn parents_may_come_from_the_database_or_later_lines() {
        let existing = HashMap::from([("D1".to_string(), None)]);
        let rows = parse("S2,b,S1\nS1,a,D1\n").expect("parses");
        check_hierarchy(&rows, &existing).expect("valid");
    }
}
