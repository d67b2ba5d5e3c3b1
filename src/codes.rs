//! Invitation codes: generation, the forgiving normalisation of what a person types, and the
//! keyed hash that is the only form in which a code is ever stored.

use std::fmt;
use std::path::{Path, PathBuf};

use diesel::prelude::*;

use hmac::{Hmac, Mac};
use rand::Rng;
use sha2::Sha256;

use crate::collection::slots::{self, SlotShape};
use crate::db::schema::{invitation_codes, waves, workplaces};
use crate::secret::ServerSecret;
use crate::survey::SurveyDefinition;
use crate::wave_status::WaveStatus;

/// Crockford base32: no I, L, O or U, so codes survive being read aloud or retyped.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// 16 symbols × 5 bits = 80 bits of randomness.
const CODE_SYMBOLS: usize = 16;
const GROUP: usize = 4;

/// A syntactically valid code in canonical form (16 upper-case Crockford symbols).
///
/// `Debug` and `Display` never print the code itself, so it cannot slip into a log line.
#[derive(Clone, PartialEq, Eq)]
pub struct InvitationCode(String);

impl InvitationCode {
    /// A fresh random code.
    pub fn generate(rng: &mut impl Rng) -> Self {
        let symbols = (0..CODE_SYMBOLS)
            .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
            .collect();
        InvitationCode(symbols)
    }

    /// Accepts a code however a person typed it: any case, spaces or hyphens anywhere, and
    /// the look-alikes I/L for 1 and O for 0. Returns `None` if it cannot be a code.
    pub fn parse(typed: &str) -> Option<Self> {
        let mut canonical = String::with_capacity(CODE_SYMBOLS);
        for c in typed.chars() {
            let symbol = match c.to_ascii_uppercase() {
                ' ' | '-' | '\u{3000}' | '\t' => continue,
                'I' | 'L' => '1',
                'O' => '0',
                c if c.is_ascii() && ALPHABET.contains(&(c as u8)) => c,
                _ => return None,
            };
            canonical.push(symbol);
            if canonical.len() > CODE_SYMBOLS {
                return None;
            }
        }
        (canonical.len() == CODE_SYMBOLS).then_some(InvitationCode(canonical))
    }

    /// The form printed on slips and in links: `ABCD-EFGH-JKMN-PQRS`.
    pub fn display_form(&self) -> String {
        self.0
            .as_bytes()
            .chunks(GROUP)
            .map(|chunk| String::from_utf8_lossy(chunk).into_owned())
            .collect::<Vec<_>>()
            .join("-")
    }

    /// The keyed hash stored in the database. Without the server secret (kept outside the
    /// database) a leaked database cannot be matched against printed codes.
    pub fn keyed_hash(&self, secret: &ServerSecret) -> CodeHash {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
            .expect("HMAC accepts keys of any length");
        mac.update(b"anshin invitation code v1\0");
        mac.update(self.0.as_bytes());
        CodeHash(mac.finalize().into_bytes().into())
    }
}

impl fmt::Debug for InvitationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("InvitationCode(<redacted>)")
    }
}

/// HMAC-SHA256 of a canonical code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CodeHash(pub [u8; 32]);

#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    #[error("wave {0} does not exist")]
    UnknownWave(i32),
    #[error("wave {0} is closed: its codes would never work")]
    WaveClosed(i32),
    #[error("unknown workplace {0:?}")]
    UnknownWorkplace(String),
    #[error("count must be between 1 and {MAX_CODES_PER_BATCH}")]
    BadCount,
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("database error: {0}")]
    Database(#[from] diesel::result::Error),
}

/// What `codes issue` is asked for.
#[derive(Debug, Clone, Copy)]
pub struct IssueRequest<'a> {
    pub wave_id: i32,
    pub workplace_code: &'a str,
    pub count: usize,
    /// Public base URL of the survey, for the links.
    pub base_url: &'a str,
}

pub const MAX_CODES_PER_BATCH: usize = 1_000_000;
/// Rows per multi-row INSERT: keeps each statement under SQLite's bound-parameter limit.
const INSERT_CHUNK: usize = 2_000;

