//! The organisation CSV parser and hierarchy check must answer any bytes with rows or a
//! line-numbered error, never a panic.
#![no_main]

use std::collections::HashMap;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(rows) = anshin::org::parse_csv(data) {
        let _ = anshin::org::check_hierarchy(&rows, &HashMap::new());
    }
});
