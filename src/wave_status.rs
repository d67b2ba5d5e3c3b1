//! A wave's status: open while codes are answered, closed for good once its results are
//! frozen. Stored as the text `open` / `closed` (the `waves.status` column) and written the
//! same way in JSON and on the command line.

use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::Text;
use diesel::sqlite::{Sqlite, SqliteValue};

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    AsExpression,
    FromSqlRow,
)]
#[diesel(sql_type = Text)]
#[serde(rename_all = "lowercase")]
pub enum WaveStatus {
    Open,
    Closed,
}

impl WaveStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            WaveStatus::Open => "open",
            WaveStatus::Closed => "closed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "open" => Some(WaveStatus::Open),
            "closed" => Some(WaveStatus::Closed),
            _ => None,
        }
    }
}

impl std::fmt::Display for WaveStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl ToSql<Text, Sqlite> for WaveStatus {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(self.as_str());
        Ok(IsNull::No)
    }
}

impl FromSql<Text, Sqlite> for WaveStatus {
    fn from_sql(value: SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
        let text = <String as FromSql<Text, Sqlite>>::from_sql(value)?;
        WaveStatus::parse(&text).ok_or_else(|| format!("unknown wave status {text:?}").into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stored_and_the_json_text_are_the_lower_case_names() {
        for (status, text) in [(WaveStatus::Open, "open"), (WaveStatus::Closed, "closed")] {
            assert_eq!(status.to_string(), text);
            assert_eq!(WaveStatus::parse(text), Some(status));
            assert_eq!(
                serde_json::to_string(&status).expect("serialises"),
                format!("\"{text}\"")
            );
        }
        assert_eq!(WaveStatus::parse("Open"), None);
    }
}
