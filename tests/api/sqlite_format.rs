//! Just enough of the SQLite file format to read a database the way an attacker with a copy
//! of its files would: page headers, cell pointer arrays and cell content offsets of every
//! B-tree leaf page, the freelist's trunk and leaf pages, and the frames of a write-ahead log.
//! (<https://www.sqlite.org/fileformat2.html>; nothing here goes through SQLite itself.)

/// One cell holding a row: where it is, and the part of its payload stored on the page
/// (enough to recognise the row). Table B-trees keep rows in leaf pages only; index B-trees
/// (and so WITHOUT ROWID tables) keep rows in interior pages too.
#[derive(Debug, Clone)]
pub struct Cell {
    /// 1-based page number (for a WAL frame: the page the frame holds).
    pub page: u32,
    /// Offset of the cell's content within its page. SQLite allocates a new cell's content
    /// just below the lowest one, so on a page that only ever grew, a lower offset means a
    /// later insertion.
    pub content_offset: usize,
    pub local_payload: Vec<u8>,
}

fn be16(bytes: &[u8], at: usize) -> usize {
    usize::from(u16::from_be_bytes([bytes[at], bytes[at + 1]]))
}

fn be32(bytes: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

/// A varint as SQLite writes it: its value and its length in bytes.
fn varint(bytes: &[u8], at: usize) -> (u64, usize) {
    let mut value = 0u64;
    for i in 0..9 {
        let Some(&byte) = bytes.get(at + i) else {
            return (value, i);
        };
        if i == 8 {
            return ((value << 8) | u64::from(byte), 9);
        }
        value = (value << 7) | u64::from(byte & 0x7f);
        if byte & 0x80 == 0 {
            return (value, i + 1);
        }
    }
    (value, 9)
}

/// The database's page size (header offset 16; 1 means 65,536).
pub fn page_size(db: &[u8]) -> usize {
    match be16(db, 16) {
        1 => 65_536,
        size => size,
    }
}

/// Bytes usable on a page (page size minus the reserved space at header offset 20).
fn usable_size(db: &[u8]) -> usize {
    page_size(db) - usize::from(db[20])
}

/// Every cell of the file that holds a row: table leaf pages, index leaf and interior pages.
pub fn row_cells(db: &[u8]) -> Vec<Cell> {
    let size = page_size(db);
    let usable = usable_size(db);
    db.chunks_exact(size)
        .enumerate()
        .flat_map(|(index, page)| {
            let number = index as u32 + 1;
            let header = if number == 1 { 100 } else { 0 };
            cells_of_page(page, number, header, usable)
        })
        .collect()
}

/// The cells of one page that hold rows (page types 2, 10 and 13).
pub fn cells_of_page(page: &[u8], number: u32, header: usize, usable: usize) -> Vec<Cell> {
    let kind = page[header];
    if ![2, 10, 13].contains(&kind) {
        return Vec::new();
    }
    let count = be16(page, header + 3);
    // Interior pages have a 12-byte header (the right-most child pointer); their cells start
    // with the 4-byte left child pointer.
    let (pointers, child) = if kind == 2 {
        (header + 12, 4)
    } else {
        (header + 8, 0)
    };
    (0..count)
        .filter_map(|i| {
            let offset = be16(page, pointers + 2 * i);
            if offset == 0 || offset >= page.len() {
                return None;
            }
            let (payload, mut at) = varint(page, offset + child);
            at += child;
            if kind == 13 {
                let (_rowid, rowid_len) = varint(page, offset + at);
                at += rowid_len;
            }
            let local = local_payload_size(kind, payload as usize, usable);
            let start = offset + at;
            let end = (start + local).min(page.len());
            Some(Cell {
                page: number,
                content_offset: offset,
                local_payload: page[start..end].to_vec(),
            })
        })
        .collect()
}

/// How much of a payload stays on the page (the rest spills to overflow pages).
fn local_payload_size(kind: u8, payload: usize, usable: usize) -> usize {
    let max_local = if kind == 13 {
        usable - 35
    } else {
        (usable - 12) * 64 / 255 - 23
    };
    if payload <= max_local {
        return payload;
    }
    let min_local = (usable - 12) * 32 / 255 - 23;
    let k = min_local + (payload - min_local) % (usable - 4);
    if k <= max_local {
        k
    } else {
        min_local
    }
}

/// The page numbers on the freelist: trunk pages and the leaf pages they list.
pub fn freelist_pages(db: &[u8]) -> Vec<u32> {
    let size = page_size(db);
    let mut pages = Vec::new();
    let mut trunk = be32(db, 32);
    while trunk != 0 && (trunk as usize) * size <= db.len() && pages.len() < 1_000_000 {
        pages.push(trunk);
        let start = (trunk as usize - 1) * size;
        let page = &db[start..start + size];
        let leaves = be32(page, 4) as usize;
        for i in 0..leaves.min((size - 8) / 4) {
            pages.push(be32(page, 8 + 4 * i));
        }
        trunk = be32(page, 0);
    }
    pages
}

/// One frame of a write-ahead log.
pub struct WalFrame {
    /// The database page the frame holds a version of.
    pub page: u32,
    /// Whether the frame ends a transaction (its "database size after commit" is set).
    pub commit: bool,
    pub data: Vec<u8>,
}

/// Every frame in a WAL file, in file order (which is commit order), whatever its salt:
/// frames left over from an earlier generation of the log are read too.
pub fn wal_frames(wal: &[u8]) -> Vec<WalFrame> {
    if wal.len() < 32 {
        return Vec::new();
    }
    let size = be32(wal, 8) as usize;
    if size == 0 {
        return Vec::new();
    }
    wal[32..]
        .chunks_exact(24 + size)
        .map(|frame| WalFrame {
            page: be32(frame, 0),
            commit: be32(frame, 4) != 0,
            data: frame[24..].to_vec(),
        })
        .collect()
}

/// The row cells of every frame of a WAL, each tagged with its frame's position.
pub fn wal_cells(wal: &[u8], usable: usize) -> Vec<(usize, Cell)> {
    wal_frames(wal)
        .iter()
        .enumerate()
        .flat_map(|(position, frame)| {
            let header = if frame.page == 1 { 100 } else { 0 };
            cells_of_page(&frame.data, frame.page, header, usable)
                .into_iter()
                .map(move |cell| (position, cell))
        })
        .collect()
}

/// Whether `needle` occurs anywhere in `haystack`.
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_read_as_sqlite_writes_them() {
        assert_eq!(varint(&[0x05], 0), (5, 1));
        assert_eq!(varint(&[0x81, 0x00], 0), (128, 2));
        assert_eq!(varint(&[0x82, 0x80, 0x01], 0), (32769, 3));
    }
}