/// Issues `count` fresh codes for one workplace of an open wave and writes them to `out` as
/// `workplace,code,url`. The CSV is written to a temporary file first and renamed only after
/// the codes are committed, so a failure leaves neither a half file nor orphan codes.
pub fn issue_to_file(
    conn: &mut SqliteConnection,
    secret: &ServerSecret,
    request: &IssueRequest,
    out: &Path,
    progress: impl FnMut(usize),
) -> Result<(), IssueError> {
    let (workplace_id, codes) = prepare_codes(conn, request)?;
    let IssueRequest {
        wave_id,
        workplace_code,
        base_url,
        ..
    } = *request;

    let temp_path = out.with_extension("csv.partial");
    let write_error = |source| IssueError::Write {
        path: out.to_path_buf(),
        source,
    };
    write_codes_csv(&temp_path, workplace_code, &codes, base_url).map_err(write_error)?;

    if let Err(e) = store_new_codes(conn, secret, wave_id, workplace_id, &codes, progress) {
        // Best effort: the partial file holds codes that were never stored.
        let _ = std::fs::remove_file(&temp_path);
        return Err(e.into());
    }
    std::fs::rename(&temp_path, out).map_err(write_error)?;
    Ok(())
}

/// Checks an issue request (count, open wave, known workplace) and draws the fresh codes;
/// returns the workplace's id and the codes, not yet stored.
pub fn prepare_codes(
    conn: &mut SqliteConnection,
    request: &IssueRequest,
) -> Result<(i32, Vec<InvitationCode>), IssueError> {
    if !(1..=MAX_CODES_PER_BATCH).contains(&request.count) {
        return Err(IssueError::BadCount);
    }
    let wave_status: Option<WaveStatus> = waves::table
        .find(request.wave_id)
        .select(waves::status)
        .first(conn)
        .optional()?;
    match wave_status {
        None => return Err(IssueError::UnknownWave(request.wave_id)),
        Some(WaveStatus::Open) => {}
        Some(WaveStatus::Closed) => return Err(IssueError::WaveClosed(request.wave_id)),
    }
    let workplace_id: i32 = workplaces::table
        .filter(workplaces::code.eq(request.workplace_code))
        .select(workplaces::id)
        .first(conn)
        .optional()?
        .ok_or_else(|| IssueError::UnknownWorkplace(request.workplace_code.to_string()))?;
    let mut rng = rand::rng();
    let codes = (0..request.count)
        .map(|_| InvitationCode::generate(&mut rng))
        .collect();
    Ok((workplace_id, codes))
}

/// The link printed on a slip and in the CSV: `BASE/s/CODE`.
pub fn invitation_url(base_url: &str, code: &InvitationCode) -> String {
    format!(
        "{}/s/{}",
        base_url.trim_end_matches('/'),
        code.display_form()
    )
}

/// Issues fresh codes for one workplace and stores their hashes (the dashboard's batch):
/// the workplace's name and the codes, which exist nowhere else from now on.
pub fn issue(
    conn: &mut SqliteConnection,
    secret: &ServerSecret,
    request: &IssueRequest,
) -> Result<(String, Vec<InvitationCode>), IssueError> {
    let (workplace_id, issued) = prepare_codes(conn, request)?;
    store_new_codes(conn, secret, request.wave_id, workplace_id, &issued, |_| {})?;
    let name = crate::org::load_all(conn)?
        .into_iter()
        .find(|w| w.id == workplace_id)
        .map(|w| w.name)
        .unwrap_or_default();
    Ok((name, issued))
}

/// Writes `workplace,code,url` rows (with a header) for Excel or a mail merge.
pub fn write_codes(
    out: impl std::io::Write,
    workplace_code: &str,
    codes: &[InvitationCode],
    base_url: &str,
) -> csv::Result<()> {
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record(["workplace", "code", "url"])?;
    // Every cell is text: through `text_cell`, so a workplace code such as `=HYPERLINK(…)`
    // reaches Excel as text, not as a formula.
    let workplace_code = crate::csv_safe::text_cell(workplace_code);
    for code in codes {
        let url = invitation_url(base_url, code);
        writer.write_record([
            workplace_code.as_ref(),
            crate::csv_safe::text_cell(&code.display_form()).as_ref(),
            crate::csv_safe::text_cell(&url).as_ref(),
        ])?;
    }
    writer.flush()?;
    Ok(())
}

