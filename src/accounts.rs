//! HR and manager accounts: argon2id password hashes and manager scopes.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use diesel::prelude::*;

use crate::db::schema::{accounts, manager_scopes, workplaces};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Hr,
    Manager,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Hr => "hr",
            Role::Manager => "manager",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "hr" => Some(Role::Hr),
            "manager" => Some(Role::Manager),
            _ => None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("the login must be 1 to 64 visible characters without spaces")]
    BadLogin,
    #[error("the password must be at least {MIN_PASSWORD_CHARS} characters")]
    WeakPassword,
    #[error("a manager needs at least one --workplace")]
    ManagerWithoutWorkplace,
    #[error("an HR account sees every workplace: do not give it --workplace")]
    HrWithWorkplace,
    #[error("unknown workplace {0:?}")]
    UnknownWorkplace(String),
    #[error("login {0:?} is already taken")]
    LoginTaken(String),
    #[error("cannot hash the password: {0}")]
    Hash(String),
    #[error("database error: {0}")]
    Database(#[from] diesel::result::Error),
}

pub const MIN_PASSWORD_CHARS: usize = 10;

/// An argon2id hash in PHC string form (salt and parameters included).
pub fn hash_password(password: &str) -> Result<String, AccountError> {
    let mut salt_bytes = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut salt_bytes);
    let salt =
        SaltString::encode_b64(&salt_bytes).map_err(|e| AccountError::Hash(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| AccountError::Hash(e.to_string()))
}

pub fn verify_password(password: &str, stored_hash: &str) -> bool {
    PasswordHash::new(stored_hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Creates an account; a manager is scoped to the given workplaces (and their subtrees).
pub fn add_user(
    conn: &mut SqliteConnection,
    login: &str,
    role: Role,
    password: &str,
    workplace_codes: &[String],
) -> Result<i32, AccountError> {
    if login.is_empty()
        || login.chars().count() > 64
        || login.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(AccountError::BadLogin);
    }
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AccountError::WeakPassword);
    }
    match role {
        Role::Manager if workplace_codes.is_empty() => {
            return Err(AccountError::ManagerWithoutWorkplace)
        }
        Role::Hr if !workplace_codes.is_empty() => return Err(AccountError::HrWithWorkplace),
        _ => {}
    }
    let password_hash = hash_password(password)?;
    conn.immediate_transaction(|conn| {
        let taken: i64 = accounts::table
            .filter(accounts::login.eq(login))
            .count()
            .get_result(conn)?;
        if taken > 0 {
            return Err(AccountError::LoginTaken(login.to_string()));
        }
        let mut scope_ids = Vec::with_capacity(workplace_codes.len());
        for code in workplace_codes {
            let id: i32 = workplaces::table
                .filter(workplaces::code.eq(code))
                .select(workplaces::id)
                .first(conn)
                .optional()?
                .ok_or_else(|| AccountError::UnknownWorkplace(code.clone()))?;
            scope_ids.push(id);
        }
        let account_id: i32 = diesel::insert_into(accounts::table)
            .values((
                accounts::login.eq(login),
                accounts::password_hash.eq(&password_hash),
                accounts::role.eq(role.as_str()),
                accounts::created_at.eq(crate::waves::today()),
            ))
            .returning(accounts::id)
            .get_result(conn)?;
        for workplace_id in scope_ids {
            diesel::insert_into(manager_scopes::table)
                .values((
                    manager_scopes::account_id.eq(account_id),
                    manager_scopes::workplace_id.eq(workplace_id),
                ))
                .on_conflict_do_nothing()
                .execute(conn)?;
        }
        Ok(account_id)
    })
}

/// A signed-in account as the web layer needs it: who, which role, and for a manager the
/// workplaces (with their subtrees) they may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: i32,
    pub login: String,
    pub role: Role,
    /// Codes of every workplace a manager may see; empty for HR, who see everything.
    pub visible_workplaces: std::collections::BTreeSet<String>,
    /// The workplaces a manager was given (the roots of `visible_workplaces`).
    pub own_workplaces: Vec<String>,
}

impl Account {
    pub fn may_see(&self, workplace_code: &str) -> bool {
        self.role == Role::Hr || self.visible_workplaces.contains(workplace_code)
    }
}

