//! HR and manager accounts: argon2id password hashes, manager scopes, and their lifecycle
//! (new password, new workplaces after a transfer, disabling). Accounts are disabled rather
//! than deleted so that the audit log and action plans keep naming them; a session ends when
//! its account's `session_epoch` moves on (password changed, account disabled).

use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use diesel::prelude::*;
use diesel::sql_types::{Bool, Integer, Text};

use crate::db::prepared::fixed_statement;
use crate::db::schema::{accounts, manager_scopes, workplaces};

/// An account's role; on the command line `hr` or `manager`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
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
    #[error("a manager needs at least one workplace")]
    ManagerWithoutWorkplace,
    #[error("an HR account sees every workplace: give it no workplaces")]
    HrWithWorkplace,
    #[error("unknown workplace {0:?}")]
    UnknownWorkplace(String),
    #[error("login {0:?} is already taken")]
    LoginTaken(String),
    #[error("no account {0:?}")]
    UnknownLogin(String),
    #[error("account {0:?} is disabled")]
    Disabled(String),
    #[error("{0:?} is the last HR account: add another HR account before disabling it")]
    LastHr(String),
    #[error("the current password is not correct")]
    WrongPassword,
    #[error("cannot hash the password: {0}")]
    Hash(String),
    #[error("database error: {0}")]
    Database(#[from] diesel::result::Error),
}

pub const MIN_PASSWORD_CHARS: usize = 10;

/// The working memory of one argon2 computation with our parameters (19 MiB), allocated once
/// and reused: the web server keeps one per concurrent computation (`web::hashing`), so
/// failed sign-ins cannot make the process allocate and keep memory for each attempt.
pub struct HashMemory(Vec<Block>);

impl HashMemory {
    pub fn new() -> Self {
        HashMemory(vec![Block::default(); Params::DEFAULT.block_count()])
    }
}

impl Default for HashMemory {
    fn default() -> Self {
        HashMemory::new()
    }
}

/// An argon2id hash in PHC string form (salt and parameters included).
pub fn hash_password(password: &str) -> Result<String, AccountError> {
    hash_password_in(&mut HashMemory::new(), password)
}

/// [`hash_password`] computed in `memory`.
pub fn hash_password_in(memory: &mut HashMemory, password: &str) -> Result<String, AccountError> {
    let failed = |e: &dyn std::fmt::Display| AccountError::Hash(e.to_string());
    let mut salt_bytes = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut salt_bytes);
    let salt = SaltString::encode_b64(&salt_bytes).map_err(|e| failed(&e))?;
    let argon2 = Argon2::default();
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    argon2
        .hash_password_into_with_memory(password.as_bytes(), &salt_bytes, &mut out, &mut memory.0)
        .map_err(|e| failed(&e))?;
    let hash = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(argon2.params()).map_err(|e| failed(&e))?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(|e| failed(&e))?),
    };
    Ok(hash.to_string())
}

pub fn verify_password(password: &str, stored_hash: &str) -> bool {
    verify_password_in(&mut HashMemory::new(), password, stored_hash)
}

/// [`verify_password`] computed in `memory` (a hash with more memory than ours, which Anshin
/// never writes, gets its own for that one check).
pub fn verify_password_in(memory: &mut HashMemory, password: &str, stored_hash: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored_hash) else {
        return false;
    };
    let (Ok(algorithm), Some(expected), Some(salt)) = (
        Algorithm::try_from(parsed.algorithm),
        parsed.hash,
        parsed.salt,
    ) else {
        return false;
    };
    let Ok(version) = parsed.version.map_or(Ok(Version::V0x13), Version::try_from) else {
        return false;
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    let mut salt_buffer = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_buffer) else {
        return false;
    };
    let mut out = [0u8; Output::MAX_LENGTH];
    let Some(out) = out.get_mut(..expected.len()) else {
        return false;
    };
    let argon2 = Argon2::new(algorithm, version, params);
    let computed = match memory.0.get_mut(..argon2.params().block_count()) {
        Some(blocks) => {
            argon2.hash_password_into_with_memory(password.as_bytes(), salt, out, blocks)
        }
        None => argon2.hash_password_into(password.as_bytes(), salt, out),
    };
    // `Output`'s comparison takes constant time.
    computed.is_ok() && Output::new(out).is_ok_and(|output| output == expected)
}