/// Stores the keyed hashes of `codes` for one workplace of a wave, and one empty response
/// slot (and comment slot) per code, in one transaction.
pub fn store_new_codes(
    conn: &mut SqliteConnection,
    secret: &ServerSecret,
    wave_id: i32,
    workplace_id: i32,
    codes: &[InvitationCode],
    mut progress: impl FnMut(usize),
) -> QueryResult<()> {
    conn.immediate_transaction(|conn| {
        let mut done = 0;
        for chunk in codes.chunks(INSERT_CHUNK) {
            let rows: Vec<_> = chunk
                .iter()
                .map(|code| {
                    (
                        invitation_codes::code_hash.eq(code.keyed_hash(secret).0.to_vec()),
                        invitation_codes::wave_id.eq(wave_id),
                        invitation_codes::workplace_id.eq(workplace_id),
                    )
                })
                .collect();
            diesel::insert_into(invitation_codes::table)
                .values(&rows)
                .execute(conn)?;
            done += chunk.len();
            progress(done);
        }
        let definition_toml: String = waves::table
            .find(wave_id)
            .select(waves::definition_toml)
            .first(conn)?;
        let definition = SurveyDefinition::parse(&definition_toml, &format!("wave {wave_id}"))
            .map_err(|e| diesel::result::Error::QueryBuilderError(e.to_string().into()))?;
        slots::allocate(
            conn,
            wave_id,
            workplace_id,
            codes.len(),
            SlotShape::of(&definition),
        )
    })
}

fn write_codes_csv(
    path: &Path,
    workplace_code: &str,
    codes: &[InvitationCode],
    base_url: &str,
) -> std::io::Result<()> {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
    write_codes(&mut file, workplace_code, codes, base_url)?;
    file.into_inner().map_err(|e| e.into_error())?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn generated_codes_round_trip_through_their_printed_form() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for _ in 0..100 {
            let code = InvitationCode::generate(&mut rng);
            assert_eq!(InvitationCode::parse(&code.display_form()), Some(code));
        }
    }

    #[test]
    fn typing_variations_are_accepted() {
        let canonical = InvitationCode::parse("ABCD-EFGH-JKMN-PQRS").expect("valid");
        for typed in [
            "abcd efgh jkmn pqrs",
            "ABCDEFGHJKMNPQRS",
            " abcd-efgh-jkmnpqrs ",
            "abcd　efgh-jkmn-pqrs",
        ] {
            assert_eq!(
                InvitationCode::parse(typed).as_ref(),
                Some(&canonical),
                "{typed}"
            );
        }
        let with_lookalikes = InvitationCode::parse("ilo0-0000-0000-0000").expect("valid");
        assert_eq!(
            with_lookalikes,
            InvitationCode::parse("1100-0000-0000-0000").expect("valid")
        );
    }

    #[test]
    fn impossible_codes_are_rejected() {
        for typed in [
            "",
            "ABCD",
            "ABCD-EFGH-JKMN-PQRSX",
            "ABCD-EFGH-JKMN-PQRU",
            "ＡＢＣＤ-EFGH-JKMN-PQRS",
            "../../etc",
        ] {
            assert_eq!(InvitationCode::parse(typed), None, "{typed}");
        }
    }

    #[test]
    fn hash_depends_on_the_secret_and_debug_hides_the_code() {
        let code = InvitationCode::parse("ABCD-EFGH-JKMN-PQRS").expect("valid");
        let a = ServerSecret::from_bytes([1; 32]);
        let b = ServerSecret::from_bytes([2; 32]);
        assert_ne!(code.keyed_hash(&a), code.keyed_hash(&b));
        assert_eq!(code.keyed_hash(&a), code.keyed_hash(&a));
        assert!(!format!("{code:?}").contains("ABCD"));
    }
}