/// Every manager with the codes of the workplaces they were given: (login, "T1, T2").
pub fn managers(conn: &mut SqliteConnection) -> QueryResult<Vec<(String, String)>> {
    let rows: Vec<(String, Option<String>)> = accounts::table
        .left_join(manager_scopes::table.inner_join(workplaces::table))
        .filter(accounts::role.eq(Role::Manager.as_str()))
        .select((accounts::login, workplaces::code.nullable()))
        .order((accounts::login, workplaces::code.nullable()))
        .load(conn)?;
    let mut managers: Vec<(String, String)> = Vec::new();
    for (login, code) in rows {
        let code = code.unwrap_or_default();
        match managers.last_mut() {
            Some((last, codes)) if *last == login => {
                codes.push_str(", ");
                codes.push_str(&code);
            }
            _ => managers.push((login, code)),
        }
    }
    Ok(managers)
}

/// An argon2id hash of a random password nobody knows, checked for unknown logins.
fn unknown_login_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| {
        let mut password = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut password);
        hash_password(&hex::encode(password)).unwrap_or_default()
    })
}

/// Checks a login and password; `None` for an unknown login or a wrong password.
pub fn authenticate(
    conn: &mut SqliteConnection,
    login: &str,
    password: &str,
) -> QueryResult<Option<i32>> {
    let found: Option<(i32, String)> = accounts::table
        .filter(accounts::login.eq(login))
        .select((accounts::id, accounts::password_hash))
        .first(conn)
        .optional()?;
    match found {
        Some((id, hash)) => Ok(verify_password(password, &hash).then_some(id)),
        None => {
            // Spend the same argon2 time on an unknown login, so timing does not tell which
            // logins exist.
            let _ = verify_password(password, unknown_login_hash());
            Ok(None)
        }
    }
}

/// Loads an account with its visible workplaces; `None` if it no longer exists.
pub fn load_account(conn: &mut SqliteConnection, id: i32) -> QueryResult<Option<Account>> {
    let Some((login, role)) = accounts::table
        .find(id)
        .select((accounts::login, accounts::role))
        .first::<(String, String)>(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let Some(role) = Role::parse(&role) else {
        return Ok(None);
    };
    let scope_ids: Vec<i32> = manager_scopes::table
        .filter(manager_scopes::account_id.eq(id))
        .select(manager_scopes::workplace_id)
        .load(conn)?;
    let mut visible = std::collections::BTreeSet::new();
    let mut own_workplaces = Vec::new();
    if !scope_ids.is_empty() {
        let all = crate::org::load_all(conn)?;
        let parent_of: std::collections::HashMap<i32, Option<i32>> =
            all.iter().map(|w| (w.id, w.parent_id)).collect();
        for workplace in &all {
            if scope_ids.contains(&workplace.id) {
                own_workplaces.push(workplace.code.clone());
            }
            // Visible: the workplace itself or any ancestor is in the manager's scope.
            let mut current = Some(workplace.id);
            for _ in 0..=all.len() {
                let Some(id) = current else { break };
                if scope_ids.contains(&id) {
                    visible.insert(workplace.code.clone());
                    break;
                }
                current = parent_of.get(&id).copied().flatten();
            }
        }
        // A merged reporting unit is visible when every member is: it must not add anyone
        // else's answers to what the manager sees.
        let code_of: std::collections::HashMap<i32, &str> =
            all.iter().map(|w| (w.id, w.code.as_str())).collect();
        for unit in crate::org::load_units(conn)? {
            let all_visible = unit
                .members
                .iter()
                .all(|m| code_of.get(m).is_some_and(|code| visible.contains(*code)));
            if all_visible {
                visible.insert(unit.code);
            }
        }
    }
    Ok(Some(Account {
        id,
        login,
        role,
        visible_workplaces: visible,
        own_workplaces,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_salted_and_verify() {
        let first = hash_password("correct horse battery").expect("hash");
        let second = hash_password("correct horse battery").expect("hash");
        assert!(first.starts_with("$argon2id$"), "{first}");
        assert_ne!(first, second, "each hash has its own salt");
        assert!(verify_password("correct horse battery", &first));
        assert!(!verify_password("wrong horse battery", &first));
        assert!(!verify_password("anything", "not a hash"));
    }
}