/// Creates an account; a manager is scoped to the given workplaces (and their subtrees).
pub fn add_user(
    conn: &mut SqliteConnection,
    login: &str,
    role: Role,
    password: &str,
    workplace_codes: &[String],
) -> Result<i32, AccountError> {
    add_user_in(
        conn,
        &mut HashMemory::new(),
        login,
        role,
        password,
        workplace_codes,
    )
}

/// [`add_user`], hashing in `memory`.
pub fn add_user_in(
    conn: &mut SqliteConnection,
    memory: &mut HashMemory,
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
    check_password(password)?;
    check_scope(role, workplace_codes)?;
    let password_hash = hash_password_in(memory, password)?;
    conn.immediate_transaction(|conn| {
        let taken: i64 = accounts::table
            .filter(accounts::login.eq(login))
            .count()
            .get_result(conn)?;
        if taken > 0 {
            return Err(AccountError::LoginTaken(login.to_string()));
        }
        let scope_ids = workplace_ids(conn, workplace_codes)?;
        let account_id: i32 = diesel::insert_into(accounts::table)
            .values((
                accounts::login.eq(login),
                accounts::password_hash.eq(&password_hash),
                accounts::role.eq(role.as_str()),
                accounts::created_at.eq(crate::dates::today()),
            ))
            .returning(accounts::id)
            .get_result(conn)?;
        store_scope(conn, account_id, &scope_ids)?;
        Ok(account_id)
    })
}

fn check_password(password: &str) -> Result<(), AccountError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AccountError::WeakPassword);
    }
    Ok(())
}

fn check_scope(role: Role, workplace_codes: &[String]) -> Result<(), AccountError> {
    match role {
        Role::Manager if workplace_codes.is_empty() => Err(AccountError::ManagerWithoutWorkplace),
        Role::Hr if !workplace_codes.is_empty() => Err(AccountError::HrWithWorkplace),
        _ => Ok(()),
    }
}

fn workplace_ids(conn: &mut SqliteConnection, codes: &[String]) -> Result<Vec<i32>, AccountError> {
    codes
        .iter()
        .map(|code| {
            workplaces::table
                .filter(workplaces::code.eq(code))
                .select(workplaces::id)
                .first(conn)
                .optional()?
                .ok_or_else(|| AccountError::UnknownWorkplace(code.clone()))
        })
        .collect()
}

fn store_scope(conn: &mut SqliteConnection, account_id: i32, scope_ids: &[i32]) -> QueryResult<()> {
    diesel::delete(manager_scopes::table.filter(manager_scopes::account_id.eq(account_id)))
        .execute(conn)?;
    for workplace_id in scope_ids {
        diesel::insert_into(manager_scopes::table)
            .values((
                manager_scopes::account_id.eq(account_id),
                manager_scopes::workplace_id.eq(workplace_id),
            ))
            .on_conflict_do_nothing()
            .execute(conn)?;
    }
    Ok(())
}

/// An enabled account by login: (id, role).
fn find_enabled(conn: &mut SqliteConnection, login: &str) -> Result<(i32, Role), AccountError> {
    let (id, role, disabled_on): (i32, String, Option<String>) = accounts::table
        .filter(accounts::login.eq(login))
        .select((accounts::id, accounts::role, accounts::disabled_on))
        .first(conn)
        .optional()?
        .ok_or_else(|| AccountError::UnknownLogin(login.to_string()))?;
    if disabled_on.is_some() {
        return Err(AccountError::Disabled(login.to_string()));
    }
    let role = Role::parse(&role).ok_or_else(|| AccountError::UnknownLogin(login.to_string()))?;
    Ok((id, role))
}

