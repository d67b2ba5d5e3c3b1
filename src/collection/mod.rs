//! Collection: turning a staff member's form into a stored, unlinkable response.
//!
//! - [`form`] parses and validates a submitted form against the wave's definition (pure);
//! - [`answers`] is the compact one-byte-per-item encoding stored with each response;
//! - [`store`] redeems a code and stores its response in one transaction;
//! - [`writer`] funnels all submissions through one thread that commits them in groups.

pub mod answers;
pub mod form;
pub mod store;
pub mod writer;
