//! What is kept of a wave's responses once it is closed.
//!
//! While a wave is open, a response row carries its workplace and job level, so whoever opens
//! the file could read the answers of the only 課長 of a 係. Once the wave is closed (its
//! results are computed at that moment), the stored rows are generalised until no record
//! describes fewer than k respondents by workplace × job level:
//!
//! - a job level is kept only in a workplace where that level has at least k2 respondents,
//!   and only if the respondents left without a level are none or at least k; otherwise it
//!   is cleared;
//! - a workplace with 1 … k−1 respondents hands its rows (and comments) to its parent, which
//!   is checked again in turn.
//!
//! The empty slots of the wave are deleted, and the file is rebuilt afterwards
//! ([`crate::db::compact`]), so neither the moves nor the deletions leave a trace.

use std::collections::{HashMap, HashSet};

use diesel::prelude::*;

use super::slots;
use crate::db::schema::{comments, responses, workplaces};

fn random_id() -> Vec<u8> {
    uuid::Uuid::new_v4().as_bytes().to_vec()
}

/// One stored response as the generalisation sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRow {
    pub workplace: i32,
    pub job_level: Option<String>,
}

/// Generalises `rows` in place (see the module documentation). `parent_of` maps a workplace
/// to its parent; a workplace at the top keeps its rows whatever their number. Returns where
/// each workplace's rows went (for moving comments the same way).
pub fn generalise(
    rows: &mut [StoredRow],
    parent_of: &HashMap<i32, Option<i32>>,
    k: usize,
    k2: usize,
) -> HashMap<i32, i32> {
    let mut moved_to: HashMap<i32, i32> = HashMap::new();
    loop {
        // One count of every (workplace, job level) cell and every workplace per round.
        let mut cells: HashMap<(i32, Option<&str>), usize> = HashMap::new();
        let mut totals: HashMap<i32, usize> = HashMap::new();
        for row in rows.iter() {
            *cells
                .entry((row.workplace, row.job_level.as_deref()))
                .or_default() += 1;
            *totals.entry(row.workplace).or_default() += 1;
        }
        let mut kept: HashMap<i32, usize> = HashMap::new();
        for (&(workplace, level), &n) in &cells {
            if level.is_some() && n >= k2 {
                *kept.entry(workplace).or_default() += n;
            }
        }
        // A level goes where its cell is below k2, or where the people left without a level
        // would be 1 … k−1 (then every level of the workplace goes).
        let mut clear: HashMap<i32, HashSet<String>> = HashMap::new();
        for (&(workplace, level), &n) in &cells {
            let Some(level) = level else { continue };
            let total = totals.get(&workplace).copied().unwrap_or(0);
            let remainder = total - kept.get(&workplace).copied().unwrap_or(0);
            if n < k2 || (remainder > 0 && remainder < k) {
                clear
                    .entry(workplace)
                    .or_default()
                    .insert(level.to_string());
            }
        }
        // Workplaces too small to stand alone hand their rows to the parent (clearing levels
        // does not change a workplace's total).
        let moves: HashMap<i32, i32> = totals
            .iter()
            .filter(|(_, &total)| total < k)
            .filter_map(|(workplace, _)| match parent_of.get(workplace) {
                Some(Some(parent)) => Some((*workplace, *parent)),
                _ => None,
            })
            .collect();
        if clear.is_empty() && moves.is_empty() {
            return moved_to;
        }
        for row in rows.iter_mut() {
            let cleared = match (&row.job_level, clear.get(&row.workplace)) {
                (Some(level), Some(levels)) => levels.contains(level),
                _ => false,
            };
            if cleared {
                row.job_level = None;
            }
            if let Some(parent) = moves.get(&row.workplace) {
                row.workplace = *parent;
                row.job_level = None;
            }
        }
        for (&from, &to) in &moves {
            for destination in moved_to.values_mut().filter(|d| **d == from) {
                *destination = to;
            }
            moved_to.insert(from, to);
        }
    }
}