/// Sets a new password (HR resetting one, or the owner changing theirs) and ends every
/// session signed in with the old one. Returns the account's new session epoch.
pub fn set_password(
    conn: &mut SqliteConnection,
    login: &str,
    password: &str,
) -> Result<i32, AccountError> {
    set_password_in(conn, &mut HashMemory::new(), login, password)
}

/// [`set_password`], hashing in `memory`.
pub fn set_password_in(
    conn: &mut SqliteConnection,
    memory: &mut HashMemory,
    login: &str,
    password: &str,
) -> Result<i32, AccountError> {
    check_password(password)?;
    let password_hash = hash_password_in(memory, password)?;
    conn.immediate_transaction(|conn| {
        let (id, _) = find_enabled(conn, login)?;
        Ok(diesel::update(accounts::table.find(id))
            .set((
                accounts::password_hash.eq(&password_hash),
                accounts::session_epoch.eq(accounts::session_epoch + 1),
            ))
            .returning(accounts::session_epoch)
            .get_result(conn)?)
    })
}

/// The owner's own password change: the current password must be right.
pub fn change_own_password(
    conn: &mut SqliteConnection,
    memory: &mut HashMemory,
    account_id: i32,
    current: &str,
    new: &str,
) -> Result<i32, AccountError> {
    let (login, hash): (String, String) = accounts::table
        .find(account_id)
        .select((accounts::login, accounts::password_hash))
        .first(conn)?;
    if !verify_password_in(memory, current, &hash) {
        return Err(AccountError::WrongPassword);
    }
    set_password_in(conn, memory, &login, new)
}

/// Replaces a manager's workplaces (a transfer). Takes effect at the manager's next request.
pub fn set_workplaces(
    conn: &mut SqliteConnection,
    login: &str,
    workplace_codes: &[String],
) -> Result<(), AccountError> {
    conn.immediate_transaction(|conn| {
        let (id, role) = find_enabled(conn, login)?;
        check_scope(role, workplace_codes)?;
        let scope_ids = workplace_ids(conn, workplace_codes)?;
        Ok(store_scope(conn, id, &scope_ids)?)
    })
}

/// Disables an account: it can no longer sign in and its sessions end. The last enabled HR
/// account cannot be disabled, so nobody is locked out of running the survey.
pub fn disable(conn: &mut SqliteConnection, login: &str) -> Result<(), AccountError> {
    conn.immediate_transaction(|conn| {
        let (id, role) = find_enabled(conn, login)?;
        if role == Role::Hr {
            let enabled_hr: i64 = accounts::table
                .filter(accounts::role.eq(Role::Hr.as_str()))
                .filter(accounts::disabled_on.is_null())
                .count()
                .get_result(conn)?;
            if enabled_hr <= 1 {
                return Err(AccountError::LastHr(login.to_string()));
            }
        }
        diesel::update(accounts::table.find(id))
            .set((
                accounts::disabled_on.eq(crate::dates::today()),
                accounts::session_epoch.eq(accounts::session_epoch + 1),
            ))
            .execute(conn)?;
        Ok(())
    })
}

/// One account as HR's list shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AccountSummary {
    pub id: i32,
    pub login: String,
    pub role: &'static str,
    /// The manager's workplace codes, comma-separated; empty for HR.
    pub workplaces: String,
    pub created_at: String,
    pub disabled_on: Option<String>,
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

/// Every account, enabled ones first, each with a manager's workplace codes.
pub fn list(conn: &mut SqliteConnection) -> QueryResult<Vec<AccountSummary>> {
    type Row = (i32, String, String, String, Option<String>, Option<String>);
    let rows: Vec<Row> = accounts::table
        .left_join(manager_scopes::table.inner_join(workplaces::table))
        .select((
            accounts::id,
            accounts::login,
            accounts::role,
            accounts::created_at,
            accounts::disabled_on,
            workplaces::code.nullable(),
        ))
        .order((
            accounts::disabled_on.is_not_null(),
            accounts::login,
            workplaces::code.nullable(),
        ))
        .load(conn)?;
    let mut listed: Vec<AccountSummary> = Vec::new();
    for (id, login, role, created_at, disabled_on, code) in rows {
        if let Some(last) = listed.last_mut().filter(|last| last.id == id) {
            last.workplaces.push_str(", ");
            last.workplaces.push_str(&code.unwrap_or_default());
            continue;
        }
        listed.push(AccountSummary {
            id,
            login,
            role: Role::parse(&role).map_or("?", Role::as_str),
            workplaces: code.unwrap_or_default(),
            created_at,
            disabled_on,
        });
    }
    Ok(listed)
}

