//! Collection: turning a staff member's form into a stored, unlinkable response.
//!
//! - [`form`] parses and validates a submitted form against the wave's definition (pure);
//! - [`answers`] is the compact one-byte-per-item encoding stored with each response;
//! - [`slots`] are the fixed-size places responses and comments are written into, in place;
//! - [`store`] redeems a code and stores its response in one transaction;
//! - [`sealing`] generalises a closed wave's rows until none describes fewer than k people;
//! - [`writer`] funnels all submissions through one thread that commits them in groups.

pub mod answers;
pub mod form;
pub mod sealing;
pub mod slots;
pub mod store;
#[cfg(test)]
mod test_support;
pub mod writer;
