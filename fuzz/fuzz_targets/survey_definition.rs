//! The survey-definition loader must answer any text with a definition or an error, never a
//! panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = anshin::survey::SurveyDefinition::parse(text, "fuzz.toml");
    }
});