/// One account of [`list`], by id.
pub fn summary(conn: &mut SqliteConnection, id: i32) -> QueryResult<Option<AccountSummary>> {
    Ok(list(conn)?.into_iter().find(|account| account.id == id))
}

/// An argon2id hash (our parameters) of a random password that was thrown away: an unknown
/// login is checked against it, so it costs the same argon2 time as a known one.
const UNKNOWN_LOGIN_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$JehF6NFvMtkcXe1dWaNk4w$QWsMTSgxX0z0X4ySO40EUynS5bTNUAgOtguIoFxAexA";

/// Who signed in: the account and the session epoch the session must carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignIn {
    pub account_id: i32,
    pub epoch: i32,
}

/// Every enabled manager account with the workplaces it may see today (for the disclosure
/// audit, which rebuilds each manager's view).
pub fn managers(conn: &mut SqliteConnection) -> QueryResult<Vec<Account>> {
    let rows: Vec<(i32, i32)> = accounts::table
        .filter(accounts::role.eq(Role::Manager.as_str()))
        .filter(accounts::disabled_on.is_null())
        .select((accounts::id, accounts::session_epoch))
        .order(accounts::id)
        .load(conn)?;
    let mut managers = Vec::new();
    for (account_id, epoch) in rows {
        if let Some(account) = load_account(conn, SignIn { account_id, epoch })? {
            managers.push(account);
        }
    }
    Ok(managers)
}

/// What a sign-in checks a password against: the account's hash, or for an unknown login
/// [`UNKNOWN_LOGIN_HASH`]. Looking it up is quick; [`Credentials::check`] is the argon2 work.
pub struct Credentials {
    /// The account (id, session epoch, enabled) if the login exists.
    account: Option<(i32, i32, bool)>,
    hash: String,
}

impl Credentials {
    /// The account the login names, enabled or not.
    pub fn account_id(&self) -> Option<i32> {
        self.account.map(|(id, _, _)| id)
    }

    /// `Some` only for an enabled account and the right password. A disabled account or an
    /// unknown login costs the same argon2 time and fails like a wrong password.
    pub fn check(&self, memory: &mut HashMemory, password: &str) -> Option<SignIn> {
        let verified = verify_password_in(memory, password, &self.hash);
        match self.account {
            Some((account_id, epoch, true)) if verified => Some(SignIn { account_id, epoch }),
            _ => None,
        }
    }
}

/// The credentials of a login (see [`Credentials`]).
pub fn credentials(conn: &mut SqliteConnection, login: &str) -> QueryResult<Credentials> {
    let found: Option<(i32, String, Option<String>, i32)> = accounts::table
        .filter(accounts::login.eq(login))
        .select((
            accounts::id,
            accounts::password_hash,
            accounts::disabled_on,
            accounts::session_epoch,
        ))
        .first(conn)
        .optional()?;
    Ok(match found {
        Some((id, hash, disabled_on, epoch)) => Credentials {
            account: Some((id, epoch, disabled_on.is_none())),
            hash,
        },
        None => Credentials {
            account: None,
            hash: UNKNOWN_LOGIN_HASH.to_string(),
        },
    })
}

/// Checks a login and password; `None` for an unknown or disabled login or a wrong password.
pub fn authenticate(
    conn: &mut SqliteConnection,
    login: &str,
    password: &str,
) -> QueryResult<Option<SignIn>> {
    Ok(credentials(conn, login)?.check(&mut HashMemory::new(), password))
}

