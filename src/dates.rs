//! Dates as Anshin stores them: a day, never a time of day (a wave's opening and closing,
//! an account's creation, a plan's creation).

/// Today in UTC as `YYYY-MM-DD`.
pub fn today() -> String {
    let date = time::OffsetDateTime::now_utc().date();
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}
