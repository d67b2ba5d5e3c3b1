//! A database with one workplace and one open wave, for the collection modules' unit tests.

use diesel::SqliteConnection;

use super::slots::SlotShape;

pub struct Fixture {
    _dir: tempfile::TempDir,
    pub path: std::path::PathBuf,
    pub wave_id: i32,
    pub workplace_id: i32,
    pub shape: SlotShape,
}

/// A database file with one workplace and one open wave (the default instrument), without
/// codes or slots yet.
pub fn fixture() -> (Fixture, SqliteConnection) {
    let (dir, path, mut conn) = crate::db::temporary_database();
    let rows = crate::org::parse_csv("code,name,parent_code\nT1,係1,\n".as_bytes()).expect("csv");
    crate::org::import(&mut conn, &rows).expect("import");
    let workplace_id = crate::org::load_all(&mut conn).expect("workplaces")[0].id;
    let definitions = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("survey-definitions");
    let (text, origin) =
        crate::waves::definition_source(&definitions, "workplace-climate").expect("definition");
    let wave = crate::waves::create(&mut conn, "w", &text, &origin, Default::default(), None)
        .expect("wave");
    let shape = SlotShape::of(&wave.definition().expect("definition"));
    let fixture = Fixture {
        _dir: dir,
        path,
        wave_id: wave.id,
        workplace_id,
        shape,
    };
    (fixture, conn)
}