/// Ends every session of an account that still carries `signed_in`'s epoch (signing out ends
/// the session everywhere: a copy of the cookie stops working too). A session whose epoch has
/// already moved on changes nothing, so an old cookie cannot sign anyone else out.
pub fn end_sessions(conn: &mut SqliteConnection, signed_in: SignIn) -> QueryResult<bool> {
    let changed = diesel::update(
        accounts::table
            .find(signed_in.account_id)
            .filter(accounts::session_epoch.eq(signed_in.epoch)),
    )
    .set(accounts::session_epoch.eq(accounts::session_epoch + 1))
    .execute(conn)?;
    Ok(changed == 1)
}

/// A login's name as stored, if an account has it.
pub fn login_of(conn: &mut SqliteConnection, account_id: i32) -> QueryResult<Option<String>> {
    accounts::table
        .find(account_id)
        .select(accounts::login)
        .first(conn)
        .optional()
}

fixed_statement! {
    /// The workplaces in an account's scope and every workplace below them, by id, as (id,
    /// code, in the scope itself): one recursive query down the `parent_id` index instead of
    /// the whole organisation per request. A workplace both in the scope and below another
    /// of it comes out once, as the manager's own; `UNION` (not `UNION ALL`) ends the walk
    /// on a cycle.
    struct VisibleSubtree<'a> { account_id: i32 => Integer }
    sql: [
        "WITH RECURSIVE visible(id, code, own) AS ( \
             SELECT w.id, w.code, 1 FROM manager_scopes s \
             JOIN workplaces w ON w.id = s.workplace_id \
             WHERE s.account_id = ",
        " UNION \
             SELECT w.id, w.code, 0 FROM visible v JOIN workplaces w ON w.parent_id = v.id \
         ) \
         SELECT id, code, max(own) AS own FROM visible GROUP BY id ORDER BY id",
    ],
    returns: (Integer, Text, Bool),
}

