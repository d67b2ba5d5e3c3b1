//! The server secret: the key for invitation-code hashes and session cookies.
//!
//! It lives in its own file (mode 0600), never in the database, so that a copy of the
//! database alone cannot be matched against printed codes.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use rand::RngCore;

const SECRET_BYTES: usize = 32;

#[derive(Clone)]
pub struct ServerSecret([u8; SECRET_BYTES]);

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("cannot read the secret file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot create the secret file {path}: {source}")]
    Create {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the secret file {path} is damaged: expected {SECRET_BYTES} bytes as hex")]
    Damaged { path: PathBuf },
}

impl ServerSecret {
    pub fn from_bytes(bytes: [u8; SECRET_BYTES]) -> Self {
        ServerSecret(bytes)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Reads the secret file, creating it with a fresh random secret on first start.
    pub fn load_or_create(path: &Path) -> Result<Self, SecretError> {
        match fs::read_to_string(path) {
            Ok(text) => {
                let bytes = hex::decode(text.trim())
                    .map_err(|_| SecretError::Damaged { path: path.into() })?;
                let bytes: [u8; SECRET_BYTES] = bytes
                    .try_into()
                    .map_err(|_| SecretError::Damaged { path: path.into() })?;
                Ok(ServerSecret(bytes))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Self::create(path),
            Err(source) => Err(SecretError::Read {
                path: path.into(),
                source,
            }),
        }
    }

    fn create(path: &Path) -> Result<Self, SecretError> {
        let mut bytes = [0u8; SECRET_BYTES];
        rand::rng().fill_bytes(&mut bytes);
        let create_error = |source| SecretError::Create {
            path: path.into(),
            source,
        };
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(path).map_err(create_error)?;
        file.write_all(hex::encode(bytes).as_bytes())
            .map_err(create_error)?;
        file.sync_all().map_err(create_error)?;
        Ok(ServerSecret(bytes))
    }
}

impl std::fmt::Debug for ServerSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerSecret(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_start_creates_a_private_file_and_later_starts_reuse_it() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("anshin.secret");
        let first = ServerSecret::load_or_create(&path).expect("created");
        let second = ServerSecret::load_or_create(&path).expect("read back");
        assert_eq!(first.as_bytes(), second.as_bytes());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).expect("metadata").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_damaged_file_is_reported_not_replaced() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("anshin.secret");
        fs::write(&path, "not hex").expect("write");
        assert!(matches!(
            ServerSecret::load_or_create(&path),
            Err(SecretError::Damaged { .. })
        ));
    }
}