/// Seals a closed wave's stored rows: drops its empty slots and generalises the rest. Runs
/// in the closing transaction; the caller compacts the file afterwards.
pub fn seal(conn: &mut SqliteConnection, wave_id: i32, k: usize, k2: usize) -> QueryResult<()> {
    diesel::delete(
        responses::table
            .filter(responses::wave_id.eq(wave_id))
            .filter(responses::filled.eq(false)),
    )
    .execute(conn)?;
    diesel::delete(
        comments::table
            .filter(comments::wave_id.eq(wave_id))
            .filter(comments::filled.eq(false)),
    )
    .execute(conn)?;

    let parent_of: HashMap<i32, Option<i32>> = workplaces::table
        .select((workplaces::id, workplaces::parent_id))
        .load::<(i32, Option<i32>)>(conn)?
        .into_iter()
        .collect();
    let stored: Vec<(i32, Vec<u8>, String)> = responses::table
        .filter(responses::wave_id.eq(wave_id))
        .select((responses::workplace_id, responses::id, responses::job_level))
        .load(conn)?;
    let mut rows: Vec<StoredRow> = stored
        .iter()
        .map(|(workplace, _, job_level)| StoredRow {
            workplace: *workplace,
            job_level: Some(slots::unpadded(job_level))
                .filter(|l| !l.is_empty())
                .map(str::to_string),
        })
        .collect();
    let moved_to = generalise(&mut rows, &parent_of, k, k2);

    for ((workplace, id, job_level), row) in stored.iter().zip(&rows) {
        let was = Some(slots::unpadded(job_level)).filter(|l| !l.is_empty());
        if row.workplace == *workplace && row.job_level.as_deref() == was {
            continue;
        }
        // Slot numbers count per workplace: a row that moves takes a fresh random id.
        let new_id = if row.workplace == *workplace {
            id.clone()
        } else {
            random_id()
        };
        diesel::update(responses::table.find((wave_id, *workplace, id)))
            .set((
                responses::workplace_id.eq(row.workplace),
                responses::id.eq(new_id),
                responses::job_level.eq(row.job_level.clone().unwrap_or_default()),
            ))
            .execute(conn)?;
    }
    for (from, to) in moved_to {
        let ids: Vec<Vec<u8>> = comments::table
            .filter(comments::wave_id.eq(wave_id))
            .filter(comments::workplace_id.eq(from))
            .select(comments::id)
            .load(conn)?;
        for id in ids {
            diesel::update(comments::table.find((wave_id, from, id)))
                .set((comments::workplace_id.eq(to), comments::id.eq(random_id())))
                .execute(conn)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn rows(spec: &[(i32, Option<&str>, usize)]) -> Vec<StoredRow> {
        spec.iter()
            .flat_map(|&(workplace, level, n)| {
                std::iter::repeat_n(
                    StoredRow {
                        workplace,
                        job_level: level.map(str::to_string),
                    },
                    n,
                )
            })
            .collect()
    }

    /// Every (workplace, job level) cell that remains, with its size.
    fn cells(rows: &[StoredRow]) -> BTreeMap<(i32, Option<String>), usize> {
        let mut cells = BTreeMap::new();
        for row in rows {
            *cells
                .entry((row.workplace, row.job_level.clone()))
                .or_default() += 1;
        }
        cells
    }

    fn tree() -> HashMap<i32, Option<i32>> {
        // 1 (部) > 2, 3 (課) > 4 (係, under 2)
        HashMap::from([(1, None), (2, Some(1)), (3, Some(1)), (4, Some(2))])
    }

    #[test]
    fn the_only_manager_of_a_team_loses_the_job_level() {
        let mut stored = rows(&[(2, Some("staff"), 11), (2, Some("manager"), 1)]);
        generalise(&mut stored, &tree(), 5, 10);
        // The manager's level goes; then the remainder (1) is below k, so no level is kept.
        assert_eq!(cells(&stored), BTreeMap::from([((2, None), 12)]));
    }

    #[test]
    fn large_cells_keep_their_level_when_the_remainder_is_large_enough() {
        let mut stored = rows(&[
            (2, Some("staff"), 12),
            (2, Some("manager"), 3),
            (2, None, 3),
        ]);
        generalise(&mut stored, &tree(), 5, 10);
        assert_eq!(
            cells(&stored),
            BTreeMap::from([((2, Some("staff".into())), 12), ((2, None), 6)])
        );
    }

    #[test]
    fn small_workplaces_hand_their_rows_up_until_they_stand_alone() {
        // 4 has 2, 2 has 1 of its own: together 3, still below k, so both go to 1.
        let mut stored = rows(&[
            (4, Some("staff"), 2),
            (2, None, 1),
            (3, None, 6),
            (1, None, 1),
        ]);
        let moved = generalise(&mut stored, &tree(), 5, 10);
        assert_eq!(
            cells(&stored),
            BTreeMap::from([((1, None), 4), ((3, None), 6)])
        );
        assert_eq!(moved.get(&4), Some(&1));
        assert_eq!(moved.get(&2), Some(&1));
    }

    #[test]
    fn no_remaining_cell_describes_fewer_than_k_below_the_top() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(11);
        let levels = [None, Some("a"), Some("b"), Some("c")];
        for _ in 0..200 {
            let mut stored: Vec<StoredRow> = (0..rng.random_range(0..60))
                .map(|_| StoredRow {
                    workplace: rng.random_range(1..=4),
                    job_level: levels[rng.random_range(0..levels.len())].map(str::to_string),
                })
                .collect();
            generalise(&mut stored, &tree(), 5, 10);
            for ((workplace, level), n) in cells(&stored) {
                if workplace != 1 {
                    assert!(n >= 5, "cell ({workplace}, {level:?}) has {n}");
                }
                if level.is_some() {
                    assert!(n >= 10, "cell ({workplace}, {level:?}) has {n}");
                }
            }
        }
    }
}
