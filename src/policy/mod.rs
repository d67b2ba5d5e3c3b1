//! The city policy's actions for a psychologically safe workplace, as data (chapter 4): the
//! keywords 共有 (sharing) and サポート (support), each with three actions for all staff and
//! three for managers, and the conversation prompts from managers to staff (声掛け例).
//!
//! The text lives in `actions.toml` beside this file, compiled in; [`PolicyActions::shipped`]
//! parses and checks it. A manager's page offers the actions as a checklist for the team's
//! plan and suggests the keywords and prompts that fit the team's zone first
//! ([`PolicyActions::for_zone`]).

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::aggregation::Zone;
use crate::i18n::Lang;

const SHIPPED: &str = include_str!("actions.toml");

/// The number of actions the policy lists per keyword, for staff and for managers each.
pub const ACTIONS_PER_KEYWORD: usize = 3;

/// A text in both languages.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Text {
    pub ja: String,
    pub en: String,
}

impl Text {
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Ja => &self.ja,
            Lang::En => &self.en,
        }
    }
}

/// One action of the policy, with a stable id a plan can refer to.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Action {
    pub id: String,
    pub ja: String,
    pub en: String,
}

impl Action {
    pub fn text(&self, lang: Lang) -> &str {
        match lang {
            Lang::Ja => &self.ja,
            Lang::En => &self.en,
        }
    }
}

/// 共有 or サポート with its actions.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Keyword {
    pub id: String,
    pub name: Text,
    /// The zones where this keyword is suggested first.
    pub zones: Vec<Zone>,
    /// 一般職員の取組.
    pub staff: Vec<Action>,
    /// 管理職の取組.
    pub managers: Vec<Action>,
}

/// One of the policy's conversation prompts (声掛け例, from a manager to staff).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Prompt {
    pub id: String,
    pub guidance: Text,
    /// The policy's example sentence.
    pub example: Text,
    /// The zones where this prompt is suggested first.
    pub zones: Vec<Zone>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyActions {
    pub keywords: Vec<Keyword>,
    pub prompts: Vec<Prompt>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("policy actions: {0}")]
    Parse(String),
    #[error("policy actions: keyword {keyword:?} has {staff} staff and {managers} manager actions; the policy lists {ACTIONS_PER_KEYWORD} and {ACTIONS_PER_KEYWORD}")]
    ActionCount {
        keyword: String,
        staff: usize,
        managers: usize,
    },
    #[error("policy actions: the id {0:?} is used twice")]
    DuplicateId(String),
    #[error("policy actions: {0:?} has an empty text")]
    EmptyText(String),
}

impl PolicyActions {
    /// The actions compiled into the binary, parsed once (every team page reads them).
    pub fn shipped() -> Result<&'static PolicyActions, PolicyError> {
        static PARSED: std::sync::OnceLock<Result<PolicyActions, PolicyError>> =
            std::sync::OnceLock::new();
        PARSED
            .get_or_init(|| PolicyActions::parse(SHIPPED))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Parses and checks the shape: three staff and three manager actions per keyword,
    /// unique ids, no empty text in either language.
    pub fn parse(text: &str) -> Result<PolicyActions, PolicyError> {
        let actions: PolicyActions =
            toml::from_str(text).map_err(|e| PolicyError::Parse(e.to_string()))?;
        let mut ids = HashSet::new();
        let mut check = |id: &str, texts: &[&str]| {
            if !ids.insert(id.to_string()) {
                return Err(PolicyError::DuplicateId(id.to_string()));
            }
            if id.trim().is_empty() || texts.iter().any(|t| t.trim().is_empty()) {
                return Err(PolicyError::EmptyText(id.to_string()));
            }
            Ok(())
        };
        for keyword in &actions.keywords {
            if keyword.staff.len() != ACTIONS_PER_KEYWORD
                || keyword.managers.len() != ACTIONS_PER_KEYWORD
            {
                return Err(PolicyError::ActionCount {
                    keyword: keyword.id.clone(),
                    staff: keyword.staff.len(),
                    managers: keyword.managers.len(),
                });
            }
            check(&keyword.id, &[&keyword.name.ja, &keyword.name.en])?;
            for action in keyword.staff.iter().chain(&keyword.managers) {
                check(&action.id, &[&action.ja, &action.en])?;
            }
        }
        for prompt in &actions.prompts {
            check(
                &prompt.id,
                &[
                    &prompt.guidance.ja,
                    &prompt.guidance.en,
                    &prompt.example.ja,
                    &prompt.example.en,
                ],
            )?;
        }
        Ok(actions)
    }

