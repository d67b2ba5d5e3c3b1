//! One byte per item, in the definition's item order; [`NO_ANSWER`] marks a missing answer.
//! Scales run from 0 to 10 at most, so every real value fits below it.

pub const NO_ANSWER: u8 = u8::MAX;

/// Encodes per-item answers (`None` = not answered or "prefer not to answer").
pub fn encode(answers: &[Option<u8>]) -> Vec<u8> {
    answers.iter().map(|a| a.unwrap_or(NO_ANSWER)).collect()
}

/// Decodes stored bytes back into per-item answers.
pub fn decode(bytes: &[u8]) -> Vec<Option<u8>> {
    bytes
        .iter()
        .map(|&b| (b != NO_ANSWER).then_some(b))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_keeps_values_and_gaps() {
        let answers = vec![Some(1), None, Some(5), Some(0), Some(10), None];
        let bytes = encode(&answers);
        assert_eq!(bytes.len(), answers.len());
        assert_eq!(decode(&bytes), answers);
    }
}
