//! Languages and the message catalogue. Japanese is the default; English is the second.
//!
//! Messages live in `templates/messages.toml` (`key = { ja = "…", en = "…" }`), loaded once at
//! start and checked to have both languages for every key.

use std::collections::HashMap;
use std::path::Path;
use std::sync::OnceLock;

use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub enum Lang {
    #[default]
    #[serde(rename = "ja")]
    Ja,
    #[serde(rename = "en")]
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Ja => "ja",
            Lang::En => "en",
        }
    }

    pub fn from_code(code: &str) -> Option<Lang> {
        match code.trim().to_ascii_lowercase().as_str() {
            "ja" => Some(Lang::Ja),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    pub fn other(self) -> Lang {
        match self {
            Lang::Ja => Lang::En,
            Lang::En => Lang::Ja,
        }
    }

    /// Picks the first supported language of an `Accept-Language` header, honouring q-values.
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        let mut candidates: Vec<(f32, usize, Lang)> = header
            .split(',')
            .enumerate()
            .filter_map(|(position, part)| {
                let mut pieces = part.split(';');
                let tag = pieces.next()?.trim();
                let primary = tag.split('-').next()?;
                let lang = Lang::from_code(primary)?;
                let quality = pieces
                    .find_map(|p| {
                        p.trim()
                            .strip_prefix("q=")
                            .and_then(|q| q.parse::<f32>().ok())
                    })
                    .unwrap_or(1.0);
                (quality > 0.0).then_some((quality, position, lang))
            })
            .collect();
        candidates.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        candidates.first().map(|c| c.2)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    ja: String,
    en: String,
}

/// Every user-visible message in both languages.
#[derive(Debug, Clone)]
pub struct Catalog {
    ja: HashMap<String, String>,
    en: HashMap<String, String>,
}

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
}

impl Catalog {
    pub fn load(path: &Path) -> Result<Self, CatalogError> {
        let display = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| CatalogError::Read {
            path: display.clone(),
            source,
        })?;
        Self::parse(&text).map_err(|message| CatalogError::Invalid {
            path: display,
            message,
        })
    }

    fn parse(text: &str) -> Result<Self, String> {
        let entries: HashMap<String, Entry> = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut catalog = Catalog {
            ja: HashMap::new(),
            en: HashMap::new(),
        };
        for (key, entry) in entries {
            if entry.ja.trim().is_empty() || entry.en.trim().is_empty() {
                return Err(format!("message {key:?} lacks a translation"));
            }
            catalog.ja.insert(key.clone(), entry.ja);
            catalog.en.insert(key, entry.en);
        }
        Ok(catalog)
    }

    /// All messages of one language, for a template context.
    pub fn messages(&self, lang: Lang) -> &HashMap<String, String> {
        match lang {
            Lang::Ja => &self.ja,
            Lang::En => &self.en,
        }
    }

    /// One message; a missing key shows the key itself rather than failing a page.
    pub fn get<'a>(&'a self, lang: Lang, key: &'a str) -> &'a str {
        self.messages(lang).get(key).map_or(key, String::as_str)
    }

    /// The catalogue as shipped (`templates/messages.toml`, compiled in), for text drawn
    /// outside a page template: the charts. Pages read the file at start instead.
    pub fn shipped() -> &'static Catalog {
        static SHIPPED: OnceLock<Catalog> = OnceLock::new();
        SHIPPED.get_or_init(|| {
            Catalog::parse(include_str!("../templates/messages.toml")).unwrap_or_else(|message| {
                // Unreachable for a built binary (a unit test loads the same file); a key
                // then shows as itself.
                tracing::error!(%message, "the compiled-in message catalogue does not parse");
                Catalog {
                    ja: HashMap::new(),
                    en: HashMap::new(),
                }
            })
        })
    }
}