/// Loads a signed-in account with its visible workplaces; `None` if it is disabled or the
/// session was signed in before its password changed.
pub fn load_account(
    conn: &mut SqliteConnection,
    signed_in: SignIn,
) -> QueryResult<Option<Account>> {
    let id = signed_in.account_id;
    let Some((login, role)) = accounts::table
        .find(id)
        .filter(accounts::disabled_on.is_null())
        .filter(accounts::session_epoch.eq(signed_in.epoch))
        .select((accounts::login, accounts::role))
        // By its primary key, without `.first()`'s bound `LIMIT`, which makes SQLite
        // prepare the statement again on every run.
        .get_result::<(String, String)>(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let Some(role) = Role::parse(&role) else {
        return Ok(None);
    };
    let mut visible = std::collections::BTreeSet::new();
    let mut own_workplaces = Vec::new();
    let subtree: Vec<(i32, String, bool)> = VisibleSubtree::new(id).load(conn)?;
    if !subtree.is_empty() {
        let mut visible_ids = std::collections::HashSet::new();
        for (workplace_id, code, own) in subtree {
            if own {
                own_workplaces.push(code.clone());
            }
            visible_ids.insert(workplace_id);
            visible.insert(code);
        }
        // A merged reporting unit is visible when every member is: it must not add anyone
        // else's answers to what the manager sees.
        for unit in crate::org::load_units(conn)? {
            if unit.members.iter().all(|m| visible_ids.contains(m)) {
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

    /// The visible workplaces by the old walk: every workplace whose chain of parents
    /// (itself included) reaches the scope, and every unit whose members are all visible.
    fn visible_by_walking_up(
        conn: &mut SqliteConnection,
        scope: &[&str],
    ) -> std::collections::BTreeSet<String> {
        let all = crate::org::load_all(conn).expect("workplaces");
        let parent_of: std::collections::HashMap<i32, Option<i32>> =
            all.iter().map(|w| (w.id, w.parent_id)).collect();
        let scope_ids: Vec<i32> = all
            .iter()
            .filter(|w| scope.contains(&w.code.as_str()))
            .map(|w| w.id)
            .collect();
        let mut visible = std::collections::BTreeSet::new();
        let mut visible_ids = std::collections::HashSet::new();
        for workplace in &all {
            let mut current = Some(workplace.id);
            while let Some(id) = current {
                if scope_ids.contains(&id) {
                    visible.insert(workplace.code.clone());
                    visible_ids.insert(workplace.id);
                    break;
                }
                current = parent_of.get(&id).copied().flatten();
            }
        }
        for unit in crate::org::load_units(conn).expect("units") {
            if unit.members.iter().all(|m| visible_ids.contains(m)) {
                visible.insert(unit.code);
            }
        }
        visible
    }

    #[test]
    fn the_visible_subtree_is_what_walking_up_from_every_workplace_finds() {
        let (_dir, _, mut conn) = crate::db::temporary_database();
        let csv = "code,name,parent_code\nD1,部1,\nD2,部2,\nS1,課1,D1\nS2,課2,D1\nS3,課3,D2\n\
                   T1,係1,S1\nT2,係2,S1\nT3,係3,S2\nT4,係4,S3\nT5,係5,S3\n";
        let rows = crate::org::parse_csv(csv.as_bytes()).expect("csv");
        crate::org::import(&mut conn, &rows).expect("import");
        let codes = |list: &[&str]| list.iter().map(|c| c.to_string()).collect::<Vec<_>>();
        crate::org::add_unit(&mut conn, "U12", "係1+2", &codes(&["T1", "T2"])).expect("unit");
        crate::org::add_unit(&mut conn, "U45", "係4+5", &codes(&["T4", "T5"])).expect("unit");
        let scopes: [&[&str]; 5] = [
            &["S1"],
            &["D1"],
            &["T1", "S1"],
            &["T4", "S2"],
            &["T5", "T4", "D1"],
        ];
        for (n, scope) in scopes.iter().enumerate() {
            let login = format!("manager{n}");
            let id = add_user(
                &mut conn,
                &login,
                Role::Manager,
                "long enough password",
                &codes(scope),
            )
            .expect("manager");
            let epoch: i32 = accounts::table
                .find(id)
                .select(accounts::session_epoch)
                .get_result(&mut conn)
                .expect("epoch");
            let account = load_account(
                &mut conn,
                SignIn {
                    account_id: id,
                    epoch,
                },
            )
            .expect("load")
            .expect("enabled");
            assert_eq!(
                account.visible_workplaces,
                visible_by_walking_up(&mut conn, scope),
                "{scope:?}"
            );
            let mut own = codes(scope);
            own.sort();
            let mut loaded = account.own_workplaces.clone();
            loaded.sort();
            assert_eq!(loaded, own, "{scope:?}");
        }
    }

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

    #[test]
    fn reused_memory_gives_the_same_hashes_as_the_argon2_crate() {
        use argon2::password_hash::PasswordVerifier;
        let mut memory = HashMemory::new();
        let ours = hash_password_in(&mut memory, "correct horse battery").expect("hash");
        let parsed = PasswordHash::new(&ours).expect("PHC string");
        assert!(Argon2::default()
            .verify_password(b"correct horse battery", &parsed)
            .is_ok());
        assert!(verify_password_in(
            &mut memory,
            "correct horse battery",
            &ours
        ));
        assert!(!verify_password_in(
            &mut memory,
            "correct horse batterz",
            &ours
        ));
    }

    #[test]
    fn the_unknown_login_hash_has_our_parameters() {
        let ours = PasswordHash::new(UNKNOWN_LOGIN_HASH).expect("PHC string");
        let reference = hash_password("anything at all").expect("hash");
        let reference = PasswordHash::new(&reference).expect("PHC string");
        assert_eq!(ours.algorithm, reference.algorithm);
        assert_eq!(ours.version, reference.version);
        assert_eq!(ours.params, reference.params);
        assert_eq!(ours.hash.map(|h| h.len()), reference.hash.map(|h| h.len()));
    }
}