    /// Any action by its id (a plan's checklist stores ids).
    pub fn action(&self, id: &str) -> Option<&Action> {
        self.keywords
            .iter()
            .flat_map(|k| k.staff.iter().chain(&k.managers))
            .find(|a| a.id == id)
    }

    /// The keywords and prompts in the order to suggest them for a team in `zone`: those
    /// listed for the zone first, the rest after, each group in the policy's order. Without a
    /// zone (hidden or not measured), the policy's order.
    pub fn for_zone(&self, zone: Option<Zone>) -> (Vec<&Keyword>, Vec<&Prompt>) {
        let fits = |zones: &[Zone]| zone.is_some_and(|z| zones.contains(&z));
        let mut keywords: Vec<&Keyword> = self.keywords.iter().collect();
        keywords.sort_by_key(|k| !fits(&k.zones));
        let mut prompts: Vec<&Prompt> = self.prompts.iter().collect();
        prompts.sort_by_key(|p| !fits(&p.zones));
        (keywords, prompts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_actions_are_the_policys_three_and_three_under_each_keyword() {
        let actions = PolicyActions::shipped().expect("the shipped file is valid");
        let names: Vec<&str> = actions
            .keywords
            .iter()
            .map(|k| k.name.ja.as_str())
            .collect();
        assert_eq!(names, ["共有", "サポート"]);
        let sharing = &actions.keywords[0];
        assert!(sharing.staff[1]
            .ja
            .starts_with("業務に必要な情報（知識・ノウハウ等）を職場内で共有し"));
        assert!(actions.keywords[1].managers[2]
            .ja
            .contains("ライフステージ"));
        assert_eq!(actions.prompts.len(), 3);
        assert_eq!(actions.prompts[0].example.ja, "○○さんはどう思う？");
        assert_eq!(
            actions
                .action("support_manager_feedback")
                .map(|a| a.text(Lang::En)),
            Some(
                "Give staff fitting advice and feedback on their work, so that they grow and \
                 do well towards the team's goals."
            )
        );
        assert!(actions.action("nothing").is_none());
    }

    #[test]
    fn a_zone_brings_its_keywords_and_prompts_first() {
        let actions = PolicyActions::shipped().expect("valid");
        let (keywords, prompts) = actions.for_zone(Some(Zone::Anxiety));
        assert_eq!(keywords[0].id, "support");
        assert_eq!(prompts[0].id, "listen");
        assert_eq!(prompts.last().map(|p| p.id.as_str()), Some("recognise"));
        let (keywords, prompts) = actions.for_zone(Some(Zone::Learning));
        assert_eq!(keywords.len(), 2);
        assert_eq!(prompts[0].id, "recognise");
        let (keywords, _) = actions.for_zone(None);
        assert_eq!(keywords[0].id, "sharing", "the policy's order");
    }

    #[test]
    fn a_file_of_the_wrong_shape_is_refused_with_the_reason() {
        let shipped = SHIPPED.to_string();
        let two_staff = shipped.replacen(
            "[[keywords.staff]]\nid = \"sharing_staff_ideas\"",
            "[[keywords.managers]]\nid = \"sharing_staff_ideas\"",
            1,
        );
        assert!(matches!(
            PolicyActions::parse(&two_staff),
            Err(PolicyError::ActionCount {
                staff: 2,
                managers: 4,
                ..
            })
        ));
        let duplicate = shipped.replace(
            "id = \"support_staff_growth\"",
            "id = \"sharing_staff_goals\"",
        );
        assert_eq!(
            PolicyActions::parse(&duplicate),
            Err(PolicyError::DuplicateId("sharing_staff_goals".into()))
        );
        let empty = shipped.replace(
            "example = { ja = \"○○さんはどう思う？\"",
            "example = { ja = \" \"",
        );
        assert_eq!(
            PolicyActions::parse(&empty),
            Err(PolicyError::EmptyText("listen".into()))
        );
        assert!(matches!(
            PolicyActions::parse("keywords = 1"),
            Err(PolicyError::Parse(_))
        ));
    }
}