/// One message of the shipped catalogue ([`Catalog::shipped`]).
pub fn text(lang: Lang, key: &'static str) -> &'static str {
    Catalog::shipped().get(lang, key)
}

/// One message of the shipped catalogue with its `{name}` placeholders filled in, in one
/// pass: a value that itself holds `{…}` (a workplace's name) is never filled in again.
pub fn text_with(lang: Lang, key: &'static str, values: &[(&str, &str)]) -> String {
    let mut rest = text(lang, key);
    let mut filled = String::with_capacity(rest.len());
    while let Some(open) = rest.find('{') {
        filled.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let value = after.find('}').and_then(|close| {
            let name = &after[..close];
            let (_, value) = values.iter().find(|(n, _)| *n == name)?;
            Some((*value, close))
        });
        match value {
            Some((value, close)) => {
                filled.push_str(value);
                rest = &after[close + 1..];
            }
            None => {
                filled.push('{');
                rest = after;
            }
        }
    }
    filled.push_str(rest);
    filled
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_respects_order_and_quality() {
        assert_eq!(
            Lang::from_accept_language("en-US,en;q=0.9,ja;q=0.8"),
            Some(Lang::En)
        );
        assert_eq!(
            Lang::from_accept_language("fr, ja;q=0.5, en;q=0.4"),
            Some(Lang::Ja)
        );
        assert_eq!(
            Lang::from_accept_language("en;q=0.2, ja-JP"),
            Some(Lang::Ja)
        );
        assert_eq!(Lang::from_accept_language("de, fr"), None);
        assert_eq!(Lang::from_accept_language("en;q=0"), None);
    }

    #[test]
    fn placeholders_are_filled_once() {
        assert_eq!(
            text_with(
                Lang::Ja,
                "chart_cell_title",
                &[("group", "{mean}課"), ("dimension", "D"), ("mean", "3.50")]
            ),
            "{mean}課・D：平均 3.50（詳細を表示）"
        );
        assert_eq!(text(Lang::En, "no_such_key"), "no_such_key");
    }

    /// Every `"chart_…"` key the charts look up is in the shipped catalogue.
    #[test]
    fn every_chart_message_is_in_the_catalogue() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/charts");
        let mut used = 0;
        for entry in std::fs::read_dir(dir).expect("charts dir") {
            let source = std::fs::read_to_string(entry.expect("entry").path()).expect("source");
            for piece in source.split("\"chart_").skip(1) {
                let key = format!(
                    "chart_{}",
                    &piece[..piece.find('"').expect("closing quote")]
                );
                for lang in [Lang::Ja, Lang::En] {
                    assert_ne!(Catalog::shipped().get(lang, &key), key, "{key} missing");
                }
                used += 1;
            }
        }
        assert!(used > 30, "{used}");
    }

    #[test]
    fn the_shipped_catalogue_has_both_languages() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/messages.toml");
        let catalog = Catalog::load(&path).expect("catalogue loads");
        assert_eq!(
            catalog.messages(Lang::Ja).len(),
            catalog.messages(Lang::En).len()
        );
        assert!(Catalog::parse("k = { ja = \"x\", en = \"\" }").is_err());
    }

    #[test]
    fn every_reason_for_a_hidden_figure_is_explained_in_both_languages() {
        use crate::aggregation::guard::HiddenReason;
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/messages.toml");
        let catalog = Catalog::load(&path).expect("catalogue loads");
        let keys = [
            HiddenReason::TooFewResponses,
            HiddenReason::ProtectsSmallerGroup,
            HiddenReason::TotalHidden,
            HiddenReason::TooFewOrProtectsSmallerGroup,
        ]
        .map(HiddenReason::message_key);
        for key in keys
            .iter()
            .chain(&["hidden_details_need_k2", "hidden_what_hr_can_do"])
        {
            for lang in [Lang::Ja, Lang::En] {
                assert_ne!(catalog.get(lang, key), *key, "{key} missing in {lang:?}");
            }
        }
        assert!(catalog
            .get(Lang::Ja, "hidden_protects_smaller_group")
            .contains("守る"));
        assert!(catalog
            .get(Lang::Ja, "hidden_what_hr_can_do")
            .contains("集計単位"));
    }
}
