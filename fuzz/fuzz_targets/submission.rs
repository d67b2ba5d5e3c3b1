//! A submitted survey body: strict urlencoded decoding, then validation against the default
//! instrument. Any bytes must give a response draft or a rejection, never a panic.
#![no_main]

use std::sync::OnceLock;

use anshin::collection::form;
use anshin::survey::SurveyDefinition;
use libfuzzer_sys::fuzz_target;

fn definition() -> &'static SurveyDefinition {
    static DEFINITION: OnceLock<SurveyDefinition> = OnceLock::new();
    DEFINITION.get_or_init(|| {
        SurveyDefinition::parse(
            include_str!("../../survey-definitions/workplace-climate.toml"),
            "workplace-climate.toml",
        )
        .expect("the shipped instrument is valid")
    })
}

fuzz_target!(|data: &[u8]| {
    if let Some(pairs) = form::decode(data) {
        let _ = form::parse(
            definition(),
            &pairs,
            &["code", "step", "switch_lang", "lang"],
        );
    }
});
